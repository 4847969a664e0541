# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the fleet report (JSON data and Markdown) from per-host rows: pure functions.

Each host of the run leaves a row (``voiceagent_report_row``) when it finishes,
fails or is found unreachable. A host without a row stopped before it could
write one; the report says so rather than leaving it out.
"""

STATUSES = ("ok", "planned", "failed", "unreachable", "no result")


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
        "error": row.get("error"),
        "below_min_tier": None,
    }
    if status == "no result" and not out["error"]:
        out["error"] = "The host stopped before it reported (failed or unreachable)."
    if min_rank is not None and out["tier"] is not None:
        out["below_min_tier"] = row.get("rank", 0) < min_rank
    return out


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
        "| host | status | tier | source | predicted LLM s | files changed / unchanged | MB moved | MB to download "
        "| agent | reason / error |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for host in report["hosts"]:
        tier = host["tier"] or ""
        if host["below_min_tier"]:
            tier += " (below %s)" % report["min_tier"]
        lines.append("| %s |" % " | ".join(_cell(v) for v in (
            host["host"], host["status"], tier, host["source"], host["predicted_llm_sec"],
            "%d / %d" % (host["files_changed"], host["files_unchanged"]), _mb(host["bytes_moved"]),
            _mb(host["bytes_to_download"]), host["agent"], host["error"] or host["reason"])))
    warned = [h for h in report["hosts"] if h["warnings"]]
    if warned:
        lines += ["", "## Warnings", ""]
        for host in warned:
            lines += ["- **%s**: %s" % (host["host"], _cell(w)) for w in host["warnings"]]
    pinned = [h for h in report["hosts"] if h["digests"]]
    if pinned:
        lines += ["", "## Digest sources", ""]
        for host in pinned:
            lines.append("- **%s**: %s" % (host["host"], ", ".join(
                "%s from %s" % (name, source) for name, source in sorted(host["digests"].items()))))
    return "\n".join(lines) + "\n"
