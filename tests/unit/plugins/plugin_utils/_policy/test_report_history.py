"""report_history.settle: a run that changed nothing leaves the report as it was."""
import json

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.fleet_report import build_report
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import (
    default_registry_path,
    load_registry,
)
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.report_history import settle

REGISTRY = load_registry(default_registry_path())
FILES = [{"name": "a.gguf", "changed": True, "bytes_downloaded": 1000, "seconds": 0.5, "digest_source": "registry"}]
FIRST = {"status": "ok", "tier": "LIGHT_CPU", "rank": 10, "source": "auto", "reason": "fits", "warnings": [],
         "benchmark_cached": False, "files": FILES, "env_changed_keys": ["LOCAL_AI_MODE"], "changed": True,
         "agent": "recreated local_ai_server"}
RERUN = dict(FIRST, benchmark_cached=True, files=[dict(FILES[0], changed=False, bytes_downloaded=0)],
             env_changed_keys=[], changed=False, agent="unchanged: nothing to recreate")


def report(rows, at, previous=None):
    # The previous report comes back from the JSON file, as site.yml reads it.
    return settle(build_report(rows, REGISTRY, generated_at=at), json.loads(json.dumps(previous)) if previous else None)


def test_a_rerun_that_changed_nothing_gives_the_same_report_and_time_stamp():
    first = report({"h1": FIRST}, "2026-12-07T10:00:00Z")
    again = report({"h1": RERUN}, "2026-12-07T11:00:00Z", first)
    assert json.dumps(again, sort_keys=True) == json.dumps(first, sort_keys=True)
    assert again["hosts"][0]["changed_at"] == "2026-12-07T10:00:00Z"
    assert again["hosts"][0]["files_changed"] == 1 and again["summary"]["bytes_moved"] == 1000


def test_a_changed_host_gets_this_run_s_details_and_a_new_time_stamp():
    first = report({"h1": FIRST, "h2": FIRST}, "2026-12-07T10:00:00Z")
    changed = dict(RERUN, changed=True, files=FILES)
    again = report({"h1": RERUN, "h2": changed}, "2026-12-07T11:00:00Z", first)
    rows = dict((h["host"], h) for h in again["hosts"])
    assert again["generated_at"] == "2026-12-07T11:00:00Z"
    assert rows["h2"]["changed_at"] == "2026-12-07T11:00:00Z" and rows["h1"]["changed_at"] == "2026-12-07T10:00:00Z"


def test_a_state_change_without_a_file_change_still_rewrites_the_report():
    first = report({"h1": FIRST}, "2026-12-07T10:00:00Z")
    again = report({"h1": dict(RERUN, warnings=["new warning"])}, "2026-12-07T11:00:00Z", first)
    assert again["generated_at"] == "2026-12-07T11:00:00Z"
    assert again["hosts"][0]["warnings"] == ["new warning"]


def test_without_a_previous_report_a_quiet_host_has_no_changed_at():
    quiet = report({"h1": RERUN}, "2026-12-07T11:00:00Z")
    assert quiet["hosts"][0]["changed_at"] is None and quiet["hosts"][0]["files_changed"] == 0


def test_a_plan_never_borrows_a_run_s_details():
    first = report({"h1": FIRST}, "2026-12-07T10:00:00Z")
    plan = settle(build_report({"h1": dict(RERUN, status="planned")}, REGISTRY, mode="plan",
                               generated_at="2026-12-07T11:00:00Z"), first)
    assert plan["hosts"][0]["changed_at"] is None and plan["generated_at"] == "2026-12-07T11:00:00Z"
