# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nvidia-smi parsers against captured output shapes (tests/fixtures/nvidia_smi)."""

import pathlib

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ansible_collections.voiceagent.models.plugins.module_utils._facts.gpu_nvidia import (
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

FIXTURES = pathlib.Path(__file__).resolve().parents[4] / "fixtures" / "nvidia_smi"


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


# --------------------------------------------------------------------------
# Random, truncated and hostile output: a result or a warning, never an exception


CSV_FIXTURES = sorted(p.name for p in FIXTURES.glob("*.csv"))
XML_FIXTURES = sorted(p.name for p in FIXTURES.glob("*.xml"))
CSV_PIECES = st.lists(st.sampled_from(list("0123456789,. []\n\tMiBN/A-xe+") + ["inf", "nan", "1e400", "\u0663"]),
                      max_size=40).map("".join)


def _check_csv_result(result):
    gpus, warnings = result
    assert isinstance(gpus, list) and isinstance(warnings, list)
    assert all(isinstance(w, str) for w in warnings)
    for gpu in gpus:
        for key in ("memory_total_mb", "memory_free_mb"):
            assert gpu.get(key) is None or (isinstance(gpu[key], int) and gpu[key] >= 0)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), CSV_PIECES))
@example("0, GPU, 1e400, 1, 1, 8.9\n")
@example("0, GPU, inf, nan, 1, 8.9\n")
@example("1" * 5000 + ", GPU, 1, 1, 1, 8.9\n")
def test_random_csv_never_raises(text):
    _check_csv_result(parse_query_csv(text, QUERY_FIELDS))


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(CSV_FIXTURES), st.floats(min_value=0.0, max_value=1.0), st.text(max_size=8))
def test_truncated_or_spliced_csv_fixture_never_raises(name, fraction, junk):
    content = fixture(name)
    cut = int(len(content) * fraction)
    _check_csv_result(parse_query_csv(content[:cut] + junk + content[cut:], QUERY_FIELDS))
    _check_csv_result(parse_query_csv(content[:cut], QUERY_FIELDS))


def _check_xml_result(result):
    gpus, warnings = result
    assert isinstance(gpus, list) and isinstance(warnings, list)
    for gpu in gpus:
        for key in ("memory_total_mb", "memory_free_mb"):
            assert gpu[key] is None or (isinstance(gpu[key], int) and gpu[key] >= 0)


HOSTILE_XML = [
    # Billion laughs: entity expansion must not explode or raise out of the parser.
    '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
    '<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">'
    '<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">]>'
    '<nvidia_smi_log><gpu><product_name>&h;</product_name></gpu></nvidia_smi_log>',
    # An external entity: never fetched or read.
    '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<nvidia_smi_log><gpu><product_name>&x;</product_name></gpu></nvidia_smi_log>',
    "<nvidia_smi_log>" + "<gpu>" * 100000 + "</gpu>" * 100000 + "</nvidia_smi_log>",
    "<nvidia_smi_log><gpu><fb_memory_usage><total>1e400 MiB</total><free>inf MiB</free>"
    "</fb_memory_usage><minor_number>" + "9" * 5000 + "</minor_number></gpu></nvidia_smi_log>",
    "\x00<nvidia_smi_log/>",
    "<nvidia_smi_log><gpu><fb_memory_usage><total>-5 MiB</total></fb_memory_usage></gpu></nvidia_smi_log>",
]


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), st.sampled_from(HOSTILE_XML)))
def test_random_or_hostile_xml_never_raises(text):
    _check_xml_result(parse_query_xml(text))


def test_hostile_xml_names_no_file_content():
    gpus, _unused = parse_query_xml(HOSTILE_XML[1])
    assert all("root:" not in (gpu["name"] or "") for gpu in gpus)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(XML_FIXTURES), st.floats(min_value=0.0, max_value=1.0), st.text(max_size=8))
def test_truncated_or_spliced_xml_fixture_never_raises(name, fraction, junk):
    content = fixture(name)
    cut = int(len(content) * fraction)
    _check_xml_result(parse_query_xml(content[:cut] + junk + content[cut:]))
    _check_xml_result(parse_query_xml(content[:cut]))


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=-3, max_value=300), st.text())
def test_failure_text_always_gives_a_sentence(rc, text):
    assert isinstance(diagnose_failure(rc, text), str) and diagnose_failure(rc, text)
    assert is_unknown_field(rc, text) in (True, False)
