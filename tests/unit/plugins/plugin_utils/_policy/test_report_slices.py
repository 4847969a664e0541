"""report_slices: the slices of a sliced run (AWX job slicing) merge into the report of one run."""
import json

import pytest

from ansible_collections.voiceagent.models.plugins.filter.fleet_report import fleet_report_filter
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.fleet_report import ReportError
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.report_slices import (
    merge_slices,
    slice_document,
    slice_name,
)

OK = {"status": "ok", "tier": "MEDIUM_CPU", "rank": 20, "source": "auto", "reason": "fits", "warnings": [],
      "changed": True, "files": [{"name": "a.gguf", "changed": True, "bytes_downloaded": 1000, "seconds": 0.5}]}
LIGHT = dict(OK, tier="LIGHT_CPU", rank=10)
ROWS = {"h1": OK, "h2": LIGHT, "h3": None, "h4": {"status": "unreachable", "error": "no route"}, "h5": OK}
AT = "2026-12-07T10:00:00Z"


def as_written(value):
    """What the merge reads back: the JSON file a slice wrote."""
    return json.loads(json.dumps(value))


def sliced(rows, count, mode="run"):
    """AWX's slicing: the hosts in name order, dealt round-robin over ``count`` slices."""
    hosts = sorted(rows)
    return [as_written(fleet_report_filter(dict((h, rows[h]) for h in hosts[i::count]), min_tier="MEDIUM_CPU",
                                           mode=mode, generated_at=AT, slice=str(i + 1))["slice"])
            for i in range(count)]


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_the_merged_slices_give_the_report_of_one_run(count):
    whole = fleet_report_filter(ROWS, min_tier="MEDIUM_CPU", generated_at=AT)
    merged = fleet_report_filter({}, min_tier="MEDIUM_CPU", generated_at=AT, slices=sliced(ROWS, count),
                                 slice_count=count)
    assert merged == whole
    assert merged["report"]["summary"]["below_min_tier"] == ["h2"]
    assert merged["report"]["summary"]["failed_hosts"] == ["h3", "h4"]


def test_the_minimum_tier_of_the_merge_is_the_one_applied():
    # The slices were written with MEDIUM_CPU; the merge decides, once, over the whole fleet.
    merged = fleet_report_filter({}, min_tier="LIGHT_CPU", generated_at=AT, slices=sliced(ROWS, 2))
    assert merged["report"]["min_tier"] == "LIGHT_CPU" and merged["report"]["summary"]["below_min_tier"] == []
    assert fleet_report_filter({}, generated_at=AT, slices=sliced(ROWS, 2))["report"]["min_tier"] is None


def test_a_merged_rerun_that_changed_nothing_keeps_the_previous_report():
    first = as_written(fleet_report_filter({}, generated_at=AT, slices=sliced(ROWS, 3))["report"])
    rerun_rows = dict((h, dict(r, changed=False, files=[dict(OK["files"][0], changed=False, bytes_downloaded=0)])
                       if r and r.get("status") == "ok" else r) for h, r in ROWS.items())
    slices = [as_written(fleet_report_filter({h: rerun_rows[h]}, generated_at="2026-12-08T09:00:00Z",
                                             slice=h)["slice"]) for h in sorted(rerun_rows)]
    again = fleet_report_filter({}, generated_at="2026-12-08T09:00:00Z", slices=slices, previous=first)["report"]
    assert as_written(again) == first
    assert again["summary"]["bytes_moved"] == 3000


def test_a_slice_document_carries_its_rows_and_its_own_report():
    result = fleet_report_filter({"h1": OK}, min_tier="MEDIUM_CPU", mode="plan", generated_at=AT, slice=7)
    document = result["slice"]
    assert document["slice"] == "7" and document["format"] == 1 and document["mode"] == "plan"
    assert document["hosts"] == ["h1"] and document["rows"] == {"h1": OK}
    assert document["report"] == result["report"]
    assert "slice" not in fleet_report_filter({"h1": OK}, slice="")


def test_the_slices_mode_is_the_merged_reports_mode():
    plan = sliced(dict((h, r) for h, r in ROWS.items() if h in ("h1", "h2")), 2, mode="plan")
    assert fleet_report_filter({}, slices=plan)["report"]["mode"] == "plan"
    with pytest.raises(ReportError, match="mix a plan"):
        merge_slices(plan + [slice_document("3", {"h9": OK}, "run")])


@pytest.mark.parametrize("name", ["", None, "../x", ".hidden", "a/b", "a b", "x" * 101])
def test_a_slice_name_must_be_a_plain_file_name(name):
    with pytest.raises(ReportError, match="voiceagent_report_slice"):
        slice_name(name)


def test_overlapping_repeated_missing_or_foreign_slices_fail():
    one, two = slice_document("1", {"h1": OK}, "run"), slice_document("2", {"h1": LIGHT}, "run")
    with pytest.raises(ReportError, match="host h1 is in slice 1 and in slice 2"):
        merge_slices([one, two])
    with pytest.raises(ReportError, match="slice names repeat: 1"):
        merge_slices([one, slice_document("1", {"h2": OK}, "run")])
    with pytest.raises(ReportError, match="expected 3 slices, found 1: 1"):
        merge_slices([one], expected=3)
    with pytest.raises(ReportError, match="no slice reports"):
        merge_slices([])
    with pytest.raises(ReportError, match="slice 2 is not a slice report"):
        merge_slices([one, {"report": {}}])
    with pytest.raises(ReportError, match="has no rows"):
        merge_slices([dict(one, rows=None)])
    assert merge_slices([one], expected="1") == ({"h1": OK}, "run")


def test_the_filter_reports_a_bad_merge_as_a_filter_error():
    from ansible.errors import AnsibleFilterError

    with pytest.raises(AnsibleFilterError, match="voiceagent.models.fleet_report: host h1 is in the input rows"):
        fleet_report_filter({"h1": OK}, slices=[slice_document("1", {"h1": OK}, "run")])
    # The merge found no slice file: an error, not an empty report that passes.
    with pytest.raises(AnsibleFilterError, match="no slice reports to merge"):
        fleet_report_filter({}, slices=[])
