"""Run the fact module and the filter through the real ansible CLIs on localhost."""
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent


def ansible_env():
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"),
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal",
        ANSIBLE_LOCALHOST_WARNING="0",
    )
    return env


def run_module(*module_args, check=False):
    cmd = [str(BIN / "ansible"), "localhost", "-c", "local",
           "-e", "ansible_python_interpreter=%s" % sys.executable,
           "-m", "voiceagent.models.hardware_facts", "-a", " ".join(module_args)]
    if check:
        cmd.append("--check")
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ansible_env(), cwd=str(ROOT), check=False)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # minimal prints "localhost | SUCCESS => {...}"
    result = json.loads(proc.stdout.split("=>", 1)[1])
    return result, elapsed


@pytest.fixture(scope="module")
def cold(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache") / "bench.json"
    result, _unused = run_module("cache_path=%s" % cache)
    return cache, result


def test_the_contract_keys_come_back(cold):
    facts = cold[1]["ansible_facts"]["voiceagent_hardware"]
    assert set(facts["cpu"]) >= {"arch", "model", "logical_cores", "usable_cores", "flags"}
    assert set(facts["memory"]) >= {"total_gb", "available_gb", "cgroup_limit_gb", "usable_gb"}
    assert isinstance(facts["gpus"], list)
    assert set(facts["gpu"]) >= {"present", "vendor", "count", "max_vram_gb"}
    assert set(facts["benchmark"]) >= {"score", "memory_bandwidth_gbps", "seconds", "cached", "measured_at", "version"}
    assert isinstance(facts["warnings"], list)
    assert cold[1]["changed"] is False


def test_the_facts_describe_this_host(cold):
    facts = cold[1]["ansible_facts"]["voiceagent_hardware"]
    assert facts["cpu"]["usable_cores"] == len(os.sched_getaffinity(0))
    assert facts["cpu"]["arch"] == os.uname().machine
    meminfo = dict(line.split(":", 1) for line in pathlib.Path("/proc/meminfo").read_text().splitlines())
    total_kib = int(meminfo["MemTotal"].split()[0])
    assert facts["memory"]["total_gb"] == round(total_kib / 1024 ** 2, 2)


def test_the_benchmark_is_measured_quickly_and_is_meaningful(cold):
    benchmark = cold[1]["ansible_facts"]["voiceagent_hardware"]["benchmark"]
    assert benchmark["cached"] is False
    assert benchmark["seconds"] < 2.0
    assert benchmark["score"] > 0.5
    assert benchmark["memory_bandwidth_gbps"] > 1.0


def test_the_second_run_answers_from_the_cache(cold):
    cache, first = cold
    result, elapsed = run_module("cache_path=%s" % cache)
    benchmark = result["ansible_facts"]["voiceagent_hardware"]["benchmark"]
    assert benchmark["cached"] is True
    assert benchmark["measured_at"] == first["ansible_facts"]["voiceagent_hardware"]["benchmark"]["measured_at"]
    assert benchmark["score"] == first["ansible_facts"]["voiceagent_hardware"]["benchmark"]["score"]


def test_check_mode_gathers_facts_and_writes_the_cache(tmp_path):
    cache = tmp_path / "bench.json"
    result, _unused = run_module("cache_path=%s" % cache, check=True)
    assert result["changed"] is False
    assert "voiceagent_hardware" in result["ansible_facts"]
    assert cache.exists()


def test_cache_ttl_zero_leaves_no_cache(tmp_path):
    cache = tmp_path / "bench.json"
    run_module("cache_path=%s" % cache, "cache_ttl=0")
    assert not cache.exists()


def test_the_demo_playbook_runs_and_decides_the_example_hosts():
    env = ansible_env()
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
    proc = subprocess.run([str(BIN / "ansible-playbook"), "playbooks/demo.yml", "-e", "voiceagent_tier=LIGHT_CPU"],
                          capture_output=True, text=True, env=env, cwd=str(ROOT), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '"source": "override"' in proc.stdout
    assert "upstream-2014-xeon-16c-39gb.json" in proc.stdout
    assert "failed=0" in proc.stdout
