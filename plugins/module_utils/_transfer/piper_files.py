# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of the two files of a Piper voice: the ONNX model and its JSON config.

Each returns None when the file looks right, else one sentence naming the file.
Runs on managed hosts: standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.voiceagent.models.plugins.module_utils._transfer.format_sniff import Garbled, Reader, not_a, run_check

_PIPER_CONFIG_MAX_BYTES = 16 * 1024 * 1024
_ONNX_MAX_FIELDS = 100000


def check_piper_onnx(path):
    """An ONNX ModelProto: field 1 (ir_version) first, a graph, top-level fields ending at EOF."""
    return run_check(path, _onnx_start)


def _onnx_start(path, fh, size):
    head = fh.read(64)
    if head[:1] != b"\x08":
        return not_a(path, head, "an ONNX model")
    fh.seek(0)
    return _onnx_problem(path, fh, size)


def _varint(reader, what):
    value = 0
    for shift in range(0, 70, 7):
        byte = bytearray(reader.take(1, what))[0]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value
    raise Garbled("is garbled: %s is not a valid varint" % what)


def _onnx_problem(path, fh, size):
    reader = Reader(fh, size, "<")
    fields = set()
    while reader.left():
        if len(fields) > _ONNX_MAX_FIELDS:
            raise Garbled("is garbled: too many top-level fields")
        tag = _varint(reader, "a field tag")
        number, wire = tag >> 3, tag & 7
        what = "field %d" % number
        if number == 1 and wire == 0:
            ir_version = _varint(reader, "ir_version")
            if not 1 <= ir_version <= 100:
                raise Garbled("has ONNX ir_version %d; real models use 3 to about 11" % ir_version)
        elif wire == 0:
            _varint(reader, what)
        elif wire == 1:
            reader.skip(8, what)
        elif wire == 2:
            reader.skip(_varint(reader, "the length of " + what), what)
        elif wire == 5:
            reader.skip(4, what)
        else:
            raise Garbled("is garbled: field %d uses protobuf wire type %d, which ONNX never uses" % (number, wire))
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
        return not_a(path, raw[:64], "a JSON object")
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
