# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of ``voiceagent.models.model_file``.

The module does the work on the host; this action adds what only the
controller can do:

* digests the registry lacks come from, and go into, the controller's lock
  file (``lock_file``), so every host and run is checked against the first
  verified download;
* long transfers run as a series of module calls of ``progress_interval``
  seconds each, and a progress line is printed after each one, so a multi-GB
  file never runs silently for minutes;
* with ``via_controller`` the file is fetched once into a controller cache
  keyed by sha256 (forks wait on a file lock instead of fetching it again),
  then pushed to the host, which verifies it and renames it into place.
"""

import fcntl
import hashlib
import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.voiceagent.models.plugins.module_utils._transfer.atomic_write import write_atomically
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.digest_cache import file_digests
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.http_download import DownloadError, download
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.model_layout import controller_part_path
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.pin_check import mismatches
from ansible_collections.voiceagent.models.plugins.plugin_utils.digest_lock import (
    DigestConflictError,
    pin,
    pinned,
)

display = Display()

ACTION_ARGS = ("upstream_url", "lock_file", "progress_interval", "via_controller", "controller_cache",
               "digest_source")


def _human(size):
    if size is None:
        return "? bytes"
    return "%.1f MB" % (size / 1e6) if size >= 1e6 else "%.0f kB" % (size / 1e3)


class ActionModule(ActionBase):
    TRANSFERS_FILES = True
    _supports_check_mode = True

    def _progress(self, name, done, total, extra=""):
        percent = " (%d%%)" % (100 * done // total) if total else ""
        display.display("%s: %s %s of %s%s%s" % (self._task_host(), name, _human(done), _human(total), percent, extra))

    def _task_host(self):
        return self._task_vars.get("inventory_hostname", "?")

    def run(self, tmp=None, task_vars=None):
        self._task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        module_args = dict(self._task.args)
        opts = dict((key, module_args.pop(key, None)) for key in ACTION_ARGS)
        upstream = opts["upstream_url"] or module_args.get("url")
        name = os.path.basename(module_args.get("dest", "").rstrip("/")) or upstream
        interval = float(opts["progress_interval"] or 0)
        lock_file = opts["lock_file"]

        # The plan says where a given sha256 came from (the registry, or the lock it already read).
        digest_source = (opts["digest_source"] or "registry") if module_args.get("sha256") else None
        if not module_args.get("sha256") and lock_file:
            try:
                entry = pinned(lock_file, upstream)
            except ValueError as exc:
                raise AnsibleActionFail(to_text(exc))
            if entry:
                module_args["sha256"] = entry["sha256"]
                digest_source = "lock"

        if opts["via_controller"] and not self._task.check_mode:
            outcome = self._via_controller(module_args, opts, upstream, name, task_vars)
        else:
            outcome = self._on_host(module_args, interval, name, task_vars)
        result.update(outcome)
        if result.get("failed"):
            return result

        if digest_source is None and result.get("sha256") and lock_file and not self._task.check_mode:
            try:
                digest_source = pin(lock_file, upstream, result["sha256"], result.get("size"), self._task_host())
            except DigestConflictError as exc:
                return dict(result, failed=True, msg=to_text(exc))
        result["digest_source"] = digest_source
        result["name"] = name
        return result

    def _on_host(self, module_args, interval, name, task_vars):
        """Call the module until the file is complete, printing progress between calls."""
        args = dict(module_args, max_seconds=interval)
        changed, downloaded, seconds = False, 0, 0.0
        while True:
            outcome = self._execute_module(module_name="voiceagent.models.model_file", module_args=args,
                                           task_vars=task_vars)
            changed = changed or bool(outcome.get("changed"))
            downloaded += int(outcome.get("bytes_downloaded") or 0)
            seconds += float(outcome.get("seconds") or 0)
            if outcome.get("failed") or outcome.get("state") != "partial":
                outcome.update(changed=changed, bytes_downloaded=downloaded, seconds=round(seconds, 3))
                return outcome
            self._progress(name, outcome.get("bytes_done") or 0, outcome.get("bytes_total"))

    def _via_controller(self, module_args, opts, upstream, name, task_vars):
        """Fetch once into the controller cache, push to the host, let the module verify and finalize."""
        check = self._execute_module(module_name="voiceagent.models.model_file",
                                     module_args=dict(module_args, present_only=True), task_vars=task_vars)
        if check.get("failed") or check.get("state") == "present":
            return check
        blob, sha256 = self._controller_blob(module_args, opts, upstream, name)
        module_args = dict(module_args, sha256=module_args.get("sha256") or sha256)
        dest = module_args["dest"].rstrip("/")
        remote = controller_part_path(dest)
        self._progress(name, 0, os.path.getsize(blob), " pushed from the controller")
        self._transfer_file(blob, remote)
        self._fixup_perms2([remote])
        outcome = self._execute_module(module_name="voiceagent.models.model_file",
                                       module_args=dict(module_args, src=remote), task_vars=task_vars)
        outcome["bytes_downloaded"] = 0
        outcome["bytes_pushed"] = os.path.getsize(blob)
        return outcome

    def _controller_blob(self, module_args, opts, upstream, name):
        """Path of a verified copy in the controller cache: one fetch per file for the whole fleet."""
        cache = os.path.expanduser(opts["controller_cache"] or "~/.cache/voiceagent/blobs")
        for sub in ("sha256", "by-url"):
            os.makedirs(os.path.join(cache, sub), exist_ok=True)
        url_key = hashlib.sha256(to_text(upstream).encode("utf-8")).hexdigest()
        index = os.path.join(cache, "by-url", url_key)
        with open(os.path.join(cache, ".%s.flock" % url_key), "a") as guard:
            # Forks asking for the same file wait here; the first one fetches it.
            fcntl.flock(guard, fcntl.LOCK_EX)
            expected = module_args.get("sha256")
            if not expected and os.path.isfile(index):
                # A digest not pinned yet: the fork that fetched first left it here.
                with open(index) as handle:
                    expected = handle.read().strip()
            if expected and os.path.isfile(os.path.join(cache, "sha256", expected)):
                return os.path.join(cache, "sha256", expected), expected
            part = os.path.join(cache, "%s.part" % url_key)
            size = module_args.get("size")
            while True:
                try:
                    state = download(module_args["url"], part, expected_size=size,
                                     timeout=module_args.get("timeout") or 30,
                                     max_seconds=float(opts["progress_interval"] or 0) or None,
                                     validate_certs=module_args.get("validate_certs", True),
                                     digests=("sha256", "md5"))
                except DownloadError as exc:
                    raise AnsibleActionFail("controller download of %s failed: %s" % (name, exc))
                if state["complete"]:
                    break
                self._progress(name, state["bytes_now"], state.get("total"), " into the controller cache")
            # Hashed while written when one call fetched it all; a resumed or sliced fetch is read again.
            digests = state.get("digests") or file_digests(part, ("sha256", "md5"))
            sha256, md5 = digests["sha256"], digests["md5"]
            actual_size = os.path.getsize(part)
            pinned_values = {"size": int(size) if size is not None else None, "md5": module_args.get("md5"),
                             "sha256": expected}
            wrong = mismatches(pinned_values, {"size": actual_size, "md5": md5, "sha256": sha256},
                               ("size", "md5", "sha256"))
            problems = ["%s %s, expected %s" % problem for problem in wrong]
            if problems:
                os.unlink(part)
                raise AnsibleActionFail("controller download of %s from %s is wrong: %s; the partial file was removed."
                                        % (name, module_args["url"], "; ".join(problems)))
            blob = os.path.join(cache, "sha256", sha256)
            os.replace(part, blob)
            # Atomic: a half-written index would be read as the expected digest by the next fork.
            write_atomically(index, (sha256 + "\n").encode("ascii"), 0o644)
            return blob, sha256
