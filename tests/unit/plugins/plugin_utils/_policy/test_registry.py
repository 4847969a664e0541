# -*- coding: utf-8 -*-
# Copyright (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for the tier registry data, its JSON Schema and its loader."""

import copy
import json
import math
import pathlib
import re

import jsonschema
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import registry as reg
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry_url import url_problem
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import (
    ENV_KEYS,
    ROLE_FORMATS,
    SCHEMA_VERSION,
    RegistryError,
    default_registry_path,
    iter_files,
    json_path,
    load_registry,
    schema_path,
    tier_order,
)

ROOT = pathlib.Path(__file__).resolve().parents[5]
FIXTURES = ROOT / "tests" / "fixtures" / "registry"
UPSTREAM = FIXTURES / "upstream_registry.json"
SHIPPED_PATH = ROOT / "registry" / "registry.json"
SCHEMA_PATH = ROOT / "registry" / "registry.schema.json"


def exactly(value, kind):
    """True when ``value``'s type is ``kind`` itself: a bool is not an int here, a str subclass is not a str."""
    return type(value) is kind  # pylint: disable=unidiomatic-typecheck


BEST_FIRST = ["HEAVY_GPU", "MEDIUM_GPU", "HEAVY_CPU", "MEDIUM_CPU", "LIGHT_CPU"]
HF = "https://huggingface.co/"
PIPER = HF + "rhasspy/piper-voices/resolve/v1.0.0/en/en_US/lessac/"


def _read(path):
    with open(str(path), encoding="utf-8") as handle:
        return json.load(handle)


SHIPPED = _read(SHIPPED_PATH)
UPSTREAM_DOC = _read(UPSTREAM)


@pytest.fixture
def shipped():
    return copy.deepcopy(SHIPPED)


def _error(doc):
    with pytest.raises(RegistryError) as info:
        load_registry(doc)
    return info.value


# --------------------------------------------------------------------------
# Locations and the schema itself


def test_default_paths_point_at_the_shipped_files():
    assert pathlib.Path(default_registry_path()).resolve() == SHIPPED_PATH.resolve()
    assert pathlib.Path(schema_path()).resolve() == SCHEMA_PATH.resolve()


def test_schema_is_valid_draft_2020_12():
    schema = _read(SCHEMA_PATH)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", [SHIPPED_PATH, UPSTREAM], ids=["shipped", "upstream"])
def test_schema_accepts_shipped_and_upstream_files(path):
    jsonschema.Draft202012Validator(_read(SCHEMA_PATH)).validate(_read(path))


def test_upstream_fixture_has_no_extensions():
    assert "schema_version" not in UPSTREAM_DOC
    for tier in UPSTREAM_DOC["tiers"].values():
        assert "rank" not in tier and "env" not in tier
        for entry in iter_files(tier):
            for key in ("size_bytes", "sha256", "md5", "format", "quantization"):
                assert key not in entry


# --------------------------------------------------------------------------
# The shipped registry


def test_shipped_registry_loads_with_five_tiers_best_first():
    loaded = load_registry(default_registry_path())
    assert loaded["schema_version"] == SCHEMA_VERSION == 1
    assert sorted(loaded["tiers"]) == sorted(BEST_FIRST)
    assert tier_order(loaded) == BEST_FIRST
    assert [loaded["tiers"][name]["rank"] for name in BEST_FIRST] == [50, 40, 30, 20, 10]


def test_shipped_registry_same_from_path_and_dict():
    assert load_registry(str(SHIPPED_PATH)) == load_registry(copy.deepcopy(SHIPPED))
    assert load_registry(SHIPPED_PATH) == load_registry(str(SHIPPED_PATH))


def test_shipped_known_sizes_and_digests():
    tiers = load_registry(default_registry_path())["tiers"]
    tiny = tiers["LIGHT_CPU"]["models"]["llm"]
    assert tiny["size_bytes"] == 668788096
    assert tiny["sha256"] == "9fecc3b3cd76bba89d504f29b616eedf7da85b96540e490ca5824d3f7d2776a0"
    phi = tiers["MEDIUM_CPU"]["models"]["llm"]
    assert phi["size_bytes"] == 2393231072
    assert phi["sha256"] == "8a83c7fb9049a9b2e92266fa7ad04933bb53aa1e85136b7b30f1b8000ff2edef"
    for name in ("HEAVY_CPU", "MEDIUM_GPU"):
        llama7 = tiers[name]["models"]["llm"]
        assert llama7["size_bytes"] == 4081004224
        assert llama7["sha256"] == "08a5566d61d7cb6b420c3e4387a39e0078e1f2fe5f055f3a03887385304d4bfa"
    llama13 = tiers["HEAVY_GPU"]["models"]["llm"]
    assert llama13["size_bytes"] == 7865956224
    assert llama13["sha256"] == "7ddfe27f61bf994542c22aca213c46ecbd8a624cca74abff02a7b5a8c18f787f"

    small = tiers["LIGHT_CPU"]["models"]["stt"]
    assert small["size_bytes"] == 41205931
    assert small["sha256"] == "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498"
    big = tiers["HEAVY_GPU"]["models"]["stt"]
    assert big["size_bytes"] == 1913365522
    assert big["sha256"] is None
    assert big["md5"] == "228741ed058893e403dce60bdd659f42"

    medium_voice, medium_config = tiers["LIGHT_CPU"]["models"]["tts"]["files"]
    assert (medium_voice["size_bytes"], medium_voice["md5"]) == (63201294, "2fc642b535197b6305c7c8f92dc8b24f")
    assert (medium_config["size_bytes"], medium_config["md5"]) == (4885, "c1f2b7bddefe113f3255ff9ef234cfd3")
    high_voice, high_config = tiers["HEAVY_CPU"]["models"]["tts"]["files"]
    assert (high_voice["size_bytes"], high_voice["md5"]) == (113895201, "99d1f6181a7f5ccbe3f117ba8ce63c93")
    assert (high_config["size_bytes"], high_config["md5"]) == (4883, "02e8e364c86b5d3b75e81704b0369856")
    assert high_voice["sha256"] is None and high_config["sha256"] is None


def test_shipped_models_and_urls_per_tier():
    tiers = SHIPPED["tiers"]
    expected = {
        "LIGHT_CPU": ("vosk-model-small-en-us-0.15",
                      "TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF/resolve/main/tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf",
                      "medium"),
        "MEDIUM_CPU": ("vosk-model-en-us-0.22",
                       "microsoft/Phi-3-mini-4k-instruct-gguf/resolve/main/Phi-3-mini-4k-instruct-q4.gguf",
                       "medium"),
        "HEAVY_CPU": ("vosk-model-en-us-0.22",
                      "TheBloke/Llama-2-7B-Chat-GGUF/resolve/main/llama-2-7b-chat.Q4_K_M.gguf", "high"),
        "MEDIUM_GPU": ("vosk-model-en-us-0.22",
                       "TheBloke/Llama-2-7B-Chat-GGUF/resolve/main/llama-2-7b-chat.Q4_K_M.gguf", "high"),
        "HEAVY_GPU": ("vosk-model-en-us-0.22",
                      "TheBloke/Llama-2-13B-chat-GGUF/resolve/main/llama-2-13b-chat.Q4_K_M.gguf", "high"),
    }
    for name, (vosk, llm, quality) in expected.items():
        models = tiers[name]["models"]
        assert models["stt"]["url"] == "https://alphacephei.com/vosk/models/%s.zip" % vosk
        assert models["stt"]["dest_dir"] == "models/stt"
        assert models["stt"]["target_path"] == "models/stt/" + vosk
        assert models["llm"]["url"] == HF + llm
        assert models["llm"]["dest_path"] == "models/llm/" + llm.rsplit("/", 1)[1]
        voice = "en_US-lessac-%s.onnx" % quality
        files = models["tts"]["files"]
        assert [f["name"] for f in files] == [voice, voice + ".json"]
        assert [f["url"] for f in files] == [PIPER + quality + "/" + voice, PIPER + quality + "/" + voice + ".json"]
        assert [f["dest_path"] for f in files] == ["models/tts/" + voice, "models/tts/" + voice + ".json"]
        assert [f["format"] for f in files] == ["piper-onnx", "piper-config"]
        assert models["stt"]["format"] == "vosk-zip"
        assert models["llm"]["format"] == "gguf"


def test_shipped_requirements_match_upstream_table():
    tiers = SHIPPED["tiers"]
    assert tiers["LIGHT_CPU"]["requirements"] == {"min_ram_gb": 8, "min_cpu_cores": 4, "gpu_required": False}
    assert tiers["MEDIUM_CPU"]["requirements"] == {
        "min_ram_gb": 16, "min_cpu_cores": 8, "gpu_required": False, "cpu_benchmark_min": 2.5}
    assert tiers["HEAVY_CPU"]["requirements"] == {
        "min_ram_gb": 32, "min_cpu_cores": 16, "gpu_required": False, "cpu_benchmark_min": 4.0}
    # gpu_vendors and gpu_full_offload are ours, not upstream's: the agent's GPU image is CUDA only, and the GPU
    # tiers' promises assume every layer on the card.
    assert tiers["MEDIUM_GPU"]["requirements"] == {
        "min_ram_gb": 16, "min_cpu_cores": 4, "gpu_required": True, "min_gpu_vram_gb": 6, "gpu_vendors": ["nvidia"],
        "gpu_full_offload": True}
    assert tiers["HEAVY_GPU"]["requirements"] == {
        "min_ram_gb": 32, "min_cpu_cores": 8, "gpu_required": True, "min_gpu_vram_gb": 12, "gpu_vendors": ["nvidia"],
        "gpu_full_offload": True}
    keys = ("stt_latency_sec", "llm_latency_sec", "tts_latency_sec")
    latencies = {name: [tiers[name]["expectations"][k] for k in keys] for name in tiers}
    assert latencies == {"LIGHT_CPU": [2, 8, 3], "MEDIUM_CPU": [2, 12, 3], "HEAVY_CPU": [2, 18, 3],
                         "MEDIUM_GPU": [2, 5, 2], "HEAVY_GPU": [2, 8, 2]}


def test_shipped_env_is_upstream_tuning():
    tiers = SHIPPED["tiers"]
    assert tiers["LIGHT_CPU"]["env"] == {"LOCAL_LLM_CONTEXT": 512, "LOCAL_LLM_MAX_TOKENS": 24,
                                         "LOCAL_LLM_INFER_TIMEOUT_SEC": 45, "LOCAL_LLM_GPU_LAYERS": 0}
    assert tiers["MEDIUM_CPU"]["env"] == {"LOCAL_LLM_CONTEXT": 512, "LOCAL_LLM_MAX_TOKENS": 32,
                                          "LOCAL_LLM_INFER_TIMEOUT_SEC": 30, "LOCAL_LLM_GPU_LAYERS": 0}
    assert tiers["HEAVY_CPU"]["env"] == {"LOCAL_LLM_CONTEXT": 512, "LOCAL_LLM_MAX_TOKENS": 28,
                                         "LOCAL_LLM_INFER_TIMEOUT_SEC": 35, "LOCAL_LLM_GPU_LAYERS": 0}
    for name in ("MEDIUM_GPU", "HEAVY_GPU"):
        assert tiers[name]["env"] == {"LOCAL_LLM_CONTEXT": 1024, "LOCAL_LLM_MAX_TOKENS": 48,
                                      "LOCAL_LLM_INFER_TIMEOUT_SEC": 20, "LOCAL_LLM_GPU_LAYERS": -1}
    # The shipped env is exactly what the loader would derive for these names.
    for name, tier in tiers.items():
        assert tier["env"] == reg.UPSTREAM_ENV[name]


def test_shipped_llm_extras():
    tiers = SHIPPED["tiers"]
    for name, tier in tiers.items():
        llm = tier["models"]["llm"]
        assert llm["quantization"] == "Q4_K_M"
        if tier["requirements"]["gpu_required"]:
            assert llm["gpu_layers"] == -1
            assert llm["expected_tokens_per_sec_gpu"] > 0
        else:
            assert not any(key.startswith("expected_tokens_per_sec_gpu") for key in llm)
    assert tiers["MEDIUM_GPU"]["models"]["llm"]["expected_tokens_per_sec_gpu"] == 25
    assert tiers["HEAVY_GPU"]["models"]["llm"]["expected_tokens_per_sec_gpu"] == 20


def test_shipped_sizes_are_exact_and_size_mb_rounds_up():
    for tier in load_registry(SHIPPED_PATH)["tiers"].values():
        for entry in iter_files(tier):
            assert entry["size_exact"] is True
            assert isinstance(entry["size_bytes"], int) and entry["size_bytes"] > 0
            if "size_mb" in entry:
                assert entry["size_mb"] == math.ceil(entry["size_bytes"] / 1e6)
            assert entry["format"] in ROLE_FORMATS[entry["role"]]
            dest = entry["target_path"] if entry["role"] == "stt" else entry["dest_path"]
            assert dest.startswith("models/") and ".." not in dest.split("/")


# --------------------------------------------------------------------------
# An upstream file


def test_upstream_fixture_loads_and_normalises():
    before = copy.deepcopy(UPSTREAM_DOC)
    loaded = load_registry(str(UPSTREAM))
    assert loaded["schema_version"] == 0
    assert tier_order(loaded) == BEST_FIRST
    assert {name: tier["rank"] for name, tier in loaded["tiers"].items()} == {
        "LIGHT_CPU": 10, "MEDIUM_CPU": 20, "HEAVY_CPU": 30, "MEDIUM_GPU": 40, "HEAVY_GPU": 50}
    for name, tier in loaded["tiers"].items():
        assert tier["env"] == reg.UPSTREAM_ENV[name]
        assert list(tier["env"]) == list(ENV_KEYS)
    light = loaded["tiers"]["LIGHT_CPU"]["models"]
    assert light["stt"]["size_bytes"] == 40 * 1000000
    assert light["stt"]["size_exact"] is False
    assert light["stt"]["format"] == "vosk-zip"
    assert light["llm"]["size_bytes"] == 670 * 1000000
    assert light["llm"]["format"] == "gguf"
    assert light["llm"]["sha256"] is None and light["llm"]["md5"] is None
    voice, config = light["tts"]["files"]
    assert (voice["format"], config["format"]) == ("piper-onnx", "piper-config")
    assert voice["size_bytes"] is None and voice["size_exact"] is False
    assert voice["sha256"] is None and voice["md5"] is None
    # Upstream fields pass through untouched.
    assert loaded["tiers"]["HEAVY_GPU"]["models"]["llm"]["expected_tokens_per_sec_gpu"] == 20
    assert loaded["tiers"]["HEAVY_GPU"]["expectations"] == UPSTREAM_DOC["tiers"]["HEAVY_GPU"]["expectations"]
    assert UPSTREAM_DOC == before


def test_upstream_unknown_tier_names_get_default_env_by_gpu():
    doc = copy.deepcopy(UPSTREAM_DOC)
    doc["tiers"]["CUSTOM_GPU_BOX"] = doc["tiers"].pop("HEAVY_GPU")
    doc["tiers"]["TINY"] = doc["tiers"].pop("LIGHT_CPU")
    tiers = load_registry(doc)["tiers"]
    assert tiers["CUSTOM_GPU_BOX"]["env"] == reg.DEFAULT_ENV_GPU == {
        "LOCAL_LLM_CONTEXT": 1024, "LOCAL_LLM_MAX_TOKENS": 48,
        "LOCAL_LLM_INFER_TIMEOUT_SEC": 20, "LOCAL_LLM_GPU_LAYERS": -1}
    assert tiers["TINY"]["env"] == reg.DEFAULT_ENV_CPU == {
        "LOCAL_LLM_CONTEXT": 512, "LOCAL_LLM_MAX_TOKENS": 24,
        "LOCAL_LLM_INFER_TIMEOUT_SEC": 45, "LOCAL_LLM_GPU_LAYERS": 0}


def test_partial_env_is_completed_from_defaults(shipped):
    shipped["tiers"]["HEAVY_CPU"]["env"] = {"LOCAL_LLM_MAX_TOKENS": 64}
    env = load_registry(shipped)["tiers"]["HEAVY_CPU"]["env"]
    assert env == {"LOCAL_LLM_CONTEXT": 512, "LOCAL_LLM_MAX_TOKENS": 64,
                   "LOCAL_LLM_INFER_TIMEOUT_SEC": 35, "LOCAL_LLM_GPU_LAYERS": 0}


def test_derived_rank_puts_any_gpu_tier_above_any_cpu_tier():
    doc = copy.deepcopy(UPSTREAM_DOC)
    doc["tiers"]["HUGE_CPU"] = copy.deepcopy(doc["tiers"]["HEAVY_CPU"])
    doc["tiers"]["HUGE_CPU"]["requirements"].update(min_ram_gb=512, min_cpu_cores=128)
    doc["tiers"]["SMALL_GPU"] = copy.deepcopy(doc["tiers"]["MEDIUM_GPU"])
    doc["tiers"]["SMALL_GPU"]["requirements"].update(min_gpu_vram_gb=4, min_ram_gb=8)
    order = tier_order(load_registry(doc))
    assert order == ["HEAVY_GPU", "MEDIUM_GPU", "SMALL_GPU", "HUGE_CPU", "HEAVY_CPU", "MEDIUM_CPU", "LIGHT_CPU"]


def test_tier_order_ties_break_by_name_and_raw_registries_work(shipped):
    for tier in shipped["tiers"].values():
        tier["rank"] = 7
    assert tier_order(shipped) == sorted(BEST_FIRST)
    assert tier_order(UPSTREAM_DOC) == BEST_FIRST


def test_iter_files_roles_and_copies():
    tier = SHIPPED["tiers"]["HEAVY_GPU"]
    before = copy.deepcopy(tier)
    files = iter_files(tier)
    assert [f["role"] for f in files] == ["stt", "llm", "tts", "tts"]
    assert files[1]["dest_path"] == "models/llm/llama-2-13b-chat.Q4_K_M.gguf"
    files[1]["dest_path"] = "changed"
    assert tier == before


def test_files_shared_by_tiers_with_the_same_content_are_fine():
    loaded = load_registry(SHIPPED_PATH)["tiers"]
    assert loaded["HEAVY_CPU"]["models"]["llm"]["dest_path"] == loaded["MEDIUM_GPU"]["models"]["llm"]["dest_path"]


def test_mapping_and_str_subclasses_are_accepted():
    class TaggedDict(dict):
        pass

    class TaggedStr(str):
        pass

    doc = copy.deepcopy(SHIPPED)
    doc["tiers"]["LIGHT_CPU"]["models"]["llm"]["url"] = TaggedStr(doc["tiers"]["LIGHT_CPU"]["models"]["llm"]["url"])
    loaded = load_registry(TaggedDict(doc))
    url = loaded["tiers"]["LIGHT_CPU"]["models"]["llm"]["url"]
    assert exactly(url, str) and exactly(loaded, dict)


# --------------------------------------------------------------------------
# Not mutating the input


@pytest.mark.parametrize("doc", [SHIPPED, UPSTREAM_DOC], ids=["shipped", "upstream"])
def test_input_dict_is_not_mutated(doc):
    doc = copy.deepcopy(doc)
    before = copy.deepcopy(doc)
    loaded = load_registry(doc)
    assert doc == before
    assert loaded is not doc
    # The result shares nothing mutable with the input.
    for name, tier in loaded["tiers"].items():
        tier["models"]["llm"]["dest_path"] = "models/changed"
        tier["models"]["tts"]["files"][0]["name"] = "changed"
        tier["requirements"]["min_ram_gb"] = 1
        tier["env"]["LOCAL_LLM_CONTEXT"] = 1
    assert doc == before


def test_input_is_not_mutated_when_it_fails(shipped):
    shipped["tiers"]["HEAVY_GPU"]["models"]["llm"]["dest_path"] = "models/llm/llama-2-7b-chat.Q4_K_M.gguf"
    before = copy.deepcopy(shipped)
    _error(shipped)
    assert shipped == before


# --------------------------------------------------------------------------
# Bad registries: the exact JSONPath


def _set(*keys_and_value):
    *keys, value = keys_and_value

    def mutate(doc):
        node = doc
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return mutate


def _delete(*keys):
    def mutate(doc):
        node = doc
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]
    return mutate


BAD = [
    ("schema_version_2", _set("schema_version", 2), "$.schema_version"),
    ("schema_version_string", _set("schema_version", "1"), "$.schema_version"),
    ("schema_version_bool", _set("schema_version", True), "$.schema_version"),
    ("negative_min_ram", _set("tiers", "LIGHT_CPU", "requirements", "min_ram_gb", -1),
     "$.tiers.LIGHT_CPU.requirements.min_ram_gb"),
    ("huge_min_ram", _set("tiers", "LIGHT_CPU", "requirements", "min_ram_gb", 4097),
     "$.tiers.LIGHT_CPU.requirements.min_ram_gb"),
    ("fractional_cores", _set("tiers", "MEDIUM_CPU", "requirements", "min_cpu_cores", 2.5),
     "$.tiers.MEDIUM_CPU.requirements.min_cpu_cores"),
    ("huge_vram", _set("tiers", "HEAVY_GPU", "requirements", "min_gpu_vram_gb", 2048),
     "$.tiers.HEAVY_GPU.requirements.min_gpu_vram_gb"),
    ("gpu_required_string", _set("tiers", "HEAVY_GPU", "requirements", "gpu_required", "yes"),
     "$.tiers.HEAVY_GPU.requirements.gpu_required"),
    ("missing_requirement", _delete("tiers", "MEDIUM_GPU", "requirements", "min_cpu_cores"),
     "$.tiers.MEDIUM_GPU.requirements.min_cpu_cores"),
    ("bad_sha256", _set("tiers", "HEAVY_GPU", "models", "llm", "sha256", "not-a-digest"),
     "$.tiers.HEAVY_GPU.models.llm.sha256"),
    ("upper_case_sha256", _set("tiers", "LIGHT_CPU", "models", "stt", "sha256",
                               "30F26242C4EB449F948E42CB302DD7A686CB29A3423A8367F99FF41780942498"),
     "$.tiers.LIGHT_CPU.models.stt.sha256"),
    ("sha256_with_newline", _set("tiers", "LIGHT_CPU", "models", "llm", "sha256", "a" * 64 + "\n"),
     "$.tiers.LIGHT_CPU.models.llm.sha256"),
    ("bad_md5", _set("tiers", "HEAVY_CPU", "models", "tts", "files", 0, "md5", "1234"),
     "$.tiers.HEAVY_CPU.models.tts.files[0].md5"),
    ("http_url", _set("tiers", "MEDIUM_CPU", "models", "stt", "url",
                      "http://alphacephei.com/vosk/models/vosk-model-en-us-0.22.zip"),
     "$.tiers.MEDIUM_CPU.models.stt.url"),
    ("url_with_space", _set("tiers", "LIGHT_CPU", "models", "llm", "url", "https://example.org/a b.gguf"),
     "$.tiers.LIGHT_CPU.models.llm.url"),
    ("traversal_dest_path", _set("tiers", "LIGHT_CPU", "models", "llm", "dest_path", "../../etc/cron.d/x"),
     "$.tiers.LIGHT_CPU.models.llm.dest_path"),
    ("traversal_inside_models", _set("tiers", "LIGHT_CPU", "models", "llm", "dest_path", "models/../../etc/x"),
     "$.tiers.LIGHT_CPU.models.llm.dest_path"),
    ("absolute_dest_path", _set("tiers", "HEAVY_CPU", "models", "tts", "files", 1, "dest_path",
                                "/etc/cron.d/x"),
     "$.tiers.HEAVY_CPU.models.tts.files[1].dest_path"),
    ("backslash_path", _set("tiers", "LIGHT_CPU", "models", "stt", "target_path", "models\\stt\\x"),
     "$.tiers.LIGHT_CPU.models.stt.target_path"),
    ("double_slash_path", _set("tiers", "LIGHT_CPU", "models", "stt", "dest_dir", "models//stt"),
     "$.tiers.LIGHT_CPU.models.stt.dest_dir"),
    ("path_outside_models", _set("tiers", "LIGHT_CPU", "models", "llm", "dest_path", "llm/x.gguf"),
     "$.tiers.LIGHT_CPU.models.llm.dest_path"),
    ("target_outside_dest_dir", _set("tiers", "LIGHT_CPU", "models", "stt", "target_path", "models/llm/x"),
     "$.tiers.LIGHT_CPU.models.stt.target_path"),
    ("unknown_env_key", _set("tiers", "MEDIUM_GPU", "env", "LOCAL_LLM_THREADS", 4),
     "$.tiers.MEDIUM_GPU.env.LOCAL_LLM_THREADS"),
    ("env_string_value", _set("tiers", "MEDIUM_GPU", "env", "LOCAL_LLM_CONTEXT", "1024"),
     "$.tiers.MEDIUM_GPU.env.LOCAL_LLM_CONTEXT"),
    ("env_gpu_layers_below_minus_one", _set("tiers", "HEAVY_GPU", "env", "LOCAL_LLM_GPU_LAYERS", -2),
     "$.tiers.HEAVY_GPU.env.LOCAL_LLM_GPU_LAYERS"),
    ("size_bytes_zero", _set("tiers", "LIGHT_CPU", "models", "llm", "size_bytes", 0),
     "$.tiers.LIGHT_CPU.models.llm.size_bytes"),
    ("negative_size_bytes", _set("tiers", "LIGHT_CPU", "models", "llm", "size_bytes", -1),
     "$.tiers.LIGHT_CPU.models.llm.size_bytes"),
    ("size_bytes_too_big", _set("tiers", "LIGHT_CPU", "models", "llm", "size_bytes", 2 ** 40 + 1),
     "$.tiers.LIGHT_CPU.models.llm.size_bytes"),
    ("negative_size_mb", _set("tiers", "LIGHT_CPU", "models", "llm", "size_mb", -1),
     "$.tiers.LIGHT_CPU.models.llm.size_mb"),
    ("nan_size_mb", _set("tiers", "LIGHT_CPU", "models", "llm", "size_mb", float("nan")),
     "$.tiers.LIGHT_CPU.models.llm.size_mb"),
    ("tts_name_dot_dot", _set("tiers", "HEAVY_CPU", "models", "tts", "files", 0, "name", ".."),
     "$.tiers.HEAVY_CPU.models.tts.files[0].name"),
    ("tts_name_with_slash", _set("tiers", "HEAVY_CPU", "models", "tts", "files", 0, "name", "../../etc/cron.d/x"),
     "$.tiers.HEAVY_CPU.models.tts.files[0].name"),
    ("dot_segment_path", _set("tiers", "LIGHT_CPU", "models", "stt", "target_path", "models/stt/./x"),
     "$.tiers.LIGHT_CPU.models.stt.target_path"),
    ("bad_format", _set("tiers", "LIGHT_CPU", "models", "llm", "format", "onnx"),
     "$.tiers.LIGHT_CPU.models.llm.format"),
    ("bad_rank", _set("tiers", "LIGHT_CPU", "rank", -5), "$.tiers.LIGHT_CPU.rank"),
    ("bad_tier_name", lambda d: d["tiers"].__setitem__("light cpu", d["tiers"].pop("LIGHT_CPU")),
     '$.tiers["light cpu"]'),
    ("missing_models", _delete("tiers", "HEAVY_GPU", "models"), "$.tiers.HEAVY_GPU.models"),
    ("missing_llm_url", _delete("tiers", "HEAVY_GPU", "models", "llm", "url"),
     "$.tiers.HEAVY_GPU.models.llm.url"),
    ("no_tts_files", _set("tiers", "HEAVY_GPU", "models", "tts", "files", []),
     "$.tiers.HEAVY_GPU.models.tts.files"),
    ("no_tiers", _set("tiers", {}), "$.tiers"),
    ("tiers_missing", _delete("tiers"), "$.tiers"),
    ("duplicate_destination_other_digest",
     _set("tiers", "HEAVY_GPU", "models", "llm", "dest_path", "models/llm/llama-2-7b-chat.Q4_K_M.gguf"),
     "$.tiers.HEAVY_GPU.models.llm.dest_path"),
    ("duplicate_destination_other_md5",
     _set("tiers", "HEAVY_GPU", "models", "tts", "files", 0, "md5", "0" * 32),
     "$.tiers.HEAVY_GPU.models.tts.files[0].dest_path"),
]


@pytest.mark.parametrize("mutate, path", [(m, p) for _unused, m, p in BAD], ids=[i for i, _unused, _unused in BAD])
def test_bad_registry_reports_exact_path(shipped, mutate, path):
    mutate(shipped)
    error = _error(shipped)
    assert error.path == path
    assert str(error).startswith("registry field %s: " % path)
    assert error.message and error.message in str(error)
    assert error.expected and str(error).endswith("(%s)" % error.expected)


URL_CASES = [
    ("http://alphacephei.com/vosk/m.zip", 'uses the scheme "http"'),
    ("file:///etc/passwd", 'uses the scheme "file"'),
    ("ftp://example.org/a.gguf", 'uses the scheme "ftp"'),
    ("gopher://example.org/a.gguf", 'uses the scheme "gopher"'),
    ("javascript:alert(1)", 'uses the scheme "javascript"'),
    ("HTTPS://example.org/a.gguf", 'uses the scheme "HTTPS"'),
    ("//example.org/a.gguf", "has no scheme"),
    ("https://user:secret@example.org/a.gguf", "user info"),
    ("https://huggingface.co@evil.example/a.gguf", "user info"),
    ("https://example.org\\@evil.example/a.gguf", 'has "\\\\" at position 19'),
    (" https://example.org/a.gguf", 'has " " at position 0'),
    ("https://example.org/a.gguf\n", 'has "\\n" at position 26'),
    ("https://example.org/a\u2028.gguf", 'has "\\u2028" at position 21'),
    ("https://example.org/a\x7f.gguf", 'has "\\u007f" at position 21'),
    ("https://example.org/models/../../etc/passwd", "has a . or .. path segment"),
    ("https://example.org/%2e%2E/etc/passwd", "has a . or .. path segment"),
    ("https://exa_mple.org/a.gguf", "has no valid host name"),
    ("https:///a.gguf", "has no valid host name"),
]


@pytest.mark.parametrize("role, keys", [
    ("llm", ("models", "llm", "url")),
    ("stt", ("models", "stt", "url")),
    ("tts", ("models", "tts", "files", 1, "url")),
])
@pytest.mark.parametrize("url, reason", URL_CASES, ids=[url for url, _unused in URL_CASES])
def test_a_url_that_is_not_plain_https_is_refused_naming_tier_field_and_reason(shipped, role, keys, url, reason):
    _set("tiers", "MEDIUM_CPU", *keys, url)(shipped)
    error = _error(shipped)
    assert error.path == json_path(["tiers", "MEDIUM_CPU"] + list(keys))
    assert error.path.startswith("$.tiers.MEDIUM_CPU.models.%s" % role)
    assert reason in error.message
    assert "https://host/path" in error.expected and "voiceagent_mirror_url may be http:// or file://" in error.expected


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.text(max_size=40),
    st.builds(lambda scheme, host, path: scheme + host + path,
              st.sampled_from(["https://", "http://", "HTTPS://", "file://", "https:", ""]),
              st.sampled_from(["example.org", "a.b:443", "u:p@h.org", "", "h_st", "h.org:123456"]),
              st.text(alphabet="/.%2eE?#ab\\ @:\n", max_size=16)),
))
def test_the_url_explanation_agrees_with_the_schema_pattern(url):
    pattern = reg._load_schema()[0]["$defs"]["url"]["pattern"]
    matches = re.search(pattern, url) is not None
    problem = url_problem(url)
    assert (problem is None) == matches, (url, problem)


def test_duplicate_destination_names_both_places(shipped):
    shipped["tiers"]["HEAVY_GPU"]["models"]["llm"]["dest_path"] = "models/llm/llama-2-7b-chat.Q4_K_M.gguf"
    error = _error(shipped)
    assert "$.tiers.HEAVY_CPU.models.llm.dest_path" in error.message
    assert "sha256" in error.message


def test_duplicate_destination_in_upstream_file_with_other_size():
    doc = copy.deepcopy(UPSTREAM_DOC)
    doc["tiers"]["HEAVY_GPU"]["models"]["llm"]["size_mb"] = 1
    doc["tiers"]["HEAVY_GPU"]["models"]["llm"]["dest_path"] = "models/llm/llama-2-7b-chat.Q4_K_M.gguf"
    # Sizes from size_mb are estimates: they do not conflict.
    load_registry(doc)
    doc["tiers"]["HEAVY_GPU"]["models"]["llm"]["size_bytes"] = 1
    doc["tiers"]["HEAVY_CPU"]["models"]["llm"]["size_bytes"] = 2
    assert _error(doc).path == "$.tiers.HEAVY_GPU.models.llm.dest_path"


def test_schema_version_error_names_supported_version(shipped):
    shipped["schema_version"] = 2
    error = _error(shipped)
    assert "2" in error.message
    assert "schema_version 1" in error.expected
    assert str(error) == "registry field $.schema_version: %s (%s)" % (error.message, error.expected)


def test_integral_floats_count_as_integers(shipped):
    shipped["schema_version"] = 1.0
    shipped["tiers"]["LIGHT_CPU"]["rank"] = 10.0
    shipped["tiers"]["LIGHT_CPU"]["env"]["LOCAL_LLM_CONTEXT"] = 512.0
    shipped["tiers"]["LIGHT_CPU"]["models"]["llm"]["size_bytes"] = 668788096.0
    tier = load_registry(shipped)["tiers"]["LIGHT_CPU"]
    assert exactly(tier["rank"], int)
    assert exactly(tier["env"]["LOCAL_LLM_CONTEXT"], int)
    assert exactly(tier["models"]["llm"]["size_bytes"], int)


def test_schema_version_checked_before_the_schema():
    error = _error({"schema_version": 3, "tiers": "not even an object"})
    assert error.path == "$.schema_version"


def test_format_that_cannot_be_inferred():
    doc = copy.deepcopy(UPSTREAM_DOC)
    doc["tiers"]["LIGHT_CPU"]["models"]["llm"]["url"] = "https://example.org/model.bin"
    doc["tiers"]["LIGHT_CPU"]["models"]["llm"]["dest_path"] = "models/llm/model.bin"
    assert _error(doc).path == "$.tiers.LIGHT_CPU.models.llm.format"


def test_registry_error_is_a_value_error():
    error = RegistryError("$.tiers.X.y", "is wrong", "something right")
    assert isinstance(error, ValueError)
    assert (error.path, error.message, error.expected) == ("$.tiers.X.y", "is wrong", "something right")
    assert str(error) == "registry field $.tiers.X.y: is wrong (something right)"


def test_json_path_notation():
    assert json_path([]) == "$"
    assert json_path(["tiers", "LIGHT_CPU", "models", "tts", "files", 1, "dest_path"]) == \
        "$.tiers.LIGHT_CPU.models.tts.files[1].dest_path"
    assert json_path(["tiers", "a b"]) == '$.tiers["a b"]'
    assert json_path(["tiers", "x\n"]) == '$.tiers["x\\n"]'


# --------------------------------------------------------------------------
# Files that cannot be read


def test_missing_file(tmp_path):
    missing = tmp_path / "nowhere.json"
    error = _error(str(missing))
    assert error.path == "$"
    assert str(missing) in error.message


def test_invalid_json(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"tiers": {"LIGHT_CPU": }', encoding="utf-8")
    error = _error(str(broken))
    assert error.path == "$"
    assert str(broken) in error.message
    assert "line 1 column" in error.message


def test_nan_in_file_is_invalid_json(tmp_path):
    doc = json.dumps(SHIPPED).replace('"size_mb": 669', '"size_mb": NaN')
    path = tmp_path / "nan.json"
    path.write_text(doc, encoding="utf-8")
    error = _error(path)
    assert error.path == "$"
    assert "NaN" in error.message


def test_directory_instead_of_file(tmp_path):
    assert _error(str(tmp_path)).path == "$"


@pytest.mark.parametrize("content", ["[]", '"tiers"', "null", "3"])
def test_json_that_is_not_an_object(tmp_path, content):
    path = tmp_path / "registry.json"
    path.write_text(content, encoding="utf-8")
    error = _error(str(path))
    assert error.path == "$"


@pytest.mark.parametrize("source", [None, 3, ["tiers"], b"{}"])
def test_unusable_source(source):
    assert _error(source).path == "$"


def test_not_json_values_in_a_dict(shipped):
    shipped["tiers"]["LIGHT_CPU"]["requirements"]["min_ram_gb"] = {1, 2}
    assert _error(shipped).path == "$.tiers.LIGHT_CPU.requirements.min_ram_gb"
    shipped = copy.deepcopy(SHIPPED)
    shipped["tiers"][5] = {}
    assert _error(shipped).path == "$.tiers"


# --------------------------------------------------------------------------
# Random mutations: load or RegistryError, never anything else


KNOWN_KEYS = sorted({key for tier in SHIPPED["tiers"].values() for key in tier}
                    | {key for tier in SHIPPED["tiers"].values() for part in tier.values()
                       if isinstance(part, dict) for key in part}
                    | {key for tier in SHIPPED["tiers"].values() for entry in iter_files(tier) for key in entry}
                    | set(ENV_KEYS) | {"schema_version", "tiers", "cpu_benchmark_min", "min_gpu_vram_gb",
                                       "expected_tokens_per_sec_cpu", "gpu_layers", "size_mb"})
INTERESTING_TEXT = [
    "", "LIGHT_CPU", "NEW_TIER", "models", "models/x", "models/llm/llama-2-7b-chat.Q4_K_M.gguf",
    "models/stt/vosk-model-en-us-0.22", "../x", "/etc/passwd", "models/../x", "https://example.org/a.gguf",
    "https://example.org/a.onnx.json", "http://example.org/a.zip", "a" * 64, "A" * 64, "0" * 32, "gguf",
    "vosk-zip", "piper-onnx", "piper-config", "Q4_K_M",
]

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2 ** 64), max_value=2 ** 64)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(INTERESTING_TEXT)
)
json_keys = st.sampled_from(KNOWN_KEYS) | st.text(max_size=8)
json_values = st.recursive(
    json_leaves,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(json_keys, children, max_size=3),
    max_leaves=8,
)


def _locations(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, item in node.items():
            yield from _locations(item, prefix + (key,))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _locations(item, prefix + (index,))


@st.composite
def mutated_registries(draw):
    doc = copy.deepcopy(SHIPPED)
    for _unused in range(draw(st.integers(min_value=1, max_value=3))):
        locations = list(_locations(doc))
        where = draw(st.sampled_from(locations))
        op = draw(st.sampled_from(["replace", "delete", "insert", "copy"]))
        if not where:
            if op == "replace":
                doc = draw(json_values)
            continue
        parent = doc
        for key in where[:-1]:
            parent = parent[key]
        last = where[-1]
        target = parent[last]
        if op == "replace":
            parent[last] = draw(json_values)
        elif op == "delete":
            del parent[last]
        elif op == "insert" and isinstance(target, dict):
            target[draw(json_keys)] = draw(json_values)
        elif op == "insert" and isinstance(target, list):
            target.insert(draw(st.integers(min_value=0, max_value=len(target))), draw(json_values))
        elif op == "copy":
            source = draw(st.sampled_from(locations))
            value = doc
            for key in source:
                value = value[key]
            parent[last] = copy.deepcopy(value)
        if not isinstance(doc, (dict, list)):
            break
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_registries())
def test_random_mutations_load_or_raise_registry_error(doc):
    before = json.dumps(doc, sort_keys=True)
    try:
        loaded = load_registry(doc)
    except RegistryError as error:
        event("RegistryError")
        assert error.path.startswith("$")
        assert str(error).startswith("registry field $")
    else:
        event("loaded")
        assert loaded["schema_version"] in (0, SCHEMA_VERSION)
        order = tier_order(loaded)
        assert sorted(order) == sorted(loaded["tiers"])
        for tier in loaded["tiers"].values():
            assert isinstance(tier["rank"], int) and not isinstance(tier["rank"], bool)
            assert list(tier["env"]) == list(ENV_KEYS)
            assert all(exactly(value, int) for value in tier["env"].values())
            assert exactly(tier["requirements"]["min_cpu_cores"], int)
            for entry in iter_files(tier):
                assert entry["format"] in ROLE_FORMATS[entry["role"]]
                assert isinstance(entry["size_exact"], bool)
                assert entry["size_bytes"] is None or (exactly(entry["size_bytes"], int) and entry["size_bytes"] > 0)
                assert "sha256" in entry and "md5" in entry
    assert json.dumps(doc, sort_keys=True) == before
