# -*- coding: utf-8 -*-
# Copyright: (c) 2025, voiceagent.models maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil

from hypothesis import given, settings, strategies as st

from ansible_collections.voiceagent.models.plugins.module_utils._facts.meminfo import (
    memory_from_meminfo,
    parse_meminfo,
    read_meminfo,
)

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "fixtures", "meminfo")
FIXTURE_NAMES = sorted(name for name in os.listdir(FIXTURES) if name.endswith(".txt"))
GIB = 1024 ** 3


def fixture(name):
    with open(os.path.join(FIXTURES, name), "r", encoding="utf-8") as handle:
        return handle.read()


def test_kb_lines_are_converted_to_bytes():
    assert parse_meminfo("MemTotal:       24684100 kB\n") == {"MemTotal": 24684100 * 1024}


def test_lines_without_a_unit_are_kept_as_is():
    assert parse_meminfo("HugePages_Total:       7\n") == {"HugePages_Total": 7}


def test_garbage_lines_are_skipped():
    text = "MemTotal: 1024 kB\nnonsense\nMemFree: lots kB\nCached: 5 MB\n: 12 kB\nBuffers: 1 2 kB\n"
    assert parse_meminfo(text) == {"MemTotal": 1024 * 1024}


def test_fields_with_parentheses_are_parsed():
    fields = parse_meminfo(fixture("this-machine.txt"))
    assert fields["Active(file)"] == 18460 * 1024


def test_this_machine_total_and_available():
    memory = memory_from_meminfo(parse_meminfo(fixture("this-machine.txt")))
    assert memory == {"total_bytes": 24684100 * 1024, "available_bytes": 24408140 * 1024}


def test_16gb_host_reads_about_15_6_gib_not_16():
    memory = memory_from_meminfo(parse_meminfo(fixture("host-16gb.txt")))
    assert memory["total_bytes"] == 16364212 * 1024
    assert abs(memory["total_bytes"] / GIB - 15.6) < 0.05


def test_16gb_host_available_is_memavailable():
    memory = memory_from_meminfo(parse_meminfo(fixture("host-16gb.txt")))
    assert memory["available_bytes"] == 13845932 * 1024


def test_old_kernel_without_memavailable_estimates_free_buffers_cached():
    memory = memory_from_meminfo(parse_meminfo(fixture("old-kernel-no-memavailable.txt")))
    assert memory["total_bytes"] == 24675128 * 1024
    assert memory["available_bytes"] == (1017340 + 172424 + 9777444) * 1024


def test_missing_fields_give_none():
    assert memory_from_meminfo({}) == {"total_bytes": None, "available_bytes": None}


def test_read_meminfo_reads_proc_under_root(tmp_path):
    (tmp_path / "proc").mkdir()
    shutil.copy(os.path.join(FIXTURES, "host-16gb.txt"), str(tmp_path / "proc" / "meminfo"))
    assert read_meminfo(root=str(tmp_path)) == {
        "total_bytes": 16364212 * 1024,
        "available_bytes": 13845932 * 1024,
        "warnings": [],
    }


def test_read_meminfo_missing_file_is_a_warning(tmp_path):
    memory = read_meminfo(root=str(tmp_path))
    assert memory["total_bytes"] is None
    assert len(memory["warnings"]) == 1
    assert "/proc/meminfo" in memory["warnings"][0]


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_random_text_never_raises(text):
    fields = parse_meminfo(text)
    assert all(isinstance(value, int) for value in fields.values())
    memory_from_meminfo(fields)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(FIXTURE_NAMES), st.floats(min_value=0.0, max_value=1.0))
def test_truncated_fixture_never_raises(name, fraction):
    text = fixture(name)
    memory = memory_from_meminfo(parse_meminfo(text[: int(len(text) * fraction)]))
    assert memory["total_bytes"] is None or memory["total_bytes"] > 0


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached"]),
                       st.integers(min_value=0, max_value=2 ** 50)))
def test_memory_from_any_field_subset_never_raises(fields):
    memory = memory_from_meminfo(fields)
    assert memory["total_bytes"] == fields.get("MemTotal")
