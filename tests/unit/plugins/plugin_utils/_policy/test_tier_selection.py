"""Tier selection rules, on the shipped registry and on the example hosts."""
import copy
import importlib.util
import json
import pathlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import default_registry_path
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.tier_selection import (
    InvalidFactsError,
    InvalidRegistryError,
    NoTierFitsError,
    SelectionError,
    UnknownTierError,
    select_tier,
)

ROOT = pathlib.Path(__file__).resolve().parents[5]
EXAMPLES = ROOT / "examples" / "facts"


@pytest.fixture(scope="module")
def registry():
    return json.loads(pathlib.Path(default_registry_path()).read_text())


def example(name):
    return json.loads((EXAMPLES / name).read_text())


def test_upstream_2014_xeon_with_ddr3_bandwidth_does_not_get_heavy_cpu(registry):
    result = select_tier(example("upstream-2014-xeon-16c-39gb.json"), registry)
    assert result["tier"] != "HEAVY_CPU"
    assert result["tier"] == "LIGHT_CPU"
    # Roofline, memory side: 1.0 x 4.5 GB/s / (4.08 GB + KV so far) = 1.05 tokens/s; 28 tokens plus a 400-token
    # prompt and the registry's STT and TTS make a 35.39 s turn against 2 + 18 + 3 = 23 s.
    assert "its turn would take 35.39 s" in result["rejected"]["HEAVY_CPU"]
    assert "over its 23 s promise" in result["rejected"]["HEAVY_CPU"]
    assert "1.05 tokens/s" in result["rejected"]["HEAVY_CPU"]
    assert "CPU score of 4, the host scores 2.1" in result["rejected"]["HEAVY_CPU"]
    assert set(result["rejected"]) == {"HEAVY_GPU", "MEDIUM_GPU", "HEAVY_CPU", "MEDIUM_CPU"}


def test_a_4gb_vram_card_gets_no_gpu_tier(registry):
    result = select_tier(example("nvidia-4gb-16gb-8c.json"), registry)
    assert result["tier"] == "MEDIUM_CPU"
    assert "needs 6 GB of VRAM on one card, the largest card has 4 GiB" in result["rejected"]["MEDIUM_GPU"]


def test_container_limited_to_6gb_on_a_64gb_host_fails_naming_memory(registry, make_facts):
    facts = make_facts(cores=8, total_gb=62.8, limit_gb=6.0, memory_gb=62.8)
    with pytest.raises(NoTierFitsError) as err:
        select_tier(facts, registry)
    message = str(err.value)
    assert "LIGHT_CPU" in message
    assert "needs 8 GB of memory, the host has 6 GiB usable (cgroup limit 6 GiB of 62.8 GiB total)" in message
    assert "voiceagent_tier" in message


def test_container_limited_to_6gb_is_honoured_with_an_override_and_a_warning(registry, make_facts):
    facts = make_facts(cores=8, total_gb=62.8, limit_gb=6.0, memory_gb=62.8)
    result = select_tier(facts, registry, override="LIGHT_CPU")
    assert result["tier"] == "LIGHT_CPU"
    assert result["source"] == "override"
    assert result["auto_tier"] is None
    assert "cannot run it as promised" in result["warnings"][0]
    assert "needs 8 GB of memory" in result["warnings"][0]


def test_a_16gb_host_reading_15_6_gib_qualifies_for_16gb_tiers(registry, make_facts):
    result = select_tier(make_facts(cores=8, memory_gb=15.6), registry)
    assert result["tier"] == "MEDIUM_CPU"


def test_a_host_really_one_size_smaller_does_not_qualify(registry, make_facts):
    result = select_tier(make_facts(cores=8, memory_gb=14.9), registry)
    assert result["tier"] == "LIGHT_CPU"
    assert "needs 16 GB of memory, the host has 14.9 GiB usable" in result["rejected"]["MEDIUM_CPU"]


def test_usable_cores_not_logical_cores_decide(registry, make_facts):
    facts = make_facts(cores=16, memory_gb=62.0)
    facts["cpu"]["usable_cores"] = 12
    result = select_tier(facts, registry)
    assert result["tier"] == "MEDIUM_CPU"
    assert "needs 16 CPU cores, the host can use 12" in result["rejected"]["HEAVY_CPU"]


def test_a_12gb_card_with_32gb_and_8_cores_gets_heavy_gpu(registry):
    result = select_tier(example("nvidia-12gb-32gb-8c.json"), registry)
    assert result["tier"] == "HEAVY_GPU"
    assert result["source"] == "auto"
    # The registry's -1 (all layers) is written as Llama-2-13B's 40 blocks + the output layer.
    assert result["env"]["LOCAL_LLM_GPU_LAYERS"] == 41 and result["gpu_available"] is True
    # An RTX 3060 (360 GB/s): 0.57 x 360 GB/s / (7.87 GB + KV so far) = 24.98 tokens/s, every layer on the card.
    predicted = result["expected"]["predicted"]
    assert predicted["basis"] == "GPU memory bandwidth" and predicted["llm_tokens_per_sec"] == 24.98
    assert predicted["memory"]["placement"] == "vram" and predicted["gpu_layers"] == 41


def test_vram_is_never_summed_across_cards(registry, make_facts):
    result = select_tier(make_facts(cores=8, memory_gb=31.3, vram_mb=(8192, 8192)), registry)
    assert result["tier"] == "MEDIUM_GPU"
    assert "needs 12 GB of VRAM on one card, the largest card has 8 GiB" in result["rejected"]["HEAVY_GPU"]


def _amd_allowed(registry):
    allowed = copy.deepcopy(registry)
    for tier in allowed["tiers"].values():
        if tier["requirements"]["gpu_required"]:
            tier["requirements"]["gpu_vendors"] = ["nvidia", "amd"]
    return allowed


def test_an_integrated_gpu_beside_a_real_card_does_not_count(registry):
    # A registry whose GPU tiers accept AMD cards; the shipped one does not (next test).
    result = select_tier(example("amd-20gb-64gb-16c.json"), _amd_allowed(registry))
    assert result["tier"] == "HEAVY_GPU"
    assert result["gpu_available"] is False


def test_an_amd_only_host_gets_a_cpu_tier_and_says_why(registry):
    result = select_tier(example("amd-20gb-64gb-16c.json"), registry)
    assert result["tier"].endswith("_CPU")
    assert "needs a GPU the agent's image can use (NVIDIA; its GPU image is CUDA only), the host has only AMD" \
        in result["rejected"]["HEAVY_GPU"]
    assert result["env"]["LOCAL_LLM_GPU_LAYERS"] == 0 and result["gpu_available"] is False
    assert "stays unused: no GPU tier takes AMD cards (the agent's GPU image is CUDA only)" in result["reason"]


def test_the_context_is_raised_to_the_agent_floor_and_capped_at_the_trained_context(registry, make_facts):
    assert select_tier(make_facts(), registry, override="LIGHT_CPU")["env"]["LOCAL_LLM_CONTEXT"] == 768
    small = copy.deepcopy(registry)
    small["tiers"]["LIGHT_CPU"]["env"]["LOCAL_LLM_CONTEXT"] = 4096
    result = select_tier(make_facts(), small, override="LIGHT_CPU")
    assert result["env"]["LOCAL_LLM_CONTEXT"] == 2048
    assert "LOCAL_LLM_CONTEXT 4096 is lowered to 2048, the model's trained context" in result["warnings"]


def test_a_gpu_tier_without_a_block_count_fails_naming_the_field(registry, make_facts):
    broken = copy.deepcopy(registry)
    del broken["tiers"]["MEDIUM_GPU"]["models"]["llm"]["gguf"]
    with pytest.raises(SelectionError, match="models.llm.gguf has no general.architecture"):
        select_tier(make_facts(vram_mb=(8192,)), broken, override="MEDIUM_GPU")


def test_the_kv_cache_at_the_agent_context_counts_in_the_memory_fit(registry, make_facts):
    # Llama-2-13B at 1024 tokens: 2 x 1024 x 40 x 5120 x 2 bytes = 0.78 GiB of KV cache beside 7.33 GiB of
    # weights, a 0.12 GiB compute buffer and 457 MiB of CUDA context: 8.67 GiB. An 8.5 GiB card holds all but
    # the KV cache, and HEAVY_GPU needs every layer on the card (gpu_full_offload). (The old margins,
    # 1.1 x file + 0.5 GiB + KV = 9.34 GiB, refused a 9 GiB card that llama.cpp's own sums fit.)
    lower = copy.deepcopy(registry)
    lower["tiers"]["HEAVY_GPU"]["requirements"]["min_gpu_vram_gb"] = 8
    result = select_tier(make_facts(cores=8, memory_gb=31.3, vram_mb=(8704,)), lower)
    assert ("its LLM needs 8.67 GiB of VRAM with every layer on the GPU (weights 7.33, KV cache 0.78, compute "
            "buffer 0.12, CUDA context 0.45 GiB at 1024 tokens of context), the cards have 8.5 GiB free"
            in result["rejected"]["HEAVY_GPU"])
    assert select_tier(make_facts(cores=8, memory_gb=31.3, vram_mb=(9 * 1024,)), lower)["tier"] == "HEAVY_GPU"


def test_slow_memory_refuses_a_tier_on_predicted_latency_with_the_numbers(registry, make_facts):
    result = select_tier(make_facts(cores=8, memory_gb=15.6, bandwidth=5.0), registry)
    assert result["tier"] == "LIGHT_CPU"
    # 1.0 x 5 GB/s / (2.39 GB + KV so far) = 1.96 tokens/s: a 400-token prompt (1.99 s) and 32 tokens make 18.36 s
    # of LLM, a 23.36 s turn against (2 + 12 + 3) x 1.25 = 21.25 s.
    assert ("its turn would take 23.36 s: its LLM 18.36 s (a 400-token prompt in 1.99 s, then 32 tokens at a "
            "predicted 1.96 tokens/s, measured memory bandwidth), over its 17 s promise") in result["rejected"]["MEDIUM_CPU"]


def test_cpu_tiers_report_a_prompt_speed_from_score_and_cores(registry, make_facts):
    # Q4_K_M k 21.98 x score 4.5 x 8 cores / (668,788,096 B / 0.6065 B per weight) = 717.6 tokens/s
    result = select_tier(make_facts(cores=8, memory_gb=7.8, bandwidth=30.0, score=4.5), registry)
    assert result["tier"] == "LIGHT_CPU"
    assert result["expected"]["predicted"]["llm_prompt_tokens_per_sec"] == 717.6
    no_score = select_tier(make_facts(cores=8, memory_gb=7.8, bandwidth=30.0, score=None), registry)
    assert no_score["expected"]["predicted"]["llm_prompt_tokens_per_sec"] is None


def test_the_promise_shown_is_kept_by_the_prediction(registry, make_facts):
    result = select_tier(make_facts(cores=8, memory_gb=15.6, bandwidth=30.0), registry)
    predicted = result["expected"]["predicted"]
    assert predicted["llm_latency_sec"] <= result["expected"]["llm_latency_sec"] * 1.25
    assert predicted["basis"] == "measured memory bandwidth"
    assert "predicted" in result["reason"]


def test_below_the_score_minimum_refuses_the_tier(registry, make_facts):
    result = select_tier(make_facts(cores=8, memory_gb=15.6, score=2.0), registry)
    assert result["tier"] == "LIGHT_CPU"
    assert "needs a CPU score of 2.5, the host scores 2" in result["rejected"]["MEDIUM_CPU"]


def test_without_a_benchmark_score_tiers_with_a_minimum_are_refused(registry, make_facts):
    result = select_tier(make_facts(cores=8, memory_gb=15.6, score=None, bandwidth=None), registry)
    assert result["tier"] == "LIGHT_CPU"
    assert "no benchmark was measured" in result["rejected"]["MEDIUM_CPU"]
    assert any("could not be predicted" in note for note in result["warnings"])


def test_below_light_cpu_cores_fails_clearly(registry, make_facts):
    with pytest.raises(NoTierFitsError, match="LIGHT_CPU, needs 4 CPU cores, the host can use 2"):
        select_tier(make_facts(cores=2, memory_gb=23.4), registry)


def test_unknown_override_lists_the_valid_tiers(registry, make_facts):
    with pytest.raises(UnknownTierError) as err:
        select_tier(make_facts(), registry, override="ULTRA_GPU")
    assert "'ULTRA_GPU'" in str(err.value)
    assert "HEAVY_GPU, MEDIUM_GPU, HEAVY_CPU, MEDIUM_CPU, LIGHT_CPU" in str(err.value)


def test_an_override_the_host_can_run_has_no_warning(registry, make_facts):
    result = select_tier(make_facts(cores=8, memory_gb=15.6), registry, override="LIGHT_CPU")
    assert result["tier"] == "LIGHT_CPU"
    assert result["source"] == "override"
    assert result["auto_tier"] == "MEDIUM_CPU"
    assert result["rejected"] == {}
    assert not any("cannot run it" in w for w in result["warnings"])


def test_an_override_above_the_hardware_is_honoured_loudly(registry, make_facts):
    result = select_tier(make_facts(cores=8, memory_gb=15.6), registry, override="HEAVY_GPU")
    assert result["tier"] == "HEAVY_GPU"
    assert "needs a GPU, the host has none usable" in result["warnings"][0]


@pytest.mark.parametrize("omitted", [None, "", "__omit_place_holder__0123abcd"])
def test_an_omitted_override_means_auto(registry, make_facts, omitted):
    assert select_tier(make_facts(), registry, override=omitted)["source"] == "auto"


def test_missing_facts_name_the_key(registry, make_facts):
    facts = make_facts()
    del facts["cpu"]["usable_cores"]
    with pytest.raises(InvalidFactsError, match="cpu.usable_cores"):
        select_tier(facts, registry)


@pytest.mark.parametrize("bad", ["16", -1, float("nan"), True])
def test_wrong_fact_types_name_the_key_and_value(registry, make_facts, bad):
    facts = make_facts()
    facts["memory"]["usable_gb"] = bad
    with pytest.raises(InvalidFactsError, match="memory.usable_gb"):
        select_tier(facts, registry)


def test_a_registry_path_is_accepted(make_facts):
    assert select_tier(make_facts(), default_registry_path())["tier"] == "MEDIUM_CPU"


def test_an_invalid_registry_names_the_json_path(registry, make_facts):
    broken = copy.deepcopy(registry)
    broken["tiers"]["LIGHT_CPU"]["requirements"]["min_ram_gb"] = -8
    with pytest.raises(InvalidRegistryError) as err:
        select_tier(make_facts(), broken)
    assert err.value.path == "$.tiers.LIGHT_CPU.requirements.min_ram_gb"


def test_selection_is_deterministic_and_leaves_its_inputs_alone(registry, make_facts):
    facts = make_facts()
    before = (copy.deepcopy(facts), copy.deepcopy(registry))
    first = select_tier(facts, registry)
    first["models"]["llm"]["url"] = "changed by the caller"
    second = select_tier(facts, registry)
    assert (facts, registry) == before
    assert second["models"]["llm"]["url"] != "changed by the caller"
    first["models"]["llm"]["url"] = second["models"]["llm"]["url"]
    assert first == second


def test_the_result_carries_models_env_and_expectations(registry, make_facts):
    result = select_tier(make_facts(), registry)
    assert set(result) >= {"tier", "source", "reason", "rejected", "warnings", "expected", "models", "env"}
    assert result["models"]["llm"]["format"] == "gguf"
    assert result["env"]["LOCAL_LLM_MAX_TOKENS"] == 32
    assert result["expected"]["llm_latency_sec"] == 12


def test_without_jsonschema_the_error_says_what_to_install(registry, make_facts, monkeypatch):
    from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import tier_selection
    monkeypatch.setattr(tier_selection, "HAS_JSONSCHEMA", False)
    monkeypatch.setattr(tier_selection, "_REGISTRY_CACHE", {})
    with pytest.raises(tier_selection.MissingDependencyError, match="pip install jsonschema"):
        select_tier(make_facts(), registry)


def test_a_registry_without_expectations_still_selects(registry, make_facts):
    bare = copy.deepcopy(registry)
    for tier in bare["tiers"].values():
        del tier["expectations"]
    result = select_tier(make_facts(), bare)
    assert result["tier"] == "MEDIUM_CPU"
    assert result["expected"]["predicted"]["llm_latency_sec"] > 0


numbers = st.one_of(st.none(), st.booleans(), st.integers(-5, 10 ** 6), st.floats(allow_nan=True),
                    st.text(max_size=3))
fact_sets = st.fixed_dictionaries({}, optional={
    "cpu": st.fixed_dictionaries({}, optional={"usable_cores": numbers}),
    "memory": st.fixed_dictionaries({}, optional={
        "usable_gb": numbers, "total_gb": numbers, "cgroup_limit_gb": numbers}),
    "gpu": st.one_of(st.none(), st.fixed_dictionaries({}, optional={
        "present": st.one_of(st.booleans(), numbers), "count": numbers, "max_vram_gb": numbers})),
    "benchmark": st.fixed_dictionaries({}, optional={"score": numbers, "memory_bandwidth_gbps": numbers}),
})


@settings(max_examples=300, deadline=None)
@given(facts=fact_sets, override=st.one_of(st.none(), st.sampled_from(["LIGHT_CPU", "HEAVY_GPU", "NOPE"])))
def test_random_facts_give_a_tier_or_a_documented_error(registry, facts, override):
    try:
        result = select_tier(facts, registry, override=override)
    except SelectionError as exc:
        assert str(exc).endswith(".")
        return
    assert result["tier"] in registry["tiers"]
    assert select_tier(facts, registry, override=override) == result


# Random registries (the shipped one, mutated in up to three places) with random facts and overrides.
def _registry_strategies():
    spec = importlib.util.spec_from_file_location(
        "voiceagent_test_registry_strategies", str(pathlib.Path(__file__).resolve().parent / "test_registry.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.mutated_registries


mutated_registries = _registry_strategies()
DOCUMENTED = (InvalidFactsError, InvalidRegistryError, NoTierFitsError, UnknownTierError)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=mutated_registries(), facts=st.one_of(fact_sets, st.just(None)),
       override=st.one_of(st.none(), st.sampled_from(["LIGHT_CPU", "HEAVY_GPU", "NOPE", ""])))
def test_random_registries_give_a_tier_or_a_documented_error_with_a_sentence(make_facts, doc, facts, override):
    facts = make_facts() if facts is None else facts
    try:
        result = select_tier(facts, doc, override=override)
    except DOCUMENTED as exc:
        text = str(exc)
        if isinstance(exc, InvalidRegistryError):
            assert text.startswith("registry field $") and exc.path.startswith("$")
        else:
            assert text.endswith(".") and len(text.split()) >= 4
        return
    assert result["tier"] in doc["tiers"]
