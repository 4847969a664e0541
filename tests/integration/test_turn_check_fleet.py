"""The real turn check on a fleet host over SSH (issue #13: "on localhost and on at least one fleet host").

One SSH host of tests/fleet/fleet.py (127.0.0.70, the small-cpu profile: its own mount namespace, install
dir and /var/cache/voiceagent) provisions the real-model LIGHT_CPU of demo/real_mirror.py (SmolLM2-135M
Q4_1, en_US-joe-medium, a Korean Vosk zip; about 430 MB) from a mirror on 127.0.0.1, and site.yml runs
the turn check there, required, with the checkout's .venv-runtime (the host sees the checkout: only the
install dir, the cache, /proc/meminfo, /proc/cpuinfo and the memory cgroup are its own).
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
for folder in ("tests/fleet", "tests/support", "demo"):
    sys.path.insert(0, str(ROOT / folder))

import fleet  # noqa: E402
from mirror_server import MirrorServer  # noqa: E402
from real_mirror import build_real_mirror  # noqa: E402
from real_runtime import RUNTIME, requires_runtime  # noqa: E402

BIN = pathlib.Path(sys.executable).parent
FIRST_ADDRESS = 70

pytestmark = [requires_runtime, pytest.mark.skipif(
    not os.path.exists(fleet.SSHD) or os.geteuid() != 0,
    reason="the SSH fleet needs root and openssh-server (.ci/run installs it)")]


@pytest.fixture(scope="module")
def fleet_host(tmp_path_factory):
    state = tmp_path_factory.mktemp("turn-check-fleet")
    built = build_real_mirror(str(state / "real"), str(RUNTIME))
    try:
        with MirrorServer(built["mirror_dir"]) as server:
            record = fleet.up(1, ["small-cpu"], str(state / "fleet"), first_address=FIRST_ADDRESS)
            try:
                yield state, built, server, record["hosts"][0]
            finally:
                fleet.down(str(state / "fleet"))  # stops the sshd by its recorded pid, removes its install dir
    finally:
        shutil.rmtree(state / "real", ignore_errors=True)  # the 430 MB mirror copy


def test_a_fleet_host_provisions_the_real_models_and_measures_a_turn(fleet_host):
    state, built, server, host = fleet_host
    reports = state / "reports"
    cmd = [str(BIN / "ansible-playbook"), "playbooks/site.yml", "-i", str(state / "fleet" / "inventory.yml"),
           "-e", "voiceagent_mirror_url=%s" % server.url, "-e", "voiceagent_registry=%s" % built["registry_path"],
           "-e", "voiceagent_report_dir=%s" % reports, "-e", "voiceagent_lock_file=%s" % (state / "lock.json"),
           "-e", "voiceagent_runtime_python=%s" % RUNTIME, "-e", "voiceagent_turn_check=true"]
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_PIPELINING="true", PATH="%s:%s" % (BIN, os.environ.get("PATH", "")))
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, cwd=str(ROOT),
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]

    (row,) = json.loads((reports / "voiceagent-report.json").read_text())["hosts"]
    measured = row["measured"]
    assert row["host"] == host["name"] and row["status"] == "ok" and row["tier"] == "LIGHT_CPU", row
    assert measured and measured["runtime"] == "python", row
    assert 0 < measured["first_audio_sec"] <= measured["turn_sec"] and measured["llm_tokens_per_sec"] > 0
    assert measured["llm_prompt_tokens"] > 0 and row["measured_vs_predicted"]
    # Every file came over HTTP from the mirror, once.
    assert server.request_counts("GET") == dict(("/" + f["mirror_relpath"], 1) for f in built["files"])
    # The host's own namespace got the files and the .env, and the turn check stored its result in the
    # host's /var/cache/voiceagent (the default store), which is this host's directory, not the controller's.
    install = pathlib.Path(host["dir"], "install")
    assert (install / "models" / "llm" / "SmolLM2-135M-Instruct.Q4_1.gguf").is_file()
    assert "LOCAL_LLM_MODEL_PATH=/app/models/llm/SmolLM2-135M-Instruct.Q4_1.gguf\n" in (install / ".env").read_text()
    store = json.loads(pathlib.Path(host["dir"], "cache", "turn_check.json").read_text())
    assert measured["measured_at"] in [entry["measured_at"] for entry in store["results"].values()]
