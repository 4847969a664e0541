"""Assembly of the voiceagent_hardware fact: memory arithmetic and the benchmark cache flow."""
import json
import os
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.voiceagent.models.plugins.module_utils._facts import benchmark as bench
from ansible_collections.voiceagent.models.plugins.module_utils._facts import cgroups, cpuinfo, gpu_probe, host_facts, meminfo
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import default_registry_path
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.tier_selection import SelectionError, select_tier

GIB = 1024 ** 3
CPU = {"arch": "x86_64", "model": "Test CPU", "usable_cores": 2}
MEMORY = {"total_gb": 23.43, "available_gb": 20.0}


@pytest.fixture
def fake_run(monkeypatch):
    calls = []

    def run(usable_cores, available_bytes=None):
        calls.append((usable_cores, available_bytes))
        return {"score": 4.5, "memory_bandwidth_gbps": 38.0, "seconds": 0.5, "version": bench.BENCHMARK_VERSION}

    monkeypatch.setattr(bench, "run_benchmark", run)
    return calls


def test_first_run_measures_and_caches_then_the_cache_answers(tmp_path, fake_run):
    path = str(tmp_path / "bench.json")
    first = host_facts.benchmark_facts(CPU, MEMORY, True, 3600, path, [], now=1000.0)
    second = host_facts.benchmark_facts(CPU, MEMORY, True, 3600, path, [], now=1010.0)
    assert first["cached"] is False and second["cached"] is True
    assert first["measured_at"] == second["measured_at"] == "1970-01-01T00:16:40Z"
    assert second["memory_bandwidth_gbps"] == 38.0
    assert fake_run == [(2, 20.0 * GIB)]


def test_ttl_zero_measures_every_time_and_writes_nothing(tmp_path, fake_run):
    path = tmp_path / "bench.json"
    host_facts.benchmark_facts(CPU, MEMORY, True, 0, str(path), [], now=1000.0)
    host_facts.benchmark_facts(CPU, MEMORY, True, 0, str(path), [], now=1001.0)
    assert len(fake_run) == 2
    assert not path.exists()


def test_benchmark_false_still_reads_a_fresh_cache(tmp_path, fake_run):
    path = str(tmp_path / "bench.json")
    host_facts.benchmark_facts(CPU, MEMORY, True, 3600, path, [], now=1000.0)
    result = host_facts.benchmark_facts(CPU, MEMORY, False, 3600, path, [], now=1001.0)
    assert result["cached"] is True and result["score"] == 4.5


def test_benchmark_false_without_cache_reports_skipped(tmp_path, fake_run):
    result = host_facts.benchmark_facts(CPU, MEMORY, False, 3600, str(tmp_path / "none.json"), [], now=1.0)
    assert result["skipped"] is True and result["score"] is None and result["memory_bandwidth_gbps"] is None
    assert fake_run == []


def test_an_unwritable_cache_becomes_a_warning(tmp_path, fake_run):
    blocker = tmp_path / "file"
    blocker.write_text("")
    warnings = []
    result = host_facts.benchmark_facts(CPU, MEMORY, True, 3600, str(blocker / "bench.json"), warnings, now=1.0)
    assert result["score"] == 4.5
    assert warnings and "could not be cached" in warnings[0]


def test_a_failing_benchmark_becomes_a_warning(tmp_path, monkeypatch):
    def broken(*_args):
        raise OSError("fork failed")

    monkeypatch.setattr(bench, "run_benchmark", broken)
    warnings = []
    result = host_facts.benchmark_facts(CPU, MEMORY, True, 3600, str(tmp_path / "b.json"), warnings, now=1.0)
    assert result["skipped"] is True
    assert warnings == ["The benchmark could not run: fork failed."]


def test_a_cgroup_limit_caps_usable_and_available_memory(monkeypatch):
    monkeypatch.setattr(host_facts, "_system_memory", lambda warnings: (64 * GIB, 60 * GIB))
    monkeypatch.setattr(host_facts, "HAS_PSUTIL", True)
    limits = {"memory_limit_bytes": 6 * GIB, "memory_usage_bytes": 2 * GIB}
    memory = host_facts.memory_facts(limits, [])
    assert memory == {"total_gb": 64.0, "available_gb": 4.0, "cgroup_limit_gb": 6.0, "usable_gb": 6.0,
                      "source": "psutil"}


def test_memory_is_never_floored(monkeypatch):
    monkeypatch.setattr(host_facts, "_system_memory", lambda warnings: (16364212 * 1024, 15 * GIB))
    memory = host_facts.memory_facts({"memory_limit_bytes": None}, [])
    assert memory["total_gb"] == 15.61
    assert memory["cgroup_limit_gb"] is None and memory["usable_gb"] == 15.61


def test_usable_cores_take_the_cgroup_quota(monkeypatch):
    monkeypatch.setattr(host_facts, "_affinity_cores", lambda logical: 2)
    cpu = host_facts.cpu_facts({"cpu_quota_cores": 1.5, "cpuset_cores": None}, [])
    assert cpu["usable_cores"] == 1
    assert cpu["cgroup_cpu_quota"] == 1.5


def test_default_cache_path_for_root_and_users(monkeypatch):
    monkeypatch.setattr(host_facts.os, "geteuid", lambda: 0)
    assert host_facts.default_cache_path() == "/var/cache/voiceagent/hardware_benchmark.json"
    monkeypatch.setattr(host_facts.os, "geteuid", lambda: 1000)
    monkeypatch.setenv("HOME", "/home/op")
    assert host_facts.default_cache_path() == "/home/op/.cache/voiceagent/hardware_benchmark.json"


def test_gather_returns_the_contract_keys(tmp_path, fake_run):
    facts = host_facts.gather(cache_path=str(tmp_path / "b.json"))
    assert set(facts) == {"cpu", "memory", "gpus", "gpu", "benchmark", "warnings"}
    assert set(facts["cpu"]) >= {"arch", "model", "logical_cores", "usable_cores", "flags"}
    assert set(facts["memory"]) >= {"total_gb", "available_gb", "cgroup_limit_gb", "usable_gb"}
    assert set(facts["gpu"]) >= {"present", "vendor", "count", "max_vram_gb"}
    assert set(facts["benchmark"]) >= {"score", "memory_bandwidth_gbps", "seconds", "cached", "measured_at", "version"}
    assert isinstance(facts["warnings"], list)


def test_without_psutil_memory_comes_from_proc_meminfo_with_a_warning(monkeypatch):
    monkeypatch.setattr(host_facts, "HAS_PSUTIL", False)
    warnings = []
    total, available = host_facts._system_memory(warnings)
    meminfo = dict(line.split(":", 1) for line in open("/proc/meminfo").read().splitlines())
    assert total == int(meminfo["MemTotal"].split()[0]) * 1024
    assert available > 0
    assert warnings == ["psutil is not installed on this host; memory was read from /proc/meminfo instead."]


# --------------------------------------------------------------------------
# The whole fact, assembled from hostile files and tool output: facts and warnings, never an exception

HOSTILE = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", "max", "max 100000", "-1", "inf", "nan", "1e400", "9" * 5000, "0-4095", "0-99999999",
                     "\x00\xff", "[" * 3000, "{\"card0\": {\"VRAM Total Memory (B)\": \"inf\"}}",
                     "GPU[0]\t\t: VRAM Total Memory (B): nan", "0, GPU, [N/A], [N/A], 1, 8.9",
                     "<nvidia_smi_log><gpu/></nvidia_smi_log>"]),
)
FILES = ("proc/self/cgroup", "proc/meminfo", "proc/cpuinfo", "sys/fs/cgroup/cgroup.controllers",
         "sys/fs/cgroup/memory.max", "sys/fs/cgroup/memory.current", "sys/fs/cgroup/cpu.max",
         "sys/fs/cgroup/cpuset.cpus.effective")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.fixed_dictionaries({name: HOSTILE for name in FILES}),
       tools=st.tuples(st.integers(-2, 3), HOSTILE, HOSTILE), psutil_present=st.booleans())
def test_gather_on_hostile_files_and_tools_gives_facts_and_warnings(files, tools, psutil_present):
    with tempfile.TemporaryDirectory() as root, pytest.MonkeyPatch.context() as patch:
        for name, content in files.items():
            path = os.path.join(root, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8", errors="surrogatepass") as handle:
                handle.write(content)
        patch.setattr(host_facts, "read_cgroup_limits", lambda: cgroups.read_cgroup_limits(root))
        patch.setattr(host_facts, "read_cpuinfo", lambda: cpuinfo.read_cpuinfo(root))
        patch.setattr(host_facts, "read_meminfo", lambda: meminfo.read_meminfo(root))
        patch.setattr(host_facts, "HAS_PSUTIL", psutil_present and host_facts.HAS_PSUTIL)
        patch.setattr(host_facts, "probe_gpus", lambda timeout, system_memory_mb: gpu_probe.probe_gpus(
            run=lambda argv, timeout: tools, timeout=timeout, system_memory_mb=system_memory_mb, sysfs_root=root))
        facts = host_facts.gather(run_benchmark=False, cache_ttl=0, cache_path=os.path.join(root, "bench.json"))
    json.dumps(facts)
    assert all(isinstance(w, str) and w for w in facts["warnings"])
    assert isinstance(facts["cpu"]["usable_cores"], int) and facts["cpu"]["usable_cores"] >= 1
    for key in ("total_gb", "available_gb", "usable_gb"):
        assert facts["memory"][key] is None or facts["memory"][key] >= 0
    assert not any("probe failed unexpectedly" in w for w in facts["warnings"]), facts["warnings"]
    try:
        result = select_tier(facts, default_registry_path())
    except SelectionError as exc:
        assert str(exc).endswith(".")
    else:
        assert result["tier"]


def test_memory_source_says_where_the_figures_came_from(monkeypatch):
    monkeypatch.setattr(host_facts, "_system_memory", lambda warnings: (16 * GIB, 15 * GIB))
    monkeypatch.setattr(host_facts, "HAS_PSUTIL", False)
    assert host_facts.memory_facts({}, [])["source"] == "proc_meminfo"
    monkeypatch.setattr(host_facts, "HAS_PSUTIL", True)
    assert host_facts.memory_facts({}, [])["source"] == "psutil"
