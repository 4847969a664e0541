# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cheap structural checks of downloaded model files, and safe Vosk unpacking.

Each ``check_*`` function returns ``None`` when the file looks right, or one
plain sentence (naming the file) that says what is wrong. They read headers
only, never load a model, and never read past the end of the file: every count
and length read from the file is bounded by the bytes that are really left.

Runs on managed hosts: standard library only, Python 3.8 syntax.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib

from ansible_collections.voiceagent.models.plugins.module_utils._units import CHUNK

# Peak disk use of a Vosk archive: the zip plus its extracted folder, which
# is about 1.7x the zip for upstream's models; 3x leaves room.
ZIP_PEAK_FACTOR = 3

# GGUF value types (gguf.constants.GGUFValueType) -> struct code of the scalar.
_GGUF_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_GGUF_STRING = 8
_GGUF_ARRAY = 9
# ggml tensor type -> (elements per block, bytes per block), as gguf.GGML_QUANT_SIZES
# (a unit test keeps the two equal). Unknown (newer) types skip the size check.
GGML_BLOCK_SIZES = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 9: (32, 40),
    10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 15: (256, 292),
    16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110),
    22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8),
    29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66), 39: (32, 17), 40: (64, 36), 41: (128, 18),
}
GGUF_DEFAULT_ALIGNMENT = 32
# Far above any real model (tokenizer arrays hold ~256k entries, big models ~2k tensors),
# yet small enough that a garbled count is refused before a long loop starts.
_GGUF_MAX_COUNT = 1 << 24
_GGUF_MAX_STRING = 64 * 1024 * 1024
_GGUF_MAX_KEY = 65535
_GGUF_MAX_DIMS = 4
_GGUF_MAX_NESTING = 4

_PIPER_CONFIG_MAX_BYTES = 16 * 1024 * 1024
_ONNX_MAX_FIELDS = 100000

VOSK_MARKER = ".voiceagent-source.json"
# The folders a Vosk model cannot run without; a zip must hold both, an unpacked model must keep them.
VOSK_FOLDERS = ("am", "conf")


def part_path(dest, fmt):
    """Where an unfinished download of ``dest`` lives, beside it: ``.<name>.part`` (``.zip.part`` for Vosk)."""
    parent, name = os.path.split(dest.rstrip("/"))
    return os.path.join(parent, (".%s.zip.part" if fmt == "vosk-zip" else ".%s.part") % name)


def controller_part_path(dest):
    """Where the action pushes a file from the controller cache before the module takes it: beside ``dest``."""
    parent, name = os.path.split(dest.rstrip("/"))
    return os.path.join(parent, ".%s.controller-part" % name)


def missing_vosk_folder(directory):
    """The first of VOSK_FOLDERS an unpacked model lacks, or None when it has them all."""
    for folder in VOSK_FOLDERS:
        if not os.path.isdir(os.path.join(directory, folder)):
            return folder
    return None


def read_marker(directory):
    """The marker an unpacked Vosk model carries ({sha256, md5, size, ...}), or None."""
    try:
        with open(os.path.join(directory, VOSK_MARKER), "rb") as fh:
            marker = json.loads(fh.read(65536).decode("utf-8"))
    except (IOError, OSError, ValueError, UnicodeDecodeError):
        return None
    return marker if isinstance(marker, dict) else None


_ZIP_MAX_MEMBERS = 100000
_BAD_KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
}


class _Garbled(Exception):
    """A header that cannot be what it claims; the message is the sentence to return."""


def describe_start(head, what):
    """Say in words what the first bytes of a file are, for a file that is not ``what``."""
    text = head.lstrip()
    if not head:
        return "is empty"
    if text.startswith(b"version https://git-lfs"):
        return "is a Git LFS pointer file, not the model: the URL points at the pointer instead of the content"
    if text[:1] == b"<":
        snippet = re.match(br"[^>\r\n]{1,40}", text).group(0)
        return "starts with %r, not %s: probably an error page saved as a model" % (_ascii(snippet), what)
    if text[:1] in (b"{", b"["):
        return "starts with %r, not %s: probably a JSON error answer saved as a model" % (_ascii(text[:20]), what)
    if all(32 <= b < 127 or b in (9, 10, 13) for b in bytearray(head[:16])):
        return "starts with the text %r, not %s" % (_ascii(head[:16]), what)
    return "starts with the bytes %s, not %s" % (" ".join("%02x" % b for b in bytearray(head[:8])), what)


def _ascii(data):
    return data.decode("ascii", "replace").strip()


def _read_head(path, n=64):
    with open(path, "rb") as fh:
        return fh.read(n)


def _not_a(path, head, what):
    return "%s %s." % (path, describe_start(head, what))


# ---------------------------------------------------------------- GGUF


class _Reader(object):
    """Bounded little reader over a binary file: refuses to go past EOF."""

    def __init__(self, fh, size, endian):
        self.fh = fh
        self.size = size
        self.pos = fh.tell()
        self.endian = endian

    def left(self):
        return self.size - self.pos

    def take(self, n, what):
        if n > self.left():
            raise _Garbled("is truncated or garbled: %s needs %d bytes at offset %d, but only %d are left"
                           % (what, n, self.pos, self.left()))
        data = self.fh.read(n)
        if len(data) != n:  # the file shrank while we read it
            raise _Garbled("ended early at offset %d while reading %s" % (self.pos + len(data), what))
        self.pos += n
        return data

    def skip(self, n, what):
        if n > self.left():
            raise _Garbled("is truncated or garbled: %s needs %d bytes at offset %d, but only %d are left"
                           % (what, n, self.pos, self.left()))
        self.fh.seek(n, os.SEEK_CUR)
        self.pos += n

    def unpack(self, code, what):
        fmt = self.endian + code
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))[0]


def check_gguf(path):
    """Parse the GGUF header (all metadata and tensor infos); None when sound, else a sentence."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head = fh.read(8)
            if head and len(head) < 4 and b"GGUF".startswith(head):
                return "%s is truncated: it has only %d bytes." % (path, len(head))
            if head[:4] != b"GGUF":
                return _not_a(path, head + fh.read(56), "GGUF")
            fh.seek(0)
            return _gguf_problem(path, fh, size)
    except _Garbled as exc:
        return "%s %s." % (path, exc)
    except (IOError, OSError) as exc:
        return "%s cannot be read: %s." % (path, exc.strerror or exc)


def _gguf_problem(path, fh, size):
    reader = _Reader(fh, size, "<")
    reader.skip(4, "the magic")
    version = reader.unpack("I", "the version")
    if version not in (1, 2, 3) and version & 0xFFFF == 0:
        # A big-endian file reads as a huge number here (gguf's reader makes the same test).
        reader.endian = ">"
        version = struct.unpack(">I", struct.pack("<I", version))[0]
    if version not in (1, 2, 3):
        return "%s is GGUF version %d; only versions 1, 2 and 3 exist." % (path, version)
    # Version 1 stored counts and string lengths as uint32, later versions as uint64.
    count_code = "I" if version == 1 else "Q"
    tensor_count = reader.unpack(count_code, "the tensor count")
    kv_count = reader.unpack(count_code, "the metadata count")
    # Smallest possible entries: a tensor info takes at least 24 bytes, a metadata entry 9.
    _bounded(tensor_count, reader.left() // 24, "tensor count")
    _bounded(kv_count, reader.left() // 9, "metadata count")
    alignment = GGUF_DEFAULT_ALIGNMENT
    for index in range(kv_count):
        key = _gguf_string(reader, count_code, "the name of metadata entry %d" % index, _GGUF_MAX_KEY)
        name = _decode(key, "the name of metadata entry %d" % index)
        vtype = reader.unpack("I", "the type of %r" % name)
        value = _gguf_value(reader, count_code, vtype, name, 0)
        if name == "general.alignment":
            if vtype != 4 or not value or value & (value - 1):
                raise _Garbled("has general.alignment %r; it must be a power of two stored as uint32" % (value,))
            alignment = value
    tensors = [_gguf_tensor_info(reader, count_code, index) for index in range(tensor_count)]
    data_start = -(-reader.pos // alignment) * alignment
    for name, offset, nbytes in tensors:
        end = data_start + offset + (nbytes or 0)
        if end > size:
            raise _Garbled("is truncated: tensor %r ends at byte %d, but the file has only %d bytes"
                           % (name, end, size))
    return None


def _bounded(count, limit, what):
    if count > min(limit, _GGUF_MAX_COUNT):
        raise _Garbled("is truncated or garbled: its %s is %d, more than the rest of the file can hold"
                       % (what, count))


def _decode(raw, what):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Garbled("is garbled: %s is not UTF-8" % what)


def _gguf_string(reader, count_code, what, limit=_GGUF_MAX_STRING):
    length = reader.unpack(count_code, "the length of " + what)
    if length > limit:
        raise _Garbled("is garbled: %s claims %d bytes (at most %d make sense)" % (what, length, limit))
    return reader.take(length, what)


def _gguf_value(reader, count_code, vtype, name, depth):
    if vtype in _GGUF_SCALARS:
        value = reader.unpack(_GGUF_SCALARS[vtype], "the value of %r" % name)
        return value
    if vtype == _GGUF_STRING:
        length = reader.unpack(count_code, "the length of %r" % name)
        if length > _GGUF_MAX_STRING:
            raise _Garbled("is garbled: the value of %r claims %d bytes" % (name, length))
        reader.skip(length, "the value of %r" % name)
        return None
    if vtype == _GGUF_ARRAY and depth < _GGUF_MAX_NESTING:
        etype = reader.unpack("I", "the element type of %r" % name)
        count = reader.unpack(count_code, "the length of %r" % name)
        if etype in _GGUF_SCALARS:
            width = struct.calcsize("<" + _GGUF_SCALARS[etype])
            _bounded(count, reader.left() // width, "array %r length" % name)
            reader.skip(count * width, "the array %r" % name)
            return None
        # Strings take at least their length field, arrays at least type + count.
        _bounded(count, reader.left() // (4 if count_code == "I" else 8), "array %r length" % name)
        for _unused in range(count):
            _gguf_value(reader, count_code, etype, name, depth + 1)
        return None
    raise _Garbled("is garbled: metadata %r has the unknown value type %d" % (name, vtype))


def _gguf_tensor_info(reader, count_code, index):
    what = "the name of tensor %d" % index
    name = _decode(_gguf_string(reader, count_code, what, _GGUF_MAX_KEY), what)
    n_dims = reader.unpack("I", "the dimensions of tensor %r" % name)
    if not 1 <= n_dims <= _GGUF_MAX_DIMS:
        raise _Garbled("is garbled: tensor %r has %d dimensions" % (name, n_dims))
    elements = 1
    for _unused in range(n_dims):
        elements *= reader.unpack(count_code, "the shape of tensor %r" % name)
    ttype = reader.unpack("I", "the type of tensor %r" % name)
    offset = reader.unpack("Q", "the offset of tensor %r" % name)
    block = GGML_BLOCK_SIZES.get(ttype)
    nbytes = elements // block[0] * block[1] if block else None
    return name, offset, nbytes


# ---------------------------------------------------------------- Piper


def check_piper_onnx(path):
    """An ONNX ModelProto: field 1 (ir_version) first, a graph, top-level fields ending at EOF."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head = fh.read(64)
            if head[:1] != b"\x08":
                return _not_a(path, head, "an ONNX model")
            fh.seek(0)
            return _onnx_problem(path, fh, size)
    except _Garbled as exc:
        return "%s %s." % (path, exc)
    except (IOError, OSError) as exc:
        return "%s cannot be read: %s." % (path, exc.strerror or exc)


def _varint(reader, what):
    value = 0
    for shift in range(0, 70, 7):
        byte = bytearray(reader.take(1, what))[0]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value
    raise _Garbled("is garbled: %s is not a valid varint" % what)


def _onnx_problem(path, fh, size):
    reader = _Reader(fh, size, "<")
    fields = set()
    while reader.left():
        if len(fields) > _ONNX_MAX_FIELDS:
            raise _Garbled("is garbled: too many top-level fields")
        tag = _varint(reader, "a field tag")
        number, wire = tag >> 3, tag & 7
        what = "field %d" % number
        if number == 1 and wire == 0:
            ir_version = _varint(reader, "ir_version")
            if not 1 <= ir_version <= 100:
                raise _Garbled("has ONNX ir_version %d; real models use 3 to about 11" % ir_version)
        elif wire == 0:
            _varint(reader, what)
        elif wire == 1:
            reader.skip(8, what)
        elif wire == 2:
            reader.skip(_varint(reader, "the length of " + what), what)
        elif wire == 5:
            reader.skip(4, what)
        else:
            raise _Garbled("is garbled: field %d uses protobuf wire type %d, which ONNX never uses" % (number, wire))
        fields.add(number)
    if 7 not in fields:
        return "%s is an ONNX file without a graph, not a voice model." % path
    return None


def check_piper_config(path):
    """A Piper voice config: a JSON object with ``audio.sample_rate`` or ``phoneme_id_map``."""
    try:
        size = os.path.getsize(path)
        if size > _PIPER_CONFIG_MAX_BYTES:
            return "%s is %d bytes; a Piper voice config is a few kilobytes of JSON." % (path, size)
        with open(path, "rb") as fh:
            raw = fh.read()
    except (IOError, OSError) as exc:
        return "%s cannot be read: %s." % (path, exc.strerror or exc)
    if raw.lstrip()[:1] != b"{":
        return _not_a(path, raw[:64], "a JSON object")
    try:
        config = json.loads(raw.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        return "%s is not valid JSON: %s." % (path, exc)
    audio = config.get("audio")
    phonemes = config.get("phoneme_id_map")
    if isinstance(audio, dict) and _positive_int(audio.get("sample_rate")):
        return None
    if isinstance(phonemes, dict) and phonemes:
        return None
    if isinstance(audio, dict):
        return "%s has an 'audio' section without a positive 'sample_rate' and no phoneme_id_map." % path
    return "%s has neither audio.sample_rate nor phoneme_id_map: not a Piper voice config." % path


def _positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


# ---------------------------------------------------------------- Vosk zip


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
            return _not_a(path, _read_head(path), "a zip archive"), None
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
