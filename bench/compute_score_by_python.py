"""Compute score of the fact module's workload under several Python interpreters.

Usage: .venv/bin/python bench/compute_score_by_python.py PYTHON [PYTHON ...]
Prints, per interpreter, its version and the median score of 5 measurements, and
writes bench/results/compute_score_by_python.json. The score must not depend on
the interpreter, since managed hosts run whatever Python they have.
"""
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
PROBE = (
    "import sys, statistics; sys.path.insert(0, %r)\n"
    "from ansible_collections.voiceagent.models.plugins.module_utils._facts import benchmark as b\n"
    "scores = [b.measure_compute()[0] for _ in range(5)]\n"
    "print(sys.version.split()[0], round(statistics.median(scores), 2))\n"
) % str(ROOT / ".collections")


def main():
    rows = []
    for python in sys.argv[1:] or [sys.executable]:
        version, score = subprocess.run([python, "-c", PROBE], capture_output=True, text=True,
                                        check=True).stdout.split()
        rows.append({"python": version, "score": float(score)})
        print("Python %-8s score %s" % (version, score))
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "results" / "compute_score_by_python.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
