"""Ansible's own accounting is the truth: an unreachable host is unreachable in the recap and the
exit code (4), and still has its row in the report; a rerun that changes nothing says changed=0
for every host, the controller included."""
import json
import os
import pathlib
import socket
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

# The same local mirror as site.yml's own tests.
from test_site_playbook import mirror  # noqa: E402,F401 pylint: disable=unused-import

BIN = pathlib.Path(sys.executable).parent


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(tmp_path, mirror):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text("\n".join([
        "voiceagent:",
        "  hosts:",
        "    up:",
        "      ansible_connection: local",
        "      ansible_python_interpreter: %s" % sys.executable,
        "      voiceagent_install_dir: %s" % (tmp_path / "up"),
        "    down:",
        "      ansible_host: 127.0.0.1",
        "      ansible_port: %d" % closed_port(),
        "      ansible_ssh_common_args: -o ConnectTimeout=3 -o BatchMode=yes",
        "",
    ]))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), str(ROOT / "playbooks" / "site.yml"),
                           "-e", "voiceagent_registry=%s" % mirror.registry, "-e", "voiceagent_mirror_url=%s" % mirror.url,
                           "-e", "voiceagent_report_dir=%s" % (tmp_path / "reports"),
                           "-e", "voiceagent_lock_file=%s" % (tmp_path / "lock.json")],
                          capture_output=True, text=True, env=env, cwd=str(tmp_path), check=False)
    report = json.loads((tmp_path / "reports" / "voiceagent-report.json").read_text())
    recap = dict((line.split()[0], line) for line in proc.stdout.splitlines() if " : ok=" in line)
    return proc, report, recap


def test_an_unreachable_host_is_unreachable_in_the_recap_the_exit_code_and_the_report(tmp_path, mirror):
    proc, report, recap = run(tmp_path, mirror)
    assert proc.returncode == 4, proc.stdout[-3000:]
    assert " unreachable=1 " in recap["down"] and " ignored=0 " in recap["down"], recap["down"]
    assert " failed=0 " in recap["up"] and " unreachable=0 " in recap["up"]
    rows = dict((row["host"], row) for row in report["hosts"])
    assert rows["down"]["status"] == "unreachable" and "could not reach" in rows["down"]["error"]
    assert rows["up"]["status"] == "ok"
    assert report["passed"] is False and report["summary"]["failed_hosts"] == ["down"]

    # The rerun changes nothing on the host that was reached, nor on the controller.
    again, report_again, recap = run(tmp_path, mirror)
    assert again.returncode == 4
    assert " changed=0 " in recap["up"] and " changed=0 " in recap["localhost"], "\n".join(recap.values())
    assert report_again == report
