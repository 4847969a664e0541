"""playbooks/site.yml end to end on localhost hosts, against a local mirror of real-format files."""
import contextlib
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "demo"))
sys.path.insert(0, str(ROOT / "tests" / "support"))

from build_mirror import build_mirror  # noqa: E402
from mirror_server import MirrorServer  # noqa: E402

BIN = pathlib.Path(sys.executable).parent
TINYLLAMA = "/huggingface.co/TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF/resolve/main/tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf"
SECRETS = (
    "# Asterisk ARI\r\n"
    "ASTERISK_ARI_PASSWORD='p|ss&w\\ord $HOME'  \n"
    "JWT_SECRET=a$b\\c&d|e\n"
    "export OPENAI_API_KEY=\"sk-#not-a-comment\"\n"
    "# LOCAL_LLM_MODEL_PATH=/models/commented-out-example.gguf\n"
    "LOCAL_LLM_MODEL_PATH=/app/models/llm/old.gguf\n"
    "\n"
    "SMTP_PASSWORD=\"quote\\\"d value\"\n"
)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    work = tmp_path_factory.mktemp("mirror")
    build_mirror(str(work), tiers=["LIGHT_CPU", "MEDIUM_CPU"])
    with MirrorServer(str(work / "mirror")) as server:
        server.registry = str(work / "registry.json")
        yield server


class Fleet(object):
    """Hosts that are all this machine over the local connection, each with its own install dir."""

    def __init__(self, base, mirror, hosts=("h1",)):
        self.base, self.mirror, self.hosts = base, mirror, hosts
        self.reports = base / "reports"
        self.lock = base / "voiceagent-models.lock.json"
        for host in hosts:
            (base / host).mkdir(parents=True, exist_ok=True)

    def install(self, host="h1"):
        return self.base / host

    def inventory(self, host_vars=None):
        lines = ["voiceagent:", "  hosts:"]
        for host in self.hosts:
            lines += ["    %s:" % host, "      ansible_connection: local",
                      "      ansible_python_interpreter: %s" % sys.executable,
                      "      voiceagent_install_dir: %s" % self.install(host)]
            for key, value in (host_vars or {}).get(host, {}).items():
                lines.append("      %s: %s" % (key, json.dumps(value)))
        path = self.base / "inventory.yml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def run(self, *extra, host_vars=None, check=False):
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
                   ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), ANSIBLE_NOCOLOR="1")
        cmd = [str(BIN / "ansible-playbook"), "-i", str(self.inventory(host_vars)), str(ROOT / "playbooks" / "site.yml"),
               "-e", "voiceagent_registry=%s" % self.mirror.registry,
               "-e", "voiceagent_mirror_url=%s" % self.mirror.url,
               "-e", "voiceagent_lock_file=%s" % self.lock,
               "-e", "voiceagent_report_dir=%s" % self.reports,
               # The benchmark cache in the checkout, not /var/cache/voiceagent; shared, so it is measured once.
               "-e", "voiceagent_benchmark_cache=%s" % (ROOT / ".cache" / "test-hardware-benchmark.json")] + list(extra)
        if check:
            cmd.append("--check")
        self.mirror.requests.clear()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(self.base), check=False)
        report_path = self.reports / "voiceagent-report.json"
        report = json.loads(report_path.read_text()) if report_path.exists() else None
        return proc, report


def host_row(report, host="h1"):
    return next(h for h in report["hosts"] if h["host"] == host)


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory, mirror):
    fleet = Fleet(tmp_path_factory.mktemp("fleet"), mirror)
    (fleet.install() / ".env").write_bytes(SECRETS.encode())
    os.chmod(fleet.install() / ".env", 0o640)
    first = fleet.run()
    second = fleet.run()
    return fleet, first, second


def test_a_first_run_puts_the_tier_in_place(provisioned):
    fleet, (proc, report), _unused = provisioned
    assert proc.returncode == 0, proc.stdout[-3000:]
    row = host_row(report)
    assert row["status"] == "ok" and row["tier"] == "LIGHT_CPU" and row["files_changed"] == 4
    models = fleet.install() / "models"
    assert (models / "llm" / "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf").read_bytes()[:4] == b"GGUF"
    assert (models / "stt" / "vosk-model-small-en-us-0.15" / "am").is_dir()
    assert (models / "tts" / "en_US-lessac-medium.onnx.json").is_file()
    assert not list(models.glob("*/.*.part"))


def test_a_second_run_changes_nothing_and_downloads_nothing(provisioned):
    _unused, (_proc, first), (proc, report) = provisioned
    assert proc.returncode == 0
    provision_play = proc.stdout.split("PLAY [Write the fleet report")[0]
    assert "changed: [h1]" not in provision_play
    # Nothing changed anywhere, the controller included: the report keeps the first run's row
    # (what that run moved, and when) and its time stamp, so its files are not rewritten.
    recap = [line for line in proc.stdout.splitlines() if " : ok=" in line]
    assert len(recap) == 2 and all(" changed=0 " in line for line in recap), "\n".join(recap)
    assert report == first
    assert host_row(report)["changed_at"] == first["generated_at"] and host_row(report)["files_changed"] == 4


def test_a_provisioned_host_skips_every_file_and_env_task(provisioned):
    proc, report = provisioned[2]
    for task in ("Put each model file in place", "Point the .env at the tier", "Create the model directories"):
        section = proc.stdout.split("TASK [voiceagent.models.provision : %s]" % task)[1].split("TASK [")[0]
        assert "skipping: [h1]" in section and "ok: [h1]" not in section
    # This run's own details, in a report of its own (the shared one keeps the last change's details).
    fleet = provisioned[0]
    fleet.run("-e", "voiceagent_report_dir=%s" % (fleet.base / "reports-fresh"))
    fresh = json.loads((fleet.base / "reports-fresh" / "voiceagent-report.json").read_text())
    assert host_row(fresh)["files_unchanged"] == 4
    assert host_row(fresh)["digests"]["en_US-lessac-medium.onnx"] == "lock"


def test_the_second_run_sends_no_request_to_the_mirror(provisioned, mirror):
    fleet, _unused, _unused = provisioned
    fleet.run()
    assert mirror.requests == []


def test_env_changes_only_owned_keys_and_keeps_its_mode(provisioned):
    fleet, _unused, _unused = provisioned
    env = (fleet.install() / ".env").read_bytes().decode()
    kept = [line for line in SECRETS.splitlines(True) if not line.startswith("LOCAL_LLM_MODEL_PATH=")]
    for line in kept:
        assert line in env
    # Updated in place on its own line; appended keys follow the file's first line ending (CRLF here).
    assert "LOCAL_LLM_MODEL_PATH=/app/models/llm/tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf\n" in env
    assert "LOCAL_LLM_THREADS=%d\r\n" % len(os.sched_getaffinity(0)) in env
    assert oct(os.stat(fleet.install() / ".env").st_mode & 0o777) == "0o640"


def test_no_secret_reaches_the_output_or_the_report(provisioned):
    fleet, (proc, _unused), _unused = provisioned
    text = proc.stdout + proc.stderr + (fleet.reports / "voiceagent-report.json").read_text() + \
        (fleet.reports / "voiceagent-report.md").read_text()
    for secret in ("p|ss&w", "a$b\\c", "sk-#not", "quote\\"):
        assert secret not in text


def test_digests_the_registry_lacks_are_pinned_in_the_lock_file(provisioned):
    fleet, (_unused, report), _unused = provisioned
    lock = json.loads(fleet.lock.read_text())["files"]
    assert any(url.endswith("en_US-lessac-medium.onnx") for url in lock)
    assert host_row(report)["digests"]["en_US-lessac-medium.onnx"] == "recorded"
    assert host_row(report)["digests"]["tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf"] == "registry"


def test_check_mode_on_a_fresh_host_plans_and_writes_nothing(tmp_path, mirror):
    fleet = Fleet(tmp_path, mirror)
    proc, report = fleet.run(check=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert report["mode"] == "plan"
    assert host_row(report)["status"] == "planned"
    assert host_row(report)["bytes_to_download"] > 100000
    assert list(fleet.install().iterdir()) == []
    assert not fleet.lock.exists()
    assert mirror.requests == []


def test_a_dropped_connection_leaves_no_partial_model_and_the_rerun_resumes(tmp_path, mirror):
    fleet = Fleet(tmp_path, mirror)
    mirror.drop_after[TINYLLAMA] = 50000
    try:
        proc, report = fleet.run()
    finally:
        del mirror.drop_after[TINYLLAMA]
    assert proc.returncode != 0
    assert host_row(report)["status"] == "failed"
    llm = fleet.install() / "models" / "llm"
    assert not (llm / "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf").exists()
    assert (llm / ".tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf.part").stat().st_size == 50000
    proc, report = fleet.run()
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert ("GET", TINYLLAMA, "bytes=50000-") in mirror.requests
    assert (llm / "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf").read_bytes()[:4] == b"GGUF"


def test_a_missing_file_on_the_mirror_fails_the_host_clearly(tmp_path, mirror):
    fleet = Fleet(tmp_path, mirror)
    mirror.status[TINYLLAMA] = 404
    try:
        proc, report = fleet.run()
    finally:
        del mirror.status[TINYLLAMA]
    assert proc.returncode != 0
    assert "404" in host_row(report)["error"]
    assert "h1" in report["summary"]["failed_hosts"]


def test_a_digest_mismatch_is_refused(tmp_path, mirror):
    fleet = Fleet(tmp_path, mirror)
    registry = json.loads(pathlib.Path(mirror.registry).read_text())
    registry["tiers"]["LIGHT_CPU"]["models"]["llm"]["sha256"] = "0" * 64
    bad = tmp_path / "bad-registry.json"
    bad.write_text(json.dumps(registry))
    proc, report = fleet.run("-e", "voiceagent_registry=%s" % bad)
    assert proc.returncode != 0
    assert "sha256" in host_row(report)["error"]
    assert not (fleet.install() / "models" / "llm" / "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf").exists()


def test_a_tier_switch_keeps_old_files_unless_pruned(tmp_path, mirror):
    fleet = Fleet(tmp_path, mirror)
    assert fleet.run()[0].returncode == 0
    proc, report = fleet.run(host_vars={"h1": {"voiceagent_tier": "MEDIUM_CPU"}})
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert host_row(report)["tier"] == "MEDIUM_CPU" and host_row(report)["source"] == "override"
    assert any("cannot run it as promised" in w for w in host_row(report)["warnings"])
    llm = fleet.install() / "models" / "llm"
    assert sorted(p.name for p in llm.iterdir() if not p.name.startswith(".")) == [
        "Phi-3-mini-4k-instruct-q4.gguf", "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf"]
    assert "Phi-3-mini-4k-instruct-q4.gguf" in (fleet.install() / ".env").read_text()
    fleet.run("-e", "voiceagent_prune=true", host_vars={"h1": {"voiceagent_tier": "MEDIUM_CPU"}})
    assert sorted(p.name for p in llm.iterdir() if not p.name.startswith(".")) == ["Phi-3-mini-4k-instruct-q4.gguf"]


def test_the_minimum_tier_gate_fails_the_run_and_the_report_says_why(tmp_path, mirror):
    fleet = Fleet(tmp_path, mirror)
    proc, report = fleet.run("-e", "voiceagent_min_tier=MEDIUM_CPU")
    assert proc.returncode != 0
    assert report["passed"] is False
    assert report["summary"]["below_min_tier"] == ["h1"]
    assert host_row(report)["below_min_tier"] is True


def test_an_unknown_override_lists_the_valid_tiers(tmp_path, mirror):
    fleet = Fleet(tmp_path, mirror)
    proc, report = fleet.run(host_vars={"h1": {"voiceagent_tier": "ULTRA"}})
    assert proc.returncode != 0
    assert "Unknown tier 'ULTRA'; valid tiers are" in host_row(report)["error"]


def test_via_controller_fetches_each_file_once_for_the_whole_fleet(tmp_path, mirror):
    fleet = Fleet(tmp_path, mirror, hosts=("h1", "h2", "h3"))
    cache = tmp_path / "cache"
    proc, report = fleet.run("-e", "voiceagent_fetch_via_controller=true",
                             "-e", "voiceagent_controller_cache_dir=%s" % cache)
    assert proc.returncode == 0, proc.stdout[-3000:]
    gets = [path for method, path, _unused in mirror.requests if method == "GET"]
    assert len(gets) == len(set(gets)) == 4
    for host in fleet.hosts:
        assert (fleet.install(host) / "models" / "llm" / "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf").is_file()


@contextlib.contextmanager
def small_tmpfs(target, size):
    """A tmpfs of ``size`` (mount's syntax, e.g. 64k) over ``target`` for the block; skips where it cannot mount."""
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", str(target)], check=False).returncode:
        pytest.skip("tmpfs could not be mounted here")
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=False)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="needs root to mount a small tmpfs")
def test_a_full_disk_is_refused_before_the_first_byte(tmp_path, mirror):
    fleet = Fleet(tmp_path, mirror)
    with small_tmpfs(fleet.install(), "64k") as target:
        proc, report = fleet.run()
        error = host_row(report)["error"]
        assert proc.returncode != 0
        assert "h1: %s has" % target in error and "bytes free" in error and "needs" in error
        assert mirror.requests == []


def test_a_long_transfer_prints_progress_on_the_controller(tmp_path, mirror):
    fleet = Fleet(tmp_path, mirror)
    mirror.throttle[TINYLLAMA] = 20000
    try:
        proc, report = fleet.run("-e", "voiceagent_progress_interval=1")
    finally:
        del mirror.throttle[TINYLLAMA]
    assert proc.returncode == 0, proc.stdout[-3000:]
    progress = [line for line in proc.stdout.splitlines()
                if line.startswith("h1: tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf ") and "%)" in line]
    assert len(progress) >= 2
    # The action adds up the seconds of its slices: about one second per progress line, and more.
    assert host_row(report)["download_seconds"] >= len(progress) * 0.9, host_row(report)
