"""Wall time of playbooks/site.yml on 1, 5, 10 and 20 SSH hosts of the fleet harness.

Usage (root, openssh-server installed, after `make test` or `make demo`):
    .venv/bin/python bench/fleet_scaling.py [--sizes 1,5,10,20]

For each size and each configuration (Ansible's defaults; tuned: forks 20 and pipelining), a fresh
fleet is started (no models yet), site.yml runs once cold and once warm (the idempotent rerun),
and `ansible -m ansible.builtin.setup -a gather_subset=min` on the same hosts gives the cost of
plain fact gathering. Writes bench/results/fleet_scaling.json and prints a Markdown table.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = pathlib.Path(sys.executable).parent
STATE = ROOT / ".fleet-bench"
FIRST_ADDRESS = 60
CONFIGS = {
    "default": {},
    "tuned": {"ANSIBLE_FORKS": "20", "ANSIBLE_PIPELINING": "1"},
}


def run(cmd, env):
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT), check=False)
    return time.monotonic() - started, proc


def fleet(*args):
    subprocess.run([sys.executable, str(ROOT / "tests" / "fleet" / "fleet.py")] + list(args), check=True,
                   capture_output=True, text=True)


def measure(size, config, mirror):
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
    parser.add_argument("--sizes", default="1,5,10,20")
    args = parser.parse_args()
    mirror_state = ROOT / ".fleet-bench-mirror"
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "fleet" / "mirror.py"), "start",
                          "--state-dir", str(mirror_state)], capture_output=True, text=True, check=True).stdout
    mirror = json.loads(out)
    rows = []
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            for config in CONFIGS:
                rows.append(measure(size, config, mirror))
                print(json.dumps(rows[-1]), flush=True)
    finally:
        subprocess.run([sys.executable, str(ROOT / "tests" / "fleet" / "mirror.py"), "stop",
                        "--state-dir", str(mirror_state)], check=False)
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "results" / "fleet_scaling.json").write_text(json.dumps(rows, indent=2) + "\n")
    print("| hosts | config | cold s | cold s/host | warm s | warm s/host | setup min s |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print("| %(hosts)d | %(config)s | %(cold_s)s | %(cold_s_per_host)s | %(warm_s)s | %(warm_s_per_host)s "
              "| %(setup_min_s)s |" % row)


if __name__ == "__main__":
    main()
