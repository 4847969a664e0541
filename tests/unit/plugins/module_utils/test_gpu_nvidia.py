# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nvidia-smi parsers against captured output shapes (tests/fixtures/nvidia_smi)."""

import pathlib

from ansible_collections.voiceagent.models.plugins.module_utils.gpu_nvidia import (
    MISMATCH_SENTENCE,
    NO_DRIVER_SENTENCE,
    QUERY_FIELDS,
    diagnose_failure,
    is_unknown_field,
    parse_query_csv,
    parse_query_xml,
    query_argv,
    unknown_field,
)

FIXTURES = pathlib.Path(__file__).resolve().parents[3] / "fixtures" / "nvidia_smi"


def fixture(name):
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_query_argv_joins_fields_and_asks_for_bare_csv():
    assert query_argv(("index", "name")) == [
        "nvidia-smi", "--query-gpu=index,name", "--format=csv,noheader,nounits",
    ]


def test_one_gpu_row_is_read_with_typed_values():
    gpus, warnings = parse_query_csv(fixture("query_1gpu.csv"), QUERY_FIELDS)
    assert warnings == []
    assert gpus == [{
        "index": 0,
        "uuid": "GPU-5d1c2a7e-3f0b-4c6e-9a8d-1b2c3d4e5f60",
        "name": "NVIDIA GeForce RTX 3060",
        "memory_total_mb": 12288,
        "memory_free_mb": 11870,
        "driver": "550.54.14",
        "compute_capability": "8.6",
        "unavailable": {},
    }]


def test_two_gpus_keep_their_own_memory():
    gpus, _unused = parse_query_csv(fixture("query_2gpus.csv"), QUERY_FIELDS)
    assert [(g["index"], g["name"], g["memory_total_mb"]) for g in gpus] == [
        (0, "NVIDIA TITAN V", 12288),
        (1, "NVIDIA RTX 5880 Ada Generation", 49140),
    ]


def test_values_with_mib_units_are_read_as_numbers():
    gpus, warnings = parse_query_csv(fixture("query_units.csv"), QUERY_FIELDS)
    assert warnings == []
    assert (gpus[0]["memory_total_mb"], gpus[0]["memory_free_mb"]) == (12282, 631)


def test_header_line_is_skipped():
    gpus, warnings = parse_query_csv(fixture("query_header_units.csv"), QUERY_FIELDS)
    assert warnings == []
    assert [g["index"] for g in gpus] == [0, 1]
    assert gpus[1]["memory_total_mb"] == 81920


def test_header_of_another_field_set_is_skipped():
    fields = ("index", "name", "memory.total", "memory.free")
    gpus, _unused = parse_query_csv(fixture("query_gb10_na_header.csv"), fields)
    assert [g["name"] for g in gpus] == ["NVIDIA GB10"]


def test_na_memory_reads_as_none_and_is_recorded():
    gpus, _unused = parse_query_csv(fixture("query_gb10_na.csv"), QUERY_FIELDS)
    assert gpus[0]["memory_total_mb"] is None
    assert gpus[0]["unavailable"] == {"memory.total": "N/A", "memory.free": "N/A"}
    assert gpus[0]["compute_capability"] == "12.1"


def test_na_memory_warning_names_the_gpu_and_the_reason():
    _unused, warnings = parse_query_csv(fixture("query_gb10_na.csv"), QUERY_FIELDS)
    assert warnings[0].startswith("GPU 0 (NVIDIA GB10): nvidia-smi reports memory.total as [N/A]")
    assert "shares system memory" in warnings[0]


def test_insufficient_permissions_reads_as_none_with_mig_hint():
    gpus, warnings = parse_query_csv(fixture("query_mig_insufficient.csv"), QUERY_FIELDS)
    assert gpus[0]["memory_total_mb"] is None
    assert gpus[0]["unavailable"]["memory.total"] == "Insufficient Permissions"
    assert warnings[0] == (
        "GPU 0 (NVIDIA A100-SXM4-80GB): nvidia-smi reports memory.total as "
        "[Insufficient Permissions] (typically a MIG slice inside a container)"
    )


def test_insufficient_permissions_capture_with_header_and_other_fields():
    fields = ("name", "driver_version", "temperature.gpu", "utilization.gpu",
              "utilization.memory", "memory.total", "memory.free", "memory.used")
    gpus, warnings = parse_query_csv(fixture("query_mig_insufficient_header.csv"), fields)
    assert gpus[0]["name"] == "NVIDIA A100-SXM4-80GB"
    assert gpus[0]["driver"] == "535.161.08"
    assert len(warnings) == 5  # two utilisation [N/A], three memory permissions


def test_garbled_lines_become_warnings_and_good_rows_survive():
    gpus, warnings = parse_query_csv(fixture("query_garbled.csv"), QUERY_FIELDS)
    assert [g["name"] for g in gpus] == ["NVIDIA GeForce RTX 3060"]
    assert len(warnings) == 3
    assert all(w.startswith("nvidia-smi printed a line that could not be read") for w in warnings)


def test_garbled_warning_quotes_the_line():
    _unused, warnings = parse_query_csv(fixture("query_garbled.csv"), QUERY_FIELDS)
    assert "NVIDIA GeForce RTX 3090, 24'" in warnings[0]


def test_empty_output_gives_no_gpus_and_no_warnings():
    assert parse_query_csv("", QUERY_FIELDS) == ([], [])


def test_unknown_compute_cap_field_is_recognised_at_exit_status_2():
    assert is_unknown_field(2, fixture("unknown_field_compute_cap.txt")) is True
    assert unknown_field(fixture("unknown_field_compute_cap.txt")) == "compute_cap"


def test_unknown_field_needs_exit_status_2():
    assert is_unknown_field(0, fixture("unknown_field_compute_cap.txt")) is False


def test_unknown_field_with_windows_quotes():
    assert unknown_field("Field \u201cencoder.stats.sessionCount\u201d is not a valid field to query.") == (
        "encoder.stats.sessionCount"
    )


def test_nvml_mismatch_is_diagnosed_as_reboot_needed():
    assert diagnose_failure(18, fixture("nvml_mismatch.txt")) == MISMATCH_SENTENCE
    assert MISMATCH_SENTENCE.endswith("reboot the host")


def test_driver_not_loaded_is_diagnosed():
    assert diagnose_failure(9, fixture("driver_not_loaded.txt")) == NO_DRIVER_SENTENCE


def test_unknown_failure_gives_rc_and_first_line():
    assert diagnose_failure(255, "\nUnknown Error\nmore\n") == (
        "nvidia-smi failed with exit status 255: Unknown Error"
    )


def test_silent_failure_says_it_printed_nothing():
    assert diagnose_failure(3, "") == "nvidia-smi failed with exit status 3 and printed nothing"


def test_xml_mig_slices_carry_their_own_memory():
    gpus, warnings = parse_query_xml(fixture("q_x_mig.xml"))
    assert warnings == []
    assert gpus[0]["mig_enabled"] is True
    assert [(m["index"], m["gpu_instance_id"], m["memory_total_mb"], m["memory_free_mb"])
            for m in gpus[0]["mig_devices"]] == [(0, 1, 40448, 40151), (1, 5, 20096, 19989)]


def test_xml_board_identity_and_memory():
    gpus, _unused = parse_query_xml(fixture("q_x_mig.xml"))
    gpu = gpus[0]
    assert (gpu["index"], gpu["minor_number"], gpu["name"]) == (0, 3, "NVIDIA H100 80GB HBM3")
    assert gpu["uuid"] == "GPU-9c2e41d7-5a3b-4f08-b6e1-2d7c8f0a1b23"
    assert (gpu["driver"], gpu["memory_total_mb"], gpu["memory_free_mb"]) == ("575.57.08", 81920, 77771)


def test_xml_without_mig_has_no_slices_and_na_minor_number():
    gpus, _unused = parse_query_xml(fixture("q_x_plain.xml"))
    assert gpus[0]["mig_devices"] == []
    assert gpus[0]["mig_enabled"] is False
    assert gpus[0]["minor_number"] is None
    assert gpus[0]["memory_total_mb"] == 12288


def test_garbled_xml_is_a_warning():
    gpus, warnings = parse_query_xml(fixture("q_x_garbled.xml"))
    assert gpus == []
    assert warnings[0].startswith("nvidia-smi -q -x printed XML that could not be read")
