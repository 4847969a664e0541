# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parsers for nvidia-smi output. No I/O here: the caller runs the tool.

Shapes handled (see tests/fixtures/nvidia_smi/README.md for public captures):
``--query-gpu`` CSV with or without header and units, ``[N/A]`` and
``[Insufficient Permissions]`` values, the "not a valid field" answer of an old
nvidia-smi, NVML failure messages, and ``nvidia-smi -q -x`` XML with MIG slices.
"""

import re
import xml.etree.ElementTree as ET

QUERY_FIELDS = ("index", "uuid", "name", "memory.total", "memory.free", "driver_version", "compute_cap")

# Query field -> key of the parsed GPU dict. Memory is always MiB.
FIELD_KEYS = {
    "index": "index",
    "uuid": "uuid",
    "name": "name",
    "gpu_name": "name",
    "memory.total": "memory_total_mb",
    "memory.free": "memory_free_mb",
    "driver_version": "driver",
    "compute_cap": "compute_capability",
}

_SPLIT = re.compile(r"\s*,\s*")
# "memory.total [MiB]" in a header line
_HEADER_UNIT = re.compile(r"\s*\[[^\]]*\]$")
# "12288", "12288 MiB", "12288.5 MiB"
_MIB_VALUE = re.compile(r"^(\d+(?:\.\d+)?)(?:\s*MiB)?$")
# "[N/A]", "[Insufficient Permissions]", "[Not Supported]", "[Unknown Error]"
_BRACKETED = re.compile(r"^\[(.+)\]$")
# Windows builds print typographic quotes around the field name.
_UNKNOWN_FIELD = re.compile(r"Field [\"\u201c\u201d]([^\"\u201c\u201d]+)[\"\u201c\u201d] is not a valid field to query")

MISMATCH_SENTENCE = (
    "an NVIDIA GPU driver is present but unusable now: NVML reports a driver/library "
    "version mismatch (the driver was upgraded without a reboot); reboot the host"
)
NO_DRIVER_SENTENCE = (
    "nvidia-smi is installed but cannot reach the NVIDIA kernel driver (it is not loaded, "
    "or was built for another kernel); any NVIDIA GPU is unusable until the driver loads"
)
NO_LIBRARY_SENTENCE = (
    "nvidia-smi cannot load the NVML library (libnvidia-ml.so); the driver's user-space "
    "part is missing, or the container was started without the NVIDIA runtime"
)
NO_DEVICES_SENTENCE = "nvidia-smi is installed but reports no NVIDIA GPU"
GPU_LOST_SENTENCE = (
    "an NVIDIA GPU has fallen off the bus (nvidia-smi: GPU is lost) and is unusable "
    "until the host reboots"
)

# Output fragment -> sentence. Checked in order, case-insensitively.
_KNOWN_FAILURES = (
    ("driver/library version mismatch", MISMATCH_SENTENCE),
    ("couldn't communicate with the nvidia driver", NO_DRIVER_SENTENCE),
    ("nvml shared library not found", NO_LIBRARY_SENTENCE),
    ("libnvidia-ml.so", NO_LIBRARY_SENTENCE),
    ("no devices were found", NO_DEVICES_SENTENCE),
    ("gpu is lost", GPU_LOST_SENTENCE),
)


def query_argv(fields):
    """The nvidia-smi command line for a CSV query of ``fields``."""
    return ["nvidia-smi", "--query-gpu=" + ",".join(fields), "--format=csv,noheader,nounits"]


def xml_argv():
    """The nvidia-smi command line for the full XML report (``-q -x``)."""
    return ["nvidia-smi", "-q", "-x"]


def _shorten(line, limit=80):
    line = line.strip()
    return line if len(line) <= limit else line[:limit - 3] + "..."


def _gpu_label(gpu, fallback):
    index = gpu.get("index")
    label = "GPU %s" % (index if index is not None else fallback)
    if gpu.get("name"):
        label += " (%s)" % gpu["name"]
    return label


def _is_header(cells, fields):
    # "memory.total [MiB]" -> "memory.total"; a header repeats the field names.
    cleaned = [_HEADER_UNIT.sub("", cell) for cell in cells]
    return cleaned == list(fields)


def _unavailable_sentence(label, field, reason):
    sentence = "%s: nvidia-smi reports %s as [%s]" % (label, field, reason)
    if reason.lower() == "insufficient permissions":
        # Seen for MIG slices handed to unprivileged containers.
        sentence += " (typically a MIG slice inside a container)"
    elif reason.lower() in ("n/a", "not supported") and field.startswith("memory."):
        sentence += " (typically a board that shares system memory, such as GB10)"
    return sentence


def _convert(field, value):
    """Return the typed value, or raise ValueError for a value that cannot be read."""
    if field == "index":
        return int(value)
    if field.startswith("memory."):
        match = _MIB_VALUE.match(value)
        if not match:
            raise ValueError(value)
        return int(float(match.group(1)))
    return value


def parse_query_csv(text, fields):
    """Parse ``nvidia-smi --query-gpu=<fields> --format=csv[,noheader][,nounits]``.

    Returns ``(gpus, warnings)``. Each GPU is a dict keyed by FIELD_KEYS
    (memory in MiB, ``index`` an int) plus ``unavailable``: ``{field: reason}``
    for values nvidia-smi printed in brackets (``[N/A]`` ...), which read as None.
    Lines that cannot be read become warnings, never exceptions.
    """
    fields = tuple(fields)
    gpus = []
    warnings = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        cells = _SPLIT.split(line.strip())
        if _is_header(cells, fields):
            continue
        if len(cells) != len(fields):
            warnings.append("nvidia-smi printed a line that could not be read: %r" % _shorten(line))
            continue
        gpu = {"unavailable": {}}
        bad = False
        for field, value in zip(fields, cells):
            key = FIELD_KEYS.get(field, field)
            bracketed = _BRACKETED.match(value)
            if bracketed:
                gpu[key] = None
                gpu["unavailable"][field] = bracketed.group(1)
                continue
            try:
                gpu[key] = _convert(field, value)
            except ValueError:
                bad = True
                break
        if bad:
            warnings.append("nvidia-smi printed a line that could not be read: %r" % _shorten(line))
            continue
        label = _gpu_label(gpu, len(gpus))
        for field, reason in gpu["unavailable"].items():
            warnings.append(_unavailable_sentence(label, field, reason))
        gpus.append(gpu)
    return gpus, warnings


def unknown_field(text):
    """The field an old nvidia-smi refused (``Field "x" is not a valid ...``), or None."""
    match = _UNKNOWN_FIELD.search(text or "")
    return match.group(1) if match else None


def is_unknown_field(rc, text):
    """True for an nvidia-smi that does not know one of the queried fields (exit status 2)."""
    return rc == 2 and unknown_field(text) is not None


def diagnose_failure(rc, text):
    """A plain sentence for a failed nvidia-smi run."""
    lowered = (text or "").lower()
    for fragment, sentence in _KNOWN_FAILURES:
        if fragment in lowered:
            return sentence
    first = ""
    for line in (text or "").splitlines():
        if line.strip():
            first = _shorten(line)
            break
    if first:
        return "nvidia-smi failed with exit status %s: %s" % (rc, first)
    return "nvidia-smi failed with exit status %s and printed nothing" % rc


def _xml_text(element, path):
    found = element.find(path)
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    return value or None


def _xml_mib(element, path):
    """``<total>12288 MiB</total>`` -> 12288; ``N/A`` or missing -> None."""
    value = _xml_text(element, path)
    if value is None:
        return None
    match = _MIB_VALUE.match(value)
    return int(float(match.group(1))) if match else None


def _xml_int(element, path):
    value = _xml_text(element, path)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_query_xml(text):
    """Parse ``nvidia-smi -q -x``.

    Returns ``(gpus, warnings)``. Each GPU: ``index`` (position in the report,
    which is nvidia-smi's index order), ``minor_number``, ``uuid``, ``name``,
    ``driver``, ``memory_total_mb``, ``memory_free_mb``, ``mig_enabled`` and
    ``mig_devices`` (``index``, ``gpu_instance_id``, ``compute_instance_id``,
    ``memory_total_mb``, ``memory_free_mb``). Unreadable XML is a warning.
    """
    try:
        root = ET.fromstring((text or "").strip())
    except ET.ParseError as exc:
        return [], ["nvidia-smi -q -x printed XML that could not be read (%s)" % exc]
    if root.tag != "nvidia_smi_log":
        return [], ["nvidia-smi -q -x printed XML without an nvidia_smi_log element"]
    driver = _xml_text(root, "driver_version")
    gpus = []
    for position, gpu_el in enumerate(root.findall("gpu")):
        mig_devices = []
        for mig_el in gpu_el.findall("mig_devices/mig_device"):
            mig_devices.append({
                "index": _xml_int(mig_el, "index"),
                "gpu_instance_id": _xml_int(mig_el, "gpu_instance_id"),
                "compute_instance_id": _xml_int(mig_el, "compute_instance_id"),
                "memory_total_mb": _xml_mib(mig_el, "fb_memory_usage/total"),
                "memory_free_mb": _xml_mib(mig_el, "fb_memory_usage/free"),
            })
        gpus.append({
            "index": position,
            "minor_number": _xml_int(gpu_el, "minor_number"),
            "uuid": _xml_text(gpu_el, "uuid"),
            "name": _xml_text(gpu_el, "product_name"),
            "driver": driver,
            "memory_total_mb": _xml_mib(gpu_el, "fb_memory_usage/total"),
            "memory_free_mb": _xml_mib(gpu_el, "fb_memory_usage/free"),
            "mig_enabled": (_xml_text(gpu_el, "mig_mode/current_mig") or "").lower() == "enabled",
            "mig_devices": mig_devices,
        })
    return gpus, []
