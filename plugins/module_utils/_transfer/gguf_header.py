# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse a whole GGUF header (version 1 to 3): every metadata entry and tensor info, bounded by the file.

``check_gguf`` returns None when the file looks right, else one sentence naming the file.
Runs on managed hosts: standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import struct

from ansible_collections.voiceagent.models.plugins.module_utils._transfer.format_sniff import Garbled, Reader, not_a, run_check

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


def check_gguf(path):
    """Parse the GGUF header (all metadata and tensor infos); None when sound, else a sentence."""
    return run_check(path, _gguf_start)


def _gguf_start(path, fh, size):
    head = fh.read(8)
    if head and len(head) < 4 and b"GGUF".startswith(head):
        return "%s is truncated: it has only %d bytes." % (path, len(head))
    if head[:4] != b"GGUF":
        return not_a(path, head + fh.read(56), "GGUF")
    fh.seek(0)
    return _gguf_problem(path, fh, size)


def _gguf_problem(path, fh, size):
    reader = Reader(fh, size, "<")
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
                raise Garbled("has general.alignment %r; it must be a power of two stored as uint32" % (value,))
            alignment = value
    tensors = [_gguf_tensor_info(reader, count_code, index) for index in range(tensor_count)]
    data_start = -(-reader.pos // alignment) * alignment
    for name, offset, nbytes in tensors:
        end = data_start + offset + (nbytes or 0)
        if end > size:
            raise Garbled("is truncated: tensor %r ends at byte %d, but the file has only %d bytes"
                          % (name, end, size))
    return None


def _bounded(count, limit, what):
    if count > min(limit, _GGUF_MAX_COUNT):
        raise Garbled("is truncated or garbled: its %s is %d, more than the rest of the file can hold"
                      % (what, count))


def _decode(raw, what):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Garbled("is garbled: %s is not UTF-8" % what)


def _gguf_string(reader, count_code, what, limit=_GGUF_MAX_STRING):
    length = reader.unpack(count_code, "the length of " + what)
    if length > limit:
        raise Garbled("is garbled: %s claims %d bytes (at most %d make sense)" % (what, length, limit))
    return reader.take(length, what)


def _gguf_value(reader, count_code, vtype, name, depth):
    if vtype in _GGUF_SCALARS:
        value = reader.unpack(_GGUF_SCALARS[vtype], "the value of %r" % name)
        return value
    if vtype == _GGUF_STRING:
        length = reader.unpack(count_code, "the length of %r" % name)
        if length > _GGUF_MAX_STRING:
            raise Garbled("is garbled: the value of %r claims %d bytes" % (name, length))
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
    raise Garbled("is garbled: metadata %r has the unknown value type %d" % (name, vtype))


def _gguf_tensor_info(reader, count_code, index):
    what = "the name of tensor %d" % index
    name = _decode(_gguf_string(reader, count_code, what, _GGUF_MAX_KEY), what)
    n_dims = reader.unpack("I", "the dimensions of tensor %r" % name)
    if not 1 <= n_dims <= _GGUF_MAX_DIMS:
        raise Garbled("is garbled: tensor %r has %d dimensions" % (name, n_dims))
    elements = 1
    for _unused in range(n_dims):
        elements *= reader.unpack(count_code, "the shape of tensor %r" % name)
    ttype = reader.unpack("I", "the type of tensor %r" % name)
    offset = reader.unpack("Q", "the offset of tensor %r" % name)
    block = GGML_BLOCK_SIZES.get(ttype)
    nbytes = elements // block[0] * block[1] if block else None
    return name, offset, nbytes
