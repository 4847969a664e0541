"""``patch_module_args`` on every ansible-core the collection supports.

ansible-core 2.19 added ``ansible.module_utils.testing.patch_module_args``; 2.16 to 2.18 read a
module's arguments from ``ansible.module_utils.basic._ANSIBLE_ARGS`` in the same way, without the
helper. ``tests/unit/conftest.py`` registers this fallback as ``ansible.module_utils.testing`` on
those cores, so the tests' own imports stay as they are. A script that a test runs in a new Python
(no conftest there) imports it from here: ``from module_args import patch_module_args``
(``tests/unit`` is on ``sys.path`` under pytest, and such tests pass ``sys.path`` on as PYTHONPATH).
"""
import contextlib
import json

from ansible.module_utils import basic

try:
    from ansible.module_utils.testing import patch_module_args  # pylint: disable=unused-import  # noqa: F401
except ImportError:
    from unittest import mock

    @contextlib.contextmanager
    def patch_module_args(args=None):
        """Expose ``args`` to the ``AnsibleModule`` instances created within this context."""
        if not isinstance(args, (dict, type(None))):
            raise TypeError("The `args` arg must be a dict or None.")
        payload = json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}).encode()
        with mock.patch.object(basic, "_ANSIBLE_ARGS", payload):
            yield
