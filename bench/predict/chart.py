"""Draw predicted against measured tokens/s for each model from bench/results/predict.json.

Usage: ``.venv-bench/bin/python bench/predict/chart.py [bench/results/predict.json] [--out bench/results/predict.png]``

Three panels (tg128, pp16, pp256). Each model's bar pair is its measured median
and the collection's prediction (llm_prediction.py's shipped constants); the
label above is the prediction's error in percent.
"""
import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
PANELS = (("tg128", "generation, 128 tokens"), ("pp16", "prompt, 16 tokens"), ("pp256", "prompt, 256 tokens"))


def draw(result, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = result["models"]
    names = ["%s\n%.0f MB" % (m["name"].replace("tinyllama-", ""), m["file_bytes"] / 1e6) for m in models]
    fig, axes = plt.subplots(1, len(PANELS), figsize=(15, 4.8))
    positions = range(len(models))
    for axis, (key, title) in zip(axes, PANELS):
        measured = [m["median"][key] for m in models]
        predicted = [m["predicted"][key] for m in models]
        axis.bar([p - 0.2 for p in positions], measured, 0.4, label="measured (median)", color="#4c72b0")
        axis.bar([p + 0.2 for p in positions], predicted, 0.4, label="predicted", color="#dd8452")
        for pos, model, value in zip(positions, models, predicted):
            axis.annotate("%+.0f%%" % model["predicted"]["error_pct"][key], (pos + 0.2, value),
                          ha="center", va="bottom", fontsize=8)
        axis.set_xticks(list(positions))
        axis.set_xticklabels(names, fontsize=7)
        axis.set_title("%s (goal ±%.0f %%)" % (title, result["goal_pct"][key]))
        axis.set_ylabel("tokens/s")
    axes[0].legend(fontsize=8)
    machine = result["machine"]
    fig.suptitle("llama-cpp-python %s on %s, %d threads, %s: predicted vs measured"
                 % (machine["llama_cpp_python"], machine["cpu_model"], result["method"]["threads"],
                    machine["date"][:10]), fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("result", nargs="?", default=str(ROOT / "bench" / "results" / "predict.json"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "predict.png"))
    args = parser.parse_args(argv)
    with open(args.result) as handle:
        result = json.load(handle)
    if "fit" not in result:
        parser.error("%s has no predictions yet: run bench/predict/fit.py on it first" % args.result)
    draw(result, args.out)
    print("wrote %s" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
