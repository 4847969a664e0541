"""Tests for bench/render_performance.py: blocks rewritten from results, prose kept."""
import pytest

import render_performance as rp

MACHINE = {"cores": 2, "cpu_model": "AMD EPYC", "memory_gib": 23.5, "python": "3.11.7"}


def decision_doc(**extra):
    doc = {"command": "bench/decision_throughput.py --count 10000 --seed 7", "decisions": 10000, "seconds": 2.484,
           "decisions_per_second": 4026, "deterministic": True, "documented_errors": {"NoTierFitsError": 1203}}
    doc.update(extra)
    return doc


def test_blocks_are_rewritten_and_prose_is_kept():
    text = ("# Title\n\nProse before.\n\n<!-- BEGIN GENERATED: decision_throughput -->\nold table\n"
            "<!-- END GENERATED: decision_throughput -->\n\nProse after.\n")
    new = rp.replace_blocks(text, lambda name: decision_doc(machine=MACHINE, date="2026-11-25T02:00:00Z"))
    assert new.startswith("# Title\n\nProse before.\n\n<!-- BEGIN GENERATED: decision_throughput -->\n")
    assert new.endswith("<!-- END GENERATED: decision_throughput -->\n\nProse after.\n")
    assert "old table" not in new
    assert "| 10000 | 2.48 | 4026 | yes | 1203 NoTierFitsError |" in new
    assert "2 cores, AMD EPYC, 23.5 GiB, Python 3.11.7" in new
    assert "Date: 2026-11-25T02:00:00Z." in new
    assert rp.replace_blocks(new, lambda name: decision_doc(machine=MACHINE, date="2026-11-25T02:00:00Z")) == new


def test_the_load_average_is_quoted_when_recorded():
    doc = decision_doc(machine=MACHINE, date="d", load_average_1min={"start": 0.31, "end": 9.5})
    assert "Load average (1 min) at start and end: 0.31 and 9.50 on 2 cores." in rp.render_block(
        "decision_throughput", doc)


def test_a_result_without_machine_or_date_says_so():
    body = rp.render_block("decision_throughput", decision_doc())
    assert "Machine: not recorded in the result file. Date: not recorded in the result file." in body


def test_a_block_without_its_end_marker_is_an_error():
    text = "<!-- BEGIN GENERATED: transfer -->\nx\n<!-- END GENERATED: facts_cost -->\n"
    with pytest.raises(ValueError, match="lacks its END marker"):
        rp.replace_blocks(text, lambda name: {})


def test_an_unknown_block_is_an_error():
    with pytest.raises(ValueError, match="no renderer"):
        rp.render_block("mystery", {})


def test_fleet_scaling_rows_and_configs():
    doc = {"command": "bench/fleet_scaling.py --sizes 1", "machine": MACHINE, "date": "d",
           "configs": {"default": {}, "tuned": {"ANSIBLE_FORKS": "20"}},
           "rows": [{"hosts": 1, "config": "default", "cold_s": 11.53, "cold_s_per_host": 11.53, "warm_s": 4.1,
                     "warm_s_per_host": 4.14, "setup_min_s": 1.3, "warm_files_changed": 0,
                     "warm_benchmark_cached": True}]}
    body = rp.render_block("fleet_scaling-1", doc)
    assert "| 1 | default | 11.5 | 11.53 | 4.1 | 4.14 | 1.3 | 0 | yes |" in body
    assert "default = Ansible's defaults; tuned = ANSIBLE_FORKS=20." in body


def test_transfer_marks_goals():
    summary = {"median": 1.5, "min": 1.4, "max": 1.6, "mean": 1.5, "cv": 0.01, "n": 3}
    doc = {"command": "bench/transfer.py", "machine": MACHINE, "date": "d", "single_file": {
        "file_bytes": 1 << 30, "rounds": [{}, {}, {}], "curl_s": summary, "role_s": summary,
        "curl_transfer_s": summary, "curl_fsync_s": summary, "role_transfer_s": summary,
        "ansible_ping_s": summary, "curl_mb_s": 700.0, "role_mb_s": 300.0, "ratio": 0.43,
        "ratio_wall": 0.3, "ratio_wall_without_ansible_startup": 0.61, "hash_mb_s": {"sha256": summary}},
        "via_controller": {"hosts": 10, "forks": 10, "site_yml_s": 120.0, "files_installed_on_hosts": 40,
                           "unique_files_fetched": 10, "get_requests": 10, "max_gets_per_file": 1,
                           "report_bytes_per_host": 812}}
    body = rp.render_block("transfer", doc)
    assert "| 1024 MiB GGUF, random data | 700 | 300 | 0.43 | no | 0.30 | 0.61 |" in body
    assert "| 10 (10) | 120.0 | 40 | 10 | 10 | 1 | 1 (met) | 812 |" in body


def test_predict_shows_measured_against_predicted_and_the_command():
    model = {"name": "tinyllama-q4_k_m", "quant": "Q4_K_M", "file_bytes": 667879712,
             "median": {"tg128": 57.2, "pp16": 157.0, "pp256": 207.2, "bandwidth_gbps": 55.87, "score": 4.49},
             "predicted": {"tg128": 44.8, "pp16": 179.2, "pp256": 179.2,
                           "error_pct": {"tg128": -21.6, "pp16": 14.1, "pp256": -13.5}}}
    doc = {"machine": {"usable_cores": 2, "cpu_model": "AMD EPYC", "python": "3.11.7", "llama_cpp_python": "0.3.36",
                       "date": "2026-11-25T03:04:05Z"},
           "method": {"runs": 5, "threads": 2, "realtime_windows": True, "load_before": 0.78},
           "models": [model], "fit": {"eta": {"Q4_K_M": 0.701}, "prompt_k": {"Q4_K_M": 23.69}},
           "goal_pct": {"tg128": 25.0, "pp16": 35.0, "pp256": 35.0}, "within_goal": False}
    body = rp.render_block("predict", doc)
    assert ("| tinyllama-q4_k_m | Q4_K_M | 667,879,712 | 55.9 | 4.49 | 57.2 / 44.8 (-21.6 %) | 157.0 / 179.2 (+14.1 %)"
            " | 207.2 / 179.2 (-13.5 %) |") in body
    assert "NOT met" in body and "eta Q4_K_M 0.701" in body
    assert "`make bench-predict BENCH_PREDICT_ARGS=--realtime`" in body and "2026-11-25T03:04:05Z" in body
