"""`make test-matrix`: the collection under every supported ansible-core and managed-host Python.

    python3 tests/matrix/matrix.py                 # every core, every leg
    python3 tests/matrix/matrix.py --cores 2.16 --legs units,provision --jobs 1

For each ansible-core (a venv under .venv-matrix/<core>, made once and reused; 2.19 is .venv):
  units      pytest tests/unit
  sanity     tests/sanity/run-ansible-test.sh sanity (that core's rules; tests/sanity/ignore-<core>.txt)
  provision  tests/matrix/provision.py: tests/matrix/modules.yml and the demo's site.yml (check,
             run, rerun with no change) on localhost, one inventory host per managed-host Python
             (.venv-matrix/host-<python> with psutil): under 2.16 and 2.20 every Python the core
             supports plus the oldest and newest of them bare (no psutil); under 2.17-2.19 the
             oldest and newest it supports. The controller's own Python is one more host.
Interpreters come from pyenv ($PYENV_ROOT/versions/X.Y.*) or PATH (pythonX.Y). A core or host Python
that cannot run here is reported as SKIP with what to install, and fails the run unless it is in
OPTIONAL (2.20 needs Python 3.12+). Logs: .matrix/logs/; summary: .matrix/results.json.
"""
import argparse
import concurrent.futures
import glob
import hashlib
import json
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
MATRIX = ROOT / ".matrix"
VENVS = ROOT / ".venv-matrix"

# core: (pip pin, controller Pythons in order of preference, managed-host Pythons it supports)
# From the ansible-core support matrix (docs.ansible.com, "ansible-core support matrix").
CORES = {
    "2.16": ("ansible-core==2.16.20", ["3.11", "3.10", "3.12"], ["3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12"]),
    "2.17": ("ansible-core==2.17.14", ["3.11", "3.10", "3.12"], ["3.7", "3.8", "3.9", "3.10", "3.11", "3.12"]),
    "2.18": ("ansible-core==2.18.19", ["3.11", "3.12", "3.13"], ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]),
    "2.19": ("ansible-core==2.19.14", ["3.11", "3.12", "3.13"], ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]),
    "2.20": ("ansible-core==2.20.10", ["3.12", "3.13"], ["3.9", "3.10", "3.11", "3.12", "3.13"]),
}
OPTIONAL = {"2.20"}
FULL_HOSTS = {"2.16", "2.20"}
LEGS = ["units", "sanity", "provision"]


def find_python(version):
    """An interpreter that runs as Python ``version`` (X.Y), or None."""
    pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = sorted(glob.glob(os.path.join(pyenv, "versions", version + ".*", "bin", "python" + version)))
    candidates += [p for p in (shutil.which("python" + version),) if p]
    for candidate in candidates:
        try:
            out = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True,
                                 timeout=30, check=False).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out == version:
            return candidate
    return None


def log_run(command, log, env=None):
    with open(str(log), "a") as handle:
        handle.write("$ %s\n" % " ".join(str(part) for part in command))
        handle.flush()
        return subprocess.run([str(part) for part in command], cwd=str(ROOT), env=env, stdout=handle,
                              stderr=subprocess.STDOUT, check=False).returncode


def ensure_venv(path, python, requirements, log):
    """A venv at ``path`` with ``requirements``; kept while its stamp (the requirements) is unchanged."""
    stamp = hashlib.sha256(json.dumps([python, requirements]).encode()).hexdigest()
    stamp_file = path / ".matrix-stamp"
    if stamp_file.exists() and stamp_file.read_text() == stamp and (path / "bin" / "python").exists():
        return True
    shutil.rmtree(str(path), ignore_errors=True)
    if log_run([python, "-m", "venv", path], log):
        return False
    pip = [path / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    if requirements[0].startswith("pip=="):
        # Python 3.6's venv pip predates the wheels psutil ships for it
        if log_run(pip + [requirements[0]], log):
            return False
        requirements = requirements[1:]
    if log_run(pip + requirements, log):
        return False
    stamp_file.write_text(stamp)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--cores", default=",".join(CORES), help="comma-separated (default: %(default)s)")
    parser.add_argument("--legs", default=",".join(LEGS), help="comma-separated (default: %(default)s)")
    parser.add_argument("--sanity-dev", action="store_true",
                        help="also run sanity for the core of .venv (make ansible-test does, in make test)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MATRIX_JOBS", "2")),
                        help="cores tested at once (default: %(default)s)")
    args = parser.parse_args()
    cores = [core for core in args.cores.split(",") if core]
    legs = [leg for leg in args.legs.split(",") if leg]
    unknown = [c for c in cores if c not in CORES] + [leg for leg in legs if leg not in LEGS]
    if unknown:
        parser.error("unknown: %s" % ", ".join(unknown))

    logs = MATRIX / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PIP_CACHE_DIR", str(ROOT / ".cache" / "pip"))
    env = dict(os.environ, ANSIBLE_HOME=str(ROOT / ".ansible"),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    started = time.time()
    rows = []

    def record(core, leg, status, seconds, detail):
        rows.append({"core": core, "leg": leg, "status": status, "seconds": round(seconds), "detail": detail})
        print("%-5s %-10s %-4s %4d s  %s" % (core, leg, status, seconds, detail), flush=True)

    host_pythons = {}
    for version in sorted({v for core in cores for v in CORES[core][2]}, key=lambda v: tuple(map(int, v.split(".")))):
        python = find_python(version)
        if python is None:
            host_pythons[version] = None
            continue
        t0 = time.time()
        venv = VENVS / ("host-" + version)
        reqs = (["pip==21.3.1"] if version == "3.6" else []) + ["psutil"]
        ok = ensure_venv(venv, python, reqs, logs / ("host-%s.log" % version))
        host_pythons[version] = (python, str(venv / "bin" / "python")) if ok else None
        if not ok:
            record("host", version, "FAIL", time.time() - t0, "could not make %s with psutil (%s)"
                   % (venv, logs / ("host-%s.log" % version)))

    def one_core(core):
        pin, controllers, targets = CORES[core]
        controller = next((p for p in map(find_python, controllers) if p), None)
        if core == "2.19" and (ROOT / ".venv" / "bin" / "ansible").exists():
            bindir = ROOT / ".venv" / "bin"   # the pinned tool chain of requirements-dev.txt is this core
        elif controller is None:
            record(core, "-", "SKIP" if core in OPTIONAL else "FAIL", 0,
                   "ansible-core %s needs Python %s on the controller: install one (pyenv install %s)"
                   % (core, " or ".join(controllers), controllers[0]))
            return
        else:
            t0 = time.time()
            venv = VENVS / core
            log = logs / ("%s-venv.log" % core)
            reqs = ["-r", str(ROOT / "requirements-matrix.txt"), pin]
            if not ensure_venv(venv, controller, reqs, log):
                record(core, "venv", "FAIL", time.time() - t0, "pip install failed, see %s" % log)
                return
            bindir = venv / "bin"
        version = subprocess.run([str(bindir / "python"), "-c", "import ansible.release as r; print(r.__version__)"],
                                 stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout.strip()

        for leg in legs:
            log = logs / ("%s-%s.log" % (core, leg))
            log.write_text("")
            t0 = time.time()
            detail = "ansible-core %s; log %s" % (version, log.relative_to(ROOT))
            if leg == "units":
                rc = log_run([bindir / "pytest", "tests/unit", "-q", "-p", "no:cacheprovider"], log, env)
                rc = 0 if rc == 5 else rc
            elif leg == "sanity" and bindir == ROOT / ".venv" / "bin" and not args.sanity_dev:
                record(core, leg, "SKIP", 0, "ansible-core %s: `make ansible-test` runs this core's sanity in"
                       " `make test` (--sanity-dev runs it here too)" % version)
                continue
            elif leg == "sanity":
                # a copy of the checkout (not the bind mount), so its tests/output is its own
                rc = log_run(["tests/sanity/run-ansible-test.sh", "sanity"], log,
                             dict(env, BIN=str(bindir), VOICEAGENT_TEST_COPY="1"))
            else:
                # Every host Python under the oldest and the newest core; the support edges under the others.
                wanted = targets if core in FULL_HOSTS else [targets[0], targets[-1]]
                usable = [v for v in wanted if host_pythons.get(v)]
                missing = [v for v in wanted if not host_pythons.get(v)]
                command = [bindir / "python", "tests/matrix/provision.py", "--work", MATRIX / core,
                           "--host", "controller=%s" % (bindir / "python")]
                for v in usable:
                    command += ["--host", "py%s=%s" % (v, host_pythons[v][1])]
                for v in sorted({usable[0], usable[-1]}) if usable and core in FULL_HOSTS else []:
                    command += ["--bare", "py%s-bare=%s" % (v, host_pythons[v][0])]
                rc = log_run(command, log, env)
                detail += "; host Pythons %s" % (", ".join(usable) or "none")
                if missing:
                    detail += "; NOT RUN (not on this machine, pyenv install them): %s" % ", ".join(missing)
                    rc = rc or 1
            record(core, leg, "PASS" if rc == 0 else "FAIL", time.time() - t0, detail)

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        list(pool.map(one_core, cores))
    rows.sort(key=lambda row: (row["core"], LEGS.index(row["leg"]) if row["leg"] in LEGS else -1))

    total = time.time() - started
    machine = "%s, %d CPUs, %s, Python %s" % (platform.node(), os.cpu_count() or 0, platform.platform(),
                                              platform.python_version())
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)), "machine": machine,
              "seconds": round(total), "rows": rows}
    (MATRIX / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    failed = [row for row in rows if row["status"] == "FAIL"]
    print("test-matrix: %d legs, %d failed, %d skipped, %d s (summary in .matrix/results.json)"
          % (len(rows), len(failed), sum(row["status"] == "SKIP" for row in rows), total))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
