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
    assert "| a | ok | MEDIUM_CPU | auto | 4.2 | 1 / 1 | 1.0 | 0.0 |  | fits \\| well |" in page
    assert "| b | no result |" in page
    assert "- **a**: nvidia-smi did not answer within 10 s" in page
    assert "a.gguf from registry, voice.onnx from lock" in page
    assert "Result: **FAILED**" in page


def test_the_agent_column_says_what_happened_to_the_container():
    row = dict(OK_ROW, agent="recreated local_ai_server")
    report = build_report({"a": row}, REGISTRY)
    assert report["hosts"][0]["agent"] == "recreated local_ai_server"
    assert "| 0.0 | recreated local_ai_server | fits" in render_markdown(report)
