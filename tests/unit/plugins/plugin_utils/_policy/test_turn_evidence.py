"""A measured turn beats the prediction for its tier; the current tier keeps a margin (tier_selection)."""
import json
import pathlib

import pytest

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import turn_evidence as evidence
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import default_registry_path
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.tier_selection import select_tier


@pytest.fixture(scope="module")
def registry():
    return json.loads(pathlib.Path(default_registry_path()).read_text())


def stored(registry, tier="HEAVY_CPU", turn=12.0, threads=16, epoch=1000, sha=None, llm_sec=7.0, tps=5.0):
    """One entry of the facts' turn_checks, as turn_store.recent returns it."""
    llm = registry["tiers"][tier]["models"]["llm"]
    return {"tier": tier, "llm_file": pathlib.PurePath(llm["dest_path"]).name,
            "llm_sha256": sha or llm["sha256"],
            "settings": {"threads": threads, "context": 768, "max_tokens": 28, "gpu_layers": 0},
            "measured": {"stt_sec": 0.8, "llm_prefill_sec": 1.5, "llm_prompt_tokens": 402, "llm_tokens_per_sec": tps,
                         "llm_sec": llm_sec, "tts_sec": 1.2, "first_audio_sec": 3.4, "turn_sec": turn},
            "measured_at": "2026-12-07T10:00:00Z", "measured_epoch": epoch, "runtime": "python"}


def heavy_host(make_facts, score=4.2, checks=()):
    facts = make_facts(cores=16, memory_gb=62.8, bandwidth=40.0, score=score)
    facts["turn_checks"] = list(checks)
    return facts


def test_malformed_entries_are_left_out_and_the_newest_comes_first(registry):
    old, new = stored(registry, epoch=10), stored(registry, tier="MEDIUM_CPU", epoch=20)
    facts = {"turn_checks": [old, "junk", {"tier": None}, dict(new, measured={"turn_sec": 0}), new]}
    assert evidence.turn_checks(facts) == [new, old]
    assert evidence.turn_checks({}) == [] and evidence.turn_checks({"turn_checks": "x"}) == []


def test_a_measurement_counts_only_for_its_tier_its_llm_and_todays_threads(registry):
    tier = registry["tiers"]["HEAVY_CPU"]
    entry = stored(registry)
    assert evidence.measurement_for("HEAVY_CPU", tier, [entry], 16) is entry
    # 32 cores: the agent runs 16 threads, as measured.
    assert evidence.measurement_for("HEAVY_CPU", tier, [entry], 32) is entry
    assert evidence.measurement_for("HEAVY_CPU", tier, [entry], 8) is None
    assert evidence.measurement_for("MEDIUM_GPU", registry["tiers"]["MEDIUM_GPU"], [dict(entry)], 16) is None
    assert evidence.measurement_for("HEAVY_CPU", tier, [stored(registry, sha="0" * 64)], 16) is None


def test_without_a_registry_digest_the_file_name_decides(registry):
    tier = json.loads(json.dumps(registry["tiers"]["HEAVY_CPU"]))
    tier["models"]["llm"]["sha256"] = None
    assert evidence.measurement_for("HEAVY_CPU", tier, [stored(registry, sha="f" * 64)], 16)
    assert evidence.measurement_for("HEAVY_CPU", tier, [dict(stored(registry), llm_file="other.gguf")], 16) is None


def test_the_margin_is_against_moving_up_and_for_the_current_tier():
    assert evidence.margin_for(30, None) == 0.0
    assert evidence.margin_for(30, 20) == evidence.MARGIN
    assert evidence.margin_for(20, 20) == -evidence.MARGIN
    assert evidence.margin_for(10, 20) == 0.0


def test_a_measured_turn_replaces_the_prediction_and_says_so(registry, make_facts):
    result = select_tier(heavy_host(make_facts, checks=[stored(registry, turn=12.0)]), registry)
    predicted = result["expected"]["predicted"]
    assert result["tier"] == "HEAVY_CPU"
    assert predicted["basis"] == "measured on this host"
    assert (predicted["turn_sec"], predicted["llm_latency_sec"], predicted["llm_tokens_per_sec"]) == (12.0, 7.0, 5.0)
    assert predicted["measured_at"] == "2026-12-07T10:00:00Z"
    # The formula's own figures stay beside it, for the report's measured/predicted ratio.
    assert predicted["formula"]["basis"] == "measured memory bandwidth"
    assert predicted["formula"]["turn_sec"] == 9.83
    assert "a measured 7 s for its LLM reply" in result["reason"]
    assert "measured on this host at 2026-12-07T10:00:00Z" in result["reason"]


def test_a_measured_turn_over_its_promise_by_more_than_25_percent_refuses_the_tier(registry, make_facts):
    # HEAVY_CPU promises 2 + 18 + 3 = 23 s; 23 x 1.25 = 28.75 s; as the current tier it is kept up to
    # 28.75 x 1.1 = 31.6 s. The formula said 9.71 s.
    result = select_tier(heavy_host(make_facts, score=4.5, checks=[stored(registry, turn=33.0, llm_sec=29.0)]),
                         registry, current="HEAVY_CPU")
    assert result["tier"] == "MEDIUM_CPU"
    reason = result["rejected"]["HEAVY_CPU"]
    assert "its measured turn on this host took 33 s" in reason
    assert "the prediction was 9.71 s" in reason
    assert "over its 23 s promise by more than 25 %" in reason


def test_a_measured_turn_within_the_tolerance_keeps_the_tier(registry, make_facts):
    result = select_tier(heavy_host(make_facts, score=4.5, checks=[stored(registry, turn=28.0)]), registry)
    assert result["tier"] == "HEAVY_CPU"


def test_a_wobbling_score_does_not_move_a_host_up_without_the_margin(registry, make_facts):
    # HEAVY_CPU needs a score of 4.0: 4.2 passes from nowhere, but not by the 10 % a move up needs.
    assert select_tier(heavy_host(make_facts, score=4.2), registry)["tier"] == "HEAVY_CPU"
    result = select_tier(heavy_host(make_facts, score=4.2), registry, current="MEDIUM_CPU")
    assert result["tier"] == "MEDIUM_CPU"
    assert "short of the 10 % margin" in result["rejected"]["HEAVY_CPU"]
    assert "(4.4)" in result["rejected"]["HEAVY_CPU"]
    assert select_tier(heavy_host(make_facts, score=4.5), registry, current="MEDIUM_CPU")["tier"] == "HEAVY_CPU"


def test_a_wobbling_score_does_not_move_a_host_down_within_the_margin(registry, make_facts):
    assert select_tier(heavy_host(make_facts, score=3.7), registry)["tier"] == "MEDIUM_CPU"
    kept = select_tier(heavy_host(make_facts, score=3.7), registry, current="HEAVY_CPU")
    assert kept["tier"] == "HEAVY_CPU"
    assert any("HEAVY_CPU kept: the host scores 3.7, under its CPU score of 4 but within the 10 % margin" in w
               for w in kept["warnings"])
    assert select_tier(heavy_host(make_facts, score=3.5), registry, current="HEAVY_CPU")["tier"] == "MEDIUM_CPU"


def test_a_stored_turn_does_not_name_the_current_tier(registry, make_facts):
    # The role checks a tier before the .env points at it: the newest turn may be of a refused tier.
    checks = [stored(registry, turn=12.0)]
    assert select_tier(heavy_host(make_facts, score=3.7, checks=checks), registry)["tier"] == "MEDIUM_CPU"
    assert select_tier(heavy_host(make_facts, score=3.7, checks=checks), registry,
                       current="HEAVY_CPU")["tier"] == "HEAVY_CPU"


def test_a_measured_turn_keeps_the_current_tier_within_the_margin(registry, make_facts):
    # 30 s is over 28.75 s but under 28.75 x 1.1 = 31.6 s: the current tier stays, with a note.
    facts = heavy_host(make_facts, score=4.5, checks=[stored(registry, turn=30.0)])
    assert select_tier(facts, registry)["tier"] == "MEDIUM_CPU"
    result = select_tier(facts, registry, current="HEAVY_CPU")
    assert result["tier"] == "HEAVY_CPU"
    assert any("HEAVY_CPU kept: its turn of 30 s (measured on this host)" in w for w in result["warnings"])
