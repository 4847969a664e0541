# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the turn check runs, and running it there: the agent's container or a runtime Python.

``find_runtime`` picks, in order: the agent's running ``local_ai_server`` container (``docker
compose exec -T local_ai_server python3 -`` in the agent's directory), then the given runtime
Python. ``run_engine`` sends turn_engine's source with one call appended on stdin and reads the
one result line back. Standard library only; runs on the managed host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess

from ansible_collections.voiceagent.models.plugins.module_utils._runtime import turn_engine

SERVICE = "local_ai_server"
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")


class RuntimeMissing(Exception):
    """No runtime to run the check in; the message says what was looked for."""


class EngineFailed(Exception):
    """The runtime ran and the check failed, or it gave no result; ``fields`` from the engine."""

    def __init__(self, fields):
        Exception.__init__(self, fields.get("message"))
        self.fields = fields


def engine_source():
    """turn_engine.py's text: its file when it is one, else through its loader (AnsiballZ's zip)."""
    path = (getattr(turn_engine, "__file__", None) or "").replace(".pyc", ".py")
    if os.path.isfile(path):
        with open(path) as handle:
            return handle.read()
    return turn_engine.__loader__.get_source(turn_engine.__name__)


def script(call):
    """The program for ``python3 -``: the engine's source and ``call`` (``main(...)`` or ``probe()``)."""
    return "%s\n\n%s\n" % (engine_source(), call)


def turn_call(request):
    return "main(json.loads(%r))" % json.dumps(request, sort_keys=True)


def _run(argv, cwd, text, timeout):
    try:
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    except OSError as exc:
        return 127, "", "%s: %s" % (argv[0], exc)
    try:
        out, err = proc.communicate(text.encode("utf-8") if text is not None else None, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return None, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def compose_file(agent_dir):
    for name in COMPOSE_FILES:
        if agent_dir and os.path.isfile(os.path.join(agent_dir, name)):
            return name
    return None


def container_running(agent_dir, docker="docker", service=SERVICE, timeout=30):
    """(running, why not): the agent's service has a running container in ``agent_dir``."""
    if not compose_file(agent_dir):
        return False, "no compose file in %s" % agent_dir
    rc, out, err = _run([docker, "compose", "ps", "--status", "running", "-q", service], agent_dir, None, timeout)
    if rc == 127:
        return False, "no docker command (%s)" % err.strip()
    if rc != 0:
        return False, "docker compose ps failed in %s (rc %s): %s" % (agent_dir, rc, (err or out).strip()[-300:])
    if not out.strip():
        return False, "%s is not running in %s" % (service, agent_dir)
    return True, None


def find_runtime(agent_dir, python, docker="docker", service=SERVICE, use_container=True):
    """``{"where": "container"|"python", "argv": [...], "cwd": ...}``; RuntimeMissing says why none."""
    reasons = []
    if use_container:
        running, why = container_running(agent_dir, docker, service)
        if running:
            return {"where": "container", "argv": [docker, "compose", "exec", "-T", service, "python3", "-"],
                    "cwd": agent_dir, "service": service}
        reasons.append("no agent container (%s)" % why)
    if python:
        if os.path.isfile(python) and os.access(python, os.X_OK):
            return {"where": "python", "argv": [python, "-"], "cwd": None, "python": python}
        reasons.append("voiceagent_runtime_python %s is not an executable file" % python)
    else:
        reasons.append("no voiceagent_runtime_python given")
    raise RuntimeMissing("; ".join(reasons))


def parse(rc, out, err):
    """The engine's result dict from its stdout; EngineFailed when there is none."""
    for line in reversed(out.splitlines()):
        at = line.find(turn_engine.MARKER)
        if at >= 0:
            try:
                return json.loads(line[at + len(turn_engine.MARKER):])
            except ValueError:
                break
    tail = " | ".join([line for line in (err or out).splitlines() if line.strip()][-4:])
    if rc is None:
        message = "the runtime did not finish within the time limit"
    else:
        message = "the runtime exited with rc %s and no result" % rc
    raise EngineFailed({"stage": "runtime", "message": message + (": " + tail if tail else "")})


def run_engine(runtime, call, timeout):
    """Run ``call`` in ``runtime``; the result dict (``ok`` true), else EngineFailed with its fields."""
    rc, out, err = _run(runtime["argv"], runtime.get("cwd"), script(call), timeout)
    result = parse(rc, out, err)
    if not result.get("ok"):
        raise EngineFailed(result)
    return result


def container_path(path, models_dir, container_models_dir):
    """A host path below ``models_dir`` as the container sees it below ``container_models_dir``."""
    if not (models_dir and container_models_dir and path):
        return path
    top = models_dir.rstrip("/")
    if path == top or path.startswith(top + "/"):
        return container_models_dir.rstrip("/") + path[len(top):]
    return path
