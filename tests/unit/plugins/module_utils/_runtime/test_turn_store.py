"""turn_store: keys from digests, runtime and settings; reuse by age; the newest entries kept."""
import hashlib
import json

from ansible_collections.voiceagent.models.plugins.module_utils._runtime import turn_store as store
from ansible_collections.voiceagent.models.plugins.module_utils._transfer import digest_cache


def test_a_verified_file_uses_its_recorded_digest(tmp_path):
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF")
    digest_cache.record(str(path), "b" * 64)
    assert store.model_digest(str(path)) == ("b" * 64, "verified")


def test_an_unverified_file_is_hashed(tmp_path):
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF")
    assert store.model_digest(str(path)) == (hashlib.sha256(b"GGUF").hexdigest(), "hashed")


def test_a_vosk_folder_uses_its_marker_else_its_files(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "mfcc.conf").write_text("a")
    hashed, source = store.model_digest(str(tmp_path))
    assert source == "hashed" and len(hashed) == 64
    (tmp_path / "conf" / "mfcc.conf").write_text("b")
    assert store.model_digest(str(tmp_path))[0] != hashed
    (tmp_path / ".voiceagent-source.json").write_text(json.dumps({"sha256": "c" * 64}))
    assert store.model_digest(str(tmp_path)) == ("c" * 64, "vosk marker")


def test_the_key_changes_with_each_part():
    base = store.store_key({"llm": "a"}, {"where": "python"}, {"threads": 2})
    assert base == store.store_key({"llm": "a"}, {"where": "python"}, {"threads": 2})
    assert base != store.store_key({"llm": "b"}, {"where": "python"}, {"threads": 2})
    assert base != store.store_key({"llm": "a"}, {"where": "container"}, {"threads": 2})
    assert base != store.store_key({"llm": "a"}, {"where": "python"}, {"threads": 1})


def test_a_stored_result_is_reused_until_it_is_too_old(tmp_path):
    path = str(tmp_path / "cache" / "turn_check.json")
    store.save(path, "k", {"measured_epoch": 1000, "result": {"turn_sec": 2.5}})
    assert store.lookup(path, "k", 100, 1050)["result"] == {"turn_sec": 2.5}
    assert store.lookup(path, "k", 100, 1200) is None
    assert store.lookup(path, "k", 0, 1000) is None
    assert store.lookup(path, "other", 100, 1050) is None


def test_the_newest_entries_are_kept(tmp_path):
    path = str(tmp_path / "turn_check.json")
    for index in range(store.MAX_ENTRIES + 3):
        store.save(path, "k%d" % index, {"measured_epoch": index, "result": {}})
    entries = store.load(path)
    assert len(entries) == store.MAX_ENTRIES and "k0" not in entries
    assert "k%d" % (store.MAX_ENTRIES + 2) in entries


def test_a_broken_store_reads_as_empty(tmp_path):
    path = tmp_path / "turn_check.json"
    path.write_text("{not json")
    assert store.load(str(path)) == {} and store.recent(str(path), 100, 0) == []


def test_recent_returns_young_entries_newest_first_with_the_figures_the_selection_reads(tmp_path):
    path = str(tmp_path / "turn_check.json")
    result = {"turn_sec": 5.1, "llm_sec": 3.0, "transcript": "not for the facts", "runtime": "python"}
    for key, epoch, tier in (("old", 100, "LIGHT_CPU"), ("new", 900, "MEDIUM_CPU"), ("stale", 1, "HEAVY_CPU")):
        store.save(path, key, {"measured_epoch": epoch, "measured_at": "t%d" % epoch, "result": result, "tier": tier,
                               "settings": {"threads": 2}, "llm_file": "m.gguf", "models": {"llm_model": "a" * 64}})
    recent = store.recent(path, 950, 1000)
    assert [e["tier"] for e in recent] == ["MEDIUM_CPU", "LIGHT_CPU"]
    assert recent[0]["measured"]["turn_sec"] == 5.1 and "transcript" not in recent[0]["measured"]
    assert recent[0]["llm_sha256"] == "a" * 64 and recent[0]["settings"] == {"threads": 2}
    assert recent[0]["runtime"] == "python" and recent[0]["measured_at"] == "t900"
    assert store.recent(path, 0, 1000) == []
    assert store.recent(str(tmp_path / "none.json"), 950, 1000) == []
