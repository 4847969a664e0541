"""The agent's contract, end to end: site.yml provisions every tier of the shipped registry's shape,
then each written .env is read the way compose reads it (python-dotenv) and checked against the
voice agent's own rules (shared/reference/agent-contract.md, docs/env-file.md). Also the recreate
handler, with the tests' docker stand-in (tests/support/agent/docker) first on PATH.
"""
import json
import os
import pathlib
import shutil
import stat
import sys

import pytest
from dotenv import dotenv_values

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "demo"))
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from build_mirror import build_mirror  # noqa: E402
from mirror_server import MirrorServer  # noqa: E402
from test_site_playbook import Fleet, host_row  # noqa: E402

AGENT = ROOT / "tests" / "support" / "agent"
NVIDIA_SMI = ROOT / "tests" / "fleet" / "profiles" / "nvidia-12gb" / "bin" / "nvidia-smi"
FIXTURES = ROOT / "tests" / "fixtures"
TIERS = ("LIGHT_CPU", "MEDIUM_CPU", "HEAVY_CPU", "MEDIUM_GPU", "HEAVY_GPU")
RECREATE = "compose up -d --force-recreate local_ai_server"
GPU_RECREATE = "compose -f docker-compose.yml -f docker-compose.gpu.yml up -d --force-recreate local_ai_server"
# The agent's legacy prompt (an empty LOCAL_LLM_CHAT_FORMAT) is Phi-style; other families need their
# own llama-cpp-python format (or the GGUF's template, auto). File name -> formats that are right.
RIGHT_FORMATS = {"tinyllama": ("zephyr", "auto"), "phi-3": ("", "auto"), "llama-2": ("llama-2", "auto")}
AGENT_PHI_STOPS = "<|user|>,<|assistant|>,<|end|>"


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    work = tmp_path_factory.mktemp("contract-mirror")
    build_mirror(str(work), tiers=list(TIERS))
    with MirrorServer(str(work / "mirror")) as server:
        server.registry = str(work / "registry.json")
        yield server


@pytest.fixture(scope="module")
def agent_bin(tmp_path_factory):
    """docker (the stand-in) and an nvidia-smi replaying an RTX 3060 with 12 GB, first on PATH."""
    tools = tmp_path_factory.mktemp("agent-bin") / "bin"
    tools.mkdir()
    shutil.copy(AGENT / "docker", tools / "docker")
    (tools / "nvidia-smi").write_text(NVIDIA_SMI.read_text().replace("@FIXTURES@", str(FIXTURES)))
    os.chmod(tools / "nvidia-smi", 0o755)
    return tools


@pytest.fixture()
def on_path(agent_bin, monkeypatch):
    monkeypatch.setenv("PATH", "%s:%s" % (agent_bin, os.environ["PATH"]))
    log = agent_bin.parent / "docker-calls.log"
    if log.exists():
        log.unlink()
    return log


def calls(log):
    return log.read_text().splitlines() if log.exists() else []


def with_compose(fleet):
    for host in fleet.hosts:
        for name in ("docker-compose.yml", "docker-compose.gpu.yml"):
            shutil.copy(AGENT / name, fleet.install(host) / name)


@pytest.fixture(scope="module")
def every_tier(tmp_path_factory, mirror, agent_bin):
    """One local host per tier (an override each), with an NVIDIA card and the agent's compose files."""
    fleet = Fleet(tmp_path_factory.mktemp("contract"), mirror, hosts=TIERS)
    with_compose(fleet)
    saved = os.environ["PATH"]
    os.environ["PATH"] = "%s:%s" % (agent_bin, saved)
    try:
        log = agent_bin.parent / "docker-calls.log"
        proc, report = fleet.run(host_vars=dict((tier, {"voiceagent_tier": tier}) for tier in TIERS))
        first_calls = calls(log)
        again, _report = fleet.run(host_vars=dict((tier, {"voiceagent_tier": tier}) for tier in TIERS))
        second_calls = calls(log)[len(first_calls):]
    finally:
        os.environ["PATH"] = saved
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert again.returncode == 0, again.stdout[-4000:]
    return fleet, report, first_calls, second_calls


def container_to_host(fleet, tier, path):
    assert path.startswith("/app/models/"), path
    return fleet.install(tier) / "models" / path[len("/app/models/"):]


@pytest.mark.parametrize("tier", TIERS)
def test_the_agent_would_load_and_use_every_model_of_the_tier(every_tier, mirror, tier):
    fleet, _report, _first, _second = every_tier
    registry = json.loads(pathlib.Path(mirror.registry).read_text())["tiers"][tier]
    env = dotenv_values(fleet.install(tier) / ".env")

    # Full mode: minimal would skip the LLM on a host without GPU_AVAILABLE.
    assert env["LOCAL_AI_MODE"] == "full"
    # The backends read what was placed, through the ./models mount.
    assert (env["LOCAL_STT_BACKEND"], env["LOCAL_TTS_BACKEND"]) == ("vosk", "piper")
    assert (container_to_host(fleet, tier, env["LOCAL_STT_MODEL_PATH"]) / "conf").is_dir()
    onnx = container_to_host(fleet, tier, env["LOCAL_TTS_MODEL_PATH"])
    assert onnx.suffix == ".onnx" and onnx.is_file() and pathlib.Path(str(onnx) + ".json").is_file()
    gguf = container_to_host(fleet, tier, env["LOCAL_LLM_MODEL_PATH"])
    assert gguf.read_bytes()[:4] == b"GGUF"

    # The prompt format fits the model family; stop tokens are the family's, never Phi's by default.
    family = next(key for key in RIGHT_FORMATS if key in gguf.name.lower())
    assert env["LOCAL_LLM_CHAT_FORMAT"] in RIGHT_FORMATS[family], (gguf.name, env["LOCAL_LLM_CHAT_FORMAT"])
    if env["LOCAL_LLM_CHAT_FORMAT"] not in ("", "auto"):
        assert env["LOCAL_LLM_STOP_TOKENS"] != AGENT_PHI_STOPS and "<|assistant|>" not in env["LOCAL_LLM_STOP_TOKENS"]

    # Integers as int() reads them; a context the agent can use and the model was trained for.
    numbers = dict((key, int(env[key])) for key in ("LOCAL_LLM_CONTEXT", "LOCAL_LLM_GPU_LAYERS",
                                                    "LOCAL_LLM_THREADS", "LOCAL_LLM_MAX_TOKENS"))
    header = registry["models"]["llm"]["gguf"]
    arch = header["general.architecture"]
    assert 768 <= numbers["LOCAL_LLM_CONTEXT"] <= header[arch + ".context_length"]
    assert numbers["LOCAL_LLM_THREADS"] == min(len(os.sched_getaffinity(0)), 16)

    # An explicit layer count (-1 is the agent's own VRAM guess); the GPU only where an NVIDIA card is.
    if registry["requirements"]["gpu_required"]:
        assert numbers["LOCAL_LLM_GPU_LAYERS"] == header[arch + ".block_count"] + 1
        assert env["GPU_AVAILABLE"] == "true"
    else:
        assert numbers["LOCAL_LLM_GPU_LAYERS"] == 0 and env["GPU_AVAILABLE"] == "false"

    # The agent (UID 1000) owns its model folders, group-writable and setgid.
    for folder in ["models"] + ["models/%s" % role for role in ("stt", "llm", "tts")]:
        info = (fleet.install(tier) / folder).stat()
        assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o2775, 1000, 1000), folder


def test_the_agent_is_recreated_once_per_changed_host_and_never_on_a_rerun(every_tier):
    fleet, report, first, second = every_tier
    expected = sorted("%s\t%s" % (fleet.install(tier), GPU_RECREATE if tier.endswith("_GPU") else RECREATE)
                      for tier in TIERS)
    assert sorted(first) == expected
    assert second == []
    assert set(host_row(report, tier)["agent"] for tier in TIERS) == {"recreated local_ai_server"}


def test_check_mode_says_it_would_recreate_and_runs_nothing(tmp_path, mirror, on_path):
    fleet = Fleet(tmp_path, mirror)
    with_compose(fleet)
    proc, report = fleet.run(check=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert host_row(report)["agent"] == "would recreate local_ai_server"
    assert calls(on_path) == []


def test_a_failed_recreate_fails_the_host_with_compose_s_message_and_keeps_the_models(
        tmp_path, mirror, on_path, monkeypatch):
    monkeypatch.setenv("VOICEAGENT_DOCKER_FAIL", "Error response from daemon: no such image: local-ai-server")
    fleet = Fleet(tmp_path, mirror)
    with_compose(fleet)
    proc, report = fleet.run()
    assert proc.returncode != 0
    row = host_row(report)
    assert row["status"] == "failed"
    assert "no such image: local-ai-server" in row["error"] and "The .env and the models stay in place" in row["error"]
    env = dotenv_values(fleet.install() / ".env")
    assert container_to_host(fleet, "h1", env["LOCAL_LLM_MODEL_PATH"]).is_file()


def test_no_compose_file_or_restart_false_runs_nothing_and_the_report_says_so(tmp_path, mirror, on_path):
    bare = Fleet(tmp_path / "bare", mirror)
    proc, report = bare.run()
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert host_row(report)["agent"] == "no compose file in %s" % bare.install()

    off = Fleet(tmp_path / "off", mirror)
    with_compose(off)
    proc, report = off.run("-e", "voiceagent_agent_restart=false")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert host_row(report)["agent"].startswith("voiceagent_agent_restart is false")
    assert calls(on_path) == []


def test_another_backend_in_the_env_is_switched_and_the_report_warns(tmp_path, mirror, on_path):
    fleet = Fleet(tmp_path, mirror)
    (fleet.install() / ".env").write_text("LOCAL_TTS_BACKEND=kokoro\nJWT_SECRET=keep-me\n")
    proc, report = fleet.run("--diff")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "-LOCAL_TTS_BACKEND=kokoro" in proc.stdout and "+LOCAL_TTS_BACKEND=piper" in proc.stdout
    assert any("LOCAL_TTS_BACKEND now says piper" in w for w in host_row(report)["warnings"])
    assert "keep-me" not in proc.stdout

    kept = Fleet(tmp_path / "kept", mirror)
    (kept.install() / ".env").write_text("LOCAL_TTS_BACKEND=kokoro\n")
    proc, report = kept.run("-e", "voiceagent_manage_backends=false")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert dotenv_values(kept.install() / ".env")["LOCAL_TTS_BACKEND"] == "kokoro"
    assert any("the downloaded models will not be used" in w for w in host_row(report)["warnings"])


def test_folders_left_root_0755_by_an_earlier_run_are_handed_to_the_agent_and_the_diff_says_so(tmp_path, mirror):
    fleet = Fleet(tmp_path, mirror)
    proc, _report = fleet.run()
    assert proc.returncode == 0, proc.stdout[-3000:]
    folders = [fleet.install() / "models"] + [fleet.install() / "models" / role for role in ("stt", "llm", "tts")]
    for folder in folders:
        os.chown(folder, 0, 0)
        os.chmod(folder, 0o755)
    proc, report = fleet.run("--diff")
    assert proc.returncode == 0, proc.stdout[-3000:]
    section = proc.stdout.split("TASK [voiceagent.models.provision : Create the model directories]")[1]
    section = section.split("TASK [")[0]
    assert '-    "mode": "0755"' in section and '+    "mode": "02775"' in section
    assert host_row(report)["files_changed"] == 0
    for folder in folders:
        info = folder.stat()
        assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o2775, 1000, 1000)
