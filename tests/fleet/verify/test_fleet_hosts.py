"""testinfra checks of a fleet provisioned by playbooks/site.yml (molecule/default's verifier).

    pytest --hosts='ansible://all' --ansible-inventory=.fleet/inventory.yml tests/fleet/verify/

Everything about a host is read over its own SSH connection: the tier its ``.env`` points
at, the model files and their digests, the ``.env`` keys, its mode, and the seeded secrets.
The expected tier comes from the inventory: ``voiceagent_tier`` (an override) when set,
else ``fleet_expected_tier`` (the profile's, see tests/fleet/profiles/*/profile.json).
The report written by the run, when there is one beside the inventory, must agree.
"""
import hashlib
import io
import json
import pathlib
import posixpath
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "demo"))
sys.path.insert(0, str(ROOT / ".collections"))

from build_mirror import mirror_relpath  # noqa: E402
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import agent_contract  # noqa: E402
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import load_registry  # noqa: E402
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.speech_language import (  # noqa: E402
    speech_models,
)

INSTALL = "/opt/asterisk-ai-voice-agent"
SEED = ROOT / "tests" / "fixtures" / "env" / "agent.env"
OWNED_PREFIXES = ("LOCAL_STT_MODEL_PATH", "LOCAL_LLM_MODEL_PATH", "LOCAL_TTS_MODEL_PATH", "LOCAL_LLM_",
                  "GPU_AVAILABLE", "LOCAL_AI_MODE", "LOCAL_STT_BACKEND", "LOCAL_TTS_BACKEND")
TRAP = "LOCAL_LLM_MODEL_PATH=/trap/inside/a/quoted/value\n"


@pytest.fixture(scope="module")
def state_dir(request):
    inventory = request.config.getoption("ansible_inventory")
    assert inventory, "run with --ansible-inventory=<fleet state dir>/inventory.yml"
    return pathlib.Path(inventory).resolve().parent


@pytest.fixture(scope="module")
def inventory_hosts(state_dir):
    import yaml

    data = yaml.safe_load((state_dir / "inventory.yml").read_text())
    return data["all"]["children"]["voiceagent"]["hosts"]


_CACHE = {}


@pytest.fixture()
def hostvars(host):
    key = ("vars", host.backend.get_pytest_id())
    if key not in _CACHE:
        _CACHE[key] = host.ansible.get_variables()
    return _CACHE[key]


@pytest.fixture()
def remote(host):
    """One SSH round trip per host: the .env, its stat, every model file's sha256, and probes."""
    key = ("remote", host.backend.get_pytest_id())
    if key not in _CACHE:
        script = (
            "cd %s; stat -c '%%a %%U' .env; echo @@; cat .env; echo; echo @@; "
            "find models -type f -print0 | xargs -0 -r sha256sum; echo @@; "
            "find models -type d -printf '%%p %%m %%U %%G\\n'; echo @@; find models -name '.*.part'; echo @@; nproc; "
            "head -1 /proc/meminfo; command -v nvidia-smi || echo none" % INSTALL)
        out = host.check_output(script)
        stat, env, sums, dirs, parts, probes = re.split(r"\n?^@@$\n?", out, flags=re.M)
        _CACHE[key] = {
            "mode": stat.split()[0], "owner": stat.split()[1], "env": env,
            "sha256": dict((line.split(None, 1)[1], line.split(None, 1)[0]) for line in sums.splitlines() if line),
            "dirs": set(line.split()[0] for line in dirs.splitlines()),
            "dir_modes": dict((line.split()[0], line.split()[1:]) for line in dirs.splitlines()),
            "parts": parts.strip(), "probes": probes.splitlines(),
        }
    return _CACHE[key]


@pytest.fixture()
def registry(hostvars):
    return json.loads(pathlib.Path(hostvars["voiceagent_registry"]).read_text())


def _models(hostvars, registry, tier):
    """The tier's models in the host's language (its voiceagent_language and fallback)."""
    loaded = load_registry(registry)
    return speech_models(loaded["tiers"][tier], loaded, hostvars.get("voiceagent_language"),
                         hostvars.get("voiceagent_language_fallback"))[0]


def _expected(hostvars):
    override = hostvars.get("voiceagent_tier")
    return (override, "override") if override else (hostvars["fleet_expected_tier"], "auto")


def _row(state_dir, name):
    path = state_dir / "reports" / "voiceagent-report.json"
    if not path.exists():
        return None
    report = json.loads(path.read_text())
    return next((row for row in report["hosts"] if row["host"] == name), None)


def _parse_env(text):
    from dotenv import dotenv_values

    return dotenv_values(stream=io.StringIO(text))


def test_exactly_one_host_carries_a_tier_override(inventory_hosts):
    assert len([name for name, v in inventory_hosts.items() if (v or {}).get("voiceagent_tier")]) == 1


def test_the_host_gets_the_tier_its_profile_or_override_calls_for(hostvars, remote, registry, state_dir):
    tier, source = _expected(hostvars)
    llm = posixpath.basename(registry["tiers"][tier]["models"]["llm"]["url"])
    assert _parse_env(remote["env"])["LOCAL_LLM_MODEL_PATH"] == "/app/models/llm/" + llm
    row = _row(state_dir, hostvars["inventory_hostname"])
    if row is not None:
        assert (row["status"], row["tier"], row["source"]) == ("ok", tier, source), row


def test_the_override_does_not_leak_to_other_hosts(hostvars, state_dir):
    row = _row(state_dir, hostvars["inventory_hostname"])
    if hostvars.get("voiceagent_tier"):
        assert row is None or "override" in row["reason"]
    else:
        assert row is None or row["source"] == "auto"


def test_every_file_of_the_tier_is_in_place_with_the_mirror_digest(hostvars, remote, registry, state_dir):
    tier = _expected(hostvars)[0]
    models = _models(hostvars, registry, tier)
    mirror = state_dir / "mirror" / "mirror"
    for role, entry in [("llm", models["llm"])] + [("tts", f) for f in models["tts"]["files"]]:
        dest = posixpath.join("models", role, posixpath.basename(entry["url"]))
        assert dest in remote["sha256"], dest
        local = mirror / mirror_relpath(entry["url"])
        assert remote["sha256"][dest] == hashlib.sha256(local.read_bytes()).hexdigest(), dest
        if entry.get("sha256"):
            assert remote["sha256"][dest] == entry["sha256"]
    folder = posixpath.join("models", "stt", posixpath.basename(models["stt"]["url"])[:-4])
    assert {folder, folder + "/am", folder + "/conf"} <= remote["dirs"]
    assert folder + "/.voiceagent-source.json" in remote["sha256"]
    assert remote["parts"] == ""


def test_two_hosts_carry_a_language_and_one_of_them_a_fallback(inventory_hosts):
    languages = dict((name, (v or {}).get("voiceagent_language")) for name, v in inventory_hosts.items())
    assert sorted(filter(None, languages.values())) == ["es-ES", "ko-KR"]
    assert [name for name, v in inventory_hosts.items() if (v or {}).get("voiceagent_language_fallback")] == [
        next(name for name, code in languages.items() if code == "ko-KR")]


def test_the_env_names_the_stt_model_and_voice_of_the_hosts_language(hostvars, remote, registry, state_dir):
    models = _models(hostvars, registry, _expected(hostvars)[0])
    env = _parse_env(remote["env"])
    stt = posixpath.basename(models["stt"]["target_path"])
    voice = next(f for f in models["tts"]["files"] if f["format"] == "piper-onnx")
    assert env["LOCAL_STT_MODEL_PATH"] == "/app/models/stt/" + stt
    assert env["LOCAL_TTS_MODEL_PATH"] == "/app/models/tts/" + posixpath.basename(voice["dest_path"])
    language = hostvars.get("voiceagent_language") or "en-US"
    # Written out for the two language hosts, so the check does not rest on speech_models alone.
    expected = {"es-ES": ("vosk-model-small-es-0.42", "es_ES-davefx-medium.onnx"),
                "ko-KR": ("vosk-model-small-ko-0.22", "en_US-lessac-")}.get(language)
    if expected:
        assert stt == expected[0] and env["LOCAL_TTS_MODEL_PATH"].startswith("/app/models/tts/" + expected[1])
    row = _row(state_dir, hostvars["inventory_hostname"])
    if row is not None:
        assert row["language"]["requested"] == language
        assert row["language"]["fallback"] == hostvars.get("voiceagent_language_fallback"), row["language"]


def test_env_has_the_owned_keys_and_mode_0600(hostvars, remote, registry):
    name = _expected(hostvars)[0]
    tier = registry["tiers"][name]
    env = _parse_env(remote["env"])
    for key, value in tier["env"].items():
        if key not in ("LOCAL_LLM_CONTEXT", "LOCAL_LLM_GPU_LAYERS"):
            assert env[key] == str(value), key
    # The agent's rules (agent_contract): a context of at least 768, an explicit layer count.
    assert env["LOCAL_LLM_CONTEXT"] == str(agent_contract.agent_context(tier)[0])
    assert env["LOCAL_LLM_GPU_LAYERS"] == str(agent_contract.gpu_layers(name, tier)) != "-1"
    assert env["LOCAL_AI_MODE"] == "full"
    assert (env["LOCAL_STT_BACKEND"], env["LOCAL_TTS_BACKEND"]) == ("vosk", "piper")
    assert env["LOCAL_LLM_CHAT_FORMAT"] == tier["models"]["llm"]["chat_format"]
    assert env["LOCAL_LLM_THREADS"] == str(min(int(remote["probes"][0]), 16))
    profile = ROOT / "tests" / "fleet" / "profiles" / hostvars["fleet_profile"]
    nvidia = (profile / "bin" / "nvidia-smi").exists()
    gpu_tier = tier["requirements"]["gpu_required"]
    assert env["GPU_AVAILABLE"] == ("true" if gpu_tier and nvidia else "false")
    assert (remote["mode"], remote["owner"]) == ("600", "root")


def test_the_model_folders_belong_to_the_agent_user_setgid_and_group_writable(remote):
    folders = ["models"] + ["models/%s" % role for role in ("stt", "llm", "tts")]
    assert [remote["dir_modes"][path] for path in folders] == [["2775", "1000", "1000"]] * 4


def test_the_agent_was_recreated_once_and_not_by_the_reruns(hostvars, remote, state_dir):
    """Converge changed every host; the idempotence run and verify's rerun changed none."""
    host = next(h for h in json.loads((state_dir / "state.json").read_text())["hosts"]
                if h["name"] == hostvars["inventory_hostname"])
    calls = pathlib.Path(host["docker_log"]).read_text().splitlines()
    # The NVIDIA host on a GPU tier adds the agent's GPU override (both files are in every install dir).
    nvidia = _parse_env(remote["env"])["GPU_AVAILABLE"] == "true"
    gpu = ["-f", "docker-compose.yml", "-f", "docker-compose.gpu.yml"] if nvidia else []
    assert calls == ["%s\t%s" % (INSTALL, " ".join(["compose"] + gpu + ["up", "-d", "--force-recreate",
                                                                        "local_ai_server"]))]


def test_an_amd_host_gets_a_cpu_tier_that_says_why(hostvars, state_dir):
    if hostvars["fleet_profile"] != "amd-gpu":
        pytest.skip("not the AMD host")
    row = _row(state_dir, hostvars["inventory_hostname"])
    assert row["tier"].endswith("_CPU")
    assert "no GPU tier takes AMD cards (the agent's GPU image is CUDA only)" in row["reason"]


def test_the_seeded_secrets_are_untouched(remote):
    if "ASTERISK_ARI_PASSWORD" not in remote["env"]:
        pytest.skip("no .env was seeded on this host")
    seed = SEED.read_text()
    owned = set(_parse_env(remote["env"])) & set(
        k for k in _parse_env(remote["env"]) if k.startswith(OWNED_PREFIXES))
    seed_values, env_values = _parse_env(seed), _parse_env(remote["env"])
    for key, value in seed_values.items():
        if key not in owned:
            assert env_values.get(key) == value, key
    for line in seed.splitlines(True):
        words = line.replace("export ", "", 1).split("=", 1)[0].strip()
        if words not in owned:
            assert line in remote["env"], line
    assert TRAP in remote["env"]  # a key-looking line inside a quoted value is part of that value


def test_each_host_saw_its_own_hardware(hostvars, remote):
    """The profile's fake files reach the host's sessions, and only that host's."""
    profile = ROOT / "tests" / "fleet" / "profiles" / hostvars["fleet_profile"]
    assert remote["probes"][1] == (profile / "meminfo").read_text().splitlines()[0]
    has_nvidia = (profile / "bin" / "nvidia-smi").exists()
    assert (remote["probes"][2] != "none") == has_nvidia
