"""bench/turn_check_cost.py: the tier it predicts with, and the ratios it reports."""
import turn_check_cost as bench
from synthetic_models import write_gguf

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import (
    default_registry_path,
    load_registry,
)
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.tier_selection import read_facts


def run(tps, prefill_sec=2.0, prompt_tokens=400):
    return {"llm_prefill_sec": prefill_sec, "llm_prompt_tokens": prompt_tokens, "llm_tokens_per_sec": tps,
            "llm_sec": 3.0, "llm_generated_tokens": 28, "stt_sec": 0.5, "tts_sec": 1.0, "first_audio_sec": 2.0,
            "turn_sec": 5.0, "load_sec": {"stt": 1.0, "tts": 0.5, "llm": 0.2}}


def test_the_tier_carries_the_file_its_size_and_header_keys(tmp_path):
    path = str(tmp_path / "m.gguf")
    size = write_gguf(path, n_layer=3)
    tier = bench.tier_with(load_registry(default_registry_path()), path, "Q8_0")
    llm = tier["models"]["llm"]
    assert llm["size_bytes"] == size and llm["quantization"] == "Q8_0" and llm["sha256"] is None
    assert llm["gguf"]["llama.block_count"] == 3 and llm["dest_path"] == "models/llm/m.gguf"


def test_the_row_has_medians_and_measured_over_predicted_ratios(tmp_path, make_facts):
    path = str(tmp_path / "m.gguf")
    write_gguf(path)
    tier = bench.tier_with(load_registry(default_registry_path()), path, "Q8_0")
    host = read_facts(make_facts(cores=2, memory_gb=23.4, bandwidth=38.0, score=4.4))
    llm = ("m", path, "Q8_0", "", ["</s>"], 2048)
    row = bench.row_for(llm, tier, host, [run(10.0), run(20.0), run(30.0)], [4.0, 5.0, 9.0], 1.2)
    assert row["measured_median"]["llm_tokens_per_sec"] == 20.0
    assert row["check_wall_s"] == {"median": 5.0, "min": 4.0, "max": 9.0, "runs": [4.0, 5.0, 9.0]}
    predicted = row["predicted"]["llm_tokens_per_sec"]
    assert row["generation_ratio"] == round(predicted / 20.0, 3)
    assert row["prefill_ratio"] == round(row["predicted"]["llm_prompt_tokens_per_sec"] / 200.0, 3)
    assert row["context"] == 2048 and row["stored_answer_wall_s"] == 1.2
