"""The host's language end to end: playbooks/site.yml on localhost hosts against a local mirror that has
the Spanish and Korean models (synthetic stand-ins of the registry's language entries).

One run, three hosts: es-ES gets the Spanish Vosk model and voice; ko-KR (no Piper voice) fails before any
download, naming the languages with a voice, and its .env stays as it was; ko-KR with
voiceagent_language_fallback en-US gets the Korean Vosk model and the English voice, and the report says so.
"""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "demo"))
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from build_mirror import build_mirror  # noqa: E402
from mirror_server import MirrorServer  # noqa: E402
from test_site_playbook import BIN, Fleet, host_row  # noqa: E402

SEEDED = "ASTERISK_ARI_PASSWORD=secret\nLOCAL_STT_MODEL_PATH=/app/models/stt/vosk-model-small-en-us-0.15\n"
HOSTS = {
    "spanish": {"voiceagent_language": "es-ES"},
    "korean": {"voiceagent_language": "ko-KR"},
    "korean-fallback": {"voiceagent_language": "ko-KR", "voiceagent_language_fallback": "en-US"},
}


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    work = tmp_path_factory.mktemp("mirror")
    build_mirror(str(work), tiers=["LIGHT_CPU"], languages=["es-ES", "ko-KR"])
    with MirrorServer(str(work / "mirror")) as server:
        server.registry = str(work / "registry.json")
        yield server


@pytest.fixture(scope="module")
def run(tmp_path_factory, mirror):
    fleet = Fleet(tmp_path_factory.mktemp("languages"), mirror, hosts=tuple(HOSTS))
    (fleet.install("korean") / ".env").write_text(SEEDED)
    proc, report = fleet.run(host_vars=HOSTS)
    return fleet, proc, report, list(mirror.requests)


def _env(fleet, host):
    from dotenv import dotenv_values

    return dotenv_values(fleet.install(host) / ".env")


def test_a_spanish_host_gets_the_spanish_model_and_voice(run):
    fleet, proc, report = run[:3]
    row = host_row(report, "spanish")
    assert row["status"] == "ok", proc.stdout[-3000:]
    env = _env(fleet, "spanish")
    assert env["LOCAL_STT_MODEL_PATH"] == "/app/models/stt/vosk-model-small-es-0.42"
    assert env["LOCAL_TTS_MODEL_PATH"] == "/app/models/tts/es_ES-davefx-medium.onnx"
    assert (fleet.install("spanish") / "models/stt/vosk-model-small-es-0.42/conf").is_dir()
    assert (fleet.install("spanish") / "models/tts/es_ES-davefx-medium.onnx.json").is_file()
    assert row["language"]["requested"] == "es-ES" and row["language"]["fallback"] is None
    assert row["language"]["stt"]["model"] == "vosk-model-small-es-0.42"


def test_a_language_without_a_voice_fails_before_any_download_and_keeps_the_env(run):
    fleet, proc, report, requests = run
    assert proc.returncode != 0
    row = host_row(report, "korean")
    assert row["status"] == "failed" and row["language"]["requested"] == "ko-KR"
    assert "voiceagent_language ko-KR has no voice (Piper) in the registry" in row["error"]
    assert "the languages with one are: en-US, es-ES" in row["error"]
    assert "voiceagent_language_fallback" in row["error"]
    assert (fleet.install("korean") / ".env").read_text() == SEEDED
    assert not (fleet.install("korean") / "models").exists()
    assert report["passed"] is False and "korean" in report["summary"]["failed_hosts"]


def test_an_allowed_fallback_gives_the_english_voice_and_the_report_says_so(run):
    fleet, proc, report, requests = run
    row = host_row(report, "korean-fallback")
    assert row["status"] == "ok", proc.stdout[-3000:]
    env = _env(fleet, "korean-fallback")
    assert env["LOCAL_STT_MODEL_PATH"] == "/app/models/stt/vosk-model-small-ko-0.22"
    assert env["LOCAL_TTS_MODEL_PATH"] == "/app/models/tts/en_US-lessac-medium.onnx"
    assert row["language"]["fallback"] == "en-US" and row["language"]["fallback_layers"] == ["tts"]
    page = (fleet.reports / "voiceagent-report.md").read_text()
    assert "| korean-fallback | ok | LIGHT_CPU | auto | ko-KR (the voice from the fallback en-US) |" in page
    # Each Korean zip was fetched once, for the host that got it; the failed host asked for nothing.
    korean = [path for _method, path, _range in requests if "vosk-model-small-ko-0.22" in path]
    assert len(korean) == 1, requests


PLAY_SELECTS = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Gather the facts
      voiceagent.models.hardware_facts:
        cache_path: {cache}
    - name: The play selects the tier itself, without the host's language
      ansible.builtin.set_fact:
        voiceagent_selection: "{{{{ ansible_facts['voiceagent_hardware'] | voiceagent.models.select_tier('{registry}') }}}}"
    - name: Provision with that selection
      ansible.builtin.include_role:
        name: voiceagent.models.provision
"""


def test_a_selection_the_play_made_for_another_language_is_refused(tmp_path, mirror):
    fleet = Fleet(tmp_path, mirror, hosts=("spanish",))
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY_SELECTS.format(registry=mirror.registry,
                                            cache=ROOT / ".cache" / "test-hardware-benchmark.json"))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(fleet.inventory({"spanish": HOSTS["spanish"]})),
                           str(playbook), "-e", "voiceagent_registry=%s" % mirror.registry,
                           "-e", "voiceagent_mirror_url=%s" % mirror.url],
                          capture_output=True, text=True, env=env, cwd=str(tmp_path), check=False)
    assert proc.returncode != 0
    assert ("spanish: voiceagent_selection was made for the language en-US (fallback none), but voiceagent_language "
            "is es-ES") in proc.stdout, proc.stdout[-3000:]
    assert not (fleet.install("spanish") / "models").exists()
