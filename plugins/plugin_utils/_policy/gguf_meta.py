# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GGUF header keys that size a model, read from the first bytes of a file: pure functions.

``header_keys(read)`` walks the metadata of a GGUF file (versions 1 to 3) and returns the keys the
registry keeps under ``models.llm.gguf``, spelled as in GGUF. ``read(offset, size)`` returns up to
``size`` bytes at ``offset`` (a local file, or an HTTP range request: bench/registry_meta.py); the
walk asks for the metadata in growing pieces and stops where the tensor infos start, so the tensors
are never read. Large values (the tokenizer's vocabulary, its merges, the chat template text) are
skipped, not kept: the registry gets the vocabulary's length and whether a template is embedded.
"""

import struct

# GGUF value types -> struct code of the scalar (gguf.constants.GGUFValueType).
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9
FIRST_READ = 256 * 1024
# A header larger than this is not a model we ship (Llama-3's 128k vocabulary plus merges is ~10 MB).
MAX_HEADER_BYTES = 128 * 1024 * 1024

# The per-architecture keys the memory and speed model reads, without the "<arch>." prefix.
ARCH_KEYS = (
    "block_count", "context_length", "embedding_length", "feed_forward_length",
    "attention.head_count", "attention.head_count_kv", "attention.key_length", "attention.value_length",
    "vocab_size",
)
GENERAL_KEYS = ("general.architecture", "general.file_type")
CHAT_TEMPLATE = "tokenizer.chat_template"
TOKENS = "tokenizer.ggml.tokens"


class GGUFMetaError(ValueError):
    """The bytes are not a GGUF header this reader understands; the message says why."""


class _Cursor(object):
    """Sequential reads over ``read(offset, size)``, fetching the header in doubling pieces."""

    def __init__(self, read, first=FIRST_READ):
        self._read = read
        self._buf = b""
        self._next = first
        self._eof = False
        self.pos = 0
        self.endian = "<"

    def _need(self, size, what):
        while self.pos + size > len(self._buf):
            if self._eof or len(self._buf) >= MAX_HEADER_BYTES:
                raise GGUFMetaError("the file ends (or passes %d MiB) inside %s" % (MAX_HEADER_BYTES >> 20, what))
            want = max(self._next, self.pos + size - len(self._buf))
            piece = self._read(len(self._buf), want)
            if not piece:
                self._eof = True
                continue
            self._buf += piece
            self._eof = len(piece) < want
            self._next = min(self._next * 2, 16 * 1024 * 1024)

    def take(self, size, what):
        self._need(size, what)
        data = self._buf[self.pos:self.pos + size]
        self.pos += size
        return data

    def unpack(self, code, what):
        size = struct.calcsize(code)
        return struct.unpack(self.endian + code, self.take(size, what))[0]

    @property
    def fetched(self):
        return len(self._buf)


def _string(cur, count_code, what):
    length = cur.unpack(count_code, what)
    if length > MAX_HEADER_BYTES:
        raise GGUFMetaError("%s claims %d bytes" % (what, length))
    return cur.take(length, what)


def _value(cur, count_code, vtype, name, keep):
    """The value when ``keep``; otherwise skip it and return its element count (arrays) or True."""
    if vtype in _SCALARS:
        return cur.unpack(_SCALARS[vtype], name)
    if vtype == _STRING:
        raw = _string(cur, count_code, name)
        return raw.decode("utf-8", "replace") if keep else True
    if vtype == _ARRAY:
        etype = cur.unpack("I", name)
        count = cur.unpack(count_code, name)
        if count > MAX_HEADER_BYTES:
            raise GGUFMetaError("the array %s claims %d entries" % (name, count))
        if etype in _SCALARS and not keep:
            cur.take(count * struct.calcsize(_SCALARS[etype]), name)
            return count
        values = [_value(cur, count_code, etype, name, keep) for _unused in range(count)]
        return values if keep else count
    raise GGUFMetaError("%s has the unknown value type %d" % (name, vtype))


def read_metadata(read, wanted):
    """(metadata dict of the ``wanted`` names plus array lengths, header version, bytes fetched)."""
    cur = _Cursor(read)
    if cur.take(4, "the magic") != b"GGUF":
        raise GGUFMetaError("it does not start with the GGUF magic")
    version = cur.unpack("I", "the version")
    if version not in (1, 2, 3) and version & 0xFFFF == 0:
        cur.endian = ">"
        version = struct.unpack(">I", struct.pack("<I", version))[0]
    if version not in (1, 2, 3):
        raise GGUFMetaError("it is GGUF version %d; only 1, 2 and 3 exist" % version)
    count_code = "I" if version == 1 else "Q"
    cur.unpack(count_code, "the tensor count")
    kv_count = cur.unpack(count_code, "the metadata count")
    found = {}
    for index in range(kv_count):
        name = _string(cur, count_code, "the name of metadata entry %d" % index).decode("utf-8", "replace")
        vtype = cur.unpack("I", "the type of %s" % name)
        found[name] = _value(cur, count_code, vtype, name, wanted(name))
    return found, version, cur.fetched


def _int_or_max(value):
    """Per-layer arrays (some architectures vary heads by layer) count their largest entry."""
    if isinstance(value, list):
        return max(value) if value else None
    return value


def header_keys(read):
    """The registry's ``models.llm.gguf`` dict read from a GGUF header. Raises GGUFMetaError."""
    found, _version, _fetched = read_metadata(
        read, lambda name: name.startswith("general.") or (not name.startswith("tokenizer.")))
    arch = found.get("general.architecture")
    if not isinstance(arch, str) or not arch:
        raise GGUFMetaError("its header has no general.architecture")
    keys = {"general.architecture": arch}
    if isinstance(found.get("general.file_type"), int):
        keys["general.file_type"] = found["general.file_type"]
    for suffix in ARCH_KEYS:
        value = _int_or_max(found.get("%s.%s" % (arch, suffix)))
        if isinstance(value, int) and not isinstance(value, bool):
            keys["%s.%s" % (arch, suffix)] = value
    vocab = "%s.vocab_size" % arch
    if vocab not in keys and isinstance(found.get(TOKENS), int):
        keys[vocab] = found[TOKENS]
    keys[CHAT_TEMPLATE] = CHAT_TEMPLATE in found
    return keys


def compare(registry_keys, header):
    """Sentences for each key the registry states differently from the header (missing keys are not listed)."""
    problems = []
    for key in sorted(header):
        if key in (registry_keys or {}) and registry_keys[key] != header[key]:
            problems.append("%s is %r in the registry, %r in the file's header" % (key, registry_keys[key], header[key]))
    return problems


def completed(registry_keys, header):
    """The registry's keys with the header's filled in; the header wins where they differ."""
    merged = dict(registry_keys or {})
    merged.update(header)
    return dict(sorted(merged.items()))


def file_reader(handle):
    """``read(offset, size)`` over an open binary file."""
    def read(offset, size):
        handle.seek(offset)
        return handle.read(size)
    return read
