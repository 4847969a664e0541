"""The role's turn check stage through site.yml on localhost, with stand-in engines (tests/support/fake_engines.py):
check before switching keeps the .env when a model does not load; auto/true/false; the report's measured row.
The real engines and models are in test_turn_check_localhost.py."""
import json
import os
import pathlib
import sys

import pytest
from dotenv import dotenv_values

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "demo"))
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from fake_engines import make_runtime  # noqa: E402
# The same LIGHT_CPU (and MEDIUM_CPU) mirror as site.yml's own tests.
from test_site_playbook import Fleet, host_row, mirror  # noqa: E402,F401 pylint: disable=unused-import

OLD_ENV = "LOCAL_LLM_MODEL_PATH=/app/models/llm/old.gguf\nLOCAL_STT_MODEL_PATH=/app/models/stt/old\n"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    return make_runtime(tmp_path_factory.mktemp("runtime"))


def fleet_with_env(tmp_path, mirror):
    fleet = Fleet(tmp_path, mirror)
    (fleet.install() / ".env").write_text(OLD_ENV)
    return fleet


def store(tmp_path):
    return str(tmp_path / "turn-store.json")


def test_a_measured_turn_reaches_the_report_and_the_env_switches(tmp_path, mirror, runtime):
    fleet = fleet_with_env(tmp_path, mirror)
    proc, report = fleet.run(host_vars={"h1": {"voiceagent_runtime_python": runtime,
                                               "voiceagent_turn_check_store": store(tmp_path)}})
    assert proc.returncode == 0, proc.stdout[-3000:]
    row = host_row(report)
    assert row["measured"]["runtime"] == "python" and row["measured"]["turn_sec"] > 0
    assert row["not_measured"] is None
    assert report["summary"]["calibration"]["hosts_measured"] == 1
    # The turn is weighed before the .env switches: the row already stands on it, beside the formula's figures.
    assert row["predicted"]["basis"] == "measured on this host"
    assert row["predicted"]["formula_basis"] == "measured memory bandwidth"
    assert "measured on this host at %s" % row["measured"]["measured_at"] in row["reason"]
    assert dotenv_values(fleet.install() / ".env")["LOCAL_LLM_MODEL_PATH"].startswith("/app/models/llm/tinyllama")
    # The next run's facts return the stored turn: the same decision, the same row, no new report.
    proc, again = fleet.run(host_vars={"h1": {"voiceagent_runtime_python": runtime,
                                              "voiceagent_turn_check_store": store(tmp_path)}})
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert host_row(again) == row and again["generated_at"] == report["generated_at"]


def test_a_model_that_does_not_load_keeps_the_old_env_and_fails_the_host_naming_it(tmp_path, mirror, runtime,
                                                                                   monkeypatch):
    fleet = fleet_with_env(tmp_path, mirror)
    monkeypatch.setenv("FAKE_LLAMA_REFUSE", "tinyllama")
    proc, report = fleet.run(host_vars={"h1": {"voiceagent_runtime_python": runtime,
                                               "voiceagent_turn_check_store": store(tmp_path)}})
    assert proc.returncode != 0
    row = host_row(report)
    assert row["status"] == "failed"
    assert "did not load with llama.cpp" in row["error"] and "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf" in row["error"]
    assert "missing tensor 'token_embd.weight'" in row["error"]
    # The .env still names the models it had; the new files are in place for the next try.
    assert (fleet.install() / ".env").read_text() == OLD_ENV
    assert (fleet.install() / "models" / "llm" / "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf").exists()


def test_a_measured_turn_that_breaks_the_promise_keeps_the_old_env_and_says_both_numbers(tmp_path, mirror, runtime,
                                                                                         monkeypatch):
    # LIGHT_CPU promising 1.5 s: the formula (STT 0.5 + TTS 0.5 + the stand-in GGUF's tiny LLM time) passes,
    # the stand-in LLM at 0.3 s a token (14 tokens) does not.
    registry = json.loads(pathlib.Path(mirror.registry).read_text())
    registry["tiers"]["LIGHT_CPU"]["expectations"].update(stt_latency_sec=0.5, llm_latency_sec=0.5, tts_latency_sec=0.5)
    slow = tmp_path / "registry-1.5s.json"
    slow.write_text(json.dumps(registry))
    monkeypatch.setenv("FAKE_LLAMA_TOKEN_SEC", "0.3")
    fleet = fleet_with_env(tmp_path, mirror)
    proc, report = fleet.run("-e", "voiceagent_registry=%s" % slow,
                             host_vars={"h1": {"voiceagent_runtime_python": runtime,
                                               "voiceagent_turn_check_store": store(tmp_path)}})
    assert proc.returncode != 0
    row = host_row(report)
    assert row["status"] == "failed"
    assert "its measured turn on this host took" in row["error"], row["error"]
    assert "over its 1.5 s promise by more than 25 %" in row["error"] and "the prediction was" in row["error"]
    assert (fleet.install() / ".env").read_text() == OLD_ENV


def test_auto_without_a_runtime_provisions_and_says_not_measured(tmp_path, mirror):
    fleet = fleet_with_env(tmp_path, mirror)
    proc, report = fleet.run(host_vars={"h1": {"voiceagent_turn_check_store": store(tmp_path)}})
    assert proc.returncode == 0, proc.stdout[-3000:]
    row = host_row(report)
    assert row["measured"] is None and "no voiceagent_runtime_python given" in row["not_measured"]
    assert "not measured: no runtime to run it in" in (fleet.reports / "voiceagent-report.md").read_text()


def test_true_without_a_runtime_fails_before_the_env_changes(tmp_path, mirror):
    fleet = fleet_with_env(tmp_path, mirror)
    proc, report = fleet.run(host_vars={"h1": {"voiceagent_turn_check": True,
                                               "voiceagent_turn_check_store": store(tmp_path)}})
    assert proc.returncode != 0
    assert "voiceagent_turn_check is true" in host_row(report)["error"]
    assert (fleet.install() / ".env").read_text() == OLD_ENV


def test_false_skips_it_and_the_report_says_so(tmp_path, mirror, runtime):
    fleet = fleet_with_env(tmp_path, mirror)
    proc, report = fleet.run("-e", "voiceagent_turn_check=false",
                             host_vars={"h1": {"voiceagent_runtime_python": runtime}})
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert host_row(report)["not_measured"] == "voiceagent_turn_check is false"
    assert not os.path.exists(store(tmp_path))
