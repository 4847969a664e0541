# -*- coding: utf-8 -*-
# Copyright (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""llama.cpp's memory from the GGUF header keys (llm_memory), against the sizes llama.cpp itself prints."""

import json
import pathlib

import pytest

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import llm_memory as mem
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.agent_contract import kv_cache_bytes
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import (
    default_registry_path,
    load_registry,
)

GIB = 1024 ** 3
MIB = 1024 ** 2
ROOT = pathlib.Path(__file__).resolve().parents[5]
REGISTRY = load_registry(default_registry_path())
LLM = dict((name, tier["models"]["llm"]) for name, tier in REGISTRY["tiers"].items())


def test_kv_cache_without_grouped_query_attention_is_large():
    # The issue's figures: Phi-3-mini (32 KV heads of 32) at 4096 tokens 1.5 GiB, Llama-2-13B 3.125 GiB,
    # TinyLlama (4 KV heads of 32) 88 MiB.
    assert mem.kv_bytes(mem.model_shape(LLM["MEDIUM_CPU"]), 4096) == 1.5 * GIB
    assert mem.kv_bytes(mem.model_shape(LLM["HEAVY_GPU"]), 4096) == 3.125 * GIB
    assert mem.kv_bytes(mem.model_shape(LLM["LIGHT_CPU"]), 4096) == 88 * MIB
    # agent_contract's callers get the same sum.
    assert kv_cache_bytes(LLM["MEDIUM_CPU"], 4096) == 1.5 * GIB
    assert kv_cache_bytes({"gguf": {}}, 4096) is None


def test_key_and_value_length_come_from_the_header_when_present():
    llm = {"gguf": {"general.architecture": "x", "x.block_count": 2, "x.embedding_length": 1024,
                    "x.attention.head_count": 8, "x.attention.head_count_kv": 2,
                    "x.attention.key_length": 256, "x.attention.value_length": 128}}
    assert mem.kv_bytes(mem.model_shape(llm), 100) == 2 * 100 * 2 * (256 + 128) * 2


def test_compute_buffer_is_the_logits_or_the_attention_scores_whichever_is_larger():
    shape = mem.model_shape(LLM["HEAVY_GPU"])   # n_embd 5120, 40 heads, vocab 32000
    assert mem.compute_bytes(shape, 1024) == 4 * 512 * (1 + 4 * 5120 + 1024 * 41)
    assert mem.compute_bytes(shape, 256) == 4 * 256 * (5120 + 32000)


def test_breakdown_sums_and_places():
    cpu = mem.breakdown(LLM["LIGHT_CPU"], 768)
    assert cpu["placement"] == "ram" and cpu["overhead_bytes"] == 9 * MIB + 100 * 32000
    assert cpu["total_bytes"] == cpu["weights_bytes"] + cpu["kv_bytes"] + cpu["compute_bytes"] + cpu["overhead_bytes"]
    gpu = mem.breakdown(LLM["HEAVY_GPU"], 1024, on_gpu=True)
    assert gpu["placement"] == "vram" and gpu["overhead_bytes"] == 457 * MIB
    assert mem.breakdown({"size_bytes": 1, "gguf": {}}, 768) is None


def test_layers_that_fit_grow_with_free_memory_and_add_over_cards():
    llm = LLM["HEAVY_GPU"]
    assert mem.layers_that_fit(llm, 1024, [0]) == 0
    few = mem.layers_that_fit(llm, 1024, [4 * GIB])
    more = mem.layers_that_fit(llm, 1024, [6 * GIB])
    assert 0 < few < more < 41
    assert mem.layers_that_fit(llm, 1024, [12 * GIB]) == 41
    # Two 4 GiB cards each pay their context and compute buffer: fewer layers than one 8 GiB card.
    assert mem.layers_that_fit(llm, 1024, [4 * GIB, 4 * GIB]) < mem.layers_that_fit(llm, 1024, [8 * GIB])
    assert mem.layers_that_fit(llm, 1024, [4 * GIB, 4 * GIB]) == 2 * few


# What llama.cpp (llama-cpp-python 0.3.36) printed when it loaded the real SmolLM2-135M Q4_1 GGUF at two
# contexts: bench/predict/smollm2_memory.py, bench/results/smollm2_memory.json.
SMOLLM2 = json.loads((ROOT / "bench" / "results" / "smollm2_memory.json").read_text())


@pytest.mark.parametrize("run", SMOLLM2["runs"], ids=lambda run: "n_ctx=%d" % run["n_ctx"])
def test_kv_and_compute_buffers_match_what_llama_cpp_prints_within_10_percent(run):
    llm = {"size_bytes": SMOLLM2["model_bytes"], "quantization": "Q4_1", "gguf": SMOLLM2["gguf"]}
    predicted = mem.breakdown(llm, run["n_ctx"])
    printed = run["buffers_mib"]
    assert predicted["kv_bytes"] / MIB == pytest.approx(printed["CPU_KV"], rel=0.10)
    assert predicted["compute_bytes"] / MIB == pytest.approx(printed["CPU_compute"], rel=0.10)
    # The output buffer is one f32 logit per vocabulary entry, part of the runtime overhead.
    assert 4 * SMOLLM2["gguf"]["llama.vocab_size"] / MIB == pytest.approx(printed["CPU_output"], abs=0.005)


def test_the_two_contexts_cover_both_sides_of_the_compute_buffer():
    # At 1024 tokens the batch's logits are the largest tensor; at 8192 the attention scores are.
    shape = mem.model_shape({"gguf": SMOLLM2["gguf"]})
    small, large = sorted(run["n_ctx"] for run in SMOLLM2["runs"])
    assert 1 + 4 * shape["embd"] + small * (1 + shape["heads"]) < shape["embd"] + shape["vocab"]
    assert 1 + 4 * shape["embd"] + large * (1 + shape["heads"]) > shape["embd"] + shape["vocab"]
