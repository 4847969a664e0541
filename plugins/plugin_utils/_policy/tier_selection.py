# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Choose a model tier from hardware facts and the registry: a pure function.

``select_tier(facts, registry, override=None)`` walks the tiers best first and
takes the first one the host passes on every check:

* usable RAM >= ``min_ram_gb`` minus ``CAPACITY_TOLERANCE`` (a "16 GB" host
  reports about 15.6 GiB of MemTotal; flooring made it lose a tier upstream);
* usable cores >= ``min_cpu_cores`` (affinity and cgroup quota applied);
* a GPU when ``gpu_required``, and ``min_gpu_vram_gb`` on one card, never a sum;
* ``cpu_benchmark_min`` against the benchmark score;
* the LLM fits (llm_plan, llm_memory): weights, KV cache, compute buffer and
  runtime from the GGUF header keys, in usable RAM for CPU tiers, on the cards'
  free VRAM for GPU tiers (layers split with the CPU unless the tier needs them
  all on the GPU);
* the predicted turn (prompt prefill, ``LOCAL_LLM_MAX_TOKENS`` of generation,
  the registry's STT and TTS) stays within the tier's promised STT + LLM + TTS
  seconds plus ``LATENCY_TOLERANCE``. A turn the host measured with the tier's
  models (turn_check, returned in the facts' ``turn_checks``) replaces the
  prediction, and ``expected.predicted.basis`` says ``measured on this host``.

The host's current tier (``current``: its row in the previous fleet report)
is kept until the CPU score or the turn misses its threshold by
``turn_evidence.MARGIN``, and a tier above it must clear them by that margin:
figures that wobble between runs do not move a host across a line.

The result's ``models`` are the tier's in the host's ``language``
(speech_language: its Vosk model and voice, or those of an allowed
``language_fallback``), described in the result's ``language``.

Errors are the ``SelectionError`` family below, each with a sentence an
operator can act on. Nothing else is raised for any input.
"""

import copy
import json
import math

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.agent_contract import (
    ContractError,
    agent_context,
    gpu_layers,
    gpu_vendors,
)
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import speech_language
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import turn_evidence as evidence
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.llm_plan import host_extras, plan
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import (
    HAS_JSONSCHEMA,
    RegistryError,
    load_registry,
    tier_order,
)

# MemTotal sits 2-5 % under the installed size (kernel, firmware, crash
# kernel). 6 % lets every nominal size qualify and still stops a host that is
# really one size smaller.
CAPACITY_TOLERANCE = 0.06
# A promise may be missed by this share before the tier is refused.
LATENCY_TOLERANCE = 0.25


class SelectionError(ValueError):
    """Base of every error ``select_tier`` raises."""


class InvalidFactsError(SelectionError):
    """The facts lack a value the selection needs, or it has the wrong type."""


class UnknownTierError(SelectionError):
    """An override names a tier the registry does not have."""


class NoTierFitsError(SelectionError):
    """The host is below the weakest tier and no override was given."""


class LanguageNotServedError(SelectionError):
    """The host's language is unknown, or lacks a model at some layer and no fallback was allowed."""


class InvalidRegistryError(SelectionError):
    """The registry failed validation; ``path`` is the JSONPath of the bad field."""

    def __init__(self, error):
        super(InvalidRegistryError, self).__init__(str(error))
        self.path = getattr(error, "path", "$")


class MissingDependencyError(SelectionError):
    """A Python package the controller needs is not installed."""


def _number(facts, dotted, required=True, allow_none=False):
    node = facts
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            if required:
                raise InvalidFactsError(
                    "The hardware facts have no '%s'; gather them with voiceagent.models.hardware_facts." % dotted)
            return None
        node = node[part]
    if node is None and (allow_none or not required):
        return None
    if isinstance(node, bool) or not isinstance(node, (int, float)) or not math.isfinite(node) or node < 0:
        raise InvalidFactsError(
            "The hardware fact '%s' must be a non-negative number, got %r." % (dotted, node))
    return node


def read_facts(facts):
    """The few numbers the selection uses, validated. Raises InvalidFactsError."""
    if not isinstance(facts, dict):
        raise InvalidFactsError("The hardware facts must be a dict (ansible_facts.voiceagent_hardware), got %s."
                                % type(facts).__name__)
    memory = _number(facts, "memory.usable_gb", required=False, allow_none=True)
    if memory is None:
        memory = _number(facts, "memory.total_gb")
    gpu = facts.get("gpu")
    present = gpu.get("present") if isinstance(gpu, dict) else None
    if not isinstance(present, bool):
        raise InvalidFactsError("The hardware fact 'gpu.present' must be true or false, got %r." % (present,))
    host = {
        "cards": _cards(facts, present),
        "memory_gb": memory,
        "limit_gb": _number(facts, "memory.cgroup_limit_gb", required=False),
        "total_gb": _number(facts, "memory.total_gb", required=False),
        "cores": _number(facts, "cpu.usable_cores"),
        "gpu": present and (_number(facts, "gpu.count", required=False) or 1) > 0,
        "vram_gb": (_number(facts, "gpu.max_vram_gb", required=False) or 0.0) if present else 0.0,
        "score": _number(facts, "benchmark.score", required=False),
        "memory_bandwidth_gbps": _number(facts, "benchmark.memory_bandwidth_gbps", required=False),
    }
    host.update(host_extras(facts))
    host["turn_checks"] = evidence.turn_checks(facts)
    return host


_VENDOR_NAMES = {"nvidia": "NVIDIA", "amd": "AMD"}


def _cards(facts, present):
    """Discrete cards as (vendor, VRAM GiB, name); the summary stands in when the list is missing."""
    if not present:
        return []
    gpus = facts.get("gpus")
    if isinstance(gpus, list):
        return [(g.get("vendor"), round((g.get("vram_total_mb") or 0) / 1024.0, 2), g.get("name"))
                for g in gpus if isinstance(g, dict) and not g.get("integrated")]
    gpu = facts.get("gpu") or {}
    return [(gpu.get("vendor"), _number(facts, "gpu.max_vram_gb", required=False) or 0.0, None)]


_REGISTRY_CACHE = {}


def _registry(registry):
    """Validate once per distinct registry: a fleet calls this for every host."""
    try:
        key = registry if isinstance(registry, str) else json.dumps(registry, sort_keys=True)
    except (TypeError, ValueError):
        key = None
    if key is not None and key in _REGISTRY_CACHE:
        return _REGISTRY_CACHE[key]
    if not HAS_JSONSCHEMA:
        raise MissingDependencyError("The registry is validated with the Python package jsonschema, which is not "
                                     "installed on the controller; install it with: pip install jsonschema")
    try:
        loaded = load_registry(registry)
    except RegistryError as exc:
        raise InvalidRegistryError(exc)
    if key is not None and not isinstance(registry, str):
        if len(_REGISTRY_CACHE) > 16:
            _REGISTRY_CACHE.clear()
        _REGISTRY_CACHE[key] = loaded
    return loaded


def _fmt(value):
    return ("%.2f" % value).rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def _memory_words(host):
    words = "%s GiB usable" % _fmt(host["memory_gb"])
    if host["limit_gb"] is not None and host["total_gb"] is not None and host["limit_gb"] < host["total_gb"]:
        words += " (cgroup limit %s GiB of %s GiB total)" % (_fmt(host["limit_gb"]), _fmt(host["total_gb"]))
    return words


def predict(tier, host):
    """``expected.predicted`` for ``tier`` on ``host``: memory, GPU layers, speeds and the turn (llm_plan)."""
    return plan(tier, host, agent_context(tier)[0])[2]


def _pct(share):
    return "%d %%" % round(abs(share) * 100)


def _score_check(min_score, score, margin, failures, notes, name):
    """The CPU score against ``cpu_benchmark_min``, with the current tier's margin either way."""
    if score is None:
        failures.append("needs a CPU score of %s, and no benchmark was measured" % _fmt(min_score))
    elif score < min_score * (1 + margin):
        if score < min_score:
            failures.append("needs a CPU score of %s, the host scores %s" % (_fmt(min_score), _fmt(score)))
        else:
            failures.append("needs a CPU score of %s and the host scores %s, short of the %s margin a host needs "
                            "to move up from its current tier (%s)"
                            % (_fmt(min_score), _fmt(score), _pct(margin), _fmt(min_score * (1 + margin))))
    elif score < min_score:
        notes.append("%s kept: the host scores %s, under its CPU score of %s but within the %s margin that keeps "
                     "a host on its current tier" % (name, _fmt(score), _fmt(min_score), _pct(margin)))


def _turn_words(prediction, promise):
    if prediction["basis"] == evidence.BASIS:
        formula = prediction.get("formula") or {}
        return ("its measured turn on this host took %s s (LLM %s s at %s tokens/s, measured at %s; the prediction "
                "was %s s), over its %s s promise" % (
                    _fmt(prediction["turn_sec"]), _fmt(prediction["llm_latency_sec"]),
                    _fmt(prediction["llm_tokens_per_sec"]), prediction.get("measured_at"),
                    _fmt(formula.get("turn_sec")), _fmt(promise)))
    return ("its turn would take %s s: its LLM %s s (a %s-token prompt in %s s, then %s tokens at a "
            "predicted %s tokens/s, %s), over its %s s promise"
            % (_fmt(prediction["turn_sec"]), _fmt(prediction["llm_latency_sec"]),
               prediction["prefill_tokens"], _fmt(prediction["llm_prefill_sec"]),
               prediction["max_tokens"], _fmt(prediction["llm_tokens_per_sec"]), prediction["basis"],
               _fmt(promise)))


def _turn_check(prediction, promise, margin, failures, notes, name):
    """The turn (measured, else predicted) against the promise plus LATENCY_TOLERANCE, with the margin."""
    limit = promise * (1 + LATENCY_TOLERANCE)
    turn = prediction["turn_sec"]
    if turn > limit * (1 - margin):
        words = _turn_words(prediction, promise)
        if turn > limit:
            failures.append("%s by more than %s" % (words, _pct(LATENCY_TOLERANCE)))
        else:
            failures.append("%s: within %s of it, short of the %s margin a host needs to move up from its current "
                            "tier (%s s)" % (words, _pct(LATENCY_TOLERANCE), _pct(margin), _fmt(limit * (1 - margin))))
    elif turn > limit:
        notes.append("%s kept: its turn of %s s (%s) is over its %s s promise by more than %s, but within the %s "
                     "margin that keeps a host on its current tier" % (
                         name, _fmt(turn), prediction["basis"], _fmt(promise), _pct(LATENCY_TOLERANCE), _pct(margin)))


def check_tier(name, tier, host, margin=0.0):
    """Return (failures, notes, prediction) for one tier; failures are sentences with numbers.
    ``margin``: turn_evidence.margin_for, positive for a tier above the host's current one."""
    req = tier["requirements"]
    failures, notes = [], []
    min_ram = req.get("min_ram_gb", 0)
    if host["memory_gb"] < min_ram * (1 - CAPACITY_TOLERANCE):
        failures.append("needs %s GB of memory, the host has %s" % (_fmt(min_ram), _memory_words(host)))
    if host["cores"] < req.get("min_cpu_cores", 0):
        failures.append("needs %s CPU cores, the host can use %s" % (req["min_cpu_cores"], _fmt(host["cores"])))
    gpu_tier = bool(req.get("gpu_required"))
    vendors = gpu_vendors(tier)
    usable = [card for card in host["cards"] if card[0] in vendors]
    vram_gb = max([card[1] for card in usable] or [0.0])
    if gpu_tier and not host["gpu"]:
        failures.append("needs a GPU, the host has none usable")
    elif gpu_tier and not usable:
        failures.append("needs a GPU the agent's image can use (%s; its GPU image is CUDA only), the host has only %s"
                        % (" or ".join(_VENDOR_NAMES.get(v, v) for v in vendors),
                           ", ".join("%s %s" % (_VENDOR_NAMES.get(v, v or "unknown vendor"), n or "card")
                                     for v, _vram, n in host["cards"])))
    min_vram = req.get("min_gpu_vram_gb")
    if gpu_tier and usable and min_vram and vram_gb < min_vram * (1 - CAPACITY_TOLERANCE):
        failures.append("needs %s GB of VRAM on one card, the largest card has %s GiB"
                        % (_fmt(min_vram), _fmt(vram_gb)))
    if req.get("cpu_benchmark_min") is not None:
        _score_check(req["cpu_benchmark_min"], host["score"], margin, failures, notes, name)
    # The LLM's memory (weights, KV cache, compute buffer, runtime) in RAM or on the cards, and the turn.
    fit_failures, fit_notes, prediction = plan(tier, host, agent_context(tier)[0])
    failures.extend(fit_failures)
    notes.extend("%s: %s" % (name, note) for note in fit_notes)
    measurement = evidence.measurement_for(name, tier, host["turn_checks"], host["cores"])
    if measurement:
        prediction = evidence.with_measurement(prediction, measurement)
    expect = tier.get("expectations", {})
    budget = expect.get("llm_latency_sec")
    promise = budget + (expect.get("stt_latency_sec") or 0) + (expect.get("tts_latency_sec") or 0) if budget else None
    if prediction["llm_latency_sec"] is None:
        notes.append("%s: the LLM latency could not be predicted (%s)" % (
            name, "no GPU figure in the registry" if gpu_tier else "no memory bandwidth was measured"))
    elif promise and prediction["turn_sec"] is not None:
        _turn_check(prediction, promise, margin, failures, notes, name)
    return failures, notes, prediction


def _result(registry, name, source, reason, rejected, warnings, prediction, auto_tier, host):
    tier = registry["tiers"][name]
    expected = dict(tier.get("expectations", {}))
    expected["predicted"] = prediction
    env = dict(tier["env"])
    env["LOCAL_LLM_CONTEXT"], context_note = agent_context(tier)
    try:
        env["LOCAL_LLM_GPU_LAYERS"] = gpu_layers(name, tier)
    except ContractError as exc:
        raise SelectionError(str(exc))
    if prediction.get("gpu_layers") is not None and prediction["gpu_layers"] < env["LOCAL_LLM_GPU_LAYERS"]:
        # The layers that fit the cards' free memory (a split with the CPU).
        env["LOCAL_LLM_GPU_LAYERS"] = prediction["gpu_layers"]
    prediction["gpu_layers"] = env["LOCAL_LLM_GPU_LAYERS"]
    if context_note:
        warnings = warnings + [context_note]
    return {
        "tier": name,
        "source": source,
        "reason": reason,
        "rejected": rejected,
        "warnings": warnings,
        "expected": expected,
        "models": copy.deepcopy(tier["models"]),
        "env": env,
        # The agent's GPU_AVAILABLE: a GPU tier on a host with an NVIDIA card it can use.
        "gpu_available": bool(tier["requirements"].get("gpu_required")) and "nvidia" in gpu_vendors(tier)
        and any(card[0] == "nvidia" for card in host["cards"]),
        "rank": tier["rank"],
        # Every tier's rank, so a minimum-tier gate needs no second selection.
        "ranks": dict((other, data["rank"]) for other, data in registry["tiers"].items()),
        "auto_tier": auto_tier,
    }


def _idle_cards_words(registry, host):
    """A sentence for cards no GPU tier accepts (an AMD card: the agent's GPU image is CUDA only)."""
    accepted = set()
    for tier in registry["tiers"].values():
        if tier["requirements"].get("gpu_required"):
            accepted.update(gpu_vendors(tier))
    idle = [card for card in host["cards"] if card[0] not in accepted]
    if not idle:
        return ""
    return " Its %s stays unused: no GPU tier takes %s cards (the agent's GPU image is CUDA only)." % (
        ", ".join("%s %s" % (_VENDOR_NAMES.get(v, v or "unknown vendor"), n or "card") for v, _vram, n in idle),
        " or ".join(sorted(set(_VENDOR_NAMES.get(v, v or "unknown vendor") for v, _vram, _name in idle))))


def _auto(registry, host, current_rank=None):
    """(tier name or None, its check result, rejected map, notes)."""
    rejected, notes = {}, []
    for name in tier_order(registry):
        tier = registry["tiers"][name]
        failures, tier_notes, prediction = check_tier(name, tier, host,
                                                      evidence.margin_for(tier["rank"], current_rank))
        if not failures:
            notes.extend(tier_notes)
            return name, prediction, rejected, notes
        rejected[name] = "; ".join(failures)
    return None, None, rejected, notes


def _is_omitted(override):
    # ``default(omit)`` reaches a filter as Ansible's omit placeholder.
    return override is None or override == "" or (
        isinstance(override, str) and override.startswith("__omit_place_holder__")) or (
        type(override).__name__ in ("Omit", "_OmitType"))


def select_tier(facts, registry, override=None, current=None, language=None, language_fallback=None):
    """Return the tier for a host; see the module docstring for the rules. ``current``: the tier the host
    runs now (its row in the previous fleet report), which keeps the margin. ``language`` (a BCP-47 tag) and
    ``language_fallback`` choose the tier's STT model and voice (speech_language.speech_models)."""
    registry = _registry(registry)
    selection = _select(registry, facts, override, current)
    # An empty language is an error (a template that rendered nothing), not the default.
    if language != "" and _is_omitted(language):
        language = None
    try:
        selection["models"], selection["language"], notes = speech_language.speech_models(
            registry["tiers"][selection["tier"]], registry, language,
            None if _is_omitted(language_fallback) else language_fallback, selection["tier"])
    except speech_language.LanguageError as exc:
        raise LanguageNotServedError(str(exc))
    selection["warnings"] = selection["warnings"] + notes
    return selection


def _select(registry, facts, override, current):
    host = read_facts(facts)
    order = tier_order(registry)
    current_rank = registry["tiers"][current]["rank"] if not _is_omitted(current) and current in registry["tiers"] \
        else None
    auto_name, auto_prediction, rejected, notes = _auto(registry, host, current_rank)
    if not _is_omitted(override):
        if not isinstance(override, str) or override not in registry["tiers"]:
            raise UnknownTierError("Unknown tier %r; valid tiers are: %s." % (override, ", ".join(order)))
        tier = registry["tiers"][override]
        failures, tier_notes, prediction = check_tier(override, tier, host)
        warnings = notes if override == auto_name else tier_notes
        if failures:
            warnings = ["The override %s is honoured although this host cannot run it as promised: it %s."
                        % (override, "; it ".join(failures))] + warnings
        reason = "%s was chosen by the inventory override voiceagent_tier (the hardware alone gives %s)." % (
            override, auto_name or "no tier")
        return _result(registry, override, "override", reason, {}, warnings, prediction, auto_name, host)
    if auto_name is None:
        weakest = order[-1]
        raise NoTierFitsError("No tier fits this host. The weakest, %s, %s. Set voiceagent_tier to override."
                              % (weakest, rejected[weakest].replace("; ", ", and it ")))
    tier = registry["tiers"][auto_name]
    req = tier["requirements"]
    reason = "%s is the best tier this host passes: %s GiB usable memory and %s usable cores" % (
        auto_name, _fmt(host["memory_gb"]), _fmt(host["cores"]))
    if req.get("gpu_required"):
        reason += ", a GPU with %s GiB of VRAM" % _fmt(host["vram_gb"])
    if auto_prediction["llm_latency_sec"] is not None and tier.get("expectations", {}).get("llm_latency_sec"):
        reason += ", and a %s %s s for its LLM reply (promise %s s)" % (
            "measured" if auto_prediction["basis"] == evidence.BASIS else "predicted",
            _fmt(auto_prediction["llm_latency_sec"]), _fmt(tier.get("expectations", {}).get("llm_latency_sec")))
        if auto_prediction["basis"] == evidence.BASIS:
            reason += ", measured on this host at %s" % auto_prediction.get("measured_at")
    reason += "." + _idle_cards_words(registry, host)
    return _result(registry, auto_name, "auto", reason, rejected, notes, auto_prediction, auto_name, host)
