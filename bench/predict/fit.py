"""Fit the prediction constants to bench/predict/measure.py's runs, and score the collection's prediction.

Usage (``make bench-predict`` runs it after measure.py)::

    .venv-bench/bin/python bench/predict/fit.py bench/results/predict.json

Adds to the JSON, in place:

* ``fit``: per quantisation, ``eta`` (generation) and ``prompt_k`` (prompt
  processing), each the median over every pass of every model of that
  quantisation; and ``single_eta``, one eta for all quantisations, to show
  what ignoring the quantisation costs.
* per model ``predicted`` (tokens/s from plugins/plugin_utils/_policy/llm_prediction.py
  with its shipped constants, the model's file bytes and quantisation, and the
  medians of the bandwidth and score measured in the same passes), ``fitted``
  (the same with this run's constants) and their ``error_pct`` against the
  measured medians: ``100 * (predicted - measured) / measured``.

Derivation, from the model in llm_prediction.py:

* generation ``tg = eta * bw * 1e9 / bytes``, so each pass gives
  ``eta = tg * bytes / (bw * 1e9)``;
* prompt processing ``pp = k * score * cores * 1e9 / weights`` with
  ``weights = bytes / bytes_per_weight``, so each pass gives
  ``k = pp * (weights / 1e9) / (score * cores)``, from pp16 and pp256 alike.
"""
import argparse
import json
import pathlib
import statistics
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / ".collections"))

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import llm_prediction as lp  # noqa: E402

GOAL_PCT = {"tg128": 25.0, "pp16": 35.0, "pp256": 35.0}
PROMPTS = ("pp16", "pp256")


def eta_samples(model):
    """Generation efficiency of each pass: bytes moved per second over the copy bandwidth."""
    return [run["tg128"] * model["file_bytes"] / (run["bandwidth_gbps"] * 1e9)
            for run in model["runs"] if run["bandwidth_gbps"] > 0]


def prompt_k_samples(model, cores):
    """Prompt constant of each pass and prompt length: 1e9 weights * tokens/s per score-core."""
    weights = lp.model_weights(model["file_bytes"], model["quant"]) / 1e9
    return [run[key] * weights / (run["score"] * cores)
            for run in model["runs"] if run["score"] > 0 for key in PROMPTS]


def _by_quant(models, samples):
    grouped = {}
    for model in models:
        grouped.setdefault(model["quant"], []).extend(samples(model))
    return {quant: statistics.median(values) for quant, values in sorted(grouped.items()) if values}


def fit(result):
    """Constants fitted to every pass of ``result`` (measure.py's JSON)."""
    models, cores = result["models"], result["method"]["threads"]
    etas = [value for model in models for value in eta_samples(model)]
    return {
        "eta": {q: round(v, 3) for q, v in _by_quant(models, eta_samples).items()},
        "prompt_k": {q: round(v, 2) for q, v in _by_quant(models, lambda m: prompt_k_samples(m, cores)).items()},
        "single_eta": round(statistics.median(etas), 3) if etas else None,
    }


def error_pct(predicted, measured):
    if predicted is None or not measured:
        return None
    return round(100.0 * (predicted - measured) / measured, 1)


def predict(model, cores, eta=None, prompt_k=None):
    """Tokens/s the collection predicts for ``model`` from its same-pass medians."""
    med = model["median"]
    tg = lp.cpu_tokens_per_sec(med["bandwidth_gbps"], model["file_bytes"], model["quant"], eta=eta)
    pp = lp.cpu_prompt_tokens_per_sec(med["score"], cores, model["file_bytes"], model["quant"], k=prompt_k)
    return {"tg128": round(tg, 2), "pp16": round(pp, 1), "pp256": round(pp, 1)}


def score(model, predicted):
    return {key: error_pct(predicted[key], model["median"][key]) for key in GOAL_PCT}


def evaluate(result):
    """Add ``fit`` and each model's predictions and errors to ``result``; return it."""
    constants = fit(result)
    cores = result["method"]["threads"]
    result["fit"] = constants
    result["goal_pct"] = GOAL_PCT
    for model in result["models"]:
        shipped = predict(model, cores)
        fitted = predict(model, cores, eta=constants["eta"].get(model["quant"]),
                         prompt_k=constants["prompt_k"].get(model["quant"]))
        single = lp.cpu_tokens_per_sec(model["median"]["bandwidth_gbps"], model["file_bytes"],
                                       eta=constants["single_eta"])
        model["predicted"] = dict(shipped, error_pct=score(model, shipped))
        model["fitted"] = dict(fitted, error_pct=score(model, fitted))
        model["single_eta_tg128"] = {"predicted": round(single, 2),
                                     "error_pct": error_pct(single, model["median"]["tg128"])}
    result["within_goal"] = all(
        abs(model["predicted"]["error_pct"][key]) <= limit
        for model in result["models"] for key, limit in GOAL_PCT.items())
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("result", nargs="?", default=str(ROOT / "bench" / "results" / "predict.json"))
    args = parser.parse_args(argv)
    with open(args.result) as handle:
        result = evaluate(json.load(handle))
    with open(args.result, "w") as handle:
        json.dump(result, handle, indent=2)
        handle.write("\n")
    print("fit: eta %s, prompt_k %s, single eta %s" % (result["fit"]["eta"], result["fit"]["prompt_k"],
                                                       result["fit"]["single_eta"]))
    print("%-24s %-7s %22s %22s %22s" % ("model", "quant", "tg128 meas/pred/err%", "pp16 meas/pred/err%",
                                         "pp256 meas/pred/err%"))
    for model in result["models"]:
        cells = ["%7.1f %7.1f %+6.1f" % (model["median"][k], model["predicted"][k], model["predicted"]["error_pct"][k])
                 for k in ("tg128", "pp16", "pp256")]
        print("%-24s %-7s %s" % (model["name"], model["quant"], " ".join(cells)))
    print("every model within the goal (generation +-25 %%, prompt +-35 %%): %s"
          % ("yes" if result["within_goal"] else "no"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
