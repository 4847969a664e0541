# -*- coding: utf-8 -*-
# Copyright (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the LLM goes and how fast a turn runs: llm_plan, gpu_cards, gpu_bandwidth and speed_model."""

import copy

import pytest

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import llm_memory as mem
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import speed_model as sm
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.gpu_bandwidth import bandwidth_for, name_key
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.gpu_cards import usable_cards
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.llm_plan import host_extras, plan
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import (
    default_registry_path,
    load_registry,
)
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.tier_selection import read_facts, select_tier

GIB = 1024 ** 3
REGISTRY = load_registry(default_registry_path())


def gpu(name="NVIDIA GeForce RTX 3090", total=24576, free=None, vendor="nvidia", cc="8.6", unified=False):
    return {"index": 0, "vendor": vendor, "name": name, "vram_total_mb": total,
            "vram_free_mb": total if free is None else free, "integrated": False, "unified_memory": unified,
            "compute_capability": cc, "mig": False}


def host_with(make_facts, gpus, memory_gb=31.3, cores=8, **kw):
    facts = make_facts(cores=cores, memory_gb=memory_gb, vram_mb=tuple(g["vram_total_mb"] for g in gpus), **kw)
    facts["gpus"] = gpus
    return facts


@pytest.mark.parametrize("name", ["NVIDIA GeForce RTX 4090", "GeForce RTX 4090", "rtx 4090", "NVIDIA  GeForce RTX-4090"])
def test_gpu_names_match_as_nvidia_smi_prints_them(name):
    assert bandwidth_for(name)[0] == 1008.0
    assert bandwidth_for(name)[2].startswith("https://")


def test_similar_names_stay_apart_and_unknown_cards_have_no_figure():
    assert bandwidth_for("NVIDIA GeForce RTX 3060 Ti")[0] == 448.0 != bandwidth_for("NVIDIA GeForce RTX 3060")[0]
    assert bandwidth_for("NVIDIA A100-SXM4-80GB")[0] == 2039.0 and bandwidth_for("Radeon RX 7900 XTX")[0] == 960.0
    assert bandwidth_for("card 0") is None and bandwidth_for(None) is None
    assert name_key("Tesla T4") == "t4"


def test_cards_that_do_not_count_say_why():
    cards, skipped, notes = usable_cards(
        [gpu(name="Tesla K80", cc="3.7"), gpu(vendor="amd", name="Radeon RX 7900 XTX", cc="gfx1100"),
         gpu(free=None), dict(gpu(name="iGPU"), integrated=True)], ("nvidia",))
    assert [c["label"] for c in cards] == ["NVIDIA NVIDIA GeForce RTX 3090"]
    assert "compute capability 3.7 is below 5.0" in skipped[0]
    assert "AMD Radeon RX 7900 XTX does not count: the tier takes only NVIDIA cards" == skipped[1]
    missing = gpu()
    missing["vram_free_mb"] = None
    cards, _skipped, notes = usable_cards([missing], ("nvidia",))
    assert cards[0]["free_bytes"] == 24576 * 1024 * 1024 and "reports no free memory" in notes[0]


def test_free_vram_not_total_decides(make_facts):
    # Llama-2-13B needs 8.67 GiB with every layer: a 12 GiB card with 4 GiB taken by another process fails.
    facts = host_with(make_facts, [gpu(name="NVIDIA GeForce RTX 3060", total=12288, free=8192)])
    result = select_tier(facts, REGISTRY)
    assert "the cards have 8 GiB free" in result["rejected"]["HEAVY_GPU"]


def test_a_split_gives_the_layers_that_fit_and_its_speed(make_facts):
    registry = copy.deepcopy(REGISTRY)
    registry["tiers"]["HEAVY_GPU"]["requirements"]["gpu_full_offload"] = False
    registry["tiers"]["HEAVY_GPU"]["requirements"]["min_gpu_vram_gb"] = 6
    facts = host_with(make_facts, [gpu(name="NVIDIA GeForce RTX 3060", total=12288, free=6144)], bandwidth=40.0)
    result = select_tier(facts, registry, override="HEAVY_GPU")
    predicted = result["expected"]["predicted"]
    assert predicted["memory"]["placement"] == "split"
    assert 0 < predicted["gpu_layers"] < 41 and result["env"]["LOCAL_LLM_GPU_LAYERS"] == predicted["gpu_layers"]
    assert predicted["memory"]["vram_bytes"] <= 6 * GIB
    full = copy.deepcopy(facts)
    full["gpus"][0]["vram_free_mb"] = 12288
    fast = select_tier(full, registry, override="HEAVY_GPU")["expected"]["predicted"]
    assert fast["llm_tokens_per_sec"] > predicted["llm_tokens_per_sec"] > 40.0 / 7.87
    assert predicted["basis"] == "GPU and CPU memory bandwidth (split)"


def test_two_cards_add_up_the_way_llama_cpp_splits_layers(make_facts):
    one = [gpu(name="NVIDIA GeForce RTX 4060 Ti", total=8192)]
    two = one + [dict(gpu(name="NVIDIA GeForce RTX 4060 Ti", total=8192), index=1)]
    tier = REGISTRY["tiers"]["HEAVY_GPU"]
    _fails, _notes, single = plan(tier, read_facts(host_with(make_facts, one)), 1024)
    fails, _notes, double = plan(tier, read_facts(host_with(make_facts, two)), 1024)
    assert any("every layer" in f for f in _fails) and not fails
    assert double["gpu_layers"] == 41 and double["memory"]["placement"] == "vram"
    # A layer split runs the cards one after the other for each token: each reads its half at 288 GB/s, so the
    # pair holds the model but generates at the speed of one such card holding all of it.
    weights = tier["models"]["llm"]["size_bytes"]
    assert double["llm_tokens_per_sec"] == pytest.approx(sm.EFF_GPU * 288e9 / weights, rel=0.12)


def test_unified_memory_is_charged_once_against_ram(make_facts):
    facts = host_with(make_facts, [gpu(name="NVIDIA GB10", total=122880, cc="12.1", unified=True)], memory_gb=8.0)
    host = read_facts(facts)
    cards, _skipped, _notes = usable_cards(host["gpus"], ("nvidia",), host["ram_bytes"])
    assert cards[0]["free_bytes"] == 8 * GIB


def test_an_unknown_card_keeps_the_registry_figure_with_a_note(make_facts):
    facts = host_with(make_facts, [gpu(name="NVIDIA Quadro Mystery", total=24576)])
    result = select_tier(facts, REGISTRY)
    assert result["expected"]["predicted"]["basis"] == "registry GPU figure"
    assert any("no memory bandwidth is known for NVIDIA NVIDIA Quadro Mystery" in w for w in result["warnings"])


def test_a_registry_without_header_keys_falls_back_to_the_margins_with_a_warning(make_facts):
    registry = copy.deepcopy(REGISTRY)
    del registry["tiers"]["LIGHT_CPU"]["models"]["llm"]["gguf"]
    result = select_tier(make_facts(cores=4, memory_gb=7.8), registry)
    assert result["tier"] == "LIGHT_CPU"
    assert result["expected"]["predicted"]["memory"]["basis"] == "margins"
    assert any("no GGUF header keys" in w for w in result["warnings"])


def test_the_cpu_memory_breakdown_and_turn_are_reported(make_facts):
    result = select_tier(make_facts(cores=4, memory_gb=7.8, bandwidth=20.0), REGISTRY)
    predicted = result["expected"]["predicted"]
    memory = predicted["memory"]
    assert memory["placement"] == "ram" and memory["context"] == 768
    parts = ("weights_bytes", "kv_bytes", "compute_bytes", "overhead_bytes")
    assert memory["total_bytes"] == sum(memory[k] for k in parts)
    assert predicted["turn_sec"] == pytest.approx(predicted["llm_latency_sec"] + 2 + 3, abs=0.02)
    assert predicted["llm_latency_sec"] == pytest.approx(
        400 / predicted["llm_prompt_tokens_per_sec"] + 24 / predicted["llm_tokens_per_sec"], abs=0.02)


def test_cpu_generation_is_the_slower_of_memory_and_compute():
    # 1 GB of Q4_0 (1.78e9 weights): memory 1.0 x 40 GB/s / 1 GB = 40/s; compute 9.33e9 x 4.5 x 2^0.694 / 1.78e9.
    tps, bound = sm.cpu_generation(40.0, 4.5, 2, 1e9, "Q4_0")
    assert bound == "compute" and tps == pytest.approx(9.33e9 * 4.5 * 2 ** 0.694 / (1e9 / (18 / 32.0)))
    tps, bound = sm.cpu_generation(4.0, 4.5, 16, 1e9, "Q4_0")
    assert bound == "memory" and tps == pytest.approx(4.0)
    assert sm.cpu_generation(None, None, None, 1e9, "Q4_0") == (None, None)
    assert sm.cpu_generation(40.0, None, None, 1e9, "Q4_0")[1] == "memory"


def test_the_kv_cache_read_per_token_slows_memory_bound_generation():
    assert sm.cpu_generation(10.0, None, None, 1e9, "Q4_0", kv_bytes=1e9)[0] == pytest.approx(5.0)


@pytest.mark.parametrize("arch, flags, slow", [
    ("x86_64", ["avx", "avx2", "fma"], False), ("x86_64", ["avx", "sse4_2"], True),
    ("aarch64", ["asimd", "asimddp"], False), ("aarch64", ["asimd"], True), ("riscv64", [], False)])
def test_a_cpu_without_avx2_or_dotprod_is_outside_the_calibration(arch, flags, slow):
    assert (sm.isa_note(arch, flags) is not None) == slow


def test_without_avx2_the_compute_side_halves_and_a_warning_says_so(make_facts):
    facts = make_facts(cores=4, memory_gb=7.8, bandwidth=200.0)
    fast = select_tier(facts, REGISTRY)["expected"]["predicted"]["llm_tokens_per_sec"]
    facts["cpu"]["flags"] = ["avx", "f16c"]
    result = select_tier(facts, REGISTRY)
    assert result["expected"]["predicted"]["llm_tokens_per_sec"] == pytest.approx(fast / 2, rel=0.01)
    assert any("no AVX2" in w for w in result["warnings"])


def test_one_numa_node_bandwidth_is_what_the_process_gets(make_facts):
    facts = make_facts(cores=8, memory_gb=15.6, bandwidth=80.0, score=1.0)
    both = select_tier(facts, REGISTRY, override="HEAVY_CPU")["expected"]["predicted"]["llm_tokens_per_sec"]
    facts["benchmark"].update(process_bandwidth_gbps=10.0, numa_nodes=2)
    one = select_tier(facts, REGISTRY, override="HEAVY_CPU")["expected"]["predicted"]
    assert one["llm_tokens_per_sec"] < both and one["basis"] == "measured memory bandwidth"
    assert one["llm_tokens_per_sec"] == pytest.approx(10e9 / (4.081e9 + one["memory"]["kv_bytes"] * 416 / 768), rel=0.02)


def test_turn_adds_prefill_generation_stt_and_tts():
    assert sm.turn(400.0, 10.0, 20, 2, 3) == {"llm_prefill_sec": 1.0, "llm_latency_sec": 3.0, "turn_sec": 8.0,
                                              "prefill_tokens": 400}
    assert sm.turn(None, 10.0, 20)["llm_latency_sec"] == 2.0
    assert sm.turn(400.0, None, 20)["llm_latency_sec"] is None


def test_host_extras_tolerate_missing_facts():
    extras = host_extras({})
    assert extras["gpus"] == [] and extras["process_bandwidth_gbps"] is None and extras["ram_bytes"] is None


def test_split_memory_adds_up():
    llm = REGISTRY["tiers"]["HEAVY_GPU"]["models"]["llm"]
    part = mem.split(llm, 1024, 20)
    assert part["placement"] == "split" and part["total_bytes"] == part["vram_bytes"] + part["ram_bytes"]
    assert 0.4 < part["gpu_weight_share"] < 0.55
