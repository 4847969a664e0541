"""Run voiceagent.models.hardware_facts N times with the cache off and report the spread.

Usage: .venv/bin/python bench/benchmark_stability.py [--runs 5] [--busy] [--python PATH]

--busy keeps one extra process spinning on a core for the whole run, to show how the
figures shift on a loaded host. --python picks the interpreter the module runs under.
Writes bench/results/benchmark_stability-<N>runs[-busy].json and prints a summary.
"""
import argparse
import json
import multiprocessing
import os
import pathlib
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = pathlib.Path(sys.executable).parent


def spin():
    while True:
        pass


def one_run(python):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"),
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal", ANSIBLE_LOCALHOST_WARNING="0")
    out = subprocess.run([str(BIN / "ansible"), "localhost", "-c", "local", "-e", "ansible_python_interpreter=" + python,
                          "-m", "voiceagent.models.hardware_facts", "-a", "cache_ttl=0"],
                         capture_output=True, text=True, env=env, cwd=str(ROOT), check=True).stdout
    return json.loads(out.split("=>", 1)[1])["ansible_facts"]["voiceagent_hardware"]["benchmark"]


def summary(values):
    mean = statistics.mean(values)
    return {"mean": round(mean, 3), "min": min(values), "max": max(values),
            "cv": round(statistics.pstdev(values) / mean, 4) if mean else None}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--busy", action="store_true")
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    spinner = None
    if args.busy:
        spinner = multiprocessing.Process(target=spin, daemon=True)
        spinner.start()
    try:
        runs = [one_run(args.python) for _unused in range(args.runs)]
    finally:
        if spinner:
            spinner.terminate()
    report = {
        "command": " ".join(["bench/benchmark_stability.py"] + sys.argv[1:]),
        "python": subprocess.run([args.python, "--version"], capture_output=True, text=True, check=True).stdout.strip(),
        "busy_core": args.busy,
        "runs": runs,
        "score": summary([r["score"] for r in runs]),
        "memory_bandwidth_gbps": summary([r["memory_bandwidth_gbps"] for r in runs]),
        "seconds": summary([r["seconds"] for r in runs]),
    }
    name = "benchmark_stability-%druns%s.json" % (args.runs, "-busy" if args.busy else "")
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "results" / name).write_text(json.dumps(report, indent=2) + "\n")
    for key in ("score", "memory_bandwidth_gbps", "seconds"):
        print("%-22s %s" % (key, report[key]))


if __name__ == "__main__":
    main()
