"""Tests for bench/benchlib.py: CPU model, spreads, shifts, result files."""
import json

import pytest

import benchlib


def test_cpu_model_reads_the_first_model_name():
    text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9554\n\nmodel name\t: other\n"
    assert benchlib.cpu_model(text) == "AMD EPYC 9554"


def test_cpu_model_is_none_without_the_line():
    assert benchlib.cpu_model("processor : 0\nfeatures : fp asimd\n") is None


def test_spread_gives_median_range_and_population_cv():
    result = benchlib.spread([1.0, 2.0, 3.0, 4.0])
    assert result["n"] == 4
    assert result["median"] == 2.5
    assert (result["min"], result["max"], result["mean"]) == (1.0, 4.0, 2.5)
    # population stdev of 1..4 is sqrt(1.25)
    assert result["cv"] == pytest.approx(1.25 ** 0.5 / 2.5, abs=1e-4)


def test_spread_skips_missing_values_and_handles_none_left():
    assert benchlib.spread([None, 2.0])["n"] == 1
    empty = benchlib.spread([None])
    assert empty["n"] == 0 and empty["median"] is None and empty["cv"] is None


def test_shift_is_relative_to_idle():
    assert benchlib.shift(97.0, 100.0) == -0.03
    assert benchlib.shift(None, 100.0) is None
    assert benchlib.shift(1.0, 0) is None


def test_machine_reports_cores_and_model():
    machine = benchlib.machine()
    assert machine["cores"] >= 1
    assert set(machine) >= {"cores", "cpu_model", "memory_gib", "python"}


def test_write_result_records_command_machine_date_and_load(tmp_path, monkeypatch):
    monkeypatch.setattr(benchlib, "RESULTS", tmp_path)
    path = benchlib.write_result("thing", {"value": 1}, "bench/thing.py --x")
    doc = json.loads(path.read_text())
    assert path == tmp_path / "thing.json"
    assert doc["command"] == "bench/thing.py --x" and doc["value"] == 1
    assert doc["machine"]["cores"] >= 1 and doc["date"].endswith("Z")
    assert set(doc["load_average_1min"]) == {"start", "end"}
    assert not list(tmp_path.glob("*.tmp"))
