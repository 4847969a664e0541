# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Predict the public llama.cpp measurements of llama_cpp_measurements.json with the collection's speed model.

    python bench/public/table.py            # the markdown table of docs/performance.md, and the medians
    python bench/public/table.py --fit      # the BETA_CPU and EFF_GPU each row implies, and their medians

CPU rows are predicted from the memory side of the roofline only: the sources state the
machine's bandwidth, not the fact module's compute score, so the compute side is not known there.
"""

import argparse
import json
import pathlib
import statistics
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / ".collections"))

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import speed_model as sm  # noqa: E402
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.gpu_bandwidth import bandwidth_for  # noqa: E402

DATA = pathlib.Path(__file__).resolve().parent / "llama_cpp_measurements.json"
GOALS = {"cpu": 25.0, "gpu": 30.0}


def load(path=DATA):
    with open(str(path)) as handle:
        return json.load(handle)


def predict(kind, row):
    """(predicted tokens/s, bandwidth GB/s used)."""
    if kind == "cpu":
        tps, _bound = sm.cpu_generation(row["bandwidth_gbps"], None, None, row["model_bytes"], row["quantization"])
        return tps, row["bandwidth_gbps"]
    gbps = bandwidth_for(row["card"])[0]
    return sm.gpu_generation([(row["model_bytes"], gbps)]), gbps


def rows(data=None):
    data = data or load()
    out = []
    for kind in ("cpu", "gpu"):
        for row in data[kind]:
            predicted, gbps = predict(kind, row)
            error = 100.0 * (predicted - row["measured_tokens_per_sec"]) / row["measured_tokens_per_sec"]
            implied = row["measured_tokens_per_sec"] * row["model_bytes"] / (gbps * 1e9)
            out.append(dict(row, kind=kind, predicted=predicted, error_pct=error, gbps=gbps, implied=implied))
    return out


def summary(table):
    return dict((kind, statistics.median(abs(r["error_pct"]) for r in table if r["kind"] == kind))
                for kind in ("cpu", "gpu") if any(r["kind"] == kind for r in table))


def markdown(table):
    lines = ["| kind | machine | model | bandwidth GB/s | measured tokens/s | predicted | error | source |",
             "|---|---|---|---|---|---|---|---|"]
    for r in table:
        lines.append("| %s | %s | %s | %s | %.2f | %.2f | %+.1f %% | %s |" % (
            r["kind"].upper(), r["machine"], r["model"], ("%g" % r["gbps"]), r["measured_tokens_per_sec"],
            r["predicted"], r["error_pct"], r["source"]))
    medians = summary(table)
    lines.append("")
    errors = ["%s %.1f %% (goal %g %%)" % (k.upper(), v, GOALS[k]) for k, v in sorted(medians.items())]
    lines.append("Median absolute error: " + ", ".join(errors) + ".")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--fit", action="store_true")
    args = parser.parse_args(argv)
    table = rows()
    if args.fit:
        for kind in ("cpu", "gpu"):
            implied = [r["implied"] for r in table if r["kind"] == kind]
            print("%s: %s, median %.3f" % (kind, ", ".join("%.3f" % v for v in implied), statistics.median(implied)))
        return 0
    print(markdown(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
