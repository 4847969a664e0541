# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replace a file so that a reader sees the old content or the new, never half of it."""

import os
import re
import stat
import tempfile


def parse_mode(value):
    """Octal permissions from '0644', '644', '0o644' or an int (YAML 0644 is already 420). Raises ValueError."""
    if isinstance(value, int) and not isinstance(value, bool):
        mode = value
    elif isinstance(value, str) and re.match(r"0?o?[0-7]{3,4}\Z", value.strip()):
        mode = int(value.strip().replace("o", ""), 8)
    else:
        raise ValueError("mode must be an octal number such as '0644', got %r." % (value,))
    if not 0 <= mode <= 0o7777:
        raise ValueError("mode must be between 0000 and 7777 (octal), got %r." % (value,))
    return mode


def fsync_dir(path):
    """Make a rename in ``path`` durable; not every filesystem allows it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _temp_name_pattern(path):
    # mkstemp's names: prefix, 8 characters from [a-z0-9_], suffix (see write_atomically).
    return re.compile(r"\A\.%s\.[a-z0-9_]{8}\.tmp\Z" % re.escape(os.path.basename(path)))


def remove_leftover_temps(path):
    """Remove temp files that a killed ``write_atomically(path, ...)`` left beside ``path``.

    A run killed between mkstemp and the rename leaves ``.<name>.XXXXXXXX.tmp``;
    for a ``.env`` it holds secrets. Call this only while holding the lock that
    serialises writers of ``path``, or a live writer's temp file would go.
    Returns the removed paths. Symlinks are removed as links, never followed.
    """
    directory = os.path.dirname(os.path.abspath(path))
    pattern = _temp_name_pattern(path)
    removed = []
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return removed
    for name in names:
        if not pattern.match(name):
            continue
        leftover = os.path.join(directory, name)
        try:
            if stat.S_ISDIR(os.lstat(leftover).st_mode):
                continue
            os.unlink(leftover)
        except OSError:
            continue
        removed.append(leftover)
    return removed


def write_atomically(path, data, mode=0o644, like=None):
    """Write ``data`` (bytes) to a temp file beside ``path``, fsync, then rename it over ``path``.

    ``like`` is the ``os.stat`` of the file being replaced: its mode, owner and
    group carry over. Otherwise the new file gets ``mode``. The temp file has
    its final mode from creation on (mkstemp makes it 0600), so a secret never
    sits in a readable file. Raises OSError; the temp file never outlives a failure.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    try:
        if like is not None:
            os.fchmod(fd, stat.S_IMODE(like.st_mode))
            current = os.fstat(fd)
            # chown only when needed: a non-root user may not chown, even to itself.
            if (current.st_uid, current.st_gid) != (like.st_uid, like.st_gid):
                os.fchown(fd, like.st_uid, like.st_gid)
        else:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            fd = None
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        tmp = None
        fsync_dir(directory)
    finally:
        if fd is not None:
            os.close(fd)
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
