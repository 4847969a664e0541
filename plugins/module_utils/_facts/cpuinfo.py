# -*- coding: utf-8 -*-
# Copyright: (c) 2025, voiceagent.models maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the CPU model and the instruction-set flags that decide llama.cpp speed.

Runs on the managed host inside AnsiballZ: standard library only, Python 3.8 syntax.
``parse_cpuinfo`` is pure and never raises; ``read_cpuinfo`` turns an unreadable file
into a warning sentence.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

# x86 ``flags`` and ARM ``Features`` tokens that change which llama.cpp build runs and how fast.
LLM_FLAGS = (
    "avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8",
    "asimd", "asimddp", "i8mm", "sve",
)

# ``CPU part`` values of implementer 0x41 (Arm Ltd.); parts are numbered per implementer,
# so this table is only consulted when the implementer is 0x41.
ARM_PARTS = {
    0xd03: "Cortex-A53",
    0xd08: "Cortex-A72",
    0xd0b: "Cortex-A76",
    0xd0c: "Neoverse N1",
    0xd40: "Neoverse V1",
    0xd49: "Neoverse N2",
    0xd4f: "Neoverse V2",
}

ARM_IMPLEMENTER = 0x41


def _split_line(line):
    """``"model name\\t: Foo"`` -> ``("model name", "Foo")``; None for a line without a colon."""
    key, sep, value = line.partition(":")
    if not sep:
        return None
    key = key.strip()
    if not key:
        return None
    return key, value.strip()


def _fields(text):
    """The first processor block's fields, and the first occurrence of every field anywhere.

    The first block runs from the first ``processor`` line to the next one. Old ARM kernels
    print ``Features`` and ``Hardware`` outside the processor blocks (after the last one, or
    before the first), so a key missing from the first block falls back to its first
    occurrence anywhere in the file.
    """
    first_block = {}
    anywhere = {}
    seen_processor = 0
    for raw in text.splitlines():
        parsed = _split_line(raw)
        if parsed is None:
            continue
        key, value = parsed
        if key == "processor":
            seen_processor += 1
        elif seen_processor == 1 and key not in first_block:
            first_block[key] = value
        if key not in anywhere:
            anywhere[key] = value
    return first_block, anywhere


def _hex_int(value):
    """``"0x41"`` -> 65; None for anything that is not a plain hex or decimal number."""
    if value is None:
        return None
    value = value.strip().lower()
    try:
        if value.startswith("0x") and len(value) > 2:
            digits = value[2:]
            if all(c in "0123456789abcdef" for c in digits):
                return int(digits, 16)
            return None
        if value and all(c in "0123456789" for c in value):
            return int(value, 10)
    except ValueError:
        return None
    return None


def _arm_model(implementer, part):
    """Name an ARM core from ``CPU implementer`` / ``CPU part``: a known Arm part by name,
    anything else (Apple 0x61, Ampere 0xc0, Qualcomm 0x51...) as its hex ids."""
    impl_num = _hex_int(implementer)
    part_num = _hex_int(part)
    if impl_num == ARM_IMPLEMENTER and part_num in ARM_PARTS:
        return "ARM " + ARM_PARTS[part_num]
    pieces = []
    if implementer:
        pieces.append("implementer " + (("0x%02x" % impl_num) if impl_num is not None else implementer))
    if part:
        pieces.append("part " + (("0x%03x" % part_num) if part_num is not None else part))
    if not pieces:
        return None
    return "ARM " + " ".join(pieces)


def _clean(value):
    """Collapse runs of blanks (old Intel names pad with spaces); None for an empty value."""
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


def _parse(text):
    """Parse and also say whether any flags/Features line was present."""
    if not isinstance(text, str):
        return {"model": None, "flags": []}, False
    first_block, anywhere = _fields(text)

    def get(key):
        value = first_block.get(key)
        if value is None:
            value = anywhere.get(key)
        return value

    model = _clean(get("model name"))
    if model is None:
        model = _clean(get("Hardware"))
    if model is None:
        model = _arm_model(_clean(get("CPU implementer")), _clean(get("CPU part")))

    flag_line = get("flags")
    if flag_line is None:
        flag_line = get("Features")
    tokens = set(flag_line.split()) if flag_line is not None else set()
    flags = sorted(flag for flag in LLM_FLAGS if flag in tokens)
    return {"model": model, "flags": flags}, flag_line is not None


def parse_cpuinfo(text):
    """Parse /proc/cpuinfo text.

    Returns ``{"model": str or None, "flags": [...]}`` where ``flags`` is the sorted list of
    ``LLM_FLAGS`` found in the first processor block's ``flags`` (x86) or ``Features`` (ARM)
    line. Flags are read, never inferred from the model name. The model is ``model name``,
    else ``Hardware``, else the ARM ``CPU implementer``/``CPU part`` pair. Never raises.
    """
    return _parse(text)[0]


def read_cpuinfo(root="/"):
    """Read ``<root>/proc/cpuinfo``.

    Returns ``{"model": str or None, "flags": [...], "warnings": [str, ...]}``. ``root`` exists
    only so tests can point at a fixture tree; the module uses the default.
    """
    path = os.path.join(root, "proc", "cpuinfo")
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except (OSError, ValueError) as exc:
        return {
            "model": None,
            "flags": [],
            "warnings": [
                "Could not read /proc/cpuinfo (%s): the CPU model and its instruction-set "
                "flags are unknown." % (getattr(exc, "strerror", None) or exc)
            ],
        }
    result, had_flag_line = _parse(text)
    warnings = []
    if not had_flag_line:
        warnings.append(
            "/proc/cpuinfo has no flags or Features line: the CPU's instruction-set "
            "extensions are unknown, not absent."
        )
    result["warnings"] = warnings
    return result
