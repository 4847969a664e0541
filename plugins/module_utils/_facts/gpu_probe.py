# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find the host's GPUs: nvidia-smi for NVIDIA, rocm-smi or sysfs for AMD.

The command runner is injected so tests can replay captured tool output.
Nothing here raises: every failure becomes a warning sentence, because a GPU
probe that crashes would stop the play on a host that could run on its CPU.
"""

import os

from ansible_collections.voiceagent.models.plugins.module_utils._facts import gpu_amd, gpu_nvidia
from ansible_collections.voiceagent.models.plugins.module_utils._facts.commands import (
    CommandTimeout,
    format_seconds,
    run_command,
)

GPU_KEYS = (
    "index", "vendor", "name", "vram_total_mb", "vram_free_mb", "uuid", "driver",
    "integrated", "unified_memory", "source", "compute_capability", "mig",
)

# Values nvidia-smi prints for memory on a board without its own framebuffer.
_UNIFIED_REASONS = ("n/a", "not supported")


def _gpu(**values):
    gpu = dict.fromkeys(GPU_KEYS)
    gpu.update(integrated=False, unified_memory=False, mig=False)
    gpu.update(values)
    return gpu


def _timeout_warning(tool, timeout):
    return "%s did not answer within %s s" % (tool, format_seconds(timeout))


def _label(gpu):
    return "NVIDIA GPU %s (%s)" % (gpu["index"], gpu["name"])


# ---------------------------------------------------------------- NVIDIA

def _nvidia_driver_loaded(root):
    return os.path.exists(os.path.join(root, "proc", "driver", "nvidia", "version"))


def _run_nvidia_query(run, timeout, root, warnings):
    """Run the CSV query, retrying without compute_cap on an old nvidia-smi.

    Returns ``(fields, stdout, failure)``: ``failure`` is the diagnosis of a
    non-zero exit, whose stdout may still list the GPUs that did answer.
    ``(None, None, None)`` after a warning when nothing can be read.
    """
    fields = gpu_nvidia.QUERY_FIELDS
    while True:
        try:
            rc, out, err = run(gpu_nvidia.query_argv(fields), timeout)
        except FileNotFoundError:
            if _nvidia_driver_loaded(root):
                warnings.append(
                    "the NVIDIA kernel driver is loaded (/proc/driver/nvidia/version exists) "
                    "but nvidia-smi is not on PATH, so NVIDIA GPUs cannot be measured; "
                    "install the driver's utilities package"
                )
            return None, None, None
        except CommandTimeout:
            warnings.append(_timeout_warning("nvidia-smi", timeout))
            return None, None, None
        text = (out or "") + "\n" + (err or "")
        if rc == 0:
            return fields, out, None
        if (gpu_nvidia.is_unknown_field(rc, text) and gpu_nvidia.unknown_field(text) == "compute_cap"
                and "compute_cap" in fields):
            # nvidia-smi before 510 has no compute_cap; the rest still works.
            fields = tuple(f for f in fields if f != "compute_cap")
            continue
        return fields, out, gpu_nvidia.diagnose_failure(rc, text)


def _xml_match(row, xml_gpus):
    for candidate in xml_gpus:
        if row["uuid"] and candidate["uuid"] == row["uuid"]:
            return candidate
    for candidate in xml_gpus:
        if candidate["index"] == row["index"]:
            return candidate
    return None


def _apply_xml_memory(gpu, xml_gpu, warnings):
    """Fill VRAM of a GPU whose CSV memory read [Insufficient Permissions]."""
    slices = [m for m in xml_gpu["mig_devices"] if m["memory_total_mb"] is not None]
    if slices:
        # A model must fit in one slice: the largest slice is the limit, never the sum.
        largest = max(slices, key=lambda m: m["memory_total_mb"])
        gpu.update(vram_total_mb=largest["memory_total_mb"], vram_free_mb=largest["memory_free_mb"],
                   mig=True, source="nvidia-smi-xml")
        warnings.append("%s is split into MIG slices; VRAM is the largest visible slice, %d MiB"
                        % (_label(gpu), largest["memory_total_mb"]))
    elif xml_gpu["memory_total_mb"] is not None:
        gpu.update(vram_total_mb=xml_gpu["memory_total_mb"], vram_free_mb=xml_gpu["memory_free_mb"],
                   mig=xml_gpu["mig_enabled"], source="nvidia-smi-xml")
    else:
        gpu["mig"] = xml_gpu["mig_enabled"]
        warnings.append("%s: nvidia-smi -q -x does not report its memory either; VRAM unknown" % _label(gpu))


def _fill_from_xml(run, timeout, pending, warnings):
    try:
        rc, out, err = run(gpu_nvidia.xml_argv(), timeout)
    except FileNotFoundError:
        return
    except CommandTimeout:
        warnings.append(_timeout_warning("nvidia-smi -q -x", timeout))
        return
    if rc != 0:
        warnings.append(gpu_nvidia.diagnose_failure(rc, (out or "") + "\n" + (err or "")))
        return
    xml_gpus, xml_warnings = gpu_nvidia.parse_query_xml(out)
    warnings.extend(xml_warnings)
    for gpu, row in pending:
        match = _xml_match(row, xml_gpus)
        if match is None:
            warnings.append("%s is missing from nvidia-smi -q -x; VRAM unknown" % _label(gpu))
            continue
        _apply_xml_memory(gpu, match, warnings)


def _unified_memory(gpu, system_memory_mb, warnings):
    gpu["unified_memory"] = True
    if system_memory_mb:
        gpu["vram_total_mb"] = int(system_memory_mb)
        warnings.append("%s shares system memory (unified memory); its VRAM is taken as the "
                        "system memory, %d MiB" % (_label(gpu), int(system_memory_mb)))
    else:
        warnings.append("%s shares system memory (unified memory) and the system memory size "
                        "is unknown; VRAM unknown" % _label(gpu))


def probe_nvidia(run, timeout, system_memory_mb, root):
    """NVIDIA GPUs as GPU dicts, and warnings."""
    warnings = []
    fields, out, failure = _run_nvidia_query(run, timeout, root, warnings)
    if fields is None:
        return [], warnings
    rows, row_warnings = gpu_nvidia.parse_query_csv(out, fields)
    if failure:
        # The diagnosis explains the error lines better than "could not be read";
        # rows that did parse (the GPUs still answering) are kept.
        warnings.append(failure)
        row_warnings = [w for w in row_warnings if not w.startswith("nvidia-smi printed a line")]
    warnings.extend(row_warnings)
    gpus = []
    pending_xml = []
    for position, row in enumerate(rows):
        index = row.get("index")
        gpu = _gpu(
            index=index if index is not None else position,
            vendor="nvidia",
            name=row.get("name") or "NVIDIA GPU",
            vram_total_mb=row.get("memory_total_mb"),
            vram_free_mb=row.get("memory_free_mb"),
            uuid=row.get("uuid"),
            driver=row.get("driver"),
            compute_capability=row.get("compute_capability"),
            source="nvidia-smi",
        )
        reason = (row["unavailable"].get("memory.total") or "").lower()
        if reason == "insufficient permissions":
            pending_xml.append((gpu, row))
        elif reason in _UNIFIED_REASONS:
            _unified_memory(gpu, system_memory_mb, warnings)
        gpus.append(gpu)
    if pending_xml:
        _fill_from_xml(run, timeout, pending_xml, warnings)
    return gpus, warnings


# ---------------------------------------------------------------- AMD

def _amd_gpu(row, source):
    return _gpu(
        index=row["index"],
        vendor="amd",
        name=row["name"],
        vram_total_mb=row["memory_total_mb"],
        vram_free_mb=row["memory_free_mb"],
        uuid=row["uuid"],
        driver=row["driver"],
        integrated=row["integrated"],
        # AMD's counterpart of a CUDA compute capability is the gfx target.
        compute_capability=row["gfx_version"],
        source=source,
    )


def _rocm_smi(run, timeout, warnings):
    """GPUs from rocm-smi (JSON, then text), or None when rocm-smi gave nothing usable."""
    attempts = (
        (gpu_amd.rocm_json_argv(), gpu_amd.parse_rocm_json, "rocm-smi-json"),
        (gpu_amd.rocm_text_argv(), gpu_amd.parse_rocm_text, "rocm-smi-text"),
    )
    for argv, parse, source in attempts:
        try:
            rc, out, err = run(argv, timeout)
        except FileNotFoundError:
            return None
        except CommandTimeout:
            # A hung rocm-smi would hang again for the text form; sysfs does not hang.
            warnings.append(_timeout_warning("rocm-smi", timeout))
            return None
        rows, parse_warnings = parse(out)
        if rows is None:
            first = next((line.strip() for line in ((out or "") + "\n" + (err or "")).splitlines()
                          if line.strip()), "")
            warnings.append("%s (exit status %s%s)" % (parse_warnings[0], rc, ": " + first[:80] if first else ""))
            continue
        warnings.extend(parse_warnings)
        return [_amd_gpu(row, source) for row in rows]
    return None


def probe_amd(run, timeout, root):
    """AMD GPUs as GPU dicts, and warnings."""
    warnings = []
    gpus = _rocm_smi(run, timeout, warnings)
    if not gpus:
        # No rocm-smi, or it failed: the amdgpu driver still publishes VRAM in sysfs.
        rows, sysfs_warnings = gpu_amd.read_amd_sysfs(root)
        warnings.extend(sysfs_warnings)
        gpus = [_amd_gpu(row, "sysfs") for row in rows]
    return gpus, warnings


# ---------------------------------------------------------------- both

def probe_gpus(run=run_command, timeout=10, system_memory_mb=None, sysfs_root="/"):
    """All GPUs of the host as ``(gpus, warnings)``; never raises.

    ``sysfs_root`` is the file system root for /sys and /proc reads, so tests
    can point at a fixture tree. ``system_memory_mb`` stands in for the VRAM of
    a unified-memory board (GB10) whose nvidia-smi reports memory as [N/A].
    """
    gpus = []
    warnings = []
    probes = (
        ("NVIDIA", lambda: probe_nvidia(run, timeout, system_memory_mb, sysfs_root)),
        ("AMD", lambda: probe_amd(run, timeout, sysfs_root)),
    )
    for vendor, probe in probes:
        try:
            found, probe_warnings = probe()
        except Exception as exc:  # pylint: disable=broad-except
            # Defensive: an unforeseen output shape must not stop the play.
            warnings.append("the %s GPU probe failed unexpectedly (%s: %s); %s GPUs are not reported"
                            % (vendor, type(exc).__name__, exc, vendor))
            continue
        gpus.extend(found)
        warnings.extend(probe_warnings)
    return gpus, warnings


def summarise_gpus(gpus):
    """Headline GPU facts. VRAM is the largest single card, never a sum:
    a model has to fit on one card unless the runtime splits its layers."""
    cards = [g for g in gpus if not g.get("integrated")]
    if not cards:
        return {"present": False, "vendor": None, "count": 0, "max_vram_gb": 0.0}
    # max() keeps the first of equals, so ties go to the card probed first.
    largest = max(cards, key=lambda g: g.get("vram_total_mb") or 0)
    max_mb = largest.get("vram_total_mb") or 0
    return {
        "present": True,
        "vendor": largest.get("vendor"),
        "count": len(cards),
        "max_vram_gb": round(max_mb / 1024.0, 2),
    }
