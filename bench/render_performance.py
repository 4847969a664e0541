"""Render the generated tables of docs/performance.md from bench/results/*.json.

Usage: .venv/bin/python bench/render_performance.py [--check] [--doc docs/performance.md]

The document holds blocks

    <!-- BEGIN GENERATED: NAME -->
    ...
    <!-- END GENERATED: NAME -->

and each block is rewritten from bench/results/NAME.json (tables, then the command, the machine
and the date the file records). Text outside the blocks is left as it is. --check changes
nothing and exits 1 when a block is out of date.
"""
import argparse
import json
import pathlib
import re
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchlib import ROOT, RESULTS  # noqa: E402

BLOCK = re.compile(r"(<!-- BEGIN GENERATED: (?P<name>[\w.-]+) -->\n)(?P<body>.*?)(<!-- END GENERATED: (?P=name) -->)",
                   re.S)


def fmt(value, digits=2):
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "%.*f" % (digits, value)
    return str(value)


def pct(value):
    return "n/a" if value is None else "%.1f %%" % (100 * value)


def signed_pct(value):
    return "n/a" if value is None else "%+.1f %%" % (100 * value)


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def provenance(doc):
    machine = doc.get("machine")
    if machine:
        parts = ["%s cores" % machine.get("cores"), machine.get("cpu_model") or "CPU model not recorded"]
        if machine.get("memory_gib"):
            parts.append("%s GiB" % machine["memory_gib"])
        if machine.get("python"):
            parts.append("Python %s" % machine["python"])
        where = ", ".join(str(part) for part in parts)
    else:
        where = "not recorded in the result file"
    text = "Command: `.venv/bin/python %s`. Machine: %s. Date: %s." % (
        doc.get("command", "?"), where, doc.get("date") or "not recorded in the result file")
    load = doc.get("load_average_1min")
    if load:
        text += " Load average (1 min) at start and end: %s and %s on %s cores." % (
            fmt(load.get("start")), fmt(load.get("end")), (machine or {}).get("cores", "?"))
    if doc.get("provenance"):
        text += " " + doc["provenance"]
    return text


def _median_range(summary, digits=2):
    return "%s [%s–%s]" % (fmt(summary["median"], digits), fmt(summary["min"], digits), fmt(summary["max"], digits))


def render_facts_cost(doc):
    series, goals, busy = doc["series"], doc["result"], doc.get("busy_shift")
    labels = [("hardware_facts_cold", "hardware_facts, cold (`cache_ttl=0`)"),
              ("hardware_facts_warm", "hardware_facts, warm (cache hit)"),
              ("setup_full", "ansible.builtin.setup, full"),
              ("setup_hardware", "ansible.builtin.setup, `gather_subset=hardware`"),
              ("setup_min", "ansible.builtin.setup, `gather_subset=min`"),
              ("hardware_facts_cold_busy", "hardware_facts, cold, one core kept busy")]
    wall = table(["run (%d each)" % doc["runs"], "wall s, median [min–max]", "CV"],
                 [[label, _median_range(series[key]["wall_s"]), pct(series[key]["wall_s"]["cv"])]
                  for key, label in labels if key in series])
    rows = []
    for key, label in (("hardware_facts_cold", "idle"), ("hardware_facts_cold_busy", "one core busy")):
        if key in series:
            s = series[key]
            rows.append([label, _median_range(s["score"]), pct(s["score"]["cv"]),
                         _median_range(s["bandwidth_gbps"], 1), pct(s["bandwidth_gbps"]["cv"]),
                         _median_range(s["module_s"])])
    bench = table(["cold runs", "score median [min–max]", "score CV", "bandwidth GB/s median [min–max]",
                   "bandwidth CV", "benchmark s (module's own)"], rows)
    goal_rows = [
        ["cold ≤ %s s (median wall)" % fmt(doc["goals"]["cold_s_max"], 1), fmt(goals["cold_median_s"]) + " s",
         fmt(goals["cold_goal_met"])],
        ["warm ≤ %s× setup `min`" % fmt(doc["goals"]["warm_vs_setup_min_max"], 1),
         fmt(goals["warm_vs_setup_min"]) + "×", fmt(goals["warm_goal_met"])],
        ["score CV ≤ 5 % (cold runs)", pct(goals["score_cv"]), fmt(goals["score_cv_goal_met"])],
        ["bandwidth CV ≤ 5 % (cold runs)", pct(goals["bandwidth_cv"]), fmt(goals["bandwidth_cv_goal_met"])],
    ]
    parts = [wall, bench, table(["goal", "measured", "met"], goal_rows)]
    if busy:
        parts.append("One core kept busy shifts the medians by: score %s, bandwidth %s, cold wall time %s."
                     % (signed_pct(busy["score"]), signed_pct(busy["bandwidth_gbps"]), signed_pct(busy["wall_s"])))
    return parts


def render_decision_throughput(doc):
    errors = ", ".join("%s %s" % (fmt(n), name) for name, n in sorted(doc.get("documented_errors", {}).items()))
    return [table(["decisions", "seconds", "decisions/s", "deterministic", "documented errors"],
                  [[fmt(doc["decisions"]), fmt(doc["seconds"]), fmt(doc["decisions_per_second"]),
                    fmt(doc["deterministic"]), errors or "none"]])]


def render_fleet_scaling(doc):
    rows = doc["rows"] if isinstance(doc, dict) else doc
    configs = doc.get("configs", {}) if isinstance(doc, dict) else {}
    parts = [table(["hosts", "config", "cold s", "cold s/host", "warm s", "warm s/host", "setup min s",
                    "warm files changed", "warm benchmark cached"],
                   [[fmt(r["hosts"]), r["config"], fmt(r["cold_s"], 1), fmt(r["cold_s_per_host"]), fmt(r["warm_s"], 1),
                     fmt(r["warm_s_per_host"]), fmt(r["setup_min_s"], 1), fmt(r.get("warm_files_changed")),
                     fmt(r.get("warm_benchmark_cached"))] for r in rows])]
    if configs:
        parts.append("Configurations: " + "; ".join(
            "%s = %s" % (name, ", ".join("%s=%s" % kv for kv in sorted(env.items())) or "Ansible's defaults")
            for name, env in configs.items()) + ".")
    return parts


def render_transfer(doc):
    one = doc["single_file"]
    parts = [table(["file", "curl MB/s", "role MB/s", "role / curl", "goal ≥ 0.8",
                    "wall: `ansible` / `curl`", "wall, less `ansible -m ping`"],
                   [["%.0f MiB GGUF, random data" % (one["file_bytes"] / 1048576.0), fmt(one["curl_mb_s"], 0),
                     fmt(one["role_mb_s"], 0), fmt(one["ratio"]), fmt(one["ratio"] is not None and one["ratio"] >= 0.8),
                     fmt(one.get("ratio_wall")), fmt(one.get("ratio_wall_without_ansible_startup"))]]),
             "MB/s: curl's own `time_total`, and the module's `seconds` (first request to the verified, fsynced "
             "file in place). Seconds, median [min–max] of %d rounds: curl transfer %s (then an fsync of its file "
             "%s), module %s; whole commands: `curl` %s, `ansible localhost -m voiceagent.models.model_file` %s, "
             "`ansible localhost -m ping` %s."
             % (len(one["rounds"]), _median_range(one["curl_transfer_s"]), _median_range(one["curl_fsync_s"]),
                _median_range(one["role_transfer_s"]), _median_range(one["curl_s"]), _median_range(one["role_s"]),
                _median_range(one["ansible_ping_s"])),
             table(["hash (digest_cache.file_digests, file in page cache)", "MB/s median [min–max]"],
                   [[name, _median_range(summary, 0)] for name, summary in sorted(one["hash_mb_s"].items())])]
    fan = doc.get("via_controller")
    if fan:
        parts.append(table(["hosts (forks)", "site.yml s", "files put on hosts", "unique files fetched",
                            "GET requests", "most GETs for one file", "goal", "report bytes/host"],
                           [["%d (%d)" % (fan["hosts"], fan["forks"]), fmt(fan["site_yml_s"], 1),
                             fmt(fan["files_installed_on_hosts"]), fmt(fan["unique_files_fetched"]),
                             fmt(fan["get_requests"]), fmt(fan["max_gets_per_file"]),
                             "1 (%s)" % ("met" if fan["max_gets_per_file"] <= 1 else "not met"),
                             fmt(fan.get("report_bytes_per_host"))]]))
    return parts


def render_predict(doc):
    """bench/predict's result: measured tokens/s against the collection's prediction, per model."""
    rows = []
    for model in doc["models"]:
        median, predicted = model["median"], model["predicted"]
        cells = ["%s / %s (%s)" % (fmt(median[key], 1), fmt(predicted[key], 1), signed_pct(
            None if predicted["error_pct"][key] is None else predicted["error_pct"][key] / 100.0))
            for key in ("tg128", "pp16", "pp256")]
        rows.append([model["name"], model["quant"], "{:,}".format(model["file_bytes"]),
                     fmt(median.get("bandwidth_gbps"), 1), fmt(median.get("score"))] + cells)
    goal = doc.get("goal_pct", {})
    fitted = doc.get("fit", {})
    return [table(["model", "quant", "file bytes", "copy GB/s", "score", "tg128 measured / predicted",
                   "pp16 measured / predicted", "pp256 measured / predicted"], rows),
            "Tokens/s, medians of %d passes at %d threads; predicted with the constants shipped in "
            "`llm_prediction.py` from the bandwidth and score measured in the same passes. Goal: generation "
            "within ±%s %%, prompts within ±%s %%: %s. Constants this run alone would fit: eta %s; prompt k %s."
            % (doc["method"]["runs"], doc["method"]["threads"], fmt(goal.get("tg128"), 0), fmt(goal.get("pp16"), 0),
               "met" if doc.get("within_goal") else "NOT met",
               ", ".join("%s %s" % (q, fmt(v, 3)) for q, v in sorted(fitted.get("eta", {}).items())),
               ", ".join("%s %s" % (q, fmt(v)) for q, v in sorted(fitted.get("prompt_k", {}).items())))]


def render_turn_check_cost(doc):
    """bench/turn_check_cost.py: what one real turn check costs, and measured against predicted."""
    cost, ratios = [], []
    for row in doc["rows"]:
        m, p, loads = row["measured_median"], row["predicted"], row["measured_load_sec_median"]
        load_cells = " / ".join(fmt(loads[k]) for k in ("stt", "tts", "llm"))
        cost.append([str(row["threads"]), row["llm"], _median_range(row["check_wall_s"]),
                     fmt(row["stored_answer_wall_s"]), load_cells, fmt(m["turn_sec"]), fmt(m["first_audio_sec"])])
        bench_cell = "%s / %s" % (fmt(row["benchmark_score"]), fmt(row["bandwidth_gbps"], 1))
        ratios.append([str(row["threads"]), row["llm"], bench_cell,
                       "%d (context %d)" % (m["llm_prompt_tokens"], row["context"]), fmt(m["llm_prefill_sec"]),
                       fmt(p["llm_prompt_tokens_per_sec"], 1), fmt(m["llm_tokens_per_sec"]),
                       fmt(p["llm_tokens_per_sec"]), p["basis"], fmt(row["generation_ratio"], 3),
                       fmt(row["prefill_ratio"], 3)])
    return [table(["threads", "LLM", "check s, median [min–max]", "stored answer s", "loads STT / TTS / LLM s",
                   "turn s", "first audio s"], cost),
            table(["threads", "LLM", "score / bandwidth GB/s", "prompt tokens", "prefill s", "predicted prompt tokens/s",
                   "tokens/s measured", "tokens/s predicted", "basis", "generation measured/predicted",
                   "prefill measured/predicted"], ratios)]


def predict_provenance(doc):
    machine = doc.get("machine", {})
    method = doc.get("method", {})
    command = "make bench-predict" + (" BENCH_PREDICT_ARGS=--realtime" if method.get("realtime_windows") else "")
    return ("Command: `%s`. Machine: %s cores, %s, Python %s, llama-cpp-python %s. Date: %s. Load average "
            "(1 min) at start: %s." % (command, machine.get("usable_cores"), machine.get("cpu_model"),
                                       machine.get("python"), machine.get("llama_cpp_python"), machine.get("date"),
                                       fmt(method.get("load_before"))))


def renderer_for(name):
    if name.startswith("predict"):
        return render_predict
    if name.startswith("fleet_scaling"):
        return render_fleet_scaling
    if name.startswith("benchmark_stability"):
        return None
    return {"facts_cost": render_facts_cost, "decision_throughput": render_decision_throughput,
            "transfer": render_transfer, "turn_check_cost": render_turn_check_cost}.get(name)


def render_block(name, doc):
    renderer = renderer_for(name)
    if renderer is None:
        raise ValueError("no renderer for the block %r" % name)
    where = predict_provenance if name.startswith("predict") else provenance
    return "\n\n".join(renderer(doc) + [where(doc if isinstance(doc, dict) else {})]) + "\n"


def replace_blocks(text, load):
    """Rewrite every generated block of ``text`` with ``load(name)``'s rendering; pure given ``load``."""
    def fill(match):
        return match.group(1) + render_block(match.group("name"), load(match.group("name"))) + match.group(4)
    begins = text.count("<!-- BEGIN GENERATED:")
    new, done = BLOCK.subn(fill, text)
    if done != begins:
        raise ValueError("%d BEGIN GENERATED markers but %d complete blocks: a block lacks its END marker"
                         % (begins, done))
    return new


def load_result(name):
    path = RESULTS / ("%s.json" % name)
    if not path.is_file():
        raise SystemExit("%s is missing: run the bench command that writes it (see bench/README.md)" % path)
    return json.loads(path.read_text())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--doc", default=str(ROOT / "docs" / "performance.md"))
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    doc = pathlib.Path(args.doc)
    text = doc.read_text()
    new = replace_blocks(text, load_result)
    if args.check:
        if new != text:
            print("%s is out of date; run bench/render_performance.py" % doc)
            return 1
        return 0
    if new != text:
        doc.write_text(new)
        print("updated %s" % doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
