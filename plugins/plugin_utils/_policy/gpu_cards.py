# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cards a GPU tier can put layers on, with their free memory and bandwidth: pure functions.

A card counts when its vendor is one the tier accepts (``requirements.gpu_vendors``, default
NVIDIA: the agent's GPU image is CUDA only), it is not an integrated GPU, and, for NVIDIA, its
compute capability is at least ``MIN_COMPUTE_CAPABILITY`` (what the agent's CUDA build of
llama.cpp still compiles for). Every other card is listed with the reason it does not count.
Free memory is nvidia-smi's ``memory.free`` where known, the total otherwise (with a note); a card
that reports system RAM (unified memory) is charged against that RAM once, not twice.
"""

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.gpu_bandwidth import bandwidth_for

MIB = 1024 * 1024
MIN_COMPUTE_CAPABILITY = 5.0
VENDOR_NAMES = {"nvidia": "NVIDIA", "amd": "AMD"}


def _capability(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _label(gpu):
    return "%s %s" % (VENDOR_NAMES.get(gpu.get("vendor"), gpu.get("vendor") or "unknown vendor"),
                      gpu.get("name") or "card %s" % gpu.get("index"))


def usable_cards(gpus, vendors, ram_bytes=None):
    """(cards, skipped): cards as dicts with free_bytes, gbps, unified; skipped as sentences."""
    cards, skipped, notes = [], [], []
    for gpu in gpus or []:
        if not isinstance(gpu, dict) or gpu.get("integrated"):
            continue
        label = _label(gpu)
        if gpu.get("vendor") not in vendors:
            skipped.append("%s does not count: the tier takes only %s cards" % (
                label, " or ".join(VENDOR_NAMES.get(v, v) for v in vendors)))
            continue
        capability = _capability(gpu.get("compute_capability")) if gpu.get("vendor") == "nvidia" else None
        if capability is not None and capability < MIN_COMPUTE_CAPABILITY:
            skipped.append("%s does not count: compute capability %s is below %s, which the agent's CUDA image "
                           "needs" % (label, gpu.get("compute_capability"), MIN_COMPUTE_CAPABILITY))
            continue
        total = gpu.get("vram_total_mb") or 0
        free = gpu.get("vram_free_mb")
        if free is None:
            free = total
            notes.append("%s reports no free memory; its total %s MiB is used" % (label, total))
        free_bytes = int(free) * MIB
        if gpu.get("unified_memory") and ram_bytes is not None:
            free_bytes = min(free_bytes, int(ram_bytes))
        row = bandwidth_for(gpu.get("name"))
        cards.append({
            "label": label, "free_bytes": free_bytes, "unified": bool(gpu.get("unified_memory")),
            "gbps": row[0] if row else None, "bandwidth_source": row[2] if row else None,
        })
    return cards, skipped, notes
