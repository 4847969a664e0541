"""examples/inventory runs as-is on the SSH fleet: site.yml with the example's group_vars and host_vars.

tests/fleet/example_fleet.py starts one SSH host per example host (127.0.0.60-65, state dir
.fleet-ex) and writes an overlay that re-points only connection details and the mirror. The run
must give every host the tier the example promises for its hardware (the pinned pbx-gpu-02
MEDIUM_CPU by the override), put pbx-cpu-03's models and .env under /srv/voice-agent, own the
model files by the example's `asterisk` user, and change nothing when run again.
"""
import json
import os
import pathlib
import pwd
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fleet"))

import example_fleet  # noqa: E402
import fleet  # noqa: E402

BIN = pathlib.Path(sys.executable).parent
STATE = ROOT / ".fleet-ex"
PINNED = "pbx-gpu-02.example.com"
SRV_HOST = "pbx-cpu-03.example.com"

pytestmark = pytest.mark.skipif(
    not os.path.exists(fleet.SSHD) or os.geteuid() != 0,
    reason="the SSH fleet needs root and openssh-server (.ci/run installs it)")


@pytest.fixture
def example(tmp_path):
    out = tmp_path
    try:
        record = example_fleet.up(ROOT / "examples" / "inventory", example_fleet.DEFAULT_MAP, str(STATE),
                                  first_address=60)
        yield record, out
    finally:
        example_fleet.down(str(STATE))


def site(out, name):
    """The documented command: the example inventory, then the overlay; only run outputs as -e."""
    reports = out / ("reports-" + name)
    cmd = [str(BIN / "ansible-playbook"), "playbooks/site.yml",
           "-i", "examples/inventory", "-i", str(STATE / "overlay.yml"),
           "-e", "voiceagent_report_dir=%s" % reports, "-e", "voiceagent_lock_file=%s" % (out / "lock.json")]
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_PIPELINING="true", ANSIBLE_FORKS="8",
               PATH="%s:%s" % (BIN, os.environ.get("PATH", "")))
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                          cwd=str(ROOT), timeout=420, check=False)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    return proc, json.loads((reports / "voiceagent-report.json").read_text())


def test_the_example_inventory_runs_as_is_and_a_rerun_changes_nothing(example):
    record, out = example
    hosts = dict((h["name"], h) for h in record["hosts"])
    assert sorted(hosts) == ["pbx-cpu-0%d.example.com" % n for n in (1, 2, 3)] + [
        "pbx-gpu-0%d.example.com" % n for n in (1, 2, 3)]
    assert hosts["pbx-gpu-01.example.com"]["profile"] == "nvidia-12gb"
    assert hosts["pbx-gpu-03.example.com"]["profile"] == "amd-gpu"

    _proc, report = site(out, "first")
    rows = dict((row["host"], row) for row in report["hosts"])
    assert report["passed"] is True and report["min_tier"] == "LIGHT_CPU"
    for name, host in hosts.items():
        row = rows[name]
        assert row["status"] == "ok", row
        if name == PINNED:
            # host_vars pins it: the override wins whatever the hardware could try.
            assert (row["tier"], row["source"]) == ("MEDIUM_CPU", "override"), row
        else:
            assert (row["tier"], row["source"]) == (host["expected_tier"], "auto"), (name, row)
        assert row["files_changed"] >= 4, row
    assert rows["pbx-gpu-01.example.com"]["tier"] == "HEAVY_GPU"
    # AMD: the agent's GPU image is CUDA only, so a CPU tier, and the reason says why.
    assert rows["pbx-gpu-03.example.com"]["tier"] == "MEDIUM_CPU"

    # pbx-cpu-03 installs under /srv/voice-agent (host_vars), .env in its config/ directory.
    srv = pathlib.Path(hosts[SRV_HOST]["mounts"]["/srv/voice-agent"])
    opt = pathlib.Path(hosts[SRV_HOST]["dir"]) / "install"
    assert (srv / "config" / ".env").is_file() and oct((srv / "config" / ".env").stat().st_mode & 0o777) == "0o600"
    assert "LOCAL_LLM_MODEL_PATH=" in (srv / "config" / ".env").read_text()
    assert not list(opt.iterdir()), "pbx-cpu-03 wrote under /opt/asterisk-ai-voice-agent"
    other = pathlib.Path(hosts["pbx-cpu-01.example.com"]["dir"]) / "install"
    assert (other / ".env").is_file()

    # The model files belong to the example's voiceagent_owner/group.
    asterisk = pwd.getpwnam("asterisk")
    for name, host in hosts.items():
        base = srv if name == SRV_HOST else pathlib.Path(host["dir"]) / "install"
        # The model files; the modules' own digest records (.voiceagent-*) are not the agent's.
        files = [p for p in (base / "models").rglob("*") if p.is_file() and not p.name.startswith(".voiceagent-")]
        assert files, name
        wrong = [str(p) for p in files if (p.stat().st_uid, p.stat().st_gid) != (asterisk.pw_uid, asterisk.pw_gid)]
        assert not wrong, "%s: not owned by asterisk: %s" % (name, wrong[:3])

    proc, again = site(out, "rerun")
    assert again["summary"]["failed_hosts"] == [] and again["passed"] is True
    assert all(row["files_changed"] == 0 for row in again["hosts"]), again["hosts"]
    recap = [line for line in proc.stdout.splitlines() if ".example.com" in line and "changed=" in line]
    assert len(recap) == 6 and all(" changed=0 " in line for line in recap), "\n".join(recap)


def test_down_removes_what_up_created():
    """A fresh up/down cycle: the account, the listeners, the mount points and the cache dirs go again."""
    existed = _account_exists()
    made = [p for p in ("/srv/voice-agent", "/var/cache/voiceagent-controller") if not os.path.exists(p)]
    record = example_fleet.up(ROOT / "examples" / "inventory", example_fleet.DEFAULT_MAP, str(STATE),
                              first_address=60)
    try:
        assert _account_exists()
        assert all(fleet.address_accepts(h["address"]) for h in record["hosts"])
    finally:
        example_fleet.down(str(STATE))
    assert not STATE.exists()
    assert _account_exists() == existed
    assert not any(fleet.address_accepts("127.0.0.%d" % n) for n in range(60, 66))
    assert not [p for p in made if os.path.exists(p)]


def _account_exists():
    try:
        pwd.getpwnam("asterisk")
    except KeyError:
        return False
    return True
