# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AMD parsers against captured output shapes (tests/fixtures/rocm_smi, amd_sysfs)."""

import json
import pathlib

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ansible_collections.voiceagent.models.plugins.module_utils._facts.gpu_amd import (
    is_integrated,
    parse_rocm_json,
    parse_rocm_text,
    read_amd_sysfs,
    rocm_json_argv,
    rocm_text_argv,
)

FIXTURES = pathlib.Path(__file__).resolve().parents[4] / "fixtures"


def rocm(name):
    return (FIXTURES / "rocm_smi" / name).read_text(encoding="utf-8")


def test_argv_forms_differ_only_by_json():
    assert rocm_json_argv() == ["rocm-smi", "--showproductname", "--showmeminfo", "vram", "--json"]
    assert rocm_text_argv() == rocm_json_argv()[:-1]


def test_json_one_card():
    gpus, warnings = parse_rocm_json(rocm("json_1card.json"))
    assert warnings == []
    assert gpus == [{
        "index": 0,
        "name": "Radeon RX 7900 XT",
        "memory_total_mb": 20464,
        "memory_free_mb": 20437,
        "uuid": None,
        "driver": None,
        "gfx_version": "gfx1100",
        "integrated": False,
    }]


def test_json_free_is_total_minus_used():
    gpus, _unused = parse_rocm_json(rocm("json_1card.json"))
    # (21458059264 - 27856896) bytes, in whole MiB
    assert gpus[0]["memory_total_mb"] - gpus[0]["memory_free_mb"] == 27


def test_json_two_cards_and_apu_in_card_order():
    gpus, _unused = parse_rocm_json(rocm("json_2cards_apu.json"))
    assert [(g["index"], g["name"], g["memory_total_mb"]) for g in gpus] == [
        (0, "Navi 21 [Radeon RX 6800/6800 XT / 6900 XT]", 16368),
        (1, "Radeon RX 7900 XT", 20464),
        (2, "Raphael", 64),
    ]


def test_json_apu_igpu_is_integrated_and_cards_are_not():
    gpus, _unused = parse_rocm_json(rocm("json_2cards_apu.json"))
    assert [g["integrated"] for g in gpus] == [False, False, True]


def test_json_device_name_key_names_the_card():
    gpus, _unused = parse_rocm_json(rocm("json_device_name_apu.json"))
    assert gpus[0]["name"] == "Phoenix3"
    assert gpus[0]["memory_total_mb"] == 512
    assert gpus[0]["integrated"] is True


def test_json_system_entry_is_not_a_card_but_names_the_driver():
    gpus, _unused = parse_rocm_json(rocm("json_device_name_apu.json"))
    assert len(gpus) == 1
    assert gpus[0]["driver"] == "6.8.0-51-generic"
    assert gpus[0]["uuid"] is None  # "Unique ID": "N/A"


def test_json_after_a_warning_line_is_still_read():
    gpus, _unused = parse_rocm_json("WARNING: AMD GPU device(s) is/are in a low-power state.\n"
                                    + rocm("json_1card.json"))
    assert gpus[0]["memory_total_mb"] == 20464


def test_garbled_json_returns_none_for_fallback():
    gpus, warnings = parse_rocm_json(rocm("json_garbled.json"))
    assert gpus is None
    assert warnings == ["rocm-smi --json printed output that is not JSON"]


def test_driver_error_text_is_not_json():
    gpus, _unused = parse_rocm_json(rocm("driver_not_initialized.txt"))
    assert gpus is None


def test_text_bytes_form():
    gpus, warnings = parse_rocm_text(rocm("text_bytes.txt"))
    assert warnings == []
    assert [(g["index"], g["name"], g["memory_total_mb"], g["memory_free_mb"]) for g in gpus] == [
        (0, "Navi 21 [Radeon RX 6800/6800 XT / 6900 XT]", 16368, 8414),
        (1, "Raphael", 512, 194),
    ]


def test_text_bytes_form_reads_gfx_version_and_marks_apu():
    gpus, _unused = parse_rocm_text(rocm("text_bytes.txt"))
    assert [g["gfx_version"] for g in gpus] == ["gfx1030", "gfx1036"]
    assert [g["integrated"] for g in gpus] == [False, True]


def test_text_mib_form_with_lowercase_card_series():
    gpus, warnings = parse_rocm_text(rocm("text_mib.txt"))
    assert warnings == []
    assert gpus[0]["name"] == "Radeon RX 7900 XTX"
    assert (gpus[0]["memory_total_mb"], gpus[0]["memory_free_mb"]) == (24560, 23493)


def test_text_card_series_na_falls_back_to_card_model():
    gpus, _unused = parse_rocm_text(rocm("text_series_na.txt"))
    assert gpus[0]["name"] == "0x744b"
    assert gpus[0]["memory_total_mb"] == 49136


def test_text_garbled_values_become_warnings():
    gpus, warnings = parse_rocm_text(rocm("text_garbled.txt"))
    assert [(g["index"], g["memory_total_mb"]) for g in gpus] == [(0, None)]
    assert warnings == ["rocm-smi did not report the VRAM of AMD GPU 0"]


def test_text_without_gpu_lines_returns_none_for_fallback():
    gpus, warnings = parse_rocm_text(rocm("driver_not_initialized.txt"))
    assert gpus is None
    assert warnings == ["rocm-smi printed no GPU[n] lines"]


def test_integrated_rule_is_below_2048_mib():
    assert (is_integrated(2047), is_integrated(2048), is_integrated(None)) == (True, False, False)


def test_sysfs_reads_only_amd_cards():
    gpus, warnings = read_amd_sysfs(str(FIXTURES / "amd_sysfs" / "dgpu_apu_nvidia"))
    assert warnings == []
    assert [(g["index"], g["name"], g["memory_total_mb"], g["memory_free_mb"], g["integrated"])
            for g in gpus] == [
        (1, "AMD GPU [1002:744c]", 20464, 20437, False),
        (2, "AMD GPU [1002:164e]", 64, 39, True),
    ]


def test_sysfs_product_name_names_the_card():
    gpus, _unused = read_amd_sysfs(str(FIXTURES / "amd_sysfs" / "instinct"))
    assert [(g["name"], g["memory_total_mb"]) for g in gpus] == [("Instinct MI210", 65520)]


def test_sysfs_without_drm_directory_is_empty(tmp_path):
    assert read_amd_sysfs(str(tmp_path)) == ([], [])


# --------------------------------------------------------------------------
# Random, truncated and hostile output: a result or a warning, never an exception


JSON_FIXTURES = sorted(p.name for p in (FIXTURES / "rocm_smi").glob("*.json"))
TEXT_FIXTURES = sorted(p.name for p in (FIXTURES / "rocm_smi").glob("*.txt"))
VRAM_KEYS = ["VRAM Total Memory (B)", "VRAM Total Used Memory (B)", "VRAM Total Memory (MiB)", "Card Series",
             "GFX Version", "Unique ID", "Driver version"]
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12),
                      st.sampled_from(["inf", "-inf", "nan", "1e400", "-5", "N/A", "\u0663\u0663"]))
json_doc = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.one_of(st.sampled_from(VRAM_KEYS + ["card0", "card1", "card10", "system"]), st.text(max_size=6)),
                    inner, max_size=4)), max_leaves=12)


def _check(result, may_be_none):
    gpus, warnings = result
    assert isinstance(warnings, list) and all(isinstance(w, str) for w in warnings)
    if gpus is None:
        assert may_be_none and warnings
        return
    for gpu in gpus:
        for key in ("memory_total_mb", "memory_free_mb"):
            assert gpu[key] is None or (isinstance(gpu[key], int) and gpu[key] >= 0)
        assert gpu["name"] is None or isinstance(gpu["name"], str)


HOSTILE_JSON = [
    '{"card0": {"VRAM Total Memory (B)": "inf", "VRAM Total Used Memory (B)": "nan"}}',
    '{"card0": {"VRAM Total Memory (B)": 1e400, "VRAM Total Used Memory (B)": -1e400}}',
    '{"card0": {"VRAM Total Memory (B)": "1e400"}}',
    '{"card0": {"VRAM Total Memory (B)": "' + "9" * 5000 + '"}}',
    '{"card0": {"VRAM Total Memory (B)": [1, 2], "Card Series": {"a": 1}}}',
    "[" * 100000 + "]" * 100000,
    '{"card0": ' * 100000 + "{}" + "}" * 100000,
    '{"card0": {"VRAM Total Memory (B)": "NaN"}, "card00000000000000000000000000001": {}}',
]


@settings(max_examples=200, deadline=None)
@given(st.one_of(json_doc.map(json.dumps), st.text(), st.sampled_from(HOSTILE_JSON)))
def test_random_or_hostile_json_never_raises(text):
    _check(parse_rocm_json(text), may_be_none=True)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(JSON_FIXTURES), st.floats(min_value=0.0, max_value=1.0), st.text(max_size=8))
def test_truncated_or_spliced_json_fixture_never_raises(name, fraction, junk):
    content = rocm(name)
    cut = int(len(content) * fraction)
    _check(parse_rocm_json(content[:cut] + junk + content[cut:]), may_be_none=True)
    _check(parse_rocm_json(content[:cut]), may_be_none=True)


TEXT_PIECES = st.lists(st.sampled_from(
    ["GPU[0]", "GPU[1]", "GPU[99999999999999999999]", "\t\t: ", ": ", "VRAM Total Memory (B)",
     "VRAM Total Used Memory (B)", "vram total memory (gib)", "Card Series", "inf", "nan", "1e400", "-5", "N/A",
     "\n", " ", "123456789", "====", "WARNING"]), max_size=30).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), TEXT_PIECES))
@example("GPU[0]\t\t: VRAM Total Memory (B): inf\n")
@example("GPU[0]\t\t: VRAM Total Memory (B): nan\n")
@example("GPU[0]\t\t: VRAM Total Memory (GiB): 1e400\n")
def test_random_or_hostile_text_never_raises(text):
    _check(parse_rocm_text(text), may_be_none=True)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(TEXT_FIXTURES), st.floats(min_value=0.0, max_value=1.0), st.text(max_size=8))
def test_truncated_or_spliced_text_fixture_never_raises(name, fraction, junk):
    content = rocm(name)
    cut = int(len(content) * fraction)
    _check(parse_rocm_text(content[:cut] + junk + content[cut:]), may_be_none=True)
    _check(parse_rocm_text(content[:cut]), may_be_none=True)
