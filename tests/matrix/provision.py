"""One ansible-core of `make test-matrix`: the demo's site.yml and the modules on every host Python.

Run with the Python of that core's venv (its ansible-playbook sits beside it):

    .venv-matrix/2.16/bin/python tests/matrix/provision.py --work .matrix/2.16 \
        --host controller=.venv-matrix/2.16/bin/python --host py3.6=.venv-matrix/host-3.6/bin/python \
        --bare py3.6-bare=/root/.pyenv/versions/3.6.15/bin/python3.6

Like `make demo`, it builds the LIGHT_CPU stand-ins and a demo mirror on 127.0.0.1, then runs on
localhost, one inventory host per interpreter (``ansible_connection: local``):

1. tests/matrix/modules.yml on every host (--host ones have psutil, --bare ones do not);
2. playbooks/site.yml --check, site.yml, site.yml again on the --host ones (group voiceagent):
   every host must end ``ok``, the second run must change nothing and send no request.

Any "does not support Ansible version" warning fails the run. Exit status 0 when all of it holds.
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "demo"))
sys.path.insert(0, str(ROOT / "tests" / "support"))

from build_mirror import build_mirror  # noqa: E402
from mirror_server import MirrorServer  # noqa: E402

SEED_ENV = "# Operator settings: provisioning must leave this line alone.\nOPENAI_API_KEY=sk-matrix-not-a-real-key\n"
RECAP = re.compile(r"^(\S+)\s*: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def pair(text):
    name, _sep, python = text.partition("=")
    if not name or not python:
        raise argparse.ArgumentTypeError("expected NAME=PYTHON, got %r" % text)
    return name, os.path.abspath(python) if os.sep in python else python


def run(command, env, label):
    print("\n=== %s: %s" % (label, " ".join(command[1:])), flush=True)
    started = time.time()
    proc = subprocess.run(command, env=env, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    sys.stdout.write(proc.stdout)
    print("=== %s: %.0f s" % (label, time.time() - started), flush=True)
    if "does not support Ansible version" in proc.stdout:
        raise SystemExit("%s: meta/runtime.yml's requires_ansible excludes this ansible-core" % label)
    if proc.returncode:
        raise SystemExit("%s: exit status %d" % (label, proc.returncode))
    return {host: dict(zip(("ok", "changed", "unreachable", "failed"), map(int, rest)))
            for host, *rest in RECAP.findall(proc.stdout)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True, help="scratch folder (emptied first)")
    parser.add_argument("--host", type=pair, action="append", default=[], help="NAME=PYTHON with psutil")
    parser.add_argument("--bare", type=pair, action="append", default=[], help="NAME=PYTHON without psutil")
    args = parser.parse_args()
    if not args.host:
        parser.error("at least one --host")

    work = pathlib.Path(args.work).resolve()
    if work.exists():
        shutil.rmtree(str(work))
    work.mkdir(parents=True)
    build_mirror(str(work), tiers=["LIGHT_CPU"])

    def host_vars(name, python, source):
        (work / name / "install").mkdir(parents=True)
        env_file = work / name / "install" / ".env"
        env_file.write_text(SEED_ENV)
        env_file.chmod(0o600)
        return {"ansible_connection": "local", "ansible_python_interpreter": python,
                "matrix_memory_source": source, "voiceagent_install_dir": str(work / name / "install")}

    inventory = {"all": {"vars": {"matrix_work": str(work)}, "children": {
        "voiceagent": {"hosts": {name: host_vars(name, python, "psutil") for name, python in args.host}},
        "bare": {"hosts": {name: host_vars(name, python, "proc_meminfo") for name, python in args.bare}},
    }}}
    (work / "inventory.json").write_text(json.dumps(inventory, indent=1))

    bindir = pathlib.Path(sys.executable).parent
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"),
               ANSIBLE_HOME=str(work / ".ansible"), ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", ANSIBLE_FORKS="12")
    core = subprocess.run([str(bindir / "ansible"), "--version"], env=env, stdout=subprocess.PIPE,
                          universal_newlines=True, check=True).stdout.splitlines()[0]
    print("controller: %s on Python %s; hosts: %s" % (core, sys.version.split()[0], ", ".join(
        "%s=%s" % item for item in args.host + args.bare)), flush=True)

    playbook = [str(bindir / "ansible-playbook"), "-i", str(work / "inventory.json")]
    run(playbook + [str(ROOT / "tests" / "matrix" / "modules.yml")], env, "modules.yml")
    with MirrorServer(str(work / "mirror")) as server:
        site = playbook + [str(ROOT / "playbooks" / "site.yml"), "--limit", "voiceagent:localhost",
                           "-e", "voiceagent_registry=%s" % (work / "registry.json"),
                           "-e", "voiceagent_mirror_url=%s" % server.url,
                           "-e", "voiceagent_lock_file=%s" % (work / "voiceagent-models.lock.json"),
                           "-e", "voiceagent_report_dir=%s" % (work / "reports")]
        run(site + ["--check"], env, "site.yml --check")
        if server.requests:
            raise SystemExit("site.yml --check sent %d requests to the mirror" % len(server.requests))
        run(site, env, "site.yml")
        fetched = len(server.requests)
        recap = run(site, env, "site.yml again")
        # localhost writes a new report (its time stamp) every run; the hosts must not change.
        changed = {host: row["changed"] for host, row in recap.items() if row["changed"] and host != "localhost"}
        if changed:
            raise SystemExit("site.yml again changed something: %s" % changed)
        if len(server.requests) != fetched:
            raise SystemExit("site.yml again sent %d requests" % (len(server.requests) - fetched))
    report = json.loads((work / "reports" / "voiceagent-report.json").read_text())
    text = json.dumps(report)
    for name, _python in args.host:
        if name not in text:
            raise SystemExit("the report has no row for %s" % name)
    statuses = re.findall(r'"status": "(\w+)"', text)
    if any(status != "ok" for status in statuses):
        raise SystemExit("report statuses: %s" % statuses)
    print("\nmatrix provision OK: %s; %d hosts provisioned, %d bare; %d mirror requests, then none"
          % (core, len(args.host), len(args.bare), fetched))
    return 0


if __name__ == "__main__":
    sys.exit(main())
