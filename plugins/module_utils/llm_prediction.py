# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Predict how long the LLM part of a caller turn takes on a host.

Token generation in llama.cpp reads every weight once per token, so on a CPU
it is bound by memory bandwidth::

    tokens/s = ETA_CPU * bandwidth (bytes/s) / model file bytes

``bandwidth`` is the fact module's ``benchmark.memory_bandwidth_gbps``: a copy
on all usable cores, counting read and written bytes. ``ETA_CPU`` is the share
of that copy bandwidth llama.cpp's generation loop reaches. Public llama.cpp
measurements on x86 put it at 0.8-0.9 of a STREAM-style copy
(../shared/reference/hardware-probes.md); we take the low end, 0.8, so the
promise errs on the slow side. It is to be replaced by a figure fitted to
llama.cpp runs on synthetic GGUF models (bench/, ``make bench-predict``).

GPU tiers keep all layers in VRAM, and the host benchmark says nothing about
the card, so they use the registry's ``expected_tokens_per_sec_gpu`` for the
smallest card the tier admits.

The LLM seconds of a turn are ``LOCAL_LLM_MAX_TOKENS / tokens_per_sec``: the
longest reply the tier allows. Prompt processing is not in this figure yet.
"""

ETA_CPU = 0.8


def cpu_tokens_per_sec(bandwidth_gbps, model_bytes, eta=ETA_CPU):
    """Generation speed predicted from copy bandwidth, or None when unknown."""
    if not bandwidth_gbps or not model_bytes or bandwidth_gbps <= 0 or model_bytes <= 0:
        return None
    return eta * bandwidth_gbps * 1e9 / model_bytes


def llm_seconds(max_tokens, tokens_per_sec):
    """Seconds to generate the longest reply, or None when the speed is unknown."""
    if not tokens_per_sec or tokens_per_sec <= 0 or max_tokens is None:
        return None
    return max_tokens / tokens_per_sec
