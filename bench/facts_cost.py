"""Cost of the facts (issue #5 part 2): hardware_facts cold and warm against ansible.builtin.setup.

Usage: .venv/bin/python bench/facts_cost.py [--runs 10] [--no-busy]

Every measurement is one `ansible localhost -c local -m MODULE` process, timed from start to exit
(what an operator waits for). The series are interleaved round by round, so a change in the
machine's load hits all of them alike:

* hardware_facts cold:  -a cache_ttl=0 (the benchmark runs every time, nothing cached);
* hardware_facts warm:  -a cache_path=<tmp>/bench.json after one untimed priming run (cache hit);
* setup full, setup gather_subset=hardware, setup gather_subset=min.

Then the cold series again while another process keeps one core busy. From the cold runs it also
takes the benchmark's score and bandwidth, for their spread (CV) and how much a busy core shifts them.
Writes bench/results/facts_cost.json and prints a summary with each goal met or not.
"""
import argparse
import json
import multiprocessing
import os
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchlib import ROOT, shift, spread, timed, write_result  # noqa: E402

BIN = pathlib.Path(sys.executable).parent
GOALS = {"cold_s_max": 2.0, "warm_vs_setup_min_max": 1.2, "cv_max": 0.05}


def spin():
    while True:
        pass


def ansible(module, args, python):
    """One ad-hoc run on localhost; (wall seconds, parsed result)."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"),
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    cmd = [str(BIN / "ansible"), "localhost", "-c", "local", "-e", "ansible_python_interpreter=" + python,
           "-m", module]
    if args:
        cmd += ["-a", args]
    wall, out = timed(cmd, env)
    return wall, json.loads(out.split("=>", 1)[1])


def benchmark_of(result):
    return result["ansible_facts"]["voiceagent_hardware"]["benchmark"]


def cold_row(wall, result):
    bench = benchmark_of(result)
    return {"wall_s": round(wall, 3), "module_s": bench.get("seconds"), "score": bench.get("score"),
            "bandwidth_gbps": bench.get("memory_bandwidth_gbps"), "cached": bench.get("cached")}


def evaluate(series):
    """The goals of issue #5 part 2 against the summaries; pure."""
    cold = series["hardware_facts_cold"]["wall_s"]["median"]
    warm = series["hardware_facts_warm"]["wall_s"]["median"]
    setup_min = series["setup_min"]["wall_s"]["median"]
    score_cv = series["hardware_facts_cold"]["score"]["cv"]
    bw_cv = series["hardware_facts_cold"]["bandwidth_gbps"]["cv"]
    ratio = round(warm / setup_min, 3) if setup_min else None
    return {
        "cold_median_s": cold, "cold_goal_met": cold is not None and cold <= GOALS["cold_s_max"],
        "warm_vs_setup_min": ratio,
        "warm_goal_met": ratio is not None and ratio <= GOALS["warm_vs_setup_min_max"],
        "score_cv": score_cv, "score_cv_goal_met": score_cv is not None and score_cv <= GOALS["cv_max"],
        "bandwidth_cv": bw_cv, "bandwidth_cv_goal_met": bw_cv is not None and bw_cv <= GOALS["cv_max"],
    }


def summarize(rows, keys):
    return dict((key, spread([row[key] for row in rows])) for key in keys)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--no-busy", action="store_true", help="skip the series with one core kept busy")
    parser.add_argument("--python", default=sys.executable, help="interpreter the modules run under")
    args = parser.parse_args()
    python = args.python
    raw = {"hardware_facts_cold": [], "hardware_facts_warm": [], "setup_full": [], "setup_hardware": [],
           "setup_min": [], "hardware_facts_cold_busy": []}
    with tempfile.TemporaryDirectory(prefix="facts-cost-") as tmp:
        cache = os.path.join(tmp, "bench.json")
        primed = ansible("voiceagent.models.hardware_facts", "cache_path=" + cache, python)[1]
        if benchmark_of(primed).get("cached"):
            raise SystemExit("the priming run already read a cache at %s" % cache)
        for _round in range(args.runs):
            raw["hardware_facts_cold"].append(cold_row(*ansible("voiceagent.models.hardware_facts", "cache_ttl=0",
                                                                python)))
            wall, result = ansible("voiceagent.models.hardware_facts", "cache_path=" + cache, python)
            if not benchmark_of(result).get("cached"):
                raise SystemExit("a warm run missed the cache at %s" % cache)
            raw["hardware_facts_warm"].append({"wall_s": round(wall, 3)})
            for name, subset in (("setup_full", ""), ("setup_hardware", "gather_subset=hardware"),
                                 ("setup_min", "gather_subset=min")):
                raw[name].append({"wall_s": round(ansible("ansible.builtin.setup", subset, python)[0], 3)})
    if not args.no_busy:
        spinner = multiprocessing.Process(target=spin, daemon=True)
        spinner.start()
        try:
            for _round in range(args.runs):
                raw["hardware_facts_cold_busy"].append(
                    cold_row(*ansible("voiceagent.models.hardware_facts", "cache_ttl=0", python)))
        finally:
            spinner.terminate()
            spinner.join()
    cold_keys = ("wall_s", "module_s", "score", "bandwidth_gbps")
    series = {}
    for name, rows in raw.items():
        if rows:
            series[name] = summarize(rows, cold_keys if name.startswith("hardware_facts_cold") else ("wall_s",))
    busy = series.get("hardware_facts_cold_busy")
    busy_shift = None
    if busy:
        idle = series["hardware_facts_cold"]
        busy_shift = dict((key, shift(busy[key]["median"], idle[key]["median"])) for key in cold_keys)
    goals = evaluate(series)
    command = " ".join(["bench/facts_cost.py"] + sys.argv[1:])
    path = write_result("facts_cost", {"runs": args.runs, "goals": GOALS, "result": goals, "series": series,
                                       "busy_shift": busy_shift, "raw": raw}, command)
    print("facts cost (%d runs each; wall seconds of one `ansible localhost` call): median [min-max]" % args.runs)
    for name, summary in series.items():
        wall = summary["wall_s"]
        print("  %-26s %.2f [%.2f-%.2f]" % (name, wall["median"], wall["min"], wall["max"]))
    print("  cold <= %.1f s: %s (%.2f s)" % (GOALS["cold_s_max"], goals["cold_goal_met"], goals["cold_median_s"]))
    print("  warm / setup min <= %.1f: %s (%.2f)" % (
        GOALS["warm_vs_setup_min_max"], goals["warm_goal_met"], goals["warm_vs_setup_min"]))
    print("  score CV %.1f %%, bandwidth CV %.1f %% (goal <= 5 %%): %s, %s" % (
        100 * goals["score_cv"], 100 * goals["bandwidth_cv"], goals["score_cv_goal_met"],
        goals["bandwidth_cv_goal_met"]))
    if busy_shift:
        print("  one core busy: score %+.1f %%, bandwidth %+.1f %%, cold wall %+.1f %%" % (
            100 * busy_shift["score"], 100 * busy_shift["bandwidth_gbps"], 100 * busy_shift["wall_s"]))
    print("  wrote %s" % path.relative_to(ROOT))


if __name__ == "__main__":
    main()
