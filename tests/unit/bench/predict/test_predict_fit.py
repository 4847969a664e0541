"""Tests for bench/predict/fit.py: the constants come back out of runs made with them."""
import copy
import importlib.util
import pathlib

import pytest

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import llm_prediction as lp

ROOT = pathlib.Path(__file__).resolve().parents[4]
spec = importlib.util.spec_from_file_location("predict_fit", ROOT / "bench" / "predict" / "fit.py")
fit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fit)


def _model(name, quant, size, eta, k, bw=(70.0, 72.0, 74.0), score=(4.4, 4.5, 4.6), cores=2, pp16_factor=1.0):
    weights = lp.model_weights(size, quant)
    runs = [{"bandwidth_gbps": b, "score": s, "tg128": eta * b * 1e9 / size,
             "pp16": pp16_factor * k * s * cores * 1e9 / weights, "pp256": k * s * cores * 1e9 / weights}
            for b, s in zip(bw, score)]
    median = {key: sorted(r[key] for r in runs)[1] for key in runs[0]}
    return {"name": name, "quant": quant, "file_bytes": size, "runs": runs, "median": median}


def _result(*models):
    return {"method": {"threads": 2}, "models": list(models)}


def test_fit_recovers_the_constants_the_runs_were_made_with():
    result = _result(_model("a", "Q4_0", 6e8, 0.5, 12.0), _model("b", "Q4_0", 12e8, 0.5, 12.0),
                     _model("c", "Q8_0", 12e8, 0.8, 9.0))
    constants = fit.fit(result)
    assert constants["eta"] == {"Q4_0": 0.5, "Q8_0": 0.8}
    assert constants["prompt_k"] == {"Q4_0": 12.0, "Q8_0": 9.0}
    assert constants["single_eta"] == 0.5


def test_evaluate_scores_the_shipped_constants_against_the_measured_medians():
    eta, k = lp.ETA_CPU["Q8_0"], lp.PROMPT_K_CPU["Q8_0"]
    exact = _model("exact", "Q8_0", 12e8, eta, k)
    slow = _model("slow", "Q8_0", 12e8, eta / 2, k / 2)
    result = fit.evaluate(_result(exact, copy.deepcopy(slow)))
    by_name = {m["name"]: m for m in result["models"]}
    assert by_name["exact"]["predicted"]["error_pct"]["tg128"] == pytest.approx(0.0, abs=0.1)
    # Measured at half the predicted speed: the prediction is 100 % too high.
    assert by_name["slow"]["predicted"]["error_pct"]["tg128"] == pytest.approx(100.0, abs=0.2)
    assert by_name["slow"]["predicted"]["error_pct"]["pp256"] == pytest.approx(100.0, abs=0.5)
    assert result["within_goal"] is False
    assert fit.evaluate(_result(exact))["within_goal"] is True


def test_a_faster_short_prompt_pulls_the_prompt_constant_between_the_two_lengths():
    result = _result(_model("a", "Q4_0", 6e8, 0.5, 10.0, pp16_factor=1.2))
    assert 10.0 < fit.fit(result)["prompt_k"]["Q4_0"] < 12.0


@pytest.mark.parametrize("predicted,measured,expected", [(110.0, 100.0, 10.0), (75.0, 100.0, -25.0),
                                                         (None, 100.0, None), (5.0, 0, None)])
def test_error_pct(predicted, measured, expected):
    assert fit.error_pct(predicted, measured) == expected
