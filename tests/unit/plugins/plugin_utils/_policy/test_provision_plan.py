"""From a tier decision to host paths, fetch URLs and the owned .env keys."""
import pytest

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.provision_plan import (
    PlanError,
    mirror_url,
    provision_plan,
)
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import default_registry_path
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.tier_selection import select_tier


@pytest.fixture
def selection(make_facts):
    return select_tier(make_facts(cores=8, memory_gb=15.6), default_registry_path(), override="LIGHT_CPU")


def test_the_mirror_takes_the_upstream_host_as_first_path_segment():
    url = "https://huggingface.co/TheBloke/X/resolve/main/f.gguf"
    assert mirror_url(url, "http://127.0.0.1:8000/m/") == "http://127.0.0.1:8000/m/huggingface.co/TheBloke/X/resolve/main/f.gguf"
    assert mirror_url(url, "file:///srv/mirror") == "file:///srv/mirror/huggingface.co/TheBloke/X/resolve/main/f.gguf"
    assert mirror_url(url, "") == url


def test_a_mirror_with_another_scheme_is_refused_naming_it():
    with pytest.raises(PlanError, match="'ftp://m' must start with one of https, http, file"):
        mirror_url("https://a/b", "ftp://m")


def test_files_land_in_the_upstream_layout(selection):
    plan = provision_plan(selection, "/opt/agent/models", mirror="http://127.0.0.1:9/m")
    dests = [(f["role"], f["dest"], f["format"]) for f in plan["files"]]
    assert dests == [
        ("stt", "/opt/agent/models/stt/vosk-model-small-en-us-0.15", "vosk-zip"),
        ("llm", "/opt/agent/models/llm/tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf", "gguf"),
        ("tts", "/opt/agent/models/tts/en_US-lessac-medium.onnx", "piper-onnx"),
        ("tts", "/opt/agent/models/tts/en_US-lessac-medium.onnx.json", "piper-config"),
    ]
    assert plan["files"][1]["url"].startswith("http://127.0.0.1:9/m/huggingface.co/TheBloke/")
    assert plan["files"][1]["upstream_url"].startswith("https://huggingface.co/")
    assert plan["directories"] == ["/opt/agent/models/llm", "/opt/agent/models/stt", "/opt/agent/models/tts"]


def test_env_holds_container_paths_tuning_threads_and_gpu_flag(selection):
    env = provision_plan(selection, "/opt/agent/models", "/app/models", usable_cores=6)["env"]
    assert env == {
        "LOCAL_STT_MODEL_PATH": "/app/models/stt/vosk-model-small-en-us-0.15",
        "LOCAL_LLM_MODEL_PATH": "/app/models/llm/tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf",
        "LOCAL_TTS_MODEL_PATH": "/app/models/tts/en_US-lessac-medium.onnx",
        "LOCAL_AI_MODE": "full",
        "LOCAL_STT_BACKEND": "vosk",
        "LOCAL_TTS_BACKEND": "piper",
        "LOCAL_LLM_CHAT_FORMAT": "zephyr",
        "LOCAL_LLM_STOP_TOKENS": "</s>,<|user|>",
        "LOCAL_LLM_CONTEXT": 768,
        "LOCAL_LLM_GPU_LAYERS": 0,
        "LOCAL_LLM_INFER_TIMEOUT_SEC": 45,
        "LOCAL_LLM_MAX_TOKENS": 24,
        "LOCAL_LLM_THREADS": 6,
        "GPU_AVAILABLE": "false",
    }


def test_a_gpu_tier_turns_the_gpu_on(make_facts):
    selection = select_tier(make_facts(vram_mb=(8192,)), default_registry_path(), override="MEDIUM_GPU")
    env = provision_plan(selection, "/opt/agent/models")["env"]
    # Llama-2-7B has 32 blocks: 33 offloadable layers with the output layer; never the agent's -1 guess.
    assert env["GPU_AVAILABLE"] == "true" and env["LOCAL_LLM_GPU_LAYERS"] == 33


def test_threads_are_capped_at_16_and_at_least_1(selection):
    assert provision_plan(selection, "/opt/a/models", usable_cores=64)["env"]["LOCAL_LLM_THREADS"] == 16
    assert provision_plan(selection, "/opt/a/models", usable_cores=0.5)["env"]["LOCAL_LLM_THREADS"] == 1


def test_manage_backends_false_leaves_the_backend_keys_alone(selection):
    plan = provision_plan(selection, "/opt/a/models", manage_backends=False)
    assert "LOCAL_STT_BACKEND" not in plan["env"] and "LOCAL_TTS_BACKEND" not in plan["env"]
    assert plan["backends"] == {"stt": "vosk", "tts": "piper"}
    assert plan["env"]["LOCAL_AI_MODE"] == "full"


def test_a_gpu_tier_on_an_amd_override_keeps_gpu_available_false(make_facts):
    facts = make_facts(cores=8, memory_gb=31.3, vram_mb=(16384,))
    facts["gpus"][0]["vendor"] = "amd"
    facts["gpu"]["vendor"] = "amd"
    selection = select_tier(facts, default_registry_path(), override="MEDIUM_GPU")
    assert provision_plan(selection, "/opt/a/models")["env"]["GPU_AVAILABLE"] == "false"


@pytest.mark.parametrize("models_dir", ["relative/models", ""])
def test_a_relative_models_dir_is_refused(selection, models_dir):
    with pytest.raises(PlanError, match="voiceagent_models_dir must be an absolute path"):
        provision_plan(selection, models_dir)


def test_a_non_selection_is_refused():
    with pytest.raises(PlanError, match="result of voiceagent.models.select_tier"):
        provision_plan({"tier": "X"}, "/opt/m")


# --------------------------------------------------------------------------
# Hostile URLs and mirrors: the plan hands out https, or the configured mirror, nothing else


@pytest.mark.parametrize("mirror", [
    "https://mirror.example/m", "http://127.0.0.1:8000/m/", "file:///srv/mirror", "file://localhost/srv/mirror",
])
def test_every_planned_url_is_https_or_under_the_mirror(selection, mirror):
    for plan_mirror in (None, mirror):
        for entry in provision_plan(selection, "/opt/m", mirror=plan_mirror)["files"]:
            base = (plan_mirror or "https://").rstrip("/") + "/"
            assert entry["url"].startswith(base)
            assert entry["upstream_url"].startswith("https://")


@pytest.mark.parametrize("mirror, words", [
    ("ftp://m.example/x", "must start with one of https, http, file://"),
    ("gopher://m.example/x", "must start with one of https, http, file://"),
    ("javascript:alert(1)", "must start with one of https, http, file://"),
    ("mirror.example/x", "must start with one of https, http, file://"),
    ("https:/mirror.example", "must start with one of https, http, file://"),
    ("https://", "names no host"),
    ("http://:80/x", "names no host"),
    ("http://m.example:99999/x", "cannot be parsed"),
    ("file://otherhost/srv/m", "must name an absolute path on the host"),
    ("file:relative/m", "must start with one of https, http, file://"),
    ("https://m.example/x?token=1", "has a query or fragment"),
    ("https://m.example/x\n", "space or control character"),
    (" https://m.example/x", "space or control character"),
    ("https://m.example/\x00", "space or control character"),
    ("https://user@m.example/x", "names a user or password"),
])
def test_a_bad_mirror_is_refused_naming_it_and_what_is_valid(mirror, words):
    with pytest.raises(PlanError) as info:
        mirror_url("https://huggingface.co/a/b.gguf", mirror)
    assert "voiceagent_mirror_url" in str(info.value)
    assert words in str(info.value)


@pytest.mark.parametrize("mirror", ["ftp://user:hunter2@m.example/x", "https://user:hunter2@m.example/x"])
def test_a_mirror_password_is_not_repeated_in_the_error(mirror):
    with pytest.raises(PlanError) as info:
        mirror_url("https://huggingface.co/a/b.gguf", mirror)
    assert "hunter2" not in str(info.value) and "***@m.example" in str(info.value)


@pytest.mark.parametrize("url, words", [
    ("http://huggingface.co/a.gguf", 'uses the scheme "http"'),
    ("file:///etc/passwd", 'uses the scheme "file"'),
    ("https://user:pw@huggingface.co/a.gguf", "user info"),
    ("https://huggingface.co/../../etc/passwd", ". or .. path segment"),
    ("https://huggingface.co/a/%2e%2e/%2E%2e/etc/passwd", ". or .. path segment"),
])
@pytest.mark.parametrize("mirror", [None, "file:///srv/mirror"])
def test_an_upstream_url_that_is_not_plain_https_never_reaches_the_plan(selection, url, words, mirror):
    selection["models"]["llm"]["url"] = url
    with pytest.raises(PlanError) as info:
        provision_plan(selection, "/opt/m", mirror=mirror)
    assert "models.llm.url" in str(info.value) and words in str(info.value)
    assert "pw" not in str(info.value)


@pytest.mark.parametrize("path", ["models/../etc/cron.d/x", "models/llm/./x", "models//x", "models/a\\..\\b",
                                  "/etc/cron.d/x", "../../etc/cron.d/x"])
def test_a_destination_outside_the_models_dir_never_reaches_the_plan(selection, path):
    selection["models"]["llm"]["dest_path"] = path
    with pytest.raises(PlanError, match="registry path"):
        provision_plan(selection, "/opt/m")
