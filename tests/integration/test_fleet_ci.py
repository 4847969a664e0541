"""The CI path over real SSH hosts: site.yml with -e voiceagent_min_tier and -e voiceagent_mirror_url,
no prompt (stdin closed), the exit code as the gate, and the JSON report read by a machine."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fleet"))

import fleet  # noqa: E402
import mirror  # noqa: E402

BIN = pathlib.Path(sys.executable).parent

pytestmark = pytest.mark.skipif(
    not os.path.exists(fleet.SSHD) or os.geteuid() != 0,
    reason="the SSH fleet needs root and openssh-server (.ci/run installs it)")


@pytest.fixture(scope="module")
def ci_fleet(tmp_path_factory):
    state = tmp_path_factory.mktemp("fleet-ci")
    info = mirror.start(str(state))
    try:
        fleet.up(3, ["small-cpu", "nvidia-12gb", "nvidia-4gb"], str(state), first_address=40)
        fleet._CHILDREN.clear()
        yield state, info
    finally:
        try:
            fleet.down(str(state))
        finally:
            mirror.stop(str(state))


def run_ci(state, info, min_tier):
    """What a CI job runs: no inventory vars for the mirror or the gate, only -e."""
    reports = state / ("reports-" + min_tier)
    cmd = [str(BIN / "ansible-playbook"), "playbooks/site.yml", "-i", str(state / "inventory.yml"),
           "-e", "voiceagent_min_tier=%s" % min_tier, "-e", "voiceagent_mirror_url=%s" % info["url"],
           "-e", "voiceagent_registry=%s" % info["registry"],
           "-e", "voiceagent_report_dir=%s" % reports, "-e", "voiceagent_lock_file=%s" % (state / "lock.json")]
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_PIPELINING="true", ANSIBLE_FORKS="8",
               PATH="%s:%s" % (BIN, os.environ.get("PATH", "")))
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                          cwd=str(ROOT), timeout=300, check=False)
    return proc, json.loads((reports / "voiceagent-report.json").read_text())


def test_the_gate_fails_the_job_and_the_report_names_the_host_below(ci_fleet):
    state, info = ci_fleet
    proc, report = run_ci(state, info, "MEDIUM_CPU")
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert report["passed"] is False and report["min_tier"] == "MEDIUM_CPU"
    assert report["summary"]["below_min_tier"] == ["h40"]
    assert {row["host"]: row["tier"] for row in report["hosts"]} == {
        "h40": "LIGHT_CPU", "h41": "HEAVY_GPU", "h42": "MEDIUM_CPU"}
    assert "h40" in proc.stdout.split("Fail the run when")[-1]


def test_the_same_fleet_passes_a_gate_it_meets(ci_fleet):
    state, info = ci_fleet
    proc, report = run_ci(state, info, "LIGHT_CPU")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert report["passed"] is True and report["summary"]["failed_hosts"] == []
    assert report["summary"]["below_min_tier"] == []
