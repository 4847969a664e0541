"""The bench scripts are plain files under bench/: make them importable for their tests."""
import pathlib
import sys

BENCH = pathlib.Path(__file__).resolve().parents[3] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))
