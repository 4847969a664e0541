# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load a real GGUF with llama.cpp at several contexts and keep the buffer sizes llama.cpp prints.

    .venv-bench/bin/python bench/predict/smollm2_memory.py MODEL.gguf --contexts 1024,8192 \\
        --out bench/results/smollm2_memory.json

Each context loads the model in a fresh process with ``verbose=True`` (llama.cpp's log on stderr),
``n_batch=512`` as llama-cpp-python and the agent use, then times a short generation at 1 and 2
threads (tg32 after one untimed token). The JSON keeps the log lines that name a buffer size, the
parsed MiB figures, the timings and the model's GGUF header keys (gguf_meta), so
tests/unit/plugins/plugin_utils/_policy/test_llm_memory.py can compare llm_memory's sums with them.
"""

import argparse
import json
import os
import pathlib
import platform
import re
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / ".collections"))

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import gguf_meta  # noqa: E402

_BUFFER = re.compile(r"(?P<where>[A-Za-z0-9_]+)\s+(?P<kind>KV|compute|output|model)\s+buffer size\s*=\s*"
                     r"(?P<mib>[0-9.]+)\s*MiB")

_CHILD = r"""
import sys, time, json
from llama_cpp import Llama
path, n_ctx = sys.argv[1], int(sys.argv[2])
speeds = {}
for threads in (1, 2):
    llm = Llama(model_path=path, n_ctx=n_ctx, n_batch=512, n_threads=threads, n_threads_batch=threads,
                verbose=(threads == 1))
    llm.eval(llm.tokenize(b"The caller asked for the balance of the account."))
    llm.eval([1])
    start = time.perf_counter()
    for _ in range(32):
        llm.eval([1])
    speeds[threads] = 32 / (time.perf_counter() - start)
    del llm
sys.stdout.write(json.dumps(speeds) + "\n")
"""


def parse(log):
    found = {}
    for line in log.splitlines():
        match = _BUFFER.search(line)
        if match:
            key = "%s_%s" % (match.group("where"), match.group("kind"))
            found[key] = found.get(key, 0.0) + float(match.group("mib"))
    return found


def run(model, contexts, python=sys.executable):
    rows = []
    for n_ctx in contexts:
        proc = subprocess.run([python, "-c", _CHILD, model, str(n_ctx)], capture_output=True, text=True, timeout=900,
                              check=False)
        if proc.returncode != 0:
            raise SystemExit("llama.cpp failed at n_ctx %d:\n%s" % (n_ctx, proc.stderr[-3000:]))
        lines = [line for line in proc.stderr.splitlines() if "buffer size" in line or "n_ctx" in line]
        speeds = json.loads(proc.stdout.strip().splitlines()[-1])
        rows.append({"n_ctx": n_ctx, "buffers_mib": parse(proc.stderr), "log_lines": lines,
                     "tg32_tokens_per_sec": speeds})
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("model")
    parser.add_argument("--contexts", default="1024,8192")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    with open(args.model, "rb") as handle:
        header = gguf_meta.header_keys(gguf_meta.file_reader(handle))
    import llama_cpp
    result = {
        "command": " ".join([os.path.relpath(sys.executable, str(ROOT)), "bench/predict/smollm2_memory.py"] + sys.argv[1:]),
        "model": os.path.basename(args.model),
        "model_bytes": os.path.getsize(args.model),
        "gguf": header,
        "llama_cpp_python": llama_cpp.__version__,
        "machine": {"cores": os.cpu_count(), "arch": platform.machine()},
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "runs": run(args.model, [int(c) for c in args.contexts.split(",")]),
    }
    with open(args.out, "w") as handle:
        json.dump(result, handle, indent=2, sort_keys=True)
        handle.write("\n")
    print(json.dumps(result["runs"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
