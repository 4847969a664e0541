# -*- coding: utf-8 -*-
# Copyright: (c) 2025, voiceagent.models maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Memory and CPU limits of the cgroup this process runs in (v1 and v2).

Inside Docker/LXC without lxcfs, /proc/meminfo and os.cpu_count() describe the host, not
what the container may use. The limits live in the cgroup filesystem instead.

Standard library only, Python 3.8 syntax. The ``parse_*`` functions are pure and never
raise (garbage -> None); ``read_cgroup_limits`` turns unreadable or garbled files into
warning sentences that name the file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import os
import re

# cgroup v1 reports "no limit" as PAGE_COUNTER_MAX rounded to the page size, e.g.
# 9223372036854771712 (x86_64, 4 KiB pages) or 9223372036854710272 (64 KiB pages).
# No real host has 2**60 bytes (1 EiB), so anything at or above it means unlimited.
V1_UNLIMITED_THRESHOLD = 2 ** 60

# Linux's NR_CPUS tops out at 8192 today; a cpu list naming ids beyond this is garbage.
_MAX_CPU_ID = 2 ** 20

_UINT = re.compile(r"[0-9]+\Z")
_INT = re.compile(r"-?[0-9]+\Z")
_CGROUP_ROOT = ("sys", "fs", "cgroup")


class _Garbled(ValueError):
    """Internal: a cgroup file's text is not in the expected format."""


def _uint(token):
    if not _UINT.match(token):
        raise _Garbled(token)
    try:
        return int(token)
    except ValueError:  # more digits than int() accepts
        raise _Garbled(token)


def _int(token):
    if not _INT.match(token):
        raise _Garbled(token)
    try:
        return int(token)
    except ValueError:
        raise _Garbled(token)


def _single_token(text):
    if not isinstance(text, str):
        raise _Garbled(text)
    tokens = text.split()
    if len(tokens) != 1:
        raise _Garbled(text)
    return tokens[0]


# --------------------------------------------------------------------------------------
# Strict parsers: raise _Garbled; None means "no limit".
# --------------------------------------------------------------------------------------

def _memory_max(text):
    token = _single_token(text)
    if token == "max":
        return None
    return _uint(token)


def _v1_memory_limit(text):
    value = _int(_single_token(text))
    if value < 0 or value >= V1_UNLIMITED_THRESHOLD:
        return None
    return value


def _cpu_max(text):
    if not isinstance(text, str):
        raise _Garbled(text)
    tokens = text.split()
    if len(tokens) != 2:
        raise _Garbled(text)
    period = _uint(tokens[1])
    if period <= 0:
        raise _Garbled(text)
    if tokens[0] == "max":
        return None
    quota = _uint(tokens[0])
    if quota <= 0:
        raise _Garbled(text)
    return quota / period


def _v1_cpu_quota(quota_text, period_text):
    quota = _int(_single_token(quota_text))
    if quota < 0:  # -1: no quota
        return None
    if quota == 0:
        raise _Garbled(quota_text)
    period = _uint(_single_token(period_text))
    if period <= 0:
        raise _Garbled(period_text)
    return quota / period


def _cpu_list(text):
    if not isinstance(text, str):
        raise _Garbled(text)
    text = text.strip()
    if not text:
        raise _Garbled(text)
    ranges = []
    for part in text.split(","):
        part = part.strip()
        low_text, dash, high_text = part.partition("-")
        low = _uint(low_text.strip())
        high = _uint(high_text.strip()) if dash else low
        if high < low or high > _MAX_CPU_ID:
            raise _Garbled(text)
        ranges.append((low, high))
    # Count distinct ids without building a set: merge the sorted ranges.
    ranges.sort()
    count = 0
    current_low, current_high = ranges[0]
    for low, high in ranges[1:]:
        if low <= current_high + 1:
            current_high = max(current_high, high)
        else:
            count += current_high - current_low + 1
            current_low, current_high = low, high
    count += current_high - current_low + 1
    return count


def _forgiving(parser, *texts):
    try:
        return parser(*texts)
    except (_Garbled, ValueError, TypeError, AttributeError):
        return None


# --------------------------------------------------------------------------------------
# Public pure parsers: never raise, garbage -> None.
# --------------------------------------------------------------------------------------

def parse_proc_self_cgroup(text):
    """/proc/self/cgroup -> ``{"v2": path or None, "v1": {controller: path}}``.

    ``0::/user.slice/x.scope`` is the unified (v2) group; ``4:cpu,cpuacct:/docker/abc``
    gives ``{"cpu": "/docker/abc", "cpuacct": "/docker/abc"}``. Named hierarchies such as
    ``name=systemd`` carry no resource controller and are skipped, as are garbage lines.
    """
    result = {"v2": None, "v1": {}}
    if not isinstance(text, str):
        return result
    for line in text.splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if not _UINT.match(hierarchy) or not path.startswith("/"):
            continue
        if controllers == "":
            if hierarchy == "0" and result["v2"] is None:
                result["v2"] = path
            continue
        for controller in controllers.split(","):
            controller = controller.strip()
            if not controller or controller.startswith("name="):
                continue
            result["v1"].setdefault(controller, path)
    return result


def parse_memory_max(text):
    """cgroup v2 ``memory.max``: ``"max"`` -> None (unlimited), ``"6442450944"`` -> 6442450944."""
    return _forgiving(_memory_max, text)


def parse_v1_memory_limit(text):
    """cgroup v1 ``memory.limit_in_bytes``: bytes, or None for the huge "unlimited" values
    (anything at or above 2**60, e.g. 9223372036854771712)."""
    return _forgiving(_v1_memory_limit, text)


def parse_cpu_max(text):
    """cgroup v2 ``cpu.max``: ``"400000 100000"`` -> 4.0 cores, ``"150000 100000"`` -> 1.5,
    ``"max 100000"`` -> None (unlimited)."""
    return _forgiving(_cpu_max, text)


def parse_v1_cpu_quota(quota_text, period_text):
    """cgroup v1 ``cpu.cfs_quota_us`` over ``cpu.cfs_period_us`` in cores; quota -1 -> None."""
    return _forgiving(_v1_cpu_quota, quota_text, period_text)


def parse_cpu_list(text):
    """Count the CPUs in a kernel cpu list: ``"0-3,8,10-11"`` -> 7. Empty or garbage -> None."""
    return _forgiving(_cpu_list, text)


# --------------------------------------------------------------------------------------
# Combining limits
# --------------------------------------------------------------------------------------

def usable_cores(affinity_count, cpu_quota_cores=None, cpuset_cores=None):
    """How many threads a CPU-bound runtime should start: the smallest of the known bounds.

    A fractional CFS quota is floored (never below 1). The quota is enforced per scheduling
    period for the whole group: once N busy threads have used the group's runtime, every one
    of them is stalled until the next period. llama.cpp's threads meet at a barrier after
    every layer, so one throttled thread holds up all the others; a public report measured
    a thread count above the quota 45x slower (0.27 vs 12.07 tokens/s). One thread too few
    costs a fraction of the speed; one too many can cost almost all of it.

    Unknown (None) or non-positive inputs are ignored; with nothing known the answer is 1.
    """
    candidates = []
    for value in (affinity_count, cpuset_cores):
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and value > 0:
            candidates.append(value)
    if isinstance(cpu_quota_cores, (int, float)) and not isinstance(cpu_quota_cores, bool):
        if cpu_quota_cores > 0 and not math.isinf(cpu_quota_cores) and not math.isnan(cpu_quota_cores):
            candidates.append(max(1, int(math.floor(cpu_quota_cores))))
    if not candidates:
        return 1
    return min(candidates)


def usable_memory_bytes(total_bytes, limit_bytes):
    """The smaller of the host's memory and the cgroup limit; a None limit means unlimited.

    Returns None only when both are unknown.
    """
    known = [value for value in (total_bytes, limit_bytes) if value is not None]
    if not known:
        return None
    return min(known)


# --------------------------------------------------------------------------------------
# Reading the cgroup filesystem
# --------------------------------------------------------------------------------------

class _Reader:
    """File access relative to ``root`` that records warnings instead of raising."""

    def __init__(self, root):
        self.root = root
        self.warnings = []

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def shown(self, path):
        """The path as the managed host sees it (without the test root prefix)."""
        rel = os.path.relpath(path, self.root)
        return "/" + rel.replace(os.sep, "/").lstrip("/")

    def read(self, path):
        """The file's text; None when it is absent (normal) or unreadable (warned)."""
        if not os.path.lexists(path):
            return None
        try:
            with open(path, "r", encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except (OSError, ValueError) as exc:
            self.warnings.append(
                "Could not read %s (%s); it was ignored."
                % (self.shown(path), getattr(exc, "strerror", None) or exc)
            )
            return None

    def parse(self, path, parser, meaning):
        """Read and parse one file: ``(found, value)``; garbled text -> warning, (False, None)."""
        text = self.read(path)
        if text is None:
            return False, None
        try:
            return True, parser(text)
        except (_Garbled, ValueError, TypeError, AttributeError):
            self.warnings.append(
                "%s holds %s, which is not %s; it was ignored."
                % (self.shown(path), _quote(text), meaning)
            )
            return False, None


def _quote(text):
    text = text.strip()
    if len(text) > 40:
        text = text[:40] + "..."
    return repr(text) if text else "nothing"


def _group_dirs(mount, own_path):
    """Directories from the process's own group up to the hierarchy's mount point.

    When the own group's directory does not exist (a container with its own cgroup
    namespace, or fake files bind-mounted over /sys/fs/cgroup) only the mount point is
    used: there, the mount point is the group.
    """
    levels = []
    mount = os.path.normpath(mount)
    start = mount
    if own_path:
        relative = os.path.normpath(own_path.lstrip("/"))
        if relative not in (".", "") and not relative.startswith(".."):
            candidate = os.path.join(mount, relative)
            if os.path.isdir(candidate):
                start = candidate
    current = start
    while True:
        levels.append(current)
        if current == mount:
            break
        parent = os.path.dirname(current)
        if parent == current or len(parent) < len(mount):
            break
        current = parent
    return levels


def _min_or_none(values):
    known = [value for value in values if value is not None]
    return min(known) if known else None


def _v1_mount(reader, controller):
    """The v1 hierarchy directory holding ``controller`` (``cpu`` may live in ``cpu,cpuacct``)."""
    base = reader.path(*_CGROUP_ROOT)
    exact = os.path.join(base, controller)
    if os.path.isdir(exact):
        return exact
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return None
    for name in names:
        if controller in name.split(",") and os.path.isdir(os.path.join(base, name)):
            return os.path.join(base, name)
    return None


def _own_groups(reader):
    path = reader.path("proc", "self", "cgroup")
    text = reader.read(path)
    if text is None:
        if not os.path.lexists(path):
            reader.warnings.append(
                "/proc/self/cgroup is missing; the limits were read at the cgroup mount point."
            )
        return parse_proc_self_cgroup("")
    return parse_proc_self_cgroup(text)


def _read_v2(reader, result):
    mount = reader.path(*_CGROUP_ROOT)
    own = _own_groups(reader)
    levels = _group_dirs(mount, own["v2"])

    memory, cpu = [], []
    for level in levels:
        memory.append(reader.parse(os.path.join(level, "memory.max"), _memory_max,
                                   "a byte count or 'max'")[1])
        cpu.append(reader.parse(os.path.join(level, "cpu.max"), _cpu_max,
                                "'<quota> <period>' or 'max <period>'")[1])
    result["memory_limit_bytes"] = _min_or_none(memory)
    result["cpu_quota_cores"] = _min_or_none(cpu)
    result["memory_usage_bytes"] = reader.parse(
        os.path.join(levels[0], "memory.current"), lambda t: _uint(_single_token(t)), "a byte count")[1]
    for level in levels:
        found, cores = reader.parse(os.path.join(level, "cpuset.cpus.effective"), _cpu_list, "a cpu list")
        if found:
            result["cpuset_cores"] = cores
            break


def _read_v1(reader, result):
    own = _own_groups(reader)["v1"]

    mount = _v1_mount(reader, "memory")
    if mount is not None:
        levels = _group_dirs(mount, own.get("memory"))
        result["memory_limit_bytes"] = _min_or_none(
            reader.parse(os.path.join(level, "memory.limit_in_bytes"), _v1_memory_limit,
                         "a byte count")[1]
            for level in levels
        )
        result["memory_usage_bytes"] = reader.parse(
            os.path.join(levels[0], "memory.usage_in_bytes"), lambda t: _uint(_single_token(t)),
            "a byte count")[1]

    mount = _v1_mount(reader, "cpu")
    if mount is not None:
        quotas = []
        for level in _group_dirs(mount, own.get("cpu")):
            quota_path = os.path.join(level, "cpu.cfs_quota_us")
            period_path = os.path.join(level, "cpu.cfs_period_us")
            quota_text = reader.read(quota_path)
            if quota_text is None:
                continue
            quota = _forgiving(lambda t: _int(_single_token(t)), quota_text)
            if quota is None:
                reader.warnings.append("%s holds %s, which is not a number of microseconds; it was ignored."
                                       % (reader.shown(quota_path), _quote(quota_text)))
                continue
            if quota < 0:
                continue  # -1: no quota at this level; the period does not matter
            period_text = reader.read(period_path)
            if period_text is None:
                continue
            cores = _forgiving(_v1_cpu_quota, quota_text, period_text)
            if cores is None:
                reader.warnings.append(
                    "%s and %s hold %s and %s, which are not a CPU quota; they were ignored."
                    % (reader.shown(quota_path), reader.shown(period_path),
                       _quote(quota_text), _quote(period_text)))
                continue
            quotas.append(cores)
        result["cpu_quota_cores"] = _min_or_none(quotas)

    mount = _v1_mount(reader, "cpuset")
    if mount is not None:
        for level in _group_dirs(mount, own.get("cpuset")):
            found = False
            for name in ("cpuset.effective_cpus", "cpuset.cpus"):
                found, cores = reader.parse(os.path.join(level, name), _cpu_list, "a cpu list")
                if found:
                    result["cpuset_cores"] = cores
                    break
            if found:
                break


def read_cgroup_limits(root="/"):
    """The limits of this process's own cgroup.

    Returns ``{"version": 2, 1 or None, "memory_limit_bytes", "memory_usage_bytes",
    "cpu_quota_cores", "cpuset_cores", "warnings": [...]}`` (values int/float or None).
    Memory and CPU limits are the minimum over the own group and all its ancestors, since a
    parent's limit binds its children. No cgroup filesystem gives version None and no
    warning. ``root`` exists only so tests can point at a fixture tree.
    """
    result = {
        "version": None,
        "memory_limit_bytes": None,
        "memory_usage_bytes": None,
        "cpu_quota_cores": None,
        "cpuset_cores": None,
        "warnings": [],
    }
    reader = _Reader(root)
    base = reader.path(*_CGROUP_ROOT)
    try:
        if os.path.isfile(os.path.join(base, "cgroup.controllers")):
            result["version"] = 2
            _read_v2(reader, result)
        elif any(_v1_mount(reader, c) is not None for c in ("memory", "cpu", "cpuset")):
            result["version"] = 1
            _read_v1(reader, result)
    except (OSError, ValueError) as exc:  # a race with a vanishing group, a bad root, ...
        reader.warnings.append("Reading the cgroup limits failed (%s); some limits may be missing." % exc)
    result["warnings"] = reader.warnings
    return result
