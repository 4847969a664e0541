"""The fleet report: statuses, the minimum-tier gate and the Markdown page."""
import pytest

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import default_registry_path, load_registry
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.fleet_report import (
    ReportError,
    build_report,
    render_markdown,
)

REGISTRY = load_registry(default_registry_path())
OK_ROW = {"status": "ok", "tier": "MEDIUM_CPU", "rank": 20, "source": "auto", "reason": "fits | well",
          "warnings": ["nvidia-smi did not answer within 10 s"], "predicted_llm_sec": 4.2, "bytes_to_download": 0,
          "files": [{"changed": True, "bytes_downloaded": 1000000, "seconds": 2.5, "digest_source": "registry",
                     "name": "a.gguf"},
                    {"changed": False, "bytes_downloaded": 0, "digest_source": "lock",
                     "item": {"name": "voice.onnx"}}]}


def test_rows_are_counted_and_missing_hosts_are_marked():
    report = build_report({"a": OK_ROW, "b": {"status": "unreachable", "error": "ssh: timed out"}, "c": None},
                          REGISTRY)
    hosts = dict((h["host"], h) for h in report["hosts"])
    assert hosts["a"]["files_changed"] == 1 and hosts["a"]["files_unchanged"] == 1
    assert hosts["a"]["bytes_moved"] == 1000000
    assert hosts["a"]["download_seconds"] == 2.5
    assert hosts["a"]["digests"] == {"a.gguf": "registry", "voice.onnx": "lock"}
    assert hosts["b"]["status"] == "unreachable"
    assert hosts["c"]["status"] == "no result" and "stopped before it reported" in hosts["c"]["error"]
    assert report["summary"]["failed_hosts"] == ["b", "c"]
    assert report["passed"] is False


def test_the_language_column_shows_a_fallback():
    fallback = {"requested": "ja-JP", "fallback": "en-US", "fallback_layers": ["tts"],
                "stt": {"language": "ja-JP", "model": "vosk-model-small-ja-0.22"},
                "tts": {"language": "en-US", "model": "en_US-lessac-medium"}}
    spanish = dict(fallback, fallback=None, requested="es-ES")
    rows = {"a": dict(OK_ROW, language=fallback), "b": dict(OK_ROW, language=spanish)}
    report = build_report(rows, REGISTRY)
    assert report["hosts"][0]["language"] == fallback
    page = render_markdown(report)
    assert "| a | ok | MEDIUM_CPU | auto | ja-JP (the voice from the fallback en-US) | 4.2 |" in page
    assert "| b | ok | MEDIUM_CPU | auto | es-ES | 4.2 |" in page


def test_the_minimum_tier_gate_marks_hosts_below_it():
    light = dict(OK_ROW, tier="LIGHT_CPU", rank=10)
    report = build_report({"a": OK_ROW, "b": light}, REGISTRY, min_tier="MEDIUM_CPU")
    assert report["summary"]["below_min_tier"] == ["b"]
    assert report["passed"] is False
    assert build_report({"a": OK_ROW}, REGISTRY, min_tier="MEDIUM_CPU")["passed"] is True


def test_an_unknown_minimum_tier_lists_the_valid_ones():
    with pytest.raises(ReportError, match="'MEGA' is not a tier of the registry; valid tiers are: HEAVY_GPU"):
        build_report({"a": OK_ROW}, REGISTRY, min_tier="MEGA")


def test_markdown_has_one_row_per_host_and_escapes_pipes():
    report = build_report({"a": OK_ROW, "b": None}, REGISTRY, mode="plan", generated_at="2026-11-24T00:00:00Z")
    page = render_markdown(report)
    assert page.startswith("# voiceagent.models fleet report (plan)")
    # The agent column is empty: OK_ROW says nothing about the agent's container.
    assert "| a | ok | MEDIUM_CPU | auto |  | 4.2 | 1 / 1 | 1.0 | 0.0 |  | fits \\| well |" in page
    assert "| b | no result |" in page
    assert "- **a**: nvidia-smi did not answer within 10 s" in page
    assert "a.gguf from registry, voice.onnx from lock" in page
    assert "Result: **FAILED**" in page


def test_the_agent_column_says_what_happened_to_the_container():
    row = dict(OK_ROW, agent="recreated local_ai_server")
    report = build_report({"a": row}, REGISTRY)
    assert report["hosts"][0]["agent"] == "recreated local_ai_server"
    assert "| 0.0 | recreated local_ai_server | fits" in render_markdown(report)


MEASURED = {"stt_sec": 0.4, "llm_prefill_sec": 1.2, "llm_prompt_tokens": 402, "llm_tokens_per_sec": 12.0,
            "tts_sec": 0.3, "first_audio_sec": 2.1, "turn_sec": 3.9, "measured_at": "2026-12-07T20:00:00Z",
            "runtime": "python", "reply": "not shown in the report"}


def measured_row(tps, predicted_sec=2.0):
    return dict(OK_ROW, predicted_llm_sec=predicted_sec, max_tokens=24, predicted_basis="measured memory bandwidth",
                measured=dict(MEASURED, llm_tokens_per_sec=tps), not_measured=None)


def test_a_measured_host_shows_the_turn_beside_the_prediction_with_the_ratio():
    host = build_report({"a": measured_row(12.0)}, REGISTRY)["hosts"][0]
    assert host["measured"]["turn_sec"] == 3.9 and "reply" not in host["measured"]
    # 24 tokens at 12 tokens/s is 2.0 s, as predicted.
    assert host["measured_vs_predicted"] == 1.0
    assert host["predicted"]["basis"] == "measured memory bandwidth"


def test_the_calibration_gives_the_median_and_the_worst_ratio_either_way():
    rows = {"a": measured_row(12.0), "b": measured_row(6.0), "c": measured_row(48.0), "d": OK_ROW}
    cal = build_report(rows, REGISTRY)["summary"]["calibration"]
    # Ratios 1.0, 2.0 and 0.25: 0.25 is four times off, 2.0 only twice.
    assert cal == {"hosts_measured": 3, "median_ratio": 1.0, "worst_ratio": 0.25}


def test_a_host_not_measured_says_why_and_has_no_ratio():
    row = dict(OK_ROW, measured="None", not_measured="no runtime to run it in: no voiceagent_runtime_python given")
    report = build_report({"a": row}, REGISTRY)
    host = report["hosts"][0]
    assert host["measured"] is None and host["measured_vs_predicted"] is None
    assert report["summary"]["calibration"]["hosts_measured"] == 0
    assert "- **a**: not measured: no runtime to run it in" in render_markdown(report)


def test_the_markdown_has_the_measured_table_and_the_calibration_line():
    report = build_report({"a": measured_row(12.0), "b": dict(OK_ROW, not_measured="voiceagent_turn_check is false")},
                          REGISTRY)
    text = render_markdown(report)
    assert "## Measured turn (turn check)" in text
    assert "Measured/predicted LLM seconds over 1 hosts: median 1.0, worst 1.0." in text
    assert "| a | python | 0.4 | 1.2 (402) | 12.0 | 0.3 | 2.1 | 3.9 | 2.0 (measured memory bandwidth) | 1.0 |" in text
    assert "\n\n- **b**: not measured: voiceagent_turn_check is false" in text


def test_the_ratio_prefers_the_predicted_speed_which_survives_rounding():
    # A tiny model's predicted seconds round to 0.0; its predicted speed still gives the ratio.
    row = dict(measured_row(500.0, predicted_sec=0.0), predicted_llm_tokens_per_sec=1000.0)
    assert build_report({"a": row}, REGISTRY)["hosts"][0]["measured_vs_predicted"] == 2.0


def test_a_tier_chosen_on_a_stored_measurement_keeps_the_formula_for_the_ratio():
    # The selection's basis says a stored turn chose the tier; the figures and the ratio stay the formula's.
    row = dict(measured_row(6.0), predicted_basis="measured on this host",
               predicted_formula_basis="measured memory bandwidth")
    report = build_report({"a": row}, REGISTRY)
    host = report["hosts"][0]
    assert host["predicted"]["basis"] == "measured on this host"
    assert host["predicted"]["formula_basis"] == "measured memory bandwidth"
    assert host["measured_vs_predicted"] == 2.0
    assert "| 2.0 (measured memory bandwidth) | 2.0 |" in render_markdown(report)
