"""The benchmark's plan, workload, measurement and cache."""
import hashlib
import json
import os

from ansible_collections.voiceagent.models.plugins.module_utils._facts import benchmark as bench

MIB = 1024 * 1024


def test_the_compute_workload_is_fixed():
    # The score's scale rests on this exact input. Changing it needs a new BENCHMARK_VERSION.
    corpus = bench._compute_corpus()
    assert len(corpus) == 256 * 1024
    assert hashlib.sha256(corpus).hexdigest() == (
        "7a4a413e0b8b79014c3d032b4a839e9fbff7363e3338533eb60ce20d30d4b3af")
    # Version 2 added the per-NUMA-node bandwidth (process_bandwidth_gbps); the workload is unchanged.
    assert bench.BENCHMARK_VERSION == 2


def test_the_compute_score_is_on_the_reference_scale():
    score, best_ms = bench.measure_compute(repeats=3)
    assert best_ms > 0
    assert abs(score - bench.COMPUTE_REFERENCE_MS / best_ms) < 1e-9


def test_bandwidth_buffers_dwarf_the_cache():
    workers, per_worker = bench.plan_bandwidth(2, available_bytes=16 * 1024 * MIB, llc_bytes=256 * MIB)
    assert workers == 2
    assert workers * per_worker == 1024 * MIB


def test_bandwidth_buffers_never_take_more_than_a_quarter_of_free_memory():
    workers, per_worker = bench.plan_bandwidth(64, available_bytes=1024 * MIB, llc_bytes=None)
    assert workers * per_worker <= 256 * MIB
    assert per_worker >= bench.BANDWIDTH_MIN_PER_WORKER
    assert workers == 8


def test_one_worker_per_usable_core_when_memory_allows():
    workers, _unused = bench.plan_bandwidth(4, available_bytes=64 * 1024 * MIB, llc_bytes=32 * MIB)
    assert workers == 4


def test_last_level_cache_counts_each_shared_cache_once(tmp_path):
    for cpu, shared in (("cpu0", "0-1"), ("cpu1", "0-1"), ("cpu2", "2-3")):
        index = tmp_path / cpu / "cache" / "index3"
        index.mkdir(parents=True)
        (index / "size").write_text("32768K\n")
        (index / "shared_cpu_list").write_text(shared + "\n")
    assert bench.last_level_cache_bytes(str(tmp_path)) == 64 * MIB


def test_last_level_cache_is_none_without_sysfs(tmp_path):
    assert bench.last_level_cache_bytes(str(tmp_path / "missing")) is None


def test_measure_bandwidth_runs_workers_and_reports_gbps():
    gbps = bench.measure_bandwidth(workers=2, buffer_bytes=8 * MIB, rounds=2)
    assert 0.1 < gbps < 10000


def test_cpulists_are_parsed_the_sysfs_way():
    assert bench.parse_cpulist("0-3,8-9\n") == {0, 1, 2, 3, 8, 9}
    assert bench.parse_cpulist("5") == {5}
    assert bench.parse_cpulist("") == set() and bench.parse_cpulist("x-y") == set()


def _nodes(tmp_path, lists):
    for node, cpulist in lists.items():
        (tmp_path / ("node%d" % node)).mkdir()
        (tmp_path / ("node%d" % node) / "cpulist").write_text(cpulist + "\n")
    (tmp_path / "possible").write_text("0-1\n")
    return str(tmp_path)


def test_numa_nodes_keep_only_usable_cpus(tmp_path):
    sysfs = _nodes(tmp_path, {0: "0-15", 1: "16-31", 2: ""})
    assert bench.numa_nodes(sysfs) == {0: list(range(16)), 1: list(range(16, 32))}
    # A container pinned to the first socket sees one node.
    assert bench.numa_nodes(sysfs, allowed=range(4, 8)) == {0: [4, 5, 6, 7]}
    assert bench.numa_nodes(str(tmp_path / "none")) == {}


def test_one_node_reports_the_all_core_copy_as_the_process_bandwidth():
    assert bench.node_bandwidths(2, 8 * MIB, 40.0, nodes={0: [0, 1]}) == ([], 40.0)


def test_two_nodes_are_measured_apart_and_the_process_gets_the_largest_node():
    # This host's two CPUs stand in for two single-CPU nodes: each node is measured with its workers pinned.
    rows, process = bench.node_bandwidths(2, 8 * MIB, 99.0, nodes={0: [0], 1: [1]})
    assert [row["node"] for row in rows] == [0, 1] and all(row["cpus"] == 1 for row in rows)
    assert all(0.1 < row["gbps"] < 10000 for row in rows)
    assert process == max(row["gbps"] for row in rows)


def test_the_benchmark_reports_the_process_bandwidth():
    result = bench.run_benchmark(1, available_bytes=256 * MIB)
    assert result["process_bandwidth_gbps"] > 0 and result["numa_nodes"] >= 1


KEY = bench.fingerprint("x86_64", "Test CPU", 2, 23.43)
RESULT = {"score": 4.5, "memory_bandwidth_gbps": 38.0, "seconds": 0.5, "version": 1,
          "measured_at": "2026-11-24T00:00:00Z"}


def test_cache_round_trip(tmp_path):
    path = str(tmp_path / "sub" / "bench.json")
    bench.write_cache(path, KEY, RESULT, now=1000.0)
    assert bench.read_cache(path, KEY, ttl=60, now=1059.0) == RESULT
    assert os.listdir(str(tmp_path / "sub")) == ["bench.json"]
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"


def test_cache_expires_after_ttl(tmp_path):
    path = str(tmp_path / "bench.json")
    bench.write_cache(path, KEY, RESULT, now=1000.0)
    assert bench.read_cache(path, KEY, ttl=60, now=1061.0) is None


def test_cache_from_the_future_is_ignored(tmp_path):
    path = str(tmp_path / "bench.json")
    bench.write_cache(path, KEY, RESULT, now=5000.0)
    assert bench.read_cache(path, KEY, ttl=60, now=1000.0) is None


def test_cache_of_other_hardware_is_ignored(tmp_path):
    path = str(tmp_path / "bench.json")
    bench.write_cache(path, KEY, RESULT, now=1000.0)
    other = bench.fingerprint("x86_64", "Test CPU", 1, 23.43)
    assert bench.read_cache(path, other, ttl=60, now=1001.0) is None


def test_ttl_zero_disables_the_cache(tmp_path):
    path = str(tmp_path / "bench.json")
    bench.write_cache(path, KEY, RESULT, now=1000.0)
    assert bench.read_cache(path, KEY, ttl=0, now=1000.0) is None


def test_a_corrupt_cache_is_ignored(tmp_path):
    path = tmp_path / "bench.json"
    for text in ("{not json", "[]", json.dumps({"fingerprint": KEY, "result": 1, "measured_epoch": 1})):
        path.write_text(text)
        assert bench.read_cache(str(path), KEY, ttl=60, now=2.0) is None
