# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Owner, group and mode of what model_file puts in place, through AnsibleModule's own file attributes.

Paths are used as they are (no ``~`` or ``$VAR`` expansion) and links are never followed for the
owner and group (AnsibleModule uses ``lchown``). In check mode AnsibleModule only reports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os


def apply(module, path, owner, group, mode=None, changed=False):
    """Give one path owner, group and mode (any may be None: leave it); True when something changed."""
    changed = module.set_owner_if_different(path, owner, changed, expand=False)
    changed = module.set_group_if_different(path, group, changed, expand=False)
    return module.set_mode_if_different(path, mode, changed, expand=False)


def owner_differs(module, path, owner, group):
    """Whether path has another owner or group than the numeric owner and group (None: any)."""
    uid, gid = module.user_and_group(path, expand=False)
    return (owner is not None and uid != owner) or (group is not None and gid != group)


def apply_tree(module, top, owner, group):
    """Give top and everything below it owner and group, never following a link."""
    if owner is None and group is None:
        return
    for root, dirs, files in os.walk(top):
        for name in [root] + [os.path.join(root, entry) for entry in dirs + files]:
            apply(module, name, owner, group)
