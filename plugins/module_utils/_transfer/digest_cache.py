# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Remember file digests beside the files, so a rerun does not re-hash gigabytes.

One sidecar per directory, ``.voiceagent-digests.json``, maps a file name to
``{"size", "mtime_ns", "ctime_ns", "ino", "sha256", "md5"}`` (md5 only when it
was computed). A cached digest counts only while the file's size, mtime, ctime
and inode are still the ones recorded. The mtime alone is not enough: whoever
owns a model file (the agent's user) can rewrite it and set the mtime back
(``touch -d``), but no user can set the ctime, which any write, chmod or chown
moves. So the digest is recorded after the final rename and chown, and a file
touched in any way since is hashed again.

A missing, unreadable or garbled sidecar is an empty cache, and a sidecar that
cannot be written is skipped: the cache only ever saves time.

Runs on managed hosts: standard library only, Python 3.8 syntax.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import queue
import threading

from ansible_collections.voiceagent.models.plugins.module_utils._transfer.atomic_write import write_atomically
from ansible_collections.voiceagent.models.plugins.module_utils._units import CHUNK

SIDECAR = ".voiceagent-digests.json"
_MAX_SIDECAR_BYTES = 4 * 1024 * 1024


_STAMP_KEYS = ("size", "mtime_ns", "ctime_ns", "ino")


def _stamp(st):
    """What must not have changed since a digest was recorded (an entry without ctime is stale)."""
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns, "ino": st.st_ino}


def sidecar_path(path):
    return os.path.join(os.path.dirname(os.path.abspath(path)), SIDECAR)


def new_hash(name):
    if name == "md5":
        # FIPS builds refuse md5 unless it is declared as not used for security (Python >= 3.9).
        try:
            return hashlib.new("md5", usedforsecurity=False)
        except TypeError:
            return hashlib.new("md5")
    return hashlib.new(name)


def file_digests(path, names=("sha256",), chunk=CHUNK):
    """Hash the file once for every algorithm in ``names``; returns {name: hexdigest}."""
    hashes = dict((name, new_hash(name)) for name in names)
    with open(path, "rb") as fh:
        while True:
            data = fh.read(chunk)
            if not data:
                break
            for digest in hashes.values():
                digest.update(data)
    return dict((name, digest.hexdigest()) for name, digest in hashes.items())


class BackgroundDigests(object):
    """Hash bytes in a second thread while the caller writes them, so a download is not followed by a re-read.

    hashlib releases the GIL on large buffers, so on two cores the hashing runs
    beside the socket reads and file writes instead of after them. ``update``
    blocks once ``depth`` chunks wait, which bounds the memory held.
    Always end with ``hexdigests()`` or ``abandon()``: each stops the thread.
    """

    def __init__(self, names=("sha256",), depth=16):
        self._hashes = dict((name, new_hash(name)) for name in names)
        self._queue = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, name="voiceagent-digests")
        self._thread.daemon = True
        self._thread.start()
        self.bytes = 0

    def _run(self):
        while True:
            data = self._queue.get()
            if data is None:
                return
            for digest in self._hashes.values():
                digest.update(data)

    def update(self, data):
        self.bytes += len(data)
        self._queue.put(data)

    def _stop(self):
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def hexdigests(self):
        """{name: hexdigest} of every byte given to ``update``."""
        self._stop()
        return dict((name, digest.hexdigest()) for name, digest in self._hashes.items())

    def abandon(self):
        self._stop()


def file_sha256(path, chunk=CHUNK):
    return file_digests(path, ("sha256",), chunk)["sha256"]


def _load(sidecar):
    try:
        if os.path.getsize(sidecar) > _MAX_SIDECAR_BYTES:
            return {}
        with open(sidecar, "rb") as fh:
            data = json.loads(fh.read().decode("utf-8"))
    except (IOError, OSError, ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return dict((name, entry) for name, entry in data.items() if isinstance(entry, dict))


def lookup(path, algorithm="sha256"):
    """The cached digest of ``path``, or None when unknown or the file changed since."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    entry = _load(sidecar_path(path)).get(os.path.basename(path))
    if not entry or _stamp(st) != dict((key, entry.get(key)) for key in _STAMP_KEYS):
        return None
    digest = entry.get(algorithm)
    return digest if isinstance(digest, str) else None


def record(path, sha256, md5=None):
    """Remember the digests of ``path`` as it is now; returns False when the sidecar cannot be written."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    sidecar = sidecar_path(path)
    directory = os.path.dirname(sidecar)
    data = _load(sidecar)
    # Forget files that are gone, so the sidecar does not grow forever.
    data = dict((name, entry) for name, entry in data.items() if os.path.exists(os.path.join(directory, name)))
    entry = _stamp(st)
    entry["sha256"] = sha256
    if md5:
        entry["md5"] = md5
    data[os.path.basename(path)] = entry
    return _write_atomically(sidecar, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"))


def forget(path):
    """Drop the entry of ``path`` (used before replacing the file)."""
    sidecar = sidecar_path(path)
    data = _load(sidecar)
    if data.pop(os.path.basename(path), None) is None:
        return True
    return _write_atomically(sidecar, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"))


def cached_digests(path, names=("sha256",), write=True):
    """Digests of ``path`` from the cache when all are there, else hashed (and cached when ``write``).

    Returns ``(digests, from_cache)``.
    """
    cached = dict((name, lookup(path, name)) for name in names)
    if all(cached.values()):
        return cached, True
    digests = file_digests(path, tuple(set(names) | {"sha256"}))
    if write:
        record(path, digests["sha256"], digests.get("md5"))
    return dict((name, digests[name]) for name in names), False


def _write_atomically(path, data):
    try:
        write_atomically(path, data, 0o644)
    except OSError:
        return False
    return True
