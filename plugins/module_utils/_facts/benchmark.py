# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A short benchmark that predicts LLM speed, and its on-host cache.

Two numbers, chosen for what llama.cpp needs:

* ``memory_bandwidth_gbps``: token generation reads every weight once per
  token, so it is bound by memory bandwidth. Measured as large buffer copies
  (``memoryview`` slice assignment is a plain ``memcpy``) run in one process per
  usable core at the same time. The buffers are several times the last-level
  cache, the best of ``BANDWIDTH_ROUNDS`` rounds is kept, and bytes are counted
  the STREAM way: each copied byte is read once and written once, so a copy of
  N bytes moves 2N. Decimal GB/s (1e9 bytes).

* ``score``: single-core integer speed on upstream's scale, where "1.0 = old
  CPU, 5.0 = high-end". The workload is fixed: zlib level-6 compression of a
  256 KiB pseudo-text buffer built by a fixed LCG (``_compute_corpus``), best
  of ``COMPUTE_REPEATS`` timings. zlib runs in C, so the figure does not depend
  on the Python version (CPython 3.11, 3.12 and 3.13 read within 1 % of each
  other on the reference VM: bench/compute_score_by_python.py).
  ``score = COMPUTE_REFERENCE_MS / best_ms``; the constant is fixed so that a
  2-core AMD EPYC (Zen 4) VM reads about 4.5 (see bench/README.md). Hosts whose zlib is zlib-ng read higher; the
  ``zlib`` key records which library was measured.

* ``process_bandwidth_gbps``: what one llama.cpp process can draw. On a host
  with several NUMA nodes (two sockets) the all-core copy adds up every node's
  memory, while one process's weights sit in one node's memory and its threads
  on the other socket read them across the interconnect. There the copy is
  measured again with the workers pinned to each node's usable CPUs
  (``memory_bandwidth_per_node_gbps``, first-touch allocation keeps each buffer
  on its node), and the figure is that of the node with the most usable CPUs.
  With one node it is ``memory_bandwidth_gbps``.

Bump ``BENCHMARK_VERSION`` whenever the method or a constant changes: cached
results of another version are ignored.
"""

import json
import multiprocessing
import os
import struct
import time
import zlib

from ansible_collections.voiceagent.models.plugins.module_utils._transfer.atomic_write import write_atomically

BENCHMARK_VERSION = 2

BANDWIDTH_ROUNDS = 12
PAGE_BYTES = 4096
BANDWIDTH_MIN_TOTAL = 512 * 1024 * 1024
BANDWIDTH_MAX_TOTAL = 4 * 1024 * 1024 * 1024
BANDWIDTH_MIN_PER_WORKER = 32 * 1024 * 1024
# Never take more than this share of the host's available memory.
BANDWIDTH_MEMORY_SHARE = 0.25

COMPUTE_CORPUS_BYTES = 256 * 1024
COMPUTE_REPEATS = 15
COMPUTE_REFERENCE_MS = 44.0

_WORDS = (
    b"the caller asked for the balance of account number please hold while "
    b"I check your order status today tomorrow yes no thank you goodbye "
    b"support billing delivery refund invoice password reset agent voice "
    b"model latency token memory bandwidth core cache queue transfer"
).split()


def _compute_corpus(size=COMPUTE_CORPUS_BYTES):
    """Text-like bytes from a fixed LCG: same input on every host and Python."""
    state = 12345
    out = bytearray()
    while len(out) < size:
        state = (1103515245 * state + 12345) & 0x7FFFFFFF
        out += _WORDS[(state >> 8) % len(_WORDS)]
        out += b" " if state & 0x30 else b".\n"
    return bytes(out[:size])


def measure_compute(repeats=COMPUTE_REPEATS):
    """Return (score, best_ms) for the fixed single-core workload."""
    corpus = _compute_corpus()
    best = float("inf")
    for _unused in range(repeats):
        start = time.perf_counter()
        zlib.compress(corpus, 6)
        best = min(best, time.perf_counter() - start)
    best_ms = best * 1000.0
    return COMPUTE_REFERENCE_MS / best_ms, best_ms


def _numbered(sysfs, prefix):
    """The entries ``<prefix><number>`` of a sysfs folder, or None when it cannot be read."""
    try:
        return [d for d in os.listdir(sysfs) if d.startswith(prefix) and d[len(prefix):].isdigit()]
    except OSError:
        return None


def last_level_cache_bytes(sysfs="/sys/devices/system/cpu"):
    """Sum of the distinct last-level caches, or None when sysfs does not say."""
    seen = {}
    cpus = _numbered(sysfs, "cpu")
    if cpus is None:
        return None
    for cpu in cpus:
        cache_dir = os.path.join(sysfs, cpu, "cache")
        try:
            indexes = sorted(d for d in os.listdir(cache_dir) if d.startswith("index"))
        except OSError:
            continue
        if not indexes:
            continue
        last = os.path.join(cache_dir, indexes[-1])
        try:
            with open(os.path.join(last, "size")) as handle:
                size_text = handle.read().strip()
            with open(os.path.join(last, "shared_cpu_list")) as handle:
                shared = handle.read().strip()
        except OSError:
            continue
        seen[shared] = _parse_cache_size(size_text)
    sizes = [s for s in seen.values() if s]
    return sum(sizes) if sizes else None


def _parse_cache_size(text):
    units = {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}
    try:
        if text and text[-1].upper() in units:
            return int(text[:-1]) * units[text[-1].upper()]
        return int(text)
    except ValueError:
        return None


def plan_bandwidth(usable_cores, available_bytes=None, llc_bytes=None):
    """Choose (workers, bytes per worker) so buffers dwarf the caches but fit in memory."""
    total = max(BANDWIDTH_MIN_TOTAL, 4 * (llc_bytes or 0))
    total = min(total, BANDWIDTH_MAX_TOTAL)
    if available_bytes:
        total = min(total, int(available_bytes * BANDWIDTH_MEMORY_SHARE))
    total = max(total, BANDWIDTH_MIN_PER_WORKER)
    workers = max(1, min(int(usable_cores or 1), total // BANDWIDTH_MIN_PER_WORKER))
    return workers, total // workers


def parse_cpulist(text):
    """CPU numbers of a sysfs list such as ``0-3,8-11``."""
    cpus = set()
    for part in (text or "").strip().split(","):
        if not part:
            continue
        low, _sep, high = part.partition("-")
        try:
            cpus.update(range(int(low), int(high or low) + 1))
        except ValueError:
            return set()
    return cpus


def numa_nodes(sysfs="/sys/devices/system/node", allowed=None):
    """{node number: sorted usable CPUs} for nodes with at least one usable CPU; {} without sysfs."""
    nodes = {}
    for name in _numbered(sysfs, "node") or []:
        try:
            with open(os.path.join(sysfs, name, "cpulist")) as handle:
                cpus = parse_cpulist(handle.read())
        except OSError:
            continue
        if allowed is not None:
            cpus &= set(allowed)
        if cpus:
            nodes[int(name[4:])] = sorted(cpus)
    return nodes


def _bandwidth_worker(buffer_bytes, conn, cpus=None):
    if cpus:
        # Pinned before the buffers exist, so first touch puts them in this node's memory.
        os.sched_setaffinity(0, cpus)
    half = buffer_bytes // 2
    # Fill the source for real, and make every page different: a fresh
    # bytearray maps the shared zero page, and identical pages can be merged
    # by KSM on a VM host; both would measure the cache instead of memory.
    src = bytearray(b"\xa5") * half
    for offset in range(0, half - 8, PAGE_BYTES):
        struct.pack_into("<Q", src, offset, offset)
    dst = bytearray(half)
    src_view, dst_view = memoryview(src), memoryview(dst)
    dst_view[:] = src_view
    conn.send(True)
    while conn.recv():
        dst_view[:] = src_view
        conn.send(True)
    conn.close()


def measure_bandwidth(workers, buffer_bytes, rounds=BANDWIDTH_ROUNDS, cpus=None):
    """Copy bandwidth in GB/s with ``workers`` processes copying at once.

    Each round the parent releases every worker and waits for all of them; the
    round's figure is the bytes they moved over that wall-clock time. Timing in
    the parent matters: workers squeezed onto fewer cores than planned run one
    after another, and their own clocks would each look like a solo run. The
    best round wins: interference on a shared host only slows a round down.
    """
    ctx = multiprocessing.get_context("fork")
    pipes, procs = [], []
    try:
        for _unused in range(workers):
            parent_end, child_end = ctx.Pipe()
            proc = ctx.Process(target=_bandwidth_worker, args=(buffer_bytes, child_end, cpus))
            proc.daemon = True
            proc.start()
            child_end.close()
            pipes.append(parent_end)
            procs.append(proc)
        for conn in pipes:
            conn.recv()
        moved = 2 * (buffer_bytes // 2) * workers
        best = 0.0
        for _unused in range(rounds):
            start = time.perf_counter()
            for conn in pipes:
                conn.send(True)
            for conn in pipes:
                conn.recv()
            elapsed = time.perf_counter() - start
            if elapsed > 0:
                best = max(best, moved / elapsed / 1e9)
        for conn in pipes:
            conn.send(False)
    finally:
        for proc in procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
        for conn in pipes:
            conn.close()
    return best


def _allowed_cpus():
    try:
        return os.sched_getaffinity(0)
    except (AttributeError, OSError):
        return None


def node_bandwidths(workers, buffer_bytes, all_nodes_gbps, nodes=None):
    """([{node, cpus, gbps}] per NUMA node, or [] with one node; the bandwidth one process gets)."""
    nodes = numa_nodes(allowed=_allowed_cpus()) if nodes is None else nodes
    if len(nodes) < 2:
        return [], all_nodes_gbps
    rows = []
    for node in sorted(nodes):
        cpus = nodes[node]
        gbps = measure_bandwidth(max(1, min(workers, len(cpus))), buffer_bytes, max(2, BANDWIDTH_ROUNDS // 2), cpus)
        rows.append({"node": node, "cpus": len(cpus), "gbps": round(gbps, 2)})
    home = max(rows, key=lambda row: (row["cpus"], row["gbps"]))
    return rows, home["gbps"]


def run_benchmark(usable_cores, available_bytes=None):
    """Measure both figures; return the ``benchmark`` fact (without cache keys)."""
    started = time.perf_counter()
    workers, buffer_bytes = plan_bandwidth(usable_cores, available_bytes, last_level_cache_bytes())
    bandwidth = measure_bandwidth(workers, buffer_bytes)
    per_node, process_bandwidth = node_bandwidths(workers, buffer_bytes, bandwidth)
    score, best_ms = measure_compute()
    return {
        "score": round(score, 2),
        "memory_bandwidth_gbps": round(bandwidth, 2),
        "process_bandwidth_gbps": round(process_bandwidth, 2),
        "numa_nodes": max(1, len(per_node)),
        "memory_bandwidth_per_node_gbps": per_node,
        "compute_ms": round(best_ms, 3),
        "bandwidth_workers": workers,
        "bandwidth_buffer_mb": buffer_bytes // (1024 * 1024),
        "zlib": zlib.ZLIB_RUNTIME_VERSION,
        "seconds": round(time.perf_counter() - started, 3),
        "version": BENCHMARK_VERSION,
    }


def fingerprint(arch, cpu_model, usable_cores, total_memory_gb):
    """What must stay the same for a cached result to describe this host."""
    return {
        "version": BENCHMARK_VERSION,
        "arch": arch,
        "cpu_model": cpu_model,
        "usable_cores": usable_cores,
        "total_memory_gb": round(float(total_memory_gb or 0), 1),
    }


def read_cache(path, expected_fingerprint, ttl, now):
    """Return the cached benchmark when it is fresh and describes this host, else None."""
    if not ttl or ttl <= 0:
        return None
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("fingerprint") != expected_fingerprint:
        return None
    result = data.get("result")
    stamp = data.get("measured_epoch")
    if not isinstance(result, dict) or not isinstance(stamp, (int, float)):
        return None
    if not 0 <= now - stamp <= ttl:
        return None
    return result


def write_cache(path, expected_fingerprint, result, now):
    """Store atomically (temp file + rename) so a reader never sees half a file."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, mode=0o755, exist_ok=True)
    payload = {"fingerprint": expected_fingerprint, "measured_epoch": now, "result": result}
    write_atomically(path, json.dumps(payload, indent=2, sort_keys=True).encode("utf-8"), 0o644)
