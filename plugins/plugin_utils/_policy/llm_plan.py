# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a tier's LLM goes on a host and how fast one turn runs there: pure functions.

``host_extras(facts)`` reads the facts this needs beyond tier_selection's numbers; ``plan(tier,
host, context)`` returns ``(failures, notes, predicted)``: the memory fit (llm_memory), the
layers on the cards, the speeds (speed_model) and the turn. See docs/selection.md.
"""

from ansible_collections.voiceagent.models.plugins.module_utils._units import GIB
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import llm_memory as mem
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import speed_model as sm
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.agent_contract import (
    gpu_vendors,
    llm_threads,
)
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.gpu_cards import usable_cards
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.llm_prediction import (
    cpu_prompt_tokens_per_sec,
)

# Without the GGUF header keys the fit falls back to the margins used before them.
RAM_MARGIN_FACTOR, RAM_MARGIN_GB = 1.2, 1.0
VRAM_MARGIN_FACTOR, VRAM_MARGIN_GB = 1.1, 0.5


def _gib(value):
    return ("%.2f" % (value / float(GIB))).rstrip("0").rstrip(".")


def host_extras(facts):
    """What the plan reads from the facts besides tier_selection's numbers (all optional)."""
    cpu = facts.get("cpu") if isinstance(facts.get("cpu"), dict) else {}
    bench = facts.get("benchmark") if isinstance(facts.get("benchmark"), dict) else {}
    memory = facts.get("memory") if isinstance(facts.get("memory"), dict) else {}
    process_bw = bench.get("process_bandwidth_gbps")
    usable = memory.get("usable_gb") or memory.get("total_gb")
    return {
        "gpus": facts.get("gpus") if isinstance(facts.get("gpus"), list) else [],
        "arch": cpu.get("arch"),
        "flags": cpu.get("flags") if isinstance(cpu.get("flags"), list) else [],
        "process_bandwidth_gbps": process_bw if isinstance(process_bw, (int, float)) else None,
        "numa_nodes": bench.get("numa_nodes"),
        "ram_bytes": int(usable * GIB) if isinstance(usable, (int, float)) else None,
    }


def _cpu_speed(host, llm, kv_bytes, threads, slow_isa):
    bandwidth = host.get("process_bandwidth_gbps") or host.get("memory_bandwidth_gbps")
    return sm.cpu_generation(bandwidth, host.get("score"), threads, llm["size_bytes"], llm.get("quantization"),
                             kv_bytes, slow_isa)


def _fallback_fit(tier, host, on_gpu, vram_free):
    """The margins of before the header keys: (failures, memory)."""
    llm_bytes = tier["models"]["llm"]["size_bytes"]
    if on_gpu:
        need = llm_bytes * VRAM_MARGIN_FACTOR + VRAM_MARGIN_GB * GIB
        fails = [] if vram_free is None or vram_free >= need else [
            "its %s GiB LLM needs %s GiB of VRAM by the margins used without GGUF header keys, the largest card "
            "has %s GiB free" % (_gib(llm_bytes), _gib(need), _gib(vram_free))]
    else:
        need = llm_bytes * RAM_MARGIN_FACTOR + RAM_MARGIN_GB * GIB
        fails = [] if host["memory_gb"] * GIB >= need else [
            "its %s GiB LLM needs %s GiB of memory by the margins used without GGUF header keys, the host has "
            "%s GiB usable" % (_gib(llm_bytes), _gib(need), _gib(host["memory_gb"] * GIB))]
    return fails, {"total_bytes": int(need), "placement": "vram" if on_gpu else "ram", "basis": "margins"}


def _gpu_layout(llm, context, cards):
    """(gpu_layers or None, memory dict) for the cards' free memory."""
    shape = mem.model_shape(llm)
    frees = [card["free_bytes"] for card in cards]
    layers = mem.layers_that_fit(llm, context, frees)
    if layers >= shape["blocks"] + 1:
        return shape["blocks"] + 1, mem.breakdown(llm, context, on_gpu=True)
    return layers, mem.split(llm, context, layers) if layers > 0 else None


def _gpu_speed(host, llm, memory, cards, kv_filled, threads, slow_isa):
    """(tokens/s, basis) for a layout; None when a card's bandwidth is unknown."""
    if not cards or any(card["gbps"] is None for card in cards):
        return None, None
    share = memory.get("gpu_weight_share", 1.0)
    total_free = float(sum(card["free_bytes"] for card in cards)) or 1.0
    on_gpu = (memory["weights_bytes"] + kv_filled) * share
    per_card = [(on_gpu * card["free_bytes"] / total_free, card["gbps"]) for card in cards]
    cpu_seconds = 0.0
    basis = "GPU memory bandwidth"
    if share < 1.0:
        cpu_bytes = (memory["weights_bytes"] + kv_filled) * (1.0 - share)
        cpu_seconds = sm.cpu_seconds_per_token(host.get("process_bandwidth_gbps") or host.get(
            "memory_bandwidth_gbps"), host.get("score"), threads, cpu_bytes, llm.get("quantization"), slow_isa)
        if cpu_seconds is None:
            return None, None
        basis = "GPU and CPU memory bandwidth (split)"
    return sm.gpu_generation(per_card, cpu_seconds), basis


def plan(tier, host, context):
    """(failures, notes, predicted) for one tier on one host."""
    llm = tier["models"]["llm"]
    req = tier["requirements"]
    env = tier["env"]
    failures, notes = [], []
    gpu_tier = bool(req.get("gpu_required"))
    threads = llm_threads(host.get("cores") or 1)
    isa = sm.isa_note(host.get("arch"), host.get("flags"))
    shape = mem.model_shape(llm)
    max_tokens = env.get("LOCAL_LLM_MAX_TOKENS")
    filled = sm.PREFILL_TOKENS + (max_tokens or 0) // 2
    kv_filled = mem.kv_bytes(shape, min(filled, context)) if shape else 0
    predicted = {"max_tokens": max_tokens, "gpu_layers": None, "memory": None, "llm_tokens_per_sec": None,
                 "llm_prompt_tokens_per_sec": None, "basis": None}
    tps = prompt_tps = None
    if gpu_tier:
        cards, skipped, card_notes = usable_cards(host.get("gpus"), gpu_vendors(tier), host.get("ram_bytes"))
        notes.extend(skipped + card_notes)
        largest = max([card["free_bytes"] for card in cards] or [0])
        wants_all = env.get("LOCAL_LLM_GPU_LAYERS", -1) == -1
        if shape is None:
            notes.append("the registry has no GGUF header keys for this LLM, so the fit uses fixed margins")
            if cards and wants_all:
                fails, predicted["memory"] = _fallback_fit(tier, host, True, largest)
                failures.extend(fails)
        elif cards:
            layers, memory = _gpu_layout(llm, context, cards)
            full = mem.breakdown(llm, context, on_gpu=True)
            if layers < shape["blocks"] + 1 and (req.get("gpu_full_offload") or not wants_all):
                failures.append("its LLM needs %s GiB of VRAM with every layer on the GPU (weights %s, KV cache %s, "
                                "compute buffer %s, CUDA context %s GiB at %s tokens of context), the cards have %s "
                                "GiB free" % (_gib(full["total_bytes"]), _gib(full["weights_bytes"]),
                                              _gib(full["kv_bytes"]), _gib(full["compute_bytes"]),
                                              _gib(full["overhead_bytes"]), context,
                                              " + ".join(_gib(c["free_bytes"]) for c in cards)))
            elif memory is None:
                failures.append("not one layer of its LLM fits in the cards' free VRAM (%s GiB)"
                                % " + ".join(_gib(c["free_bytes"]) for c in cards))
            else:
                predicted["gpu_layers"] = layers
                predicted["memory"] = memory
                if memory["placement"] == "split" and host["memory_gb"] * GIB < memory["ram_bytes"]:
                    failures.append("the %s layers left on the CPU need %s GiB of memory, the host has %s GiB "
                                    "usable" % (shape["blocks"] + 1 - layers, _gib(memory["ram_bytes"]),
                                                _gib(host["memory_gb"] * GIB)))
                tps, predicted["basis"] = _gpu_speed(host, llm, memory, cards, kv_filled, threads, isa is not None)
                if tps is None:
                    notes.append("no memory bandwidth is known for %s, so the GPU speed is the registry's figure"
                                 % ", ".join(c["label"] for c in cards if c["gbps"] is None) if cards else "")
        if tps is None and llm.get("expected_tokens_per_sec_gpu"):
            tps, predicted["basis"] = llm["expected_tokens_per_sec_gpu"], "registry GPU figure"
        if tps:
            prompt_tps = tps * sm.GPU_PREFILL_OVER_GENERATION
    else:
        if shape is None:
            notes.append("the registry has no GGUF header keys for this LLM, so the fit uses fixed margins")
            fails, predicted["memory"] = _fallback_fit(tier, host, False, None)
            failures.extend(fails)
        else:
            memory = mem.breakdown(llm, context)
            predicted["memory"] = memory
            if host["memory_gb"] * GIB < memory["total_bytes"]:
                failures.append("its LLM needs %s GiB of memory (weights %s, KV cache %s, compute buffer %s, runtime "
                                "%s GiB at %s tokens of context), the host has %s GiB usable"
                                % (_gib(memory["total_bytes"]), _gib(memory["weights_bytes"]),
                                   _gib(memory["kv_bytes"]), _gib(memory["compute_bytes"]),
                                   _gib(memory["overhead_bytes"]), context, _gib(host["memory_gb"] * GIB)))
        tps, bound = _cpu_speed(host, llm, kv_filled, threads, isa is not None)
        predicted["basis"] = ("measured memory bandwidth" if bound == "memory" else
                              "measured compute score") if bound else None
        prompt_tps = cpu_prompt_tokens_per_sec(host.get("score"), host.get("cores"), llm["size_bytes"],
                                               llm.get("quantization"))
        if isa and tps:
            notes.append(isa)
    notes = [n for n in notes if n]
    expect = tier.get("expectations", {})
    predicted.update(sm.turn(prompt_tps, tps, max_tokens, expect.get("stt_latency_sec"), expect.get("tts_latency_sec")))
    predicted["llm_tokens_per_sec"] = round(tps, 2) if tps else None
    predicted["llm_prompt_tokens_per_sec"] = round(prompt_tps, 1) if prompt_tps else None
    return failures, notes, predicted
