# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every plugin's EXAMPLES runs: the tasks as ansible-doc shows them, on localhost, twice.

Each plugin's EXAMPLES (module source / filter sidecar) is taken verbatim and run with
``ansible-playbook`` on localhost (connection local) in its own mount namespace
(``unshare -m``): the test's own directories over ``/opt``, ``/srv``, ``/var/lib`` and ``/var/cache`` and a copy of
``/etc/passwd``/``/etc/group`` with the ``asterisk`` user the examples name, so the literal
paths of the examples are real paths there and nothing leaks onto this machine. Only two
things are rewritten, and both are listed here:

* every ``http(s)://HOST/PATH`` in the examples becomes ``<local mirror>/HOST/PATH`` (what
  ``voiceagent_mirror_url`` does in the role), and a ``sitecustomize`` on ``PYTHONPATH`` makes
  every Python process of the run (controller and modules) refuse and record a connection to
  anything outside 127.0.0.0/8: the test fails on any such attempt;
* the tasks named in ``CHECK_ONLY`` run with ``check_mode: true``, each with its reason.

The vars and files an example refers to are set up by test-owned tasks named ``SETUP: ...``.
A tiny callback records each task's result; every example task must succeed, and on the
second run every task that is not check-only must report no change.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "unit"))
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(ROOT / "demo"))

from test_plugin_examples import module_strings  # noqa: E402

BIN = pathlib.Path(sys.executable).parent
REGISTRY = ROOT / "registry" / "registry.json"
FACTS = ROOT / "examples" / "facts" / "nvidia-12gb-32gb-8c.json"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="runs the examples in a private mount namespace (needs root and unshare)")

# Tasks that run in check mode only, and why. A real run would need the real upstream file:
# these examples pin the checksum of a multi-GB model, which the synthetic mirror cannot serve.
CHECK_ONLY = {
    "model_file": {
        "Put the LLM in place (4 GB; resumes after an interruption)": "pins the real 4 GB file's SHA-256",
        "Unpack the Vosk model into its directory": "pins the real Vosk zip's SHA-256",
        "A Piper voice whose upstream publishes only size and MD5; keep the SHA-256 it computes":
            "pins the real voice's MD5",
        "Download in slices of 5 minutes, showing progress, until the file is complete":
            "names a real 7.9 GB file by its size",
    },
}

# Tasks that must do real work on the first run (they change something), so a run that only
# skips through the examples cannot pass.
CHANGES_FIRST = {
    "model_file": ["Put every file of the plan in place, as the provision role does"],
    "env_file": ["Point the agent at the selected models", "Edit through a symbolic link on purpose"],
}

# Test-owned tasks that give the examples what they refer to.
SETUP = {
    "env_file": [
        {"name": "SETUP: the agent's install dir", "ansible.builtin.file": {
            "path": "/opt/asterisk-ai-voice-agent", "state": "directory", "mode": "0755"}},
        {"name": "SETUP: the real .env behind the link", "ansible.builtin.copy": {
            "dest": "/srv/agent-config.env", "content": "LOCAL_LLM_GPU_LAYERS=0\n", "mode": "0600",
            "force": False}},
        {"name": "SETUP: a directory with .env as a symbolic link", "ansible.builtin.file": {
            "path": "/srv/agent", "state": "directory", "mode": "0755"}},
        {"name": "SETUP: the link", "ansible.builtin.file": {
            "src": "/srv/agent-config.env", "dest": "/srv/agent/.env", "state": "link"}},
    ],
    "model_plan": [
        {"name": "SETUP: a plan from the test registry", "ansible.builtin.set_fact": {
            "voiceagent_plan": "{{ test_facts | voiceagent.models.select_tier(test_registry, override='LIGHT_CPU')"
                               " | voiceagent.models.provision_plan('/opt/asterisk-ai-voice-agent/models',"
                               " '/app/models', test_mirror_url, 4) }}"}},
    ],
    "select_tier": [
        {"name": "SETUP: a host's facts (examples/facts: 8 cores, 32 GB, a 12 GB card)",
         "test_facts": {"voiceagent_hardware": "{{ test_facts }}"}},
        {"name": "SETUP: the registry next to the playbook", "ansible.builtin.copy": {
            "src": str(REGISTRY), "dest": "{{ playbook_dir }}/registry.json", "mode": "0644"}},
    ],
    "provision_plan": [
        {"name": "SETUP: a selection", "ansible.builtin.set_fact": {
            "voiceagent_selection": "{{ test_facts | voiceagent.models.select_tier(test_registry) }}"}},
    ],
    "fleet_report": [
        {"name": "SETUP: the rows two hosts left, and one that left none", "ansible.builtin.set_fact": {
            "voiceagent_rows": {
                "pbx-gpu-01": {"status": "ok", "tier": "HEAVY_GPU", "rank": 6, "source": "auto",
                               "reason": "test row", "warnings": [], "files": []},
                "pbx-cpu-01": {"status": "ok", "tier": "LIGHT_CPU", "rank": 1, "source": "auto",
                               "reason": "test row", "warnings": [], "files": []},
                "pbx-cpu-02": None},
            "registry_path": str(REGISTRY)}},
    ],
}
SETUP["model_file"] = SETUP["model_plan"] + [
    {"name": "SETUP: the directory the LLM examples write to", "ansible.builtin.file": {
        "path": "/opt/voiceagent/models/llm", "state": "directory", "mode": "0755"}},
]

GUARD = '''\
"""Installed by test_plugin_examples_run: refuse and record connections outside 127.0.0.0/8."""
import ipaddress
import os
import socket

_LOG = os.environ.get("VOICEAGENT_NET_GUARD_LOG")


def _loopback(host):
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(host):
    with open(_LOG, "a") as handle:
        handle.write("%s\\n" % (host,))
    raise OSError("test_plugin_examples_run: connection to %s refused (only 127.0.0.0/8)" % (host,))


_getaddrinfo = socket.getaddrinfo
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def getaddrinfo(host, *args, **kwargs):
    if not _loopback(host.decode() if isinstance(host, bytes) else host):
        _refuse(host)
    return _getaddrinfo(host, *args, **kwargs)


def _check(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
        _refuse(address[0])


def connect(self, address):
    _check(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _check(self, address)
    return _connect_ex(self, address)


if _LOG:
    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
'''

# An action plugin next to the playbook: returns its arguments as facts (ansible_facts[...]).
FACTS_ACTION = '''\
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        return {"changed": False, "ansible_facts": dict(self._task.args)}
'''

RECORDER = '''\
from ansible.plugins.callback import CallbackBase
import json
import os


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "example_recorder"
    CALLBACK_NEEDS_ENABLED = True

    def _log(self, result, status):
        with open(os.environ["EXAMPLE_RESULTS"], "a") as handle:
            handle.write(json.dumps({"task": result.task_name, "status": status,
                                     "changed": bool(result._result.get("changed")),
                                     "msg": str(result._result.get("msg", ""))[:2000]}) + "\\n")

    def v2_runner_on_ok(self, result):
        self._log(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._log(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._log(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._log(result, "unreachable")
'''

FAKE_DIRS = ("opt", "srv", "var/lib", "var/cache")
URL = re.compile(r"\bhttps?://(?!127\.|localhost[:/])([^/\s'\"]+)/")


def examples_of(name):
    source = ROOT / "plugins" / "modules" / (name + ".py")
    if source.exists():
        return yaml.safe_load(module_strings(source)["EXAMPLES"])
    return yaml.safe_load(yaml.safe_load((ROOT / "plugins" / "filter" / (name + ".yml")).read_text())["EXAMPLES"])


def rewrite(value, mirror):
    """Every upstream URL in the tasks goes to the local mirror as <mirror>/<host>/<path>."""
    if isinstance(value, str):
        return URL.sub(lambda m: "%s/%s/" % (mirror, m.group(1)), value)
    if isinstance(value, list):
        return [rewrite(v, mirror) for v in value]
    if isinstance(value, dict):
        return dict((k, rewrite(v, mirror)) for k, v in value.items())
    return value


def task_names(tasks):
    """Names of the tasks that run (a block's own name is not reported as a task)."""
    for task in tasks:
        if any(key in task for key in ("block", "rescue", "always")):
            for key in ("block", "rescue", "always"):
                yield from task_names(task.get(key) or [])
        else:
            yield task.get("name")


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    from build_mirror import build_mirror
    from mirror_server import MirrorServer

    out = tmp_path_factory.mktemp("examples-mirror")
    summary = build_mirror(str(out), tiers=["LIGHT_CPU"])
    server = MirrorServer(summary["mirror_dir"])
    server.start()
    try:
        yield server, json.loads(pathlib.Path(summary["registry_path"]).read_text())
    finally:
        server.stop()


def run_examples(name, tmp_path, mirror):
    server, test_registry = mirror
    tasks = rewrite(examples_of(name), server.url)
    check_only = CHECK_ONLY.get(name, {})
    missing = set(check_only) - set(task_names(tasks))
    assert not missing, "CHECK_ONLY names tasks that %s's EXAMPLES no longer has: %s" % (name, sorted(missing))
    for task in tasks:
        if task.get("name") in check_only:
            task["check_mode"] = True
    play = {
        "name": "Run the EXAMPLES of voiceagent.models.%s" % name,
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": sys.executable,
                 "test_registry": test_registry,
                 "test_mirror_url": server.url,
                 "test_facts": json.loads(FACTS.read_text())},
        "pre_tasks": SETUP.get(name, []),
        "tasks": tasks,
    }
    (tmp_path / "playbook.yml").write_text(yaml.safe_dump([play], sort_keys=False))
    (tmp_path / "callback_plugins").mkdir(exist_ok=True)
    (tmp_path / "callback_plugins" / "example_recorder.py").write_text(RECORDER)
    (tmp_path / "action_plugins").mkdir(exist_ok=True)
    (tmp_path / "action_plugins" / "test_facts.py").write_text(FACTS_ACTION)
    (tmp_path / "guard").mkdir(exist_ok=True)
    (tmp_path / "guard" / "sitecustomize.py").write_text(GUARD)
    passwd = tmp_path / "passwd"
    group = tmp_path / "group"
    passwd.write_text(pathlib.Path("/etc/passwd").read_text()
                      + "asterisk:x:64990:64990:Asterisk (test):/var/lib/asterisk:/usr/sbin/nologin\n")
    group.write_text(pathlib.Path("/etc/group").read_text() + "asterisk:x:64990:\n")
    guard_log = tmp_path / "connections-refused.log"
    root = tmp_path / "root"  # what the examples see as /opt, /srv, /var/lib, /var/cache (kept across runs)
    for directory in FAKE_DIRS:
        (root / directory.replace("/", "-")).mkdir(mode=0o755, parents=True, exist_ok=True)

    runs = []
    for number in (1, 2):
        results = tmp_path / ("results-%d.jsonl" % number)
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
                   ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_CALLBACKS_ENABLED="example_recorder", ANSIBLE_LOCALHOST_WARNING="false",
                   EXAMPLE_RESULTS=str(results), VOICEAGENT_NET_GUARD_LOG=str(guard_log),
                   PYTHONPATH=str(tmp_path / "guard"), PATH="%s:%s" % (BIN, os.environ.get("PATH", "")))
        script = "; ".join(["mount --bind %s /%s" % (root / d.replace("/", "-"), d) for d in FAKE_DIRS] + [
            "mount --bind %s /etc/passwd" % passwd, "mount --bind %s /etc/group" % group,
            "exec %s playbook.yml" % (BIN / "ansible-playbook")])
        proc = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-ec", script],
                              cwd=str(tmp_path), env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=300, check=False)
        records = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
        runs.append((proc, records))
    return runs, guard_log, check_only


PLUGINS = ["hardware_facts", "model_plan", "model_file", "env_file", "turn_check", "select_tier", "provision_plan",
           "fleet_report"]


@pytest.mark.parametrize("name", PLUGINS)
def test_examples_run_and_a_rerun_changes_nothing(name, tmp_path, mirror):
    runs, guard_log, check_only = run_examples(name, tmp_path, mirror)
    examples = set(task_names(examples_of(name)))
    for number, (proc, records) in enumerate(runs, 1):
        assert proc.returncode == 0, "run %d of %s's EXAMPLES failed:\n%s\n%s" % (
            number, name, proc.stdout[-4000:], proc.stderr[-2000:])
        seen = set(r["task"] for r in records)
        assert examples <= seen, "run %d: example tasks that did not run: %s" % (number, sorted(examples - seen))
        bad = [r for r in records if r["status"] not in ("ok", "skipped")]
        assert not bad, "run %d: %s" % (number, bad)
    first = [r["task"] for r in runs[0][1] if r["status"] == "skipped" and r["task"] in examples]
    assert not first, "example tasks skipped on the first run (their when never holds here): %s" % first
    unchanged = [t for t in CHANGES_FIRST.get(name, [])
                 if not any(r["changed"] for r in runs[0][1] if r["task"] == t)]
    assert not unchanged, "these examples did nothing on a fresh host: %s" % unchanged
    # A check-only example must still have been evaluated: it reports what a real run would change.
    idle = [t for t in check_only if not any(r["changed"] for r in runs[0][1] if r["task"] == t)]
    assert not idle, "check-only examples that would not change a fresh host: %s" % idle
    _proc, second = runs[1]
    changed = [r["task"] for r in second
               if r["changed"] and r["task"] in examples and r["task"] not in check_only]
    assert not changed, "%s's EXAMPLES are not idempotent; changed on the rerun: %s" % (name, changed)
    refused = guard_log.read_text() if guard_log.exists() else ""
    assert not refused, "an example tried to reach a host outside 127.0.0.0/8: %s" % refused


def test_every_plugin_with_examples_is_run():
    modules = set(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py"))
    filters = set(p.stem for p in (ROOT / "plugins" / "filter").glob("*.yml"))
    assert modules | filters == set(PLUGINS)


def test_the_guard_would_catch_an_outside_address(tmp_path):
    """The network guard is live in a child Python: a connection to 192.0.2.1 is refused and logged."""
    (tmp_path / "sitecustomize.py").write_text(GUARD)
    log = tmp_path / "refused.log"
    env = dict(os.environ, PYTHONPATH=str(tmp_path), VOICEAGENT_NET_GUARD_LOG=str(log))
    code = ("import urllib.request\n"
            "try:\n urllib.request.urlopen('http://192.0.2.1/x', timeout=1)\nexcept OSError:\n pass")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=30)
    assert "192.0.2.1" in log.read_text()


def test_urls_are_rewritten_to_the_mirror():
    assert rewrite({"url": "https://huggingface.co/a/b.gguf", "u": "http://127.0.0.1:9/x"}, "http://127.0.0.1:8") == {
        "url": "http://127.0.0.1:8/huggingface.co/a/b.gguf", "u": "http://127.0.0.1:9/x"}
