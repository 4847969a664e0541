# -*- coding: utf-8 -*-
# Copyright: (c) 2025, voiceagent.models maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse /proc/meminfo into bytes.

The fact module asks psutil first; this is its fallback (and what the tests pin down).
Standard library only, Python 3.8 syntax. Parsers never raise.

Note that MemTotal is a little below the installed RAM (firmware and kernel reservations):
a "16 GB" host reads about 15.6 GiB. Compare with a tolerance, never by flooring to whole GB.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

_INT = re.compile(r"-?[0-9]+\Z")


def _to_int(token):
    if not _INT.match(token):
        return None
    try:
        return int(token)
    except ValueError:  # more digits than int() accepts
        return None


def parse_meminfo(text):
    """``"MemTotal:  16364212 kB"`` lines -> ``{"MemTotal": 16756953088, ...}``.

    ``kB`` values (which the kernel means as KiB) are multiplied by 1024; values without a
    unit (``HugePages_Total``) are kept as they are. Lines that do not read
    ``Name: <integer> [kB]`` are skipped. The first occurrence of a field wins. Never raises.
    """
    fields = {}
    if not isinstance(text, str):
        return fields
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        key = key.strip()
        if not sep or not key or key in fields:
            continue
        tokens = rest.split()
        if not tokens or len(tokens) > 2:
            continue
        value = _to_int(tokens[0])
        if value is None:
            continue
        if len(tokens) == 2:
            if tokens[1].lower() != "kb":
                continue
            value *= 1024
        fields[key] = value
    return fields


def memory_from_meminfo(fields):
    """``{"total_bytes": int or None, "available_bytes": int or None}`` from parsed fields.

    Available memory is ``MemAvailable``; kernels before 3.14 lack it, and there it is
    estimated as ``MemFree + Buffers + Cached`` (the same estimate ``free`` used then).
    """
    if not isinstance(fields, dict):
        fields = {}
    total = fields.get("MemTotal")
    available = fields.get("MemAvailable")
    if available is None and fields.get("MemFree") is not None:
        available = fields["MemFree"] + (fields.get("Buffers") or 0) + (fields.get("Cached") or 0)
    return {"total_bytes": total, "available_bytes": available}


def read_meminfo(root="/"):
    """Read ``<root>/proc/meminfo``: ``{"total_bytes", "available_bytes", "warnings": [...]}``.

    ``root`` exists only so tests can point at a fixture tree.
    """
    path = os.path.join(root, "proc", "meminfo")
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except (OSError, ValueError) as exc:
        return {
            "total_bytes": None,
            "available_bytes": None,
            "warnings": [
                "Could not read /proc/meminfo (%s): the host's memory size is unknown."
                % (getattr(exc, "strerror", None) or exc)
            ],
        }
    result = memory_from_meminfo(parse_meminfo(text))
    warnings = []
    if result["total_bytes"] is None:
        warnings.append("/proc/meminfo has no readable MemTotal line: the host's memory size is unknown.")
    result["warnings"] = warnings
    return result
