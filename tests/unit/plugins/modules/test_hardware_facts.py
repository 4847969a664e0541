"""The module's argument handling and result shape, run in-process."""
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.voiceagent.models.plugins.module_utils._facts import benchmark as bench
from ansible_collections.voiceagent.models.plugins.modules import hardware_facts


def run_module(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            hardware_facts.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


@pytest.fixture(autouse=True)
def quick_benchmark(monkeypatch):
    monkeypatch.setattr(bench, "run_benchmark", lambda cores, available=None: {
        "score": 4.5, "memory_bandwidth_gbps": 38.0, "seconds": 0.5, "version": bench.BENCHMARK_VERSION})


def test_facts_come_back_namespaced_and_unchanged(tmp_path, capsys):
    code, result = run_module({"cache_path": str(tmp_path / "b.json")}, capsys)
    assert code == 0
    assert result["changed"] is False
    facts = result["ansible_facts"]["voiceagent_hardware"]
    assert facts["benchmark"]["memory_bandwidth_gbps"] == 38.0
    assert list(result["ansible_facts"]) == ["voiceagent_hardware"]


def test_check_mode_writes_only_the_cache(tmp_path, capsys):
    code, result = run_module({"cache_path": str(tmp_path / "b.json"), "_ansible_check_mode": True}, capsys)
    assert code == 0 and result["changed"] is False
    assert [p.name for p in tmp_path.iterdir()] == ["b.json"]


def test_a_negative_ttl_is_refused_with_the_value(tmp_path, capsys):
    code, result = run_module({"cache_ttl": -5, "cache_path": str(tmp_path / "b.json")}, capsys)
    assert code == 1
    assert "cache_ttl" in result["msg"] and "-5" in result["msg"]


def test_a_zero_command_timeout_is_refused(tmp_path, capsys):
    code, result = run_module({"command_timeout": 0, "cache_path": str(tmp_path / "b.json")}, capsys)
    assert code == 1
    assert "command_timeout" in result["msg"]


def test_a_turn_the_turn_check_stored_comes_back_with_the_facts(tmp_path, capsys):
    from ansible_collections.voiceagent.models.plugins.modules import turn_check
    from ansible_collections.voiceagent.models.tests.support.fake_engines import make_models, make_runtime

    models = make_models(tmp_path / "models")
    store_path = str(tmp_path / "turn_check.json")
    with patch_module_args({"stt_model": models["stt"], "tts_model": models["tts"], "llm_model": models["llm"],
                            "context": 768, "max_tokens": 24, "threads": 2, "chat_format": "zephyr",
                            "store_path": store_path, "python": make_runtime(tmp_path / "rt"),
                            "agent_dir": str(tmp_path / "agent"), "tier": "LIGHT_CPU"}):
        with pytest.raises(SystemExit):
            turn_check.main()
    checked = json.loads(capsys.readouterr().out)
    measured = checked["measured"]
    code, result = run_module({"cache_path": str(tmp_path / "b.json"), "turn_check_store": store_path}, capsys)
    assert code == 0
    (entry,) = result["ansible_facts"]["voiceagent_hardware"]["turn_checks"]
    assert entry["tier"] == "LIGHT_CPU" and entry["llm_file"] == models["llm"].rsplit("/", 1)[-1]
    assert entry["measured"]["turn_sec"] == measured["turn_sec"] and entry["settings"]["threads"] == 2
    assert len(entry["llm_sha256"]) == 64
    # The module returns the same entry, for the role to weigh before the .env switches.
    assert checked["fact"] == entry
    code, result = run_module({"cache_path": str(tmp_path / "b.json"), "turn_check_store": store_path,
                               "turn_check_max_age": 0}, capsys)
    assert result["ansible_facts"]["voiceagent_hardware"]["turn_checks"] == []
