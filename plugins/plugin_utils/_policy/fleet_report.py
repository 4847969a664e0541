# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the fleet report (JSON data and Markdown) from per-host rows: pure functions.

Each host of the run leaves a row (``voiceagent_report_row``) when it finishes,
fails or is found unreachable. A host without a row stopped before it could
write one; the report says so rather than leaving it out.
"""

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.speech_language import language_words

STATUSES = ("ok", "planned", "failed", "unreachable", "no result")
# The turn check's figures a row shows under ``measured`` (docs/turn-check.md).
MEASURED_KEYS = ("stt_sec", "llm_prefill_sec", "llm_prompt_tokens", "llm_tokens_per_sec", "tts_sec",
                 "first_audio_sec", "turn_sec", "measured_at", "runtime", "transcript_checked", "sentence_language")


class ReportError(ValueError):
    """Bad report input, such as an unknown minimum tier."""


def _rank_of(registry, name):
    tiers = registry.get("tiers", {})
    if name not in tiers:
        raise ReportError("voiceagent_min_tier %r is not a tier of the registry; valid tiers are: %s."
                          % (name, ", ".join(sorted(tiers, key=lambda t: -tiers[t].get("rank", 0)))))
    return tiers[name].get("rank", 0)


def _file_name(result):
    item = result.get("item") if isinstance(result.get("item"), dict) else {}
    return result.get("name") or item.get("name") or result.get("dest")


def _none(value):
    # ansible-core without native types renders a None fact as "None" or "".
    return None if value in (None, "", "None") else value


def measured_ratio(measured, predicted, max_tokens=None):
    """Measured over predicted seconds for the tier's reply: the predicted generation speed over the
    measured one (the same tokens either way), else ``max_tokens`` at the measured speed over the
    predicted ``llm_sec``. None when either side is missing."""
    try:
        tps = float(measured.get("llm_tokens_per_sec"))
    except (TypeError, ValueError, AttributeError):
        return None
    if tps <= 0:
        return None
    try:
        if predicted.get("llm_tokens_per_sec"):
            return round(float(predicted["llm_tokens_per_sec"]) / tps, 3)
        seconds, tokens = float(predicted.get("llm_sec")), float(max_tokens)
    except (TypeError, ValueError, AttributeError):
        return None
    if seconds <= 0 or tokens <= 0:
        return None
    return round(tokens / tps / seconds, 3)


def _measured(row):
    measured = row.get("measured")
    if not isinstance(measured, dict):
        return None
    return dict((key, measured.get(key)) for key in MEASURED_KEYS)


def _host_row(host, row, min_rank):
    row = dict(row or {})
    status = row.get("status") or "no result"
    # Loop results of model_file, one per file.
    files = [f for f in row.get("files") or [] if isinstance(f, dict)]
    out = {
        "host": host,
        "status": status if status in STATUSES else "failed",
        "tier": row.get("tier"),
        "source": row.get("source"),
        # speech_language's block: the language asked for, each layer's, and any fallback.
        "language": row.get("language") if isinstance(row.get("language"), dict) else None,
        "reason": row.get("reason"),
        "warnings": list(row.get("warnings") or []),
        "predicted_llm_sec": row.get("predicted_llm_sec"),
        "benchmark_cached": row.get("benchmark_cached"),
        "files_changed": sum(1 for f in files if f.get("changed")),
        "files_unchanged": sum(1 for f in files if not f.get("changed")),
        "bytes_moved": sum(int(f.get("bytes_downloaded") or 0) for f in files),
        # Host-side seconds of the files that moved (model_file's seconds): bytes_moved over it is the rate.
        "download_seconds": round(sum(float(f.get("seconds") or 0) for f in files), 3),
        "bytes_to_download": row.get("bytes_to_download"),
        "digests": dict((_file_name(f), f.get("digest_source")) for f in files if f.get("digest_source")),
        # What happened to the agent's container (the role's recreate handler).
        "agent": row.get("agent"),
        "env_keys_changed": list(row.get("env_changed_keys") or []),
        # Whether the run had work to do on the host (something was not in place).
        "changed": bool(row.get("changed")),
        "error": row.get("error"),
        "below_min_tier": None,
        "measured": _measured(row),
        "not_measured": _none(row.get("not_measured")),
        "predicted": {"llm_sec": _none(row.get("predicted_llm_sec")),
                      "llm_tokens_per_sec": _none(row.get("predicted_llm_tokens_per_sec")),
                      # "measured on this host" when a stored turn chose the tier; the figures above
                      # are still the formula's, on formula_basis, so the ratio stays its calibration.
                      "basis": _none(row.get("predicted_basis")),
                      "formula_basis": _none(row.get("predicted_formula_basis")),
                      "promise_llm_sec": _none(row.get("promise_llm_sec")),
                      "max_tokens": _none(row.get("max_tokens"))},
        "measured_vs_predicted": None,
    }
    if out["measured"]:
        out["measured_vs_predicted"] = measured_ratio(out["measured"], out["predicted"],
                                                      out["predicted"]["max_tokens"])
    if status == "no result" and not out["error"]:
        out["error"] = "The host stopped before it reported (failed or unreachable)."
    if min_rank is not None and out["tier"] is not None:
        out["below_min_tier"] = row.get("rank", 0) < min_rank
    return out


def _median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else round((ordered[middle - 1] + ordered[middle]) / 2.0, 3)


def calibration(hosts):
    """The fleet's measured/predicted ratios: how many, their median, and the worst (farthest from 1,
    either way: 0.5 and 2.0 are equally wrong)."""
    ratios = [h["measured_vs_predicted"] for h in hosts if h.get("measured_vs_predicted")]
    if not ratios:
        return {"hosts_measured": 0, "median_ratio": None, "worst_ratio": None}
    worst = max(ratios, key=lambda r: max(r, 1.0 / r))
    return {"hosts_measured": len(ratios), "median_ratio": _median(ratios), "worst_ratio": worst}


def build_report(rows, registry, min_tier=None, mode="run", generated_at=None):
    """``rows``: host → row or None. Returns the report dict; ``passed`` is False when CI should fail."""
    min_rank = _rank_of(registry, min_tier) if min_tier else None
    hosts = [_host_row(host, rows[host], min_rank) for host in sorted(rows)]
    failed = [h["host"] for h in hosts if h["status"] in ("failed", "unreachable", "no result")]
    below = [h["host"] for h in hosts if h["below_min_tier"]]
    return {
        "mode": mode,
        "generated_at": generated_at,
        "min_tier": min_tier or None,
        "summary": {
            "hosts": len(hosts),
            "by_status": dict((s, sum(1 for h in hosts if h["status"] == s)) for s in STATUSES),
            "failed_hosts": failed,
            "below_min_tier": below,
            "bytes_moved": sum(h["bytes_moved"] for h in hosts),
            "bytes_to_download": sum(int(h["bytes_to_download"] or 0) for h in hosts),
            "calibration": calibration(hosts),
        },
        "passed": not failed and not below,
        "hosts": hosts,
    }


def _cell(value):
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _mb(value):
    return "" if value is None else "%.1f" % (int(value) / 1e6)


def render_markdown(report):
    """A Markdown page for people and CI logs."""
    title = "Plan" if report["mode"] == "plan" else "Run"
    summary = report["summary"]
    lines = [
        "# voiceagent.models fleet report (%s)" % title.lower(),
        "",
        "Generated %s. %d hosts: %s. Minimum tier: %s. Result: **%s**." % (
            report.get("generated_at") or "now", summary["hosts"],
            ", ".join("%d %s" % (n, s) for s, n in summary["by_status"].items() if n),
            report["min_tier"] or "none", "passed" if report["passed"] else "FAILED"),
        "",
        "| host | status | tier | source | language | predicted LLM s | files changed / unchanged | MB moved "
        "| MB to download | agent | reason / error |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for host in report["hosts"]:
        tier = host["tier"] or ""
        if host["below_min_tier"]:
            tier += " (below %s)" % report["min_tier"]
        lines.append("| %s |" % " | ".join(_cell(v) for v in (
            host["host"], host["status"], tier, host["source"], language_words(host["language"]),
            host["predicted_llm_sec"],
            "%d / %d" % (host["files_changed"], host["files_unchanged"]), _mb(host["bytes_moved"]),
            _mb(host["bytes_to_download"]), host["agent"], host["error"] or host["reason"])))
    warned = [h for h in report["hosts"] if h["warnings"]]
    if warned:
        lines += ["", "## Warnings", ""]
        for host in warned:
            lines += ["- **%s**: %s" % (host["host"], _cell(w)) for w in host["warnings"]]
    lines += _measured_markdown(report)
    pinned = [h for h in report["hosts"] if h["digests"]]
    if pinned:
        lines += ["", "## Digest sources", ""]
        for host in pinned:
            lines.append("- **%s**: %s" % (host["host"], ", ".join(
                "%s from %s" % (name, source) for name, source in sorted(host["digests"].items()))))
    return "\n".join(lines) + "\n"


def _measured_markdown(report):
    """The turn check's section: measured beside predicted, and why a host was not measured."""
    hosts = [h for h in report["hosts"] if h.get("measured") or h.get("not_measured")]
    if not hosts:
        return []
    cal = report["summary"].get("calibration") or {}
    lines = ["", "## Measured turn (turn check)", ""]
    if cal.get("hosts_measured"):
        lines += ["Measured/predicted LLM seconds over %d hosts: median %s, worst %s." % (
            cal["hosts_measured"], cal["median_ratio"], cal["worst_ratio"]), ""]
    measured = [h for h in hosts if h.get("measured")]
    if measured:
        lines += ["| host | runtime | STT s | prefill s (tokens) | tokens/s | TTS s | first audio s | turn s "
                  "| predicted LLM s (basis) | measured / predicted | measured at |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for host in measured:
            m, p = host["measured"], host.get("predicted") or {}
            lines.append("| %s |" % " | ".join(_cell(v) for v in (
                host["host"], m.get("runtime"), m.get("stt_sec"),
                "%s (%s)" % (m.get("llm_prefill_sec"), m.get("llm_prompt_tokens")), m.get("llm_tokens_per_sec"),
                m.get("tts_sec"), m.get("first_audio_sec"), m.get("turn_sec"),
                "%s (%s)" % (p.get("llm_sec"), p.get("formula_basis") or p.get("basis")), host.get("measured_vs_predicted"),
                m.get("measured_at"))))
    missing = [h for h in hosts if not h.get("measured")]
    if measured and missing:
        lines.append("")
    lines += ["- **%s**: not measured: %s" % (h["host"], _cell(h["not_measured"])) for h in missing]
    return lines
