# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Vosk model zip: inspected without extracting it, then unpacked safely into a folder that replaces the old one.

Runs on managed hosts: standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib

from ansible_collections.voiceagent.models.plugins.module_utils._units import CHUNK
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.format_sniff import not_a, read_head
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.model_layout import VOSK_FOLDERS, VOSK_MARKER

_ZIP_MAX_MEMBERS = 100000
_BAD_KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
}


def _member_parts(name):
    # The zip format wants '/', but Windows tools sometimes write '\'; treat both as separators.
    return [part for part in name.replace("\\", "/").split("/") if part not in ("", ".")]


def member_problem(info):
    """Why one zip member must not be extracted, or None."""
    name = info.filename
    if "\x00" in name:
        return "member %r has a NUL byte in its name" % name
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return "member %r has an absolute path" % name
    if ".." in name.replace("\\", "/").split("/"):
        return "member %r climbs out of the folder with '..'" % name
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind in _BAD_KINDS:
        return "member %r is %s" % (name, _BAD_KINDS[kind])
    if mode & (stat.S_ISUID | stat.S_ISGID):
        return "member %r has the setuid or setgid bit" % name
    if info.flag_bits & 0x1:
        return "member %r is encrypted" % name
    return None


def inspect_vosk_zip(path, expected_size=None, max_ratio=20):
    """Check a Vosk model zip without extracting it.

    Returns ``(problem, plan)``: ``problem`` is None or a sentence; ``plan`` (None on a problem)
    has ``root`` (the member prefix of the model folder, ``""`` or ending in ``/``), ``files``,
    ``bytes`` (declared size of what gets extracted) and ``skipped`` (members outside the root).
    """
    try:
        size = os.path.getsize(path)
        if expected_size is not None and size != expected_size:
            return "%s is %d bytes, expected %d." % (path, size, expected_size), None
        if not zipfile.is_zipfile(path):
            return not_a(path, read_head(path), "a zip archive"), None
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (IOError, OSError) as exc:
        return "%s cannot be read: %s." % (path, getattr(exc, "strerror", None) or exc), None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        return "%s is not a readable zip archive: %s." % (path, exc), None
    if len(members) > _ZIP_MAX_MEMBERS:
        return "%s has %d members; a Vosk model has a few dozen." % (path, len(members)), None
    declared = 0
    dirs = set()
    seen = set()
    for info in members:
        problem = member_problem(info)
        if problem:
            return "%s is refused: %s." % (path, problem), None
        parts = tuple(_member_parts(info.filename))
        if parts in seen and parts:
            return "%s is refused: member %r appears twice." % (path, info.filename), None
        seen.add(parts)
        declared += info.file_size
        top = len(parts) if info.is_dir() else len(parts) - 1
        for depth in range(1, top + 1):
            dirs.add(parts[:depth])
    if declared > max_ratio * size:
        return ("%s would unpack to %d bytes, more than %d times its %d bytes: refused as a possible zip bomb."
                % (path, declared, max_ratio, size)), None
    roots = sorted(prefix for prefix in dirs | {()} if len(prefix) <= 2
                   and all(prefix + (folder,) in dirs for folder in VOSK_FOLDERS))
    if not roots:
        return "%s holds no Vosk model: no folder with both am/ and conf/ at its top or one or two levels down." \
            % path, None
    if len(roots) > 1:
        return "%s holds more than one Vosk model folder: %s." % (
            path, ", ".join("/".join(r) + "/" for r in roots)), None
    root = roots[0]
    plan = {"root": "".join(part + "/" for part in root), "files": 0, "bytes": 0, "skipped": []}
    for info in members:
        parts = tuple(_member_parts(info.filename))
        if _under(parts, root):
            if not info.is_dir():
                plan["files"] += 1
                plan["bytes"] += info.file_size
        elif parts != root[:len(parts)]:  # the root's own parent folders are not "skipped"
            plan["skipped"].append(info.filename)
    return None, plan


def _under(parts, root):
    return len(parts) > len(root) and parts[:len(root)] == root


def extract_vosk_zip(path, target_dir, plan, max_bytes, file_mode=0o644, marker=None, before_rename=None):
    """Unpack the model folder of ``plan`` into ``target_dir``, replacing it as a whole.

    Writes into a new temporary folder beside ``target_dir`` (same filesystem, so the final
    rename is atomic), flattening ``plan['root']``; aborts once more than ``max_bytes`` were
    written. ``marker`` (a dict) is saved as ``.voiceagent-source.json`` inside the folder and
    ``before_rename(tmp_dir)`` may fix ownership, both before the folder goes into place.
    Returns ``(problem, stats)``; on a problem nothing at ``target_dir`` has changed.
    """
    target_dir = os.path.abspath(target_dir)
    parent, name = os.path.split(target_dir)
    tmp = tempfile.mkdtemp(prefix=".%s.tmp-" % name, dir=parent)
    placed = False
    try:
        problem, stats = _extract_into(path, tmp, plan, max_bytes, file_mode)
        if problem:
            return problem, None
        if marker is not None:
            _write_file(os.path.join(tmp, VOSK_MARKER), json.dumps(marker, indent=2, sort_keys=True).encode(),
                        file_mode)
        os.chmod(tmp, 0o755)
        if before_rename is not None:
            before_rename(tmp)
        _swap_into_place(tmp, target_dir)
        placed = True
        return None, stats
    finally:
        if not placed:
            shutil.rmtree(tmp, ignore_errors=True)


def _extract_into(path, tmp, plan, max_bytes, file_mode):
    root = tuple(_member_parts(plan["root"]))
    stats = {"files": 0, "bytes": 0}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                # Checked again: the plan may come from another call, the file could have changed.
                problem = member_problem(info)
                if problem:
                    return "%s is refused: %s." % (path, problem), None
                parts = _member_parts(info.filename)
                if not _under(tuple(parts), root):
                    continue
                relative = parts[len(root):]
                if info.is_dir():
                    _make_dirs(tmp, relative)
                    continue
                _make_dirs(tmp, relative[:-1])
                written = _extract_member(archive, info, os.path.join(tmp, *relative), file_mode,
                                          max_bytes - stats["bytes"])
                if written is None:
                    return ("%s unpacked to more than %d bytes while extracting %r: refused as a possible zip bomb."
                            % (path, max_bytes, info.filename)), None
                stats["files"] += 1
                stats["bytes"] += written
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        return "%s is damaged: %s." % (path, exc), None
    except (IOError, OSError) as exc:
        return "Extracting %s failed: %s." % (path, exc), None
    except (zlib.error, NotImplementedError, RuntimeError) as exc:  # corrupt, exotic or encrypted member
        return "%s cannot be unpacked: %s." % (path, exc), None
    return None, stats


def _make_dirs(top, parts):
    current = top
    for part in parts:
        current = os.path.join(current, part)
        if os.path.islink(current) or (os.path.lexists(current) and not os.path.isdir(current)):
            raise OSError("%s is both a file and a folder in the archive" % current)
        if not os.path.lexists(current):
            os.mkdir(current, 0o755)
            os.chmod(current, 0o755)  # mkdir's mode is cut by the umask


def _extract_member(archive, info, dest, file_mode, budget):
    # O_EXCL + O_NOFOLLOW: never write through a link, never write one path twice.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(dest, flags, 0o600)
    written = 0
    with os.fdopen(fd, "wb") as out, archive.open(info) as member:
        os.fchmod(out.fileno(), file_mode)
        while True:
            data = member.read(CHUNK)
            if not data:
                return written
            written += len(data)
            if written > budget:
                return None
            out.write(data)


def _write_file(path, data, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), mode)
        out.write(data)


def _swap_into_place(new_dir, target_dir):
    """Rename ``new_dir`` to ``target_dir``; an old ``target_dir`` is moved aside first, then removed."""
    parent, name = os.path.split(target_dir)
    if not os.path.lexists(target_dir):
        os.rename(new_dir, target_dir)
        return
    aside = tempfile.mkdtemp(prefix=".%s.old-" % name, dir=parent)
    old = os.path.join(aside, name)
    os.rename(target_dir, old)
    try:
        os.rename(new_dir, target_dir)
    except OSError:
        os.rename(old, target_dir)
        shutil.rmtree(aside, ignore_errors=True)
        raise
    if os.path.islink(old) or not os.path.isdir(old):
        os.unlink(old)
    shutil.rmtree(aside, ignore_errors=True)
