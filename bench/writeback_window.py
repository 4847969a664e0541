"""How http_download's read size and writeback window change a 1 GiB download over loopback.

Usage (after `make bench` or `bench/transfer.py --keep-file`, which leave the test file; else it is written):
    .venv/bin/python bench/writeback_window.py [--size-mib 1024] [--runs 3]

The mirror (tests/support/mirror_server.py) runs as its own process, as a remote server would. Each
download is plugins/module_utils/http_download.download() with the sha256 hashed while writing (as
model_file does for a fresh download), then an fsync of the file, timed together; `sync` runs
before each one so none starts with another's dirty pages. Every combination of read size and
WRITEBACK_BYTES runs once per round. Writes bench/results/writeback_window.json; the chosen
WRITEBACK_BYTES in http_download.py cites it.
"""
import argparse
import itertools
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ROOT, spread, write_result  # noqa: E402
from transfer import WORK, make_file  # noqa: E402

sys.path.insert(0, str(ROOT / ".collections"))
from ansible_collections.voiceagent.models.plugins.module_utils._transfer import http_download as dl  # noqa: E402

READ_SIZES = (256 << 10, 1 << 20, 4 << 20)
WINDOWS = (16 << 20, 64 << 20)
PORT = 18777


def once(url, part, chunk, window):
    dl.WRITEBACK_BYTES = window
    if os.path.exists(part):
        os.unlink(part)
    os.sync()
    started = time.monotonic()
    got = dl.download(url, part, chunk=chunk, digests=("sha256",))
    fd = os.open(part, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    if not got.get("digests"):
        raise SystemExit("the download did not complete: %s" % got)
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = WORK / "mirror" / "llm" / "bench-1gib.gguf"
    make_file(path, args.size_mib << 20)
    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "support" / "mirror_server.py"),
                               str(WORK / "mirror"), "--port", str(PORT)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out_dir = WORK / "writeback"
    out_dir.mkdir(parents=True, exist_ok=True)
    seconds = {}
    try:
        time.sleep(1)
        url = "http://127.0.0.1:%d/llm/bench-1gib.gguf" % PORT
        for _round in range(args.runs):
            for chunk, window in itertools.product(READ_SIZES, WINDOWS):
                taken = once(url, str(out_dir / "x.part"), chunk, window)
                seconds.setdefault((chunk, window), []).append(taken)
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(str(out_dir), ignore_errors=True)
    rows = []
    for (chunk, window), values in sorted(seconds.items()):
        summary = spread(values)
        rows.append({"read_kib": chunk >> 10, "writeback_mib": window >> 20, "seconds": summary,
                     "mb_s": round((args.size_mib << 20) / 1e6 / summary["median"], 1)})
        print("read %5d KiB, writeback every %2d MiB: %.2f s median [%.2f-%.2f], %.0f MB/s"
              % (chunk >> 10, window >> 20, summary["median"], summary["min"], summary["max"], rows[-1]["mb_s"]))
    path = write_result("writeback_window", {"file_bytes": args.size_mib << 20, "runs": args.runs, "rows": rows},
                        "bench/writeback_window.py --size-mib %d --runs %d" % (args.size_mib, args.runs))
    print("  wrote %s" % path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
