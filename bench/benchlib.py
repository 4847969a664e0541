"""Small helpers shared by the bench scripts: the machine, the date, spreads, result files.

Pure functions except ``machine()`` (reads /proc and platform) and ``write_result()``.
"""
import datetime
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def load_average():
    """The 1-minute load average, or None where the platform has none."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


# Taken when a bench script imports this module, i.e. when it starts.
LOAD_AT_START = load_average()


def cpu_model(cpuinfo_text):
    """The first ``model name`` of /proc/cpuinfo text, or None."""
    for line in cpuinfo_text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "model name":
            return value.strip()
    return None


def machine():
    """Cores, CPU model, memory and Python of the machine the figures come from."""
    try:
        with open("/proc/cpuinfo") as handle:
            model = cpu_model(handle.read())
    except OSError:
        model = None
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    mem_gib = None
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    mem_gib = round(int(line.split()[1]) / 1024.0 / 1024.0, 1)
    except OSError:
        pass
    return {"cores": cores, "cpu_model": model or platform.processor() or None, "memory_gib": mem_gib,
            "python": platform.python_version(), "kernel": platform.release()}


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def spread(values):
    """Median, min, max, mean and coefficient of variation (population stdev / mean) of a series."""
    values = [v for v in values if v is not None]
    if not values:
        return {"n": 0, "median": None, "min": None, "max": None, "mean": None, "cv": None}
    mean = statistics.mean(values)
    return {
        "n": len(values),
        "median": round(statistics.median(values), 4),
        "min": round(min(values), 4),
        "max": round(max(values), 4),
        "mean": round(mean, 4),
        "cv": round(statistics.pstdev(values) / mean, 4) if mean else None,
    }


def shift(busy, idle):
    """Relative change of ``busy`` against ``idle`` (-0.03 = 3 % lower); None when not computable."""
    if busy is None or not idle:
        return None
    return round((busy - idle) / idle, 4)


def write_result(name, payload, command):
    """Write bench/results/<name>.json with the command, the machine and the date; return the path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    document = {"command": command, "machine": machine(), "date": now_utc(),
                "load_average_1min": {"start": LOAD_AT_START, "end": load_average()}}
    document.update(payload)
    path = RESULTS / ("%s.json" % name)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(str(tmp), str(path))
    return path


def timed(cmd, env=None):
    """Run ``cmd`` from the repository root; (wall seconds, stdout). A failure ends the benchmark."""
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT), check=False)
    wall = time.monotonic() - started
    if proc.returncode:
        raise SystemExit("%s failed (%d):\n%s%s" % (" ".join(cmd), proc.returncode, proc.stdout[-3000:],
                                                    proc.stderr[-3000:]))
    return wall, proc.stdout


def fleet(*args):
    """tests/fleet/fleet.py ARGS; `down` is tried three times (on a loaded machine a dying sshd can
    still accept connections when fleet.py stops waiting for it)."""
    attempts = 3 if args[0] == "down" else 1
    for attempt in range(attempts):
        proc = subprocess.run([sys.executable, str(ROOT / "tests" / "fleet" / "fleet.py")] + list(args),
                              capture_output=True, text=True, check=False)
        if not proc.returncode:
            return
        if attempt + 1 < attempts:
            time.sleep(2)
    raise SystemExit("fleet.py %s failed:\n%s%s" % (args[0], proc.stdout[-2000:], proc.stderr[-2000:]))
