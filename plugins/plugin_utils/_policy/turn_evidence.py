# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the host measured, for the tier selection: pure functions over the facts' ``turn_checks``.

A turn the host timed with a tier's own models (turn_check, stored on the host, returned by
hardware_facts on the next run) beats the formula's prediction for that tier. And the host's current
tier keeps a margin: evidence that wobbles from run to run (the benchmark read 4.4 one day and 3.3
another on the same VM kind) must cross a threshold by ``MARGIN`` before a host changes tier and
downloads gigabytes.
"""

import os

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.agent_contract import llm_threads

# Share by which a wobbling figure (CPU score, predicted or measured turn) must clear a threshold to
# move a host off its current tier, up or down.
MARGIN = 0.10
BASIS = "measured on this host"
# The prediction's own figures, kept beside a measurement so the report can still say how far off it was.
FORMULA_KEYS = ("llm_prefill_sec", "llm_latency_sec", "turn_sec", "llm_tokens_per_sec", "basis")


def turn_checks(facts):
    """The facts' stored turns that name a tier and have a turn time; anything malformed is left out."""
    entries = facts.get("turn_checks") if isinstance(facts, dict) else None
    out = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("tier"), str):
            continue
        measured = entry.get("measured")
        if not isinstance(measured, dict) or not _positive(measured.get("turn_sec")):
            continue
        out.append(entry)
    return sorted(out, key=lambda e: -(e.get("measured_epoch") or 0))


def _positive(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def measurement_for(name, tier, checks, cores):
    """The newest stored turn taken on tier ``name`` with its LLM (the registry's sha256 when it pins
    one, else the file name) at the threads the agent would use now; None when there is none."""
    llm = tier["models"]["llm"]
    threads = llm_threads(cores) if cores else None
    for entry in checks:
        if entry["tier"] != name:
            continue
        if llm.get("sha256"):
            if entry.get("llm_sha256") != llm["sha256"]:
                continue
        elif entry.get("llm_file") != os.path.basename(llm.get("dest_path") or llm.get("url") or ""):
            continue
        settings = entry.get("settings") or {}
        if threads is not None and settings.get("threads") not in (None, threads):
            continue
        return entry
    return None


def with_measurement(prediction, entry):
    """``prediction`` with the measured turn in its place; the formula's own figures stay under ``formula``."""
    out = dict(prediction)
    out["formula"] = dict((key, prediction.get(key)) for key in FORMULA_KEYS)
    measured = entry["measured"]
    for key, source in (("llm_prefill_sec", "llm_prefill_sec"), ("llm_latency_sec", "llm_sec"),
                        ("turn_sec", "turn_sec"), ("llm_tokens_per_sec", "llm_tokens_per_sec"),
                        ("first_audio_sec", "first_audio_sec")):
        if measured.get(source) is not None:
            out[key] = measured[source]
    out["basis"] = BASIS
    out["measured_at"] = entry.get("measured_at")
    return out


def margin_for(rank, current_rank):
    """+MARGIN for a tier above the current one (it must clear its thresholds by the margin), -MARGIN
    for the current tier (it is kept until it misses them by the margin), 0 otherwise or with no current tier."""
    if current_rank is None:
        return 0.0
    if rank > current_rank:
        return MARGIN
    if rank == current_rank:
        return -MARGIN
    return 0.0
