"""AWX job slicing, emulated with ansible-runner (the engine under AWX): the 8-host fleet of
molecule/default run as 3 slices, each its own ansible-runner job with its own private data dir and
``limit``, then merged by playbooks/merge_reports.yml, gives the report of one run over all 8 hosts,
with voiceagent_min_tier applied once, by the merge.

Each run gets a fresh fleet (the same create.yml arguments, on 127.0.0.80-87), so both provision
from nothing and their reports can be compared field by field. Left out of the comparison, because
they are the clock's and not the fleet's: ``generated_at``, each host's ``changed_at`` (that same
time stamp on every host the run changed) and ``download_seconds`` (how long the host's downloads
took), and the Markdown's "Generated <time>." line. One field is compared up to the order of events:
a digest source of ``recorded`` (this host's download pinned the file's digest in the lock file)
counts as ``lock`` (checked against that pin), because which host pins a file first is a race
between the forks of a run as much as between slices; each file is still pinned by exactly one host.
"""
import json
import os
import pathlib
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fleet"))

import fleet  # noqa: E402
import mirror  # noqa: E402

ansible_runner = pytest.importorskip("ansible_runner")

BIN = pathlib.Path(sys.executable).parent
FIRST_ADDRESS = 80
SLICES = 3
MIN_TIER = "MEDIUM_CPU"
CLOCK_FIELDS = ("changed_at", "download_seconds")

pytestmark = pytest.mark.skipif(
    not os.path.exists(fleet.SSHD) or os.geteuid() != 0,
    reason="the SSH fleet needs root and openssh-server (.ci/run installs it)")


def create_yml_argv(state, info):
    """molecule/default/create.yml's `fleet.py up` arguments, moved from 127.0.0.10 to FIRST_ADDRESS."""
    tasks = yaml.safe_load((ROOT / "molecule" / "default" / "create.yml").read_text())[0]["tasks"]
    argv = next(t["ansible.builtin.command"]["argv"] for t in tasks if t["name"].startswith("Start eight hosts"))
    values = {"{{ fleet_project }}": str(ROOT), "{{ fleet_state_dir }}": str(state),
              "{{ (fleet_mirror.stdout | from_json).url }}": info["url"],
              "{{ (fleet_mirror.stdout | from_json).registry }}": info["registry"],
              "{{ ansible_playbook_python }}": sys.executable}
    out = []
    for arg in argv[2:]:
        for template, value in values.items():
            arg = arg.replace(template, value)
        if arg.startswith(("--no-env=h1", "--host-var=h1")):
            arg = arg.replace("=h1", "=h%d" % (FIRST_ADDRESS // 10), 1)
        out.append(arg.replace("--first-address=10", "--first-address=%d" % FIRST_ADDRESS))
    assert "--hosts=8" in out and "--first-address=%d" % FIRST_ADDRESS in out, out
    return out


@pytest.fixture(scope="module")
def fleet_mirror(tmp_path_factory):
    state = tmp_path_factory.mktemp("awx-mirror")
    info = mirror.start(str(state))
    try:
        yield info
    finally:
        mirror.stop(str(state))


class FreshFleet(object):
    """The 8 hosts, up for one `with`; down (sshd, mounts, what up made) when it ends, whatever happened."""

    def __init__(self, state, info):
        self.state, self.info = state, info

    def __enter__(self):
        assert fleet.main(create_yml_argv(self.state, self.info)) == 0
        return self.state / "inventory.yml"

    def __exit__(self, exc_type, *_exc):
        try:
            if exc_type is not None:  # what each host's sshd said, before down removes its logs
                for log in sorted(self.state.glob("hosts/*/sshd.log")):
                    print("%s: %s" % (log.parent.name, log.read_text()[-1000:]))
        finally:
            fleet.down(str(self.state))


def run_job(work, playbook, inventory, limit=None, **extravars):
    """One AWX job: ansible-runner over its own private data dir."""
    envvars = {"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".collections"),
               "ANSIBLE_PIPELINING": "true", "ANSIBLE_FORKS": "8", "ANSIBLE_NOCOLOR": "1",
               "PATH": "%s:%s" % (BIN, os.environ.get("PATH", ""))}
    work.mkdir(parents=True)
    return ansible_runner.run(private_data_dir=str(work), playbook=str(ROOT / "playbooks" / playbook),
                              inventory=str(inventory) if inventory else None, limit=limit,
                              extravars=extravars, envvars=envvars, quiet=True, timeout=240)


def output(job):
    return job.stdout.read()[-4000:]


def without_clock(report):
    report = dict(report, generated_at=None)
    report["hosts"] = [dict(((k, v) for k, v in host.items() if k not in CLOCK_FIELDS),
                            digests=dict((name, "lock" if source == "recorded" else source)
                                         for name, source in host["digests"].items()))
                       for host in report["hosts"]]
    return report


def pinned_by(report):
    """File name to the hosts whose download pinned its digest."""
    found = {}
    for host in report["hosts"]:
        for name, source in host["digests"].items():
            if source == "recorded":
                found.setdefault(name, []).append(host["host"])
    return found


def markdown_without_clock(path):
    lines = path.read_text().replace(" from recorded", " from lock").splitlines()
    return [line for line in lines if not line.startswith("Generated ")] + [
        line.partition(". ")[2] for line in lines if line.startswith("Generated ")]


def test_three_slices_merged_give_the_report_of_one_run(fleet_mirror, tmp_path):
    # One job over the whole fleet (job_slice_count 1).
    with FreshFleet(tmp_path / "fleet-whole", fleet_mirror) as inventory:
        hosts = sorted(yaml.safe_load(inventory.read_text())["all"]["children"]["voiceagent"]["hosts"])
        whole_dir = tmp_path / "reports-whole"
        whole = run_job(tmp_path / "job-whole", "site.yml", inventory, voiceagent_report_dir=str(whole_dir),
                        voiceagent_lock_file=str(tmp_path / "lock-whole.json"), voiceagent_min_tier=MIN_TIER)
    # Below the minimum tier: the gate fails the one run.
    assert whole.rc == 2, output(whole)
    assert sorted(whole.stats["ok"]) == sorted(hosts + ["localhost"]), whole.stats
    assert list(whole.stats["failures"]) == ["localhost"] and not whole.stats["dark"]

    # job_slice_count 3: AWX deals the hosts round-robin in name order, one job per slice. AWX gives each
    # slice an inventory of its hosts only; here each job's limit names them, and localhost, or the report
    # play (hosts: localhost) would be left out by the limit.
    sliced_dir = tmp_path / "reports-sliced"
    with FreshFleet(tmp_path / "fleet-sliced", fleet_mirror) as inventory:
        for number in range(1, SLICES + 1):
            part = hosts[number - 1::SLICES]
            job = run_job(tmp_path / ("job-slice-%d" % number), "site.yml", inventory, limit=",".join(part + ["localhost"]),
                          voiceagent_report_dir=str(sliced_dir), voiceagent_report_slice=number,
                          voiceagent_lock_file=str(tmp_path / "lock-sliced.json"), voiceagent_min_tier=MIN_TIER)
            # A slice leaves the gate to the merge: it passes with hosts the role stopped below the minimum tier.
            assert job.rc == 0, output(job)
            assert sorted(job.stats["ok"]) == sorted(part + ["localhost"]) and not job.stats["failures"], job.stats
            written = json.loads((sliced_dir / "slices" / ("%d.json" % number)).read_text())
            assert written["hosts"] == part and written["slice"] == str(number)
    assert not (sliced_dir / "voiceagent-report.json").exists()
    merge = run_job(tmp_path / "job-merge", "merge_reports.yml", None, voiceagent_report_dir=str(sliced_dir),
                    voiceagent_min_tier=MIN_TIER, voiceagent_report_slice_count=SLICES)
    assert merge.rc == 2, output(merge)
    assert "Below MEDIUM_CPU: h80, h82, h86." in output(merge)

    one = json.loads((whole_dir / "voiceagent-report.json").read_text())
    merged = json.loads((sliced_dir / "voiceagent-report.json").read_text())
    assert without_clock(merged) == without_clock(one)
    assert sorted(pinned_by(merged)) == sorted(pinned_by(one))
    assert all(len(hosts_) == 1 for report in (one, merged) for hosts_ in pinned_by(report).values())
    assert markdown_without_clock(sliced_dir / "voiceagent-report.md") == markdown_without_clock(
        whole_dir / "voiceagent-report.md")
    assert merged["passed"] is False and merged["summary"]["below_min_tier"] == ["h80", "h82", "h86"]
    assert merged["summary"]["by_status"]["ok"] == 5 and merged["summary"]["bytes_moved"] > 0
    assert [h["host"] for h in merged["hosts"]] == hosts
    assert {h["host"]: h["tier"] for h in merged["hosts"]}["h87"] == "MEDIUM_CPU"
    assert not (whole_dir / "slices").exists()

    # The same slices merged again without a minimum tier: the hosts the role stopped below MEDIUM_CPU
    # are failed rows, so the gate still fails; the merged slices are removed all the same, when asked.
    again = run_job(tmp_path / "job-merge-2", "merge_reports.yml", None, voiceagent_report_dir=str(sliced_dir),
                    voiceagent_report_prune_slices=True)
    assert again.rc == 2, output(again)
    report = json.loads((sliced_dir / "voiceagent-report.json").read_text())
    assert report["min_tier"] is None and report["summary"]["below_min_tier"] == []
    assert report["summary"]["failed_hosts"] == ["h80", "h82", "h86"]
    assert list((sliced_dir / "slices").iterdir()) == []
    empty = run_job(tmp_path / "job-merge-3", "merge_reports.yml", None, voiceagent_report_dir=str(sliced_dir))
    assert empty.rc == 2 and "no slice reports to merge" in output(empty)
