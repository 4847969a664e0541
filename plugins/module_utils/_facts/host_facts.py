# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Assemble ``ansible_facts.voiceagent_hardware`` from the probes.

Everything here only reads the host. The one write is the benchmark cache,
which the caller asks for with ``cache_ttl`` and ``cache_path``.
"""

import datetime
import os
import platform
import time

from ansible_collections.voiceagent.models.plugins.module_utils._facts import benchmark as bench
from ansible_collections.voiceagent.models.plugins.module_utils._facts.cgroups import (
    read_cgroup_limits,
    usable_cores,
    usable_memory_bytes,
)
from ansible_collections.voiceagent.models.plugins.module_utils._facts.cpuinfo import read_cpuinfo
from ansible_collections.voiceagent.models.plugins.module_utils._facts.gpu_probe import probe_gpus, summarise_gpus
from ansible_collections.voiceagent.models.plugins.module_utils._facts.meminfo import read_meminfo
from ansible_collections.voiceagent.models.plugins.module_utils._units import GIB

try:
    import psutil
    HAS_PSUTIL = True
except ImportError:
    psutil = None
    HAS_PSUTIL = False

DEFAULT_CACHE_TTL = 7 * 24 * 3600
SYSTEM_CACHE_PATH = "/var/cache/voiceagent/hardware_benchmark.json"
USER_CACHE_PATH = "~/.cache/voiceagent/hardware_benchmark.json"


def default_cache_path():
    """Root shares one cache per host; other users keep theirs in their home."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return SYSTEM_CACHE_PATH
    return os.path.expanduser(USER_CACHE_PATH)


def _gib(value):
    return None if value is None else round(value / GIB, 2)


def _system_memory(warnings):
    """(total, available) bytes: psutil when installed, /proc/meminfo otherwise."""
    if HAS_PSUTIL:
        mem = psutil.virtual_memory()
        return mem.total, mem.available
    warnings.append("psutil is not installed on this host; memory was read from /proc/meminfo instead.")
    fields = read_meminfo()
    warnings.extend(fields["warnings"])
    return fields["total_bytes"], fields["available_bytes"]


def _logical_cores():
    if HAS_PSUTIL:
        return psutil.cpu_count(logical=True) or os.cpu_count() or 1
    return os.cpu_count() or 1


def _physical_cores():
    if HAS_PSUTIL:
        return psutil.cpu_count(logical=False)
    return None


def _affinity_cores(logical):
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return logical


def cpu_facts(limits, warnings):
    info = read_cpuinfo()
    warnings.extend(info.get("warnings", []))
    logical = _logical_cores()
    affinity = _affinity_cores(logical)
    return {
        "arch": platform.machine(),
        "model": info.get("model"),
        "logical_cores": logical,
        "physical_cores": _physical_cores(),
        "affinity_cores": affinity,
        "cgroup_cpu_quota": limits.get("cpu_quota_cores"),
        "usable_cores": usable_cores(affinity, limits.get("cpu_quota_cores"), limits.get("cpuset_cores")),
        "flags": info.get("flags", []),
    }


def memory_facts(limits, warnings):
    total, available = _system_memory(warnings)
    limit = limits.get("memory_limit_bytes")
    usage = limits.get("memory_usage_bytes")
    if available is not None and limit is not None and usage is not None:
        # Inside a limited group, what is free is what the limit leaves.
        available = max(0, min(available, limit - usage))
    usable = usable_memory_bytes(total, limit) if total is not None else limit
    return {
        "total_gb": _gib(total),
        "available_gb": _gib(available),
        "cgroup_limit_gb": _gib(limit),
        "usable_gb": _gib(usable),
        # Where total and available came from; a playbook installs psutil when it is proc_meminfo.
        "source": "psutil" if HAS_PSUTIL else "proc_meminfo",
    }


def _utc_iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _no_benchmark():
    return {
        "score": None,
        "memory_bandwidth_gbps": None,
        "seconds": 0.0,
        "cached": False,
        "measured_at": None,
        "version": bench.BENCHMARK_VERSION,
        "skipped": True,
    }


def benchmark_facts(cpu, memory, run, cache_ttl, cache_path, warnings, now=None):
    """The ``benchmark`` fact: from a fresh cache when possible, else measured when allowed."""
    now = time.time() if now is None else now
    key = bench.fingerprint(cpu["arch"], cpu["model"], cpu["usable_cores"], memory["total_gb"])
    cached = bench.read_cache(cache_path, key, cache_ttl, now)
    if cached is not None:
        return dict(cached, cached=True, cache_path=cache_path)
    if not run:
        return _no_benchmark()
    available = memory["available_gb"] * GIB if memory["available_gb"] else None
    try:
        result = bench.run_benchmark(cpu["usable_cores"], available)
    except (OSError, MemoryError, EOFError) as exc:
        warnings.append("The benchmark could not run: %s." % exc)
        return _no_benchmark()
    result["measured_at"] = _utc_iso(now)
    if cache_ttl and cache_ttl > 0:
        try:
            bench.write_cache(cache_path, key, result, now)
        except OSError as exc:
            warnings.append("The benchmark result could not be cached at %s: %s." % (cache_path, exc))
    return dict(result, cached=False, cache_path=cache_path)


def gather(run_benchmark=True, cache_ttl=DEFAULT_CACHE_TTL, cache_path=None, command_timeout=10):
    """Return the whole ``voiceagent_hardware`` fact."""
    warnings = []
    limits = read_cgroup_limits()
    warnings.extend(limits.get("warnings", []))
    cpu = cpu_facts(limits, warnings)
    memory = memory_facts(limits, warnings)
    system_mb = int(memory["usable_gb"] * 1024) if memory["usable_gb"] else None
    gpus, gpu_warnings = probe_gpus(timeout=command_timeout, system_memory_mb=system_mb)
    warnings.extend(gpu_warnings)
    cache_path = os.path.expanduser(cache_path) if cache_path else default_cache_path()
    return {
        "cpu": cpu,
        "memory": memory,
        "gpus": gpus,
        "gpu": summarise_gpus(gpus),
        "benchmark": benchmark_facts(cpu, memory, run_benchmark, cache_ttl, cache_path, warnings),
        "warnings": warnings,
    }
