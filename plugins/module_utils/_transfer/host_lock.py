# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One host-wide lock that serialises the writing modules of two runs on the same host.

``held(path, timeout, what)`` takes an exclusive ``fcntl.flock`` on ``path`` (created
when missing, never through a symbolic link) and records who holds it (pid, since
when, what it writes) in the file, for the message of a run that waits too long.
The kernel drops a flock when its holder exits in any way, ``kill -9`` and a crash
included, so a dead run never leaves a stale lock; the file itself stays, empty of
meaning, and is reused.

The lock is held for one write operation (one module call), not for a whole
playbook run.

Runs on managed hosts: standard library only, Python 3.8 syntax.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import fcntl
import json
import os
import time

POLL_SECONDS = 0.2
_HOLDER_MAX_BYTES = 4096


class LockError(ValueError):
    """The lock cannot be used: a bad timeout, a lock path that is a link or cannot be opened."""


class LockTimeout(LockError):
    """The lock stayed taken for the whole timeout; the message names the file, the wait and the holder."""

    def __init__(self, msg, holder=None):
        super(LockTimeout, self).__init__(msg)
        self.holder = holder


def _open(path):
    """A descriptor on the lock file, created 0644 when missing. Raises OSError (ELOOP for a link)."""
    flags = os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(path, os.O_RDWR | flags, 0o644), True
    except OSError as exc:
        if exc.errno != errno.EACCES:
            raise
    # Another user's lock file: flock works on a read-only descriptor too, we just cannot sign it.
    return os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), False


def read_holder(path):
    """What the last holder wrote into the lock file ({pid, since, what}), or None."""
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read(_HOLDER_MAX_BYTES).decode("utf-8"))
    except (IOError, OSError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def describe_holder(holder):
    if not holder or not holder.get("pid"):
        return "the holder did not sign it"
    text = "held by pid %s" % holder["pid"]
    if holder.get("since"):
        text += " since %s" % holder["since"]
    if holder.get("what"):
        text += " (%s)" % holder["what"]
    return text


def _sign(fd, what):
    holder = {"pid": os.getpid(), "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "what": what}
    data = json.dumps(holder, sort_keys=True).encode("utf-8") + b"\n"
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


def acquire(path, timeout, what="", clock=time.monotonic, sleep=time.sleep):
    """Take the lock, waiting at most ``timeout`` seconds (0: do not wait). Returns the descriptor.

    Raises LockTimeout when it stays taken, LockError for a bad timeout or a lock path that is a
    symbolic link or cannot be opened.
    """
    if timeout is None or timeout < 0:
        raise LockError("lock_timeout must be 0 (do not wait) or a positive number of seconds, got %r." % (timeout,))
    try:
        fd, writable = _open(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LockError("The host lock %s is a symbolic link; refusing to follow it. Remove the link." % path)
        raise LockError("The host lock %s cannot be opened: %s." % (path, exc.strerror or exc))
    start = clock()
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
            waited = clock() - start
            if waited >= timeout:
                holder = read_holder(path)
                raise LockTimeout(
                    "Another run is writing on this host: the host lock %s is %s. Waited %d s (lock_timeout %s); "
                    "nothing was changed. Run again when it is done, or raise lock_timeout."
                    % (path, describe_holder(holder), int(round(waited)), timeout), holder=holder)
            sleep(min(POLL_SECONDS, max(timeout - waited, 0.01)))
        if writable:
            _sign(fd, what)
    except BaseException:
        os.close(fd)
        raise
    return fd


def release(fd):
    """Drop the lock and its signature (closing the descriptor alone would drop the lock too)."""
    try:
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass  # a read-only descriptor: we did not sign it either
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def held(path, timeout, what="", clock=time.monotonic, sleep=time.sleep):
    """``with held(path, 600, "writing /x"):`` runs the block under the lock; ``path=None`` takes none."""
    if not path:
        yield None
        return
    fd = acquire(path, timeout, what, clock=clock, sleep=sleep)
    try:
        yield fd
    finally:
        release(fd)
