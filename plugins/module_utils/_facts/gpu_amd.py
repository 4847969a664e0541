# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers for AMD GPUs: rocm-smi JSON, rocm-smi text, and amdgpu sysfs.

The rocm-smi parsers are pure; read_amd_sysfs only reads files. Every GPU is a
dict with ``index``, ``name``, ``memory_total_mb``, ``memory_free_mb``,
``uuid``, ``driver``, ``gfx_version`` and ``integrated``. Memory is MiB.
"""

import json
import math
import os
import re

AMD_VENDOR_ID = "0x1002"

# An APU's integrated GPU gets a small BIOS carve-out as "VRAM" (32 MiB to
# 512 MiB is common, some BIOSes allow 1 GiB) while every discrete Radeon or
# Instinct card has at least 4 GiB. Below 2048 MiB we call it integrated: it
# stays in the list but is never a GPU tier. An APU whose BIOS carves out 2 GiB
# or more reads as a card; its real limit is system memory anyway.
INTEGRATED_VRAM_LIMIT_MB = 2048

# rocm-smi has renamed the product keys across releases; the first present
# value that is not "N/A" names the card. "Card Model" is often a PCI id such
# as "0x744c", so the marketing names come first.
NAME_KEYS = ("Card Series", "Card series", "Device Name", "Card Model", "Card model", "Card SKU")
DRIVER_KEYS = ("Driver version", "Driver Version")
UUID_KEYS = ("Unique ID", "Unique Id")

_MIB = 1024 * 1024
_UNIT_BYTES = {"b": 1, "kib": 1024, "kb": 1024, "mib": _MIB, "mb": _MIB, "gib": 1024 * _MIB, "gb": 1024 * _MIB}
_CARD_KEY = re.compile(r"^card(\d+)$")
# "GPU[0]          : VRAM Total Memory (B): 25769803776"
_TEXT_LINE = re.compile(r"^\s*GPU\[(\d+)\]\s*:\s*(.*)$")
# "VRAM Total Memory (B)", "VRAM Total Used Memory (MiB)"
_VRAM_KEY = re.compile(r"^vram total (used )?memory \((b|kib|kb|mib|mb|gib|gb)\)$", re.IGNORECASE)
_DRM_CARD = re.compile(r"^card(\d+)$")


def rocm_json_argv():
    return ["rocm-smi", "--showproductname", "--showmeminfo", "vram", "--json"]


def rocm_text_argv():
    return ["rocm-smi", "--showproductname", "--showmeminfo", "vram"]


def is_integrated(memory_total_mb):
    """True for an APU's iGPU: a VRAM carve-out below INTEGRATED_VRAM_LIMIT_MB."""
    return memory_total_mb is not None and memory_total_mb < INTEGRATED_VRAM_LIMIT_MB


def _present(value):
    if value is None:
        return None
    value = str(value).strip()
    if not value or value.upper() == "N/A":
        return None
    return value


def _first(mapping, keys):
    for key in keys:
        value = _present(mapping.get(key))
        if value is not None:
            return value
    return None


def _to_bytes(value, unit):
    """Integer bytes from a number in ``unit``; None when it is not a number."""
    value = _present(value)
    if value is None:
        return None
    try:
        amount = float(value) * _UNIT_BYTES[unit.lower()]
    except (ValueError, OverflowError):
        return None
    # inf, nan, a negative size or more than 2**60 bytes (an exbibyte): not a real card.
    if not math.isfinite(amount) or amount < 0 or amount > 2 ** 60:
        return None
    return int(amount)


def _vram_from(mapping):
    """(total, used) in bytes from keys such as "VRAM Total Memory (B)"."""
    total = used = None
    for key, value in mapping.items():
        match = _VRAM_KEY.match(str(key).strip())
        if not match:
            continue
        amount = _to_bytes(value, match.group(2))
        if match.group(1):
            used = amount
        else:
            total = amount
    return total, used


def _card_gpu(index, values, warnings, system_driver=None):
    """One card from rocm-smi's fields (JSON or text, the same names), with a warning when VRAM is missing."""
    total, used = _vram_from(values)
    if total is None:
        warnings.append("rocm-smi did not report the VRAM of AMD GPU %d" % index)
    return _make_gpu(index, _first(values, NAME_KEYS) or "AMD GPU", total, used, uuid=_first(values, UUID_KEYS),
                     driver=_first(values, DRIVER_KEYS) or system_driver, gfx=_present(values.get("GFX Version")))


def _make_gpu(index, name, total, used, uuid=None, driver=None, gfx=None):
    """A GPU dict from VRAM ``total`` and ``used`` in bytes (None when unknown)."""
    total_mb = free_mb = None
    if total is not None:
        total_mb = total // _MIB
        if used is not None:
            free_mb = max(total - used, 0) // _MIB
    return {
        "index": index,
        "name": name,
        "memory_total_mb": total_mb,
        "memory_free_mb": free_mb,
        "uuid": uuid,
        "driver": driver,
        "gfx_version": gfx,
        "integrated": is_integrated(total_mb),
    }


def _json_object(text):
    # Some builds print a WARNING line before the JSON document.
    text = (text or "").strip()
    try:
        return json.loads(text)
    except ValueError:
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            raise
        return json.loads(text[start:end + 1])


def parse_rocm_json(text):
    """Parse ``rocm-smi --showproductname --showmeminfo vram --json``.

    Returns ``(gpus, warnings)``; ``gpus`` is None when the output is not a
    JSON object, so the caller can fall back to the text form.
    """
    try:
        data = _json_object(text)
    except (ValueError, RecursionError):
        return None, ["rocm-smi --json printed output that is not JSON"]
    if not isinstance(data, dict):
        return None, ["rocm-smi --json printed JSON that is not an object"]
    # A "system" entry (driver version) is not a card but may name the driver.
    system_driver = None
    for key, value in data.items():
        if not _CARD_KEY.match(key) and isinstance(value, dict):
            system_driver = system_driver or _first(value, DRIVER_KEYS)
    gpus = []
    warnings = []
    for key in sorted(data, key=lambda k: (len(k), k)):
        match = _CARD_KEY.match(key)
        if not match:
            continue
        card = data[key]
        if not isinstance(card, dict):
            warnings.append("rocm-smi --json printed an unreadable entry for %s" % key)
            continue
        gpus.append(_card_gpu(int(match.group(1)), card, warnings, system_driver))
    return gpus, warnings


def parse_rocm_text(text):
    """Parse ``rocm-smi --showproductname --showmeminfo vram`` (plain text).

    Returns ``(gpus, warnings)``; ``gpus`` is None when no ``GPU[n]`` line was
    found. Banner (``====``), WARNING and ERROR lines are skipped.
    """
    per_gpu = {}
    for line in (text or "").splitlines():
        match = _TEXT_LINE.match(line)
        if not match:
            continue
        key, sep, value = match.group(2).partition(":")
        if not sep:
            continue
        per_gpu.setdefault(int(match.group(1)), {})[key.strip()] = value.strip()
    if not per_gpu:
        return None, ["rocm-smi printed no GPU[n] lines"]
    gpus = []
    warnings = []
    for index in sorted(per_gpu):
        gpus.append(_card_gpu(index, per_gpu[index], warnings))
    return gpus, warnings


def _read(path):
    try:
        with open(path, "r") as handle:
            return handle.read().strip()
    except (IOError, OSError, UnicodeDecodeError):
        return None


def read_amd_sysfs(root="/"):
    """AMD GPUs from ``/sys/class/drm/card*/device`` (amdgpu driver, no ROCm needed).

    ``root`` lets tests point at a fixture tree; the module uses "/".
    Returns ``(gpus, warnings)``; ``index`` is the DRM card number.
    """
    drm = os.path.join(root, "sys", "class", "drm")
    try:
        entries = os.listdir(drm)
    except OSError:
        return [], []
    gpus = []
    warnings = []
    # "card0-DP-1" (connectors) and "renderD128" do not match ^card\d+$.
    cards = []
    for name in entries:
        match = _DRM_CARD.match(name)
        if match:
            cards.append((int(match.group(1)), name))
    for number, name in sorted(cards):
        device = os.path.join(drm, name, "device")
        if (_read(os.path.join(device, "vendor")) or "").lower() != AMD_VENDOR_ID:
            continue
        total = _to_bytes(_read(os.path.join(device, "mem_info_vram_total")), "b")
        used = _to_bytes(_read(os.path.join(device, "mem_info_vram_used")), "b")
        if total is None:
            warnings.append("the amdgpu driver does not report the VRAM of %s" % name)
        product = _present(_read(os.path.join(device, "product_name")))
        if product is None:
            pci_id = _present(_read(os.path.join(device, "device")))
            product = "AMD GPU [1002:%s]" % pci_id[2:] if pci_id and pci_id.startswith("0x") else "AMD GPU"
        gpus.append(_make_gpu(number, product, total, used))
    return gpus, warnings
