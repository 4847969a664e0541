# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How fast llama.cpp reads a prompt and generates, from what bounds it: pure functions.

Generation on the CPU is a roofline. Per token llama.cpp reads every weight plus the KV cache
filled so far, and does a fixed amount of arithmetic per weight for the quantisation::

    memory side:  tokens/s = BETA_CPU x bandwidth of one process / (file bytes + KV bytes so far)
    compute side: tokens/s = K_COMPUTE[quant] x score x threads ** THREAD_EXPONENT / weights
    tokens/s = the smaller of the two

``bandwidth`` is the fact module's copy bandwidth counted the STREAM way, on a host with several
NUMA nodes the figure of one node (one llama.cpp process does not draw on both sockets' memory).
``BETA_CPU`` comes from public llama.cpp measurements on machines whose STREAM-style bandwidth their
source states (docs/performance.md, public-data table); ``K_COMPUTE`` from llama.cpp on this
project's VM at 1 and 2 threads (bench/predict), where generation is compute-bound.

A CPU without AVX2 (x86) or dotprod (ARM ``asimddp``) runs llama.cpp's slower kernels, outside the
calibration: its compute side is divided by ``SLOW_ISA_FACTOR`` and a warning says so.

Generation on a card: ``tokens/s = EFF_GPU x card bandwidth / bytes the card reads per token``;
a split adds the CPU part's time per token to the cards'. Prompt reading on a card:
``GPU_PREFILL_OVER_GENERATION`` times its generation speed (public llama.cpp measurements).

One turn: ``prefill_tokens / prompt speed + max_tokens / generation speed`` for the LLM, plus the
registry's STT and TTS figures.
"""

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import llm_prediction as lp

# Median of tokens/s x file bytes / stated bandwidth over the public CPU rows (bench/public/table.py --fit:
# 1.004, 1.032, 0.746): llama.cpp reads weights at about the STREAM copy rate where memory is the limit.
BETA_CPU = 1.0
# Generation's compute side: weights per second per unit of the fact module's single-core score on one
# thread (tg128 x weights / score, llama.cpp 0.3.36 on this project's 2-core Zen 4 VM,
# bench/results/predict-threads1.json), and how it grows with threads: threads ** THREAD_EXPONENT, from
# one thread to two tg128 rose 1.63x (Q4_0), 1.57x (Q8_0), 1.62x (Q4_K_M): log2(1.618) = 0.694
# (bench/results/predict-realtime.json).
# Q4_1: the real SmolLM2-135M at one thread, 2.48e9 (median of five passes, bench/results/predict-smollm2-t1.json);
# its two-thread passes sit within -7 .. +11 % of this with THREAD_EXPONENT (predict-smollm2-t2.json).
K_COMPUTE = {"Q4_0": 9.33e9, "Q8_0": 5.77e9, "Q4_K_M": 8.80e9, "Q4_1": 2.48e9}
THREAD_EXPONENT = 0.694
SLOW_ISA_FACTOR = 2.0
# The same over the public GPU rows against the cards' rated bandwidth (0.627 Tesla P40, 0.505 RTX 4090).
EFF_GPU = 0.57
# Tesla P40, llama 7B Q4_0: pp512 912.41 over tg128 56.79 tokens/s (llama.cpp PR #4766).
GPU_PREFILL_OVER_GENERATION = 16.0
PREFILL_TOKENS = 400


def _positive(*values):
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in values)


def isa_note(arch, flags):
    """None when the CPU has the kernels the constants were measured with, else a sentence."""
    flags = set(flags or [])
    arch = (arch or "").lower()
    if arch in ("x86_64", "amd64", "i686", "i386") and "avx2" not in flags:
        return "the CPU has no AVX2, so llama.cpp runs its slower kernels: the CPU speed is predicted at half " \
               "the measured compute rate, outside the calibration"
    if arch in ("aarch64", "arm64") and "asimddp" not in flags:
        return "the CPU has no dotprod (asimddp), so llama.cpp runs its slower kernels: the CPU speed is " \
               "predicted at half the measured compute rate, outside the calibration"
    return None


def k_compute(quantization):
    key = lp.quant_key(quantization)
    return K_COMPUTE.get(key) if key in K_COMPUTE else min(K_COMPUTE[q] for q in lp.FALLBACK_QUANTS)


def cpu_generation(bandwidth_gbps, score, threads, model_bytes, quantization, kv_bytes=0, slow_isa=False):
    """(tokens/s, bound) on the CPU, bound "memory" or "compute"; (None, None) when unknown."""
    if not _positive(model_bytes):
        return None, None
    memory = BETA_CPU * bandwidth_gbps * 1e9 / (model_bytes + kv_bytes) if _positive(bandwidth_gbps) else None
    compute = None
    if _positive(score, threads):
        compute = k_compute(quantization) * score * threads ** THREAD_EXPONENT / lp.model_weights(model_bytes,
                                                                                                  quantization)
        if slow_isa:
            compute /= SLOW_ISA_FACTOR
    if memory is None:
        return (compute, "compute") if compute else (None, None)
    if compute is None or memory <= compute:
        return memory, "memory"
    return compute, "compute"


def cpu_seconds_per_token(bandwidth_gbps, score, threads, nbytes, quantization, slow_isa=False):
    """Seconds per token for ``nbytes`` of weights (and KV) on the CPU, or None."""
    tps, _bound = cpu_generation(bandwidth_gbps, score, threads, nbytes, quantization, slow_isa=slow_isa)
    return 1.0 / tps if tps else None


def gpu_generation(card_bytes, cpu_seconds=0.0):
    """tokens/s for bytes read per token on each card [(bytes, GB/s)], plus the CPU part's seconds."""
    seconds = cpu_seconds or 0.0
    for nbytes, gbps in card_bytes:
        if not _positive(gbps):
            return None
        seconds += nbytes / (EFF_GPU * gbps * 1e9)
    return 1.0 / seconds if seconds > 0 else None


def turn(prompt_tps, generation_tps, max_tokens, stt_sec=None, tts_sec=None, prefill_tokens=PREFILL_TOKENS):
    """``llm_prefill_sec``, ``llm_latency_sec`` (prefill plus generation) and ``turn_sec``; None where unknown."""
    prefill = prefill_tokens / prompt_tps if _positive(prompt_tps) else None
    generate = max_tokens / generation_tps if _positive(generation_tps) and max_tokens is not None else None
    # Without a prompt speed (no compute score) the turn counts generation alone.
    llm = generate + (prefill or 0.0) if generate is not None else None
    total = llm + (stt_sec or 0) + (tts_sec or 0) if llm is not None else None
    return {
        "llm_prefill_sec": round(prefill, 2) if prefill is not None else None,
        "llm_latency_sec": round(llm, 2) if llm is not None else None,
        "turn_sec": round(total, 2) if total is not None else None,
        "prefill_tokens": prefill_tokens,
    }
