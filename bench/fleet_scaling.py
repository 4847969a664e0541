"""Wall time of playbooks/site.yml on 1, 5, 10 and 20 SSH hosts of the fleet harness.

Usage (root, openssh-server installed, after `make test` or `make demo`):
    .venv/bin/python bench/fleet_scaling.py [--sizes 1,5,10,20]    # the full grid: about 11 minutes
    .venv/bin/python bench/fleet_scaling.py --sizes 1,10           # what `make bench` runs

For each size and each configuration (Ansible's defaults; tuned: forks 20 and pipelining), a fresh
fleet is started (no models yet), site.yml runs once cold and once warm (the idempotent rerun),
and `ansible -m ansible.builtin.setup -a gather_subset=min` on the same hosts gives the cost of
plain fact gathering. The hosts are 127.0.0.100 and up (state in .fleet-bench/).
Writes bench/results/fleet_scaling.json for the full grid (1,5,10,20), else
bench/results/fleet_scaling-<sizes>.json, and prints a Markdown table.
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchlib import ROOT, fleet, write_result  # noqa: E402

FULL_GRID = "1,5,10,20"
BIN = pathlib.Path(sys.executable).parent
STATE = ROOT / ".fleet-bench"
FIRST_ADDRESS = 100
CONFIGS = {
    "default": {},
    "tuned": {"ANSIBLE_FORKS": "20", "ANSIBLE_PIPELINING": "1"},
}


def result_name(sizes):
    """bench/results file name for a grid of sizes ("1,10" -> fleet_scaling-1_10); pure."""
    if sizes == [int(s) for s in FULL_GRID.split(",")]:
        return "fleet_scaling"
    return "fleet_scaling-" + "_".join(str(size) for size in sizes)


def run(cmd, env):
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT), check=False)
    return time.monotonic() - started, proc


def forget_runs():
    """No lock file or report from an earlier run: a cold run starts with no pinned digest."""
    for name in ("lock.json", "lock.json.flock"):
        if (STATE / name).exists():
            (STATE / name).unlink()
    shutil.rmtree(str(STATE / "reports"), ignore_errors=True)


def measure(size, config, mirror):
    forget_runs()
    fleet("up", "--hosts", str(size), "--state-dir", str(STATE), "--first-address", str(FIRST_ADDRESS),
          "--mirror-url", mirror["url"], "--registry", mirror["registry"], "--python", sys.executable)
    try:
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
                   ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), **CONFIGS[config])
        inventory = str(STATE / "inventory.yml")
        site = [str(BIN / "ansible-playbook"), "-i", inventory, str(ROOT / "playbooks" / "site.yml"),
                "-e", "voiceagent_report_dir=%s" % (STATE / "reports"),
                "-e", "voiceagent_lock_file=%s" % (STATE / "lock.json")]
        cold, proc = run(site, env)
        if proc.returncode:
            raise SystemExit("cold run failed:\n" + proc.stdout[-3000:])
        warm, proc = run(site, env)
        if proc.returncode:
            raise SystemExit("warm run failed:\n" + proc.stdout[-3000:])
        report = json.loads((STATE / "reports" / "voiceagent-report.json").read_text())
        facts = run([str(BIN / "ansible"), "-i", inventory, "voiceagent", "-m", "ansible.builtin.setup",
                     "-a", "gather_subset=min"], env)[0]
        return {
            "hosts": size, "config": config,
            "cold_s": round(cold, 1), "warm_s": round(warm, 1), "setup_min_s": round(facts, 1),
            "cold_s_per_host": round(cold / size, 2), "warm_s_per_host": round(warm / size, 2),
            "warm_files_changed": sum(h["files_changed"] for h in report["hosts"]),
            "warm_benchmark_cached": all(h["benchmark_cached"] for h in report["hosts"]),
        }
    finally:
        fleet("down", "--state-dir", str(STATE))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=FULL_GRID)
    args = parser.parse_args()
    mirror_state = ROOT / ".fleet-bench-mirror"
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "fleet" / "mirror.py"), "start",
                          "--state-dir", str(mirror_state)], capture_output=True, text=True, check=True).stdout
    mirror = json.loads(out)
    rows = []
    sizes = [int(s) for s in args.sizes.split(",")]
    try:
        for size in sizes:
            for config in CONFIGS:
                rows.append(measure(size, config, mirror))
                print(json.dumps(rows[-1]), flush=True)
    finally:
        subprocess.run([sys.executable, str(ROOT / "tests" / "fleet" / "mirror.py"), "stop",
                        "--state-dir", str(mirror_state)], check=False)
    path = write_result(result_name(sizes), {"configs": CONFIGS, "rows": rows},
                        " ".join(["bench/fleet_scaling.py"] + sys.argv[1:]))
    print("| hosts | config | cold s | cold s/host | warm s | warm s/host | setup min s |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print("| %(hosts)d | %(config)s | %(cold_s)s | %(cold_s_per_host)s | %(warm_s)s | %(warm_s_per_host)s "
              "| %(setup_min_s)s |" % row)
    print("wrote %s" % path.relative_to(ROOT))


if __name__ == "__main__":
    main()
