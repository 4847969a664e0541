"""Tests for plugins/plugin_utils/_policy/llm_prediction.py: the speed model and its fitted constants."""
import pytest

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import llm_prediction as lp

TINYLLAMA_Q4_K_M_BYTES = 668788096


def test_generation_is_eta_times_bandwidth_over_file_bytes():
    # 0.5 x 40 GB/s / 1 GB = 20 tokens/s
    assert lp.cpu_tokens_per_sec(40.0, 1e9, eta=0.5) == pytest.approx(20.0)


def test_generation_uses_the_quantisation_eta():
    q4 = lp.cpu_tokens_per_sec(72.0, 1e9, "Q4_0")
    q8 = lp.cpu_tokens_per_sec(72.0, 1e9, "Q8_0")
    assert q4 == pytest.approx(lp.ETA_CPU["Q4_0"] * 72.0)
    assert q8 == pytest.approx(lp.ETA_CPU["Q8_0"] * 72.0)
    assert q8 > q4


@pytest.mark.parametrize("name", ["q4_k_m", " Q4_K_M ", "Q4_K_M"])
def test_quantisation_names_are_matched_without_case_or_spaces(name):
    assert lp.quant_key(name) == "Q4_K_M"


@pytest.mark.parametrize("name", [None, "", "IQ2_XS", 4])
def test_an_unmeasured_quantisation_gets_the_slowest_tinyllama_shape_figures(name):
    # Not Q4_1's: those come from the 135M SmolLM2 alone and carry its fixed per-token costs.
    assert lp.quant_key(name) is None
    assert lp.eta_for(name) == min(lp.ETA_CPU[q] for q in lp.FALLBACK_QUANTS) == 0.528
    assert lp.prompt_k_for(name) == min(lp.PROMPT_K_CPU[q] for q in lp.FALLBACK_QUANTS) == 14.5
    slowest_prompt = min(lp.cpu_prompt_tokens_per_sec(4.5, 2, 1e9, q) for q in lp.FALLBACK_QUANTS)
    assert lp.cpu_prompt_tokens_per_sec(4.5, 2, 1e9, name) <= slowest_prompt


def test_q4_1_has_its_own_figures_from_smollm2():
    assert lp.quant_key("q4_1") == "Q4_1"
    # SmolLM2-135M Q4_1: 98,362,432 bytes hold 134,515,008 weights.
    assert lp.model_weights(98362432, "Q4_1") == pytest.approx(134515008, rel=1e-4)


@pytest.mark.parametrize("bandwidth,size", [(None, 1e9), (0, 1e9), (-3.0, 1e9), (30.0, 0), (30.0, None), (True, 1e9)])
def test_generation_is_unknown_without_a_positive_bandwidth_and_size(bandwidth, size):
    assert lp.cpu_tokens_per_sec(bandwidth, size, "Q4_0") is None


def test_prompt_speed_is_k_score_cores_over_weights():
    weights = 1e9 / lp.BYTES_PER_WEIGHT["Q8_0"]
    expected = lp.PROMPT_K_CPU["Q8_0"] * 4.0 * 8 * 1e9 / weights
    assert lp.cpu_prompt_tokens_per_sec(4.0, 8, 1e9, "Q8_0") == pytest.approx(expected)
    # Twice the cores, twice the speed; twice the file, half.
    assert lp.cpu_prompt_tokens_per_sec(4.0, 16, 1e9, "Q8_0") == pytest.approx(2 * expected)
    assert lp.cpu_prompt_tokens_per_sec(4.0, 8, 2e9, "Q8_0") == pytest.approx(expected / 2)
    assert lp.cpu_prompt_tokens_per_sec(4.0, 8, 1e9, "Q8_0", k=1.0) == pytest.approx(4.0 * 8 * 1e9 / weights)


@pytest.mark.parametrize("score,cores,size", [(None, 2, 1e9), (4.5, 0, 1e9), (4.5, 2, None), (0.0, 2, 1e9)])
def test_prompt_speed_is_unknown_without_positive_inputs(score, cores, size):
    assert lp.cpu_prompt_tokens_per_sec(score, cores, size, "Q4_0") is None


def test_weights_of_the_real_tinyllama_q4_k_m_file():
    # TinyLlama-1.1B has 1.10e9 quantised weights; its registry file is 668,788,096 bytes.
    assert lp.model_weights(TINYLLAMA_Q4_K_M_BYTES, "Q4_K_M") == pytest.approx(1.1e9, rel=0.01)


def test_constants_cover_the_same_quantisations_and_are_plausible():
    assert set(lp.ETA_CPU) == set(lp.PROMPT_K_CPU) == set(lp.BYTES_PER_WEIGHT)
    assert all(0.1 < eta <= 1.0 for eta in lp.ETA_CPU.values())
    assert all(k > 0 for k in lp.PROMPT_K_CPU.values())


@pytest.mark.parametrize("tokens,tps,expected", [(24, 12.0, 2.0), (24, None, None), (24, 0, None), (None, 5.0, None)])
def test_seconds_for_a_number_of_tokens(tokens, tps, expected):
    assert lp.llm_seconds(tokens, tps) == expected


def test_the_compute_side_of_q4_1_predicts_smollm2_at_one_thread():
    from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import speed_model as sm

    assert sm.k_compute("Q4_1") == 2.48e9 and sm.k_compute("IQ2_XS") == 5.77e9
    # bench/results/predict-smollm2-t1.json: tg128 57.27 tokens/s at a score of 3.16, one thread.
    tps, bound = sm.cpu_generation(21.34, 3.16, 1, 98362432, "Q4_1")
    assert bound == "compute" and tps == pytest.approx(57.27, rel=0.05)
