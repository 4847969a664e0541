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

from build_mirror import mirror_relpath  # noqa: E402

INSTALL = "/opt/asterisk-ai-voice-agent"
SEED = ROOT / "tests" / "fixtures" / "env" / "agent.env"
OWNED_PREFIXES = ("LOCAL_STT_MODEL_PATH", "LOCAL_LLM_MODEL_PATH", "LOCAL_TTS_MODEL_PATH", "LOCAL_LLM_",
                  "GPU_AVAILABLE")
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
            "find models -type d; echo @@; find models -name '.*.part'; echo @@; nproc; "
            "head -1 /proc/meminfo; command -v nvidia-smi || echo none" % INSTALL)
        out = host.check_output(script)
        stat, env, sums, dirs, parts, probes = re.split(r"\n?^@@$\n?", out, flags=re.M)
        _CACHE[key] = {
            "mode": stat.split()[0], "owner": stat.split()[1], "env": env,
            "sha256": dict((line.split(None, 1)[1], line.split(None, 1)[0]) for line in sums.splitlines() if line),
            "dirs": set(dirs.splitlines()), "parts": parts.strip(), "probes": probes.splitlines(),
        }
    return _CACHE[key]


@pytest.fixture()
def registry(hostvars):
    return json.loads(pathlib.Path(hostvars["voiceagent_registry"]).read_text())


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
    models = registry["tiers"][tier]["models"]
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


def test_env_has_the_owned_keys_and_mode_0600(hostvars, remote, registry):
    tier = _expected(hostvars)[0]
    env = _parse_env(remote["env"])
    for key, value in registry["tiers"][tier]["env"].items():
        assert env[key] == str(value), key
    assert env["LOCAL_LLM_THREADS"] == remote["probes"][0]
    gpu = registry["tiers"][tier]["env"].get("LOCAL_LLM_GPU_LAYERS", 0) != 0
    assert env["GPU_AVAILABLE"] == ("true" if gpu else "false")
    assert (remote["mode"], remote["owner"]) == ("600", "root")


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
