# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller-side lock file that pins digests the registry does not have.

The first verified download of a file without a registry sha256 records it
here; every later host and run is checked against that digest. Forks of one
run write concurrently, so every read-modify-write holds an exclusive
``flock`` on a companion ``.flock`` file and replaces the JSON atomically.
"""

import datetime
import fcntl
import json
import os

from ansible_collections.voiceagent.models.plugins.module_utils._transfer.atomic_write import write_atomically

LOCK_VERSION = 1


class DigestConflictError(ValueError):
    """A download's digest differs from the one already pinned."""


def _empty():
    return {"version": LOCK_VERSION, "files": {}}


def read_lock(path):
    """The lock's data; an absent file is an empty lock. Raises ValueError on a corrupt one."""
    try:
        with open(path) as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return _empty()
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise ValueError("The digest lock file %s is not a voiceagent.models lock (no 'files' mapping)." % path)
    return data


def pinned(path, url):
    """The pinned entry for ``url`` ({sha256, size, …}) or None."""
    return read_lock(path)["files"].get(url)


class _Flock(object):
    def __init__(self, path):
        self.path = path + ".flock"

    def __enter__(self):
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            os.makedirs(directory)
        self.handle = open(self.path, "a")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def pin(path, url, sha256, size, host):
    """Record ``sha256`` for ``url`` unless pinned; returns 'recorded' or 'lock'.

    Raises DigestConflictError when another digest is pinned already.
    """
    with _Flock(path):
        data = read_lock(path)
        entry = data["files"].get(url)
        if entry:
            if entry.get("sha256") != sha256:
                raise DigestConflictError(
                    "%s has sha256 %s, but %s pins %s (first recorded from %s). The upstream file changed or the "
                    "download is wrong; remove the entry from the lock file only if the new file is trusted."
                    % (url, sha256, path, entry.get("sha256"), entry.get("recorded_by")))
            return "lock"
        data["files"][url] = {
            "sha256": sha256,
            "size": size,
            "recorded_by": host,
            "recorded_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        write_atomically(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"), 0o644)
        return "recorded"
