"""select_tier over generated fact sets: only documented errors, deterministic, decisions per second.

Usage: .venv/bin/python bench/decision_throughput.py [--count 10000] [--seed 7]
Writes bench/results/decision_throughput.json.
"""
import argparse
import json
import pathlib
import random
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchlib import ROOT, write_result  # noqa: E402

sys.path.insert(0, str(ROOT / ".collections"))

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import default_registry_path  # noqa: E402
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.tier_selection import (  # noqa: E402
    SelectionError,
    select_tier,
)


def fact_set(rng):
    vram = rng.choice([0, 0, 0, 4096, 6144, 8192, 12288, 24576])
    total = round(rng.uniform(2, 128), 2)
    limit = rng.choice([None, None, round(rng.uniform(1, 64), 2)])
    return {
        "cpu": {"usable_cores": rng.randint(1, 64)},
        "memory": {"total_gb": total, "cgroup_limit_gb": limit,
                   "usable_gb": min(total, limit) if limit else total},
        "gpu": {"present": bool(vram), "count": 1 if vram else 0, "max_vram_gb": vram / 1024.0},
        "benchmark": {"score": rng.choice([None, round(rng.uniform(0.5, 6), 2)]),
                      "memory_bandwidth_gbps": rng.choice([None, round(rng.uniform(2, 200), 1)])},
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    registry = json.loads(pathlib.Path(default_registry_path()).read_text())
    rng = random.Random(args.seed)
    facts = [fact_set(rng) for _unused in range(args.count)]
    outcomes, errors = [], {}
    started = time.perf_counter()
    for one in facts:
        try:
            outcomes.append(select_tier(one, registry)["tier"])
        except SelectionError as exc:
            outcomes.append(type(exc).__name__)
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
    elapsed = time.perf_counter() - started
    again = []
    for one in facts:
        try:
            again.append(select_tier(one, registry)["tier"])
        except SelectionError as exc:
            again.append(type(exc).__name__)
    report = {
        "decisions": args.count,
        "seconds": round(elapsed, 3),
        "decisions_per_second": round(args.count / elapsed),
        "deterministic": outcomes == again,
        "outcomes": dict((name, outcomes.count(name)) for name in sorted(set(outcomes))),
        "documented_errors": errors,
    }
    path = write_result("decision_throughput", report,
                        "bench/decision_throughput.py --count %d --seed %d" % (args.count, args.seed))
    print(path.read_text())


if __name__ == "__main__":
    main()
