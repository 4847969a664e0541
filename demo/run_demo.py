"""`make demo`: run the real playbooks/site.yml on localhost against a built-in mirror.

Builds synthetic stand-ins of the tier's files (real formats, tiny sizes) and a
demo registry under .demo/, serves them from 127.0.0.1, runs site.yml twice
(the second run must change nothing) into a throwaway install directory, and
prints the fleet report. No internet is used.

Usage: .venv/bin/python demo/run_demo.py [--check] [-- extra ansible-playbook args]
"""
import argparse
import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "demo"))
sys.path.insert(0, str(ROOT / "tests" / "support"))

from build_mirror import build_mirror  # noqa: E402
from mirror_server import MirrorServer  # noqa: E402

WORK = ROOT / ".demo"
SECRET_ENV = (
    "# Operator settings: provisioning must leave every line but its own keys alone.\n"
    "ASTERISK_ARI_PASSWORD='p|ss&word with spaces'\n"
    "OPENAI_API_KEY=sk-demo-not-a-real-key\n"
)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="show the plan only (ansible-playbook --check)")
    parser.add_argument("extra", nargs="*", help="extra ansible-playbook arguments")
    args = parser.parse_args()

    if WORK.exists():
        shutil.rmtree(WORK)
    install = WORK / "install"
    install.mkdir(parents=True)
    (install / ".env").write_text(SECRET_ENV)
    os.chmod(install / ".env", 0o600)
    build_mirror(str(WORK), tiers=["LIGHT_CPU"])
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
                   "-e", "voiceagent_report_dir=%s" % (WORK / "reports")] + args.extra
        runs = [command + ["--check"]] if args.check else [command, command]
        for number, run in enumerate(runs, 1):
            print("\n=== site.yml run %d of %d: %s ===" % (number, len(runs), " ".join(run[3:])), flush=True)
            code = subprocess.call(run, env=env, cwd=str(ROOT))
            if code:
                return code
        print("\nMirror requests: %d. Install dir: %s. Reports: %s" % (len(server.requests), install, WORK / "reports"))
    print((WORK / "reports" / "voiceagent-report.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
