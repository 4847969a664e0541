"""The fleet's local mirror: synthetic model files served on 127.0.0.1, and the fleet's test registry.

    python tests/fleet/mirror.py start --state-dir .fleet   # prints the URL; writes mirror.json
    python tests/fleet/mirror.py stop --state-dir .fleet

``start`` builds every tier's (and FLEET_LANGUAGES') synthetic stand-ins with ``demo/build_mirror.py`` under
``<state-dir>/mirror/``, writes ``<state-dir>/test-registry.json`` (the demo registry with
every tier's ``min_cpu_cores`` set to 1, because no simulated host can show more than this
machine's cores), and serves the files with ``tests/support/mirror_server.py`` from a
detached process. ``<state-dir>/mirror.json`` records ``url``, ``registry`` and ``pid``;
``stop`` ends exactly that process.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "demo"))
sys.path.insert(0, str(ROOT / "tests" / "support"))


# The languages whose models the fleet's mirror serves (molecule's Spanish host and Korean host).
FLEET_LANGUAGES = ("es-ES", "ko-KR")


def build(state):
    """Build the mirror and the test registry; return the registry path."""
    from build_mirror import build_mirror  # noqa: E402

    summary = build_mirror(str(state / "mirror"), languages=FLEET_LANGUAGES)
    registry = json.loads(pathlib.Path(summary["registry_path"]).read_text())
    registry["description"] = (
        "FLEET TEST registry written by tests/fleet/mirror.py: the demo registry (synthetic files, "
        "LIGHT_CPU lowered to 1 GB) with every tier's min_cpu_cores set to 1, because a simulated "
        "host cannot show more than this machine's CPU cores.")
    for tier in registry["tiers"].values():
        tier["requirements"]["min_cpu_cores"] = 1
    path = state / "test-registry.json"
    path.write_text(json.dumps(registry, indent=2) + "\n")
    return path


def serve(directory, url_file):
    from mirror_server import MirrorServer  # noqa: E402

    server = MirrorServer(directory)
    url = server.start()
    tmp = url_file + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(url)
    os.replace(tmp, url_file)

    def stop(*_args):
        server.stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:  # until SIGTERM
        signal.pause()


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            text = handle.read()
        return text[text.rindex(")") + 2] != "Z"
    except OSError:
        return False


def start(state_dir=".fleet"):
    state = pathlib.Path(state_dir).resolve()
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    info_path = state / "mirror.json"
    if info_path.exists():
        info = json.loads(info_path.read_text())
        if _alive(info["pid"]):
            return info
    registry = build(state)
    url_file = state / "mirror.url"
    if url_file.exists():
        url_file.unlink()
    log = open(state / "mirror.log", "ab")
    proc = subprocess.Popen([sys.executable, str(pathlib.Path(__file__).resolve()), "serve",
                             str(state / "mirror" / "mirror"), str(url_file)],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                            close_fds=True, cwd="/")
    log.close()
    deadline = time.monotonic() + 20
    while not url_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the mirror did not start: %s" % (state / "mirror.log").read_text()[-2000:])
        time.sleep(0.05)
    info = {"url": url_file.read_text().strip(), "registry": str(registry), "pid": proc.pid,
            "cmdline": "serve"}
    info_path.write_text(json.dumps(info, indent=2) + "\n")
    return info


def stop(state_dir=".fleet"):
    state = pathlib.Path(state_dir).resolve()
    info_path = state / "mirror.json"
    if not info_path.exists():
        return
    info = json.loads(info_path.read_text())
    pid = info["pid"]
    try:
        cmdline = open("/proc/%d/cmdline" % pid, "rb").read()
    except OSError:
        cmdline = b""
    if _alive(pid) and b"mirror.py" in cmdline and b"serve" in cmdline:
        os.kill(pid, signal.SIGTERM)
        for _attempt in range(50):
            if not _alive(pid):
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
    for name in ("mirror.json", "mirror.url", "mirror.log", "test-registry.json"):
        if (state / name).exists():
            (state / name).unlink()
    import shutil
    shutil.rmtree(state / "mirror", ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "stop"):
        sub.add_parser(name).add_argument("--state-dir", default=".fleet")
    p_serve = sub.add_parser("serve")
    p_serve.add_argument("directory")
    p_serve.add_argument("url_file")
    args = parser.parse_args(argv)
    if args.command == "start":
        info = start(args.state_dir)
        print(json.dumps(info))
    elif args.command == "stop":
        stop(args.state_dir)
    else:
        serve(args.directory, args.url_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
