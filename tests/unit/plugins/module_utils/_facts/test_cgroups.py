# -*- coding: utf-8 -*-
# Copyright: (c) 2025, voiceagent.models maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.voiceagent.models.plugins.module_utils._facts.cgroups import (
    parse_cpu_list,
    parse_cpu_max,
    parse_memory_max,
    parse_proc_self_cgroup,
    parse_v1_cpu_quota,
    parse_v1_memory_limit,
    read_cgroup_limits,
    usable_cores,
    usable_memory_bytes,
)

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "fixtures", "cgroup")
GIB = 1024 ** 3


def case(name):
    return os.path.join(FIXTURES, name)


def fixture_texts():
    """Every file in every cgroup fixture tree, for the truncation properties."""
    texts = []
    for dirpath, _dirs, files in os.walk(FIXTURES):
        for name in files:
            if name == "README.md":
                continue
            with open(os.path.join(dirpath, name), "r", encoding="utf-8") as handle:
                texts.append(handle.read())
    return sorted(texts)


FIXTURE_TEXTS = fixture_texts()


# --- /proc/self/cgroup -----------------------------------------------------------------

def test_proc_self_cgroup_v2_line():
    assert parse_proc_self_cgroup("0::/user.slice/user-1000.slice/session-3.scope\n") == {
        "v2": "/user.slice/user-1000.slice/session-3.scope",
        "v1": {},
    }


def test_proc_self_cgroup_v1_comma_controllers_are_split():
    parsed = parse_proc_self_cgroup("4:cpu,cpuacct:/docker/abc\n5:memory:/docker/abc\n")
    assert parsed["v1"] == {"cpu": "/docker/abc", "cpuacct": "/docker/abc", "memory": "/docker/abc"}


def test_proc_self_cgroup_named_hierarchy_is_skipped():
    parsed = parse_proc_self_cgroup("1:name=systemd:/user.slice\n")
    assert parsed == {"v2": None, "v1": {}}


def test_proc_self_cgroup_hybrid_has_both():
    with open(os.path.join(case("v1-limited"), "proc", "self", "cgroup"), encoding="utf-8") as handle:
        parsed = parse_proc_self_cgroup(handle.read())
    assert parsed["v2"] == "/system.slice/llm.service"
    assert parsed["v1"]["memory"] == "/system.slice/llm.service"
    assert parsed["v1"]["cpu"] == "/system.slice/llm.service"
    assert "name=systemd" not in parsed["v1"]


def test_proc_self_cgroup_path_may_contain_colons():
    assert parse_proc_self_cgroup("0::/a:b\n")["v2"] == "/a:b"


def test_proc_self_cgroup_garbage_lines_are_skipped():
    assert parse_proc_self_cgroup("hello\nx:memory:/a\n3:cpu:relative\n") == {"v2": None, "v1": {}}


# --- single-file parsers ---------------------------------------------------------------

def test_memory_max_bytes():
    assert parse_memory_max("6442450944\n") == 6 * GIB


def test_memory_max_max_is_unlimited():
    assert parse_memory_max("max\n") is None


def test_memory_max_garbage_is_none():
    assert parse_memory_max("lots") is None


def test_v1_memory_limit_bytes():
    assert parse_v1_memory_limit("6442450944\n") == 6442450944


@pytest.mark.parametrize("text", ["9223372036854771712\n", "9223372036854710272", str(2 ** 60)])
def test_v1_memory_limit_huge_is_unlimited(text):
    assert parse_v1_memory_limit(text) is None


def test_v1_memory_limit_just_below_threshold_is_a_limit():
    assert parse_v1_memory_limit(str(2 ** 60 - 1)) == 2 ** 60 - 1


def test_cpu_max_whole_cores():
    assert parse_cpu_max("400000 100000\n") == 4.0


def test_cpu_max_fractional_cores():
    assert parse_cpu_max("150000 100000\n") == 1.5


def test_cpu_max_max_is_unlimited():
    assert parse_cpu_max("max 100000\n") is None


@pytest.mark.parametrize("text", ["", "400000", "abc def", "400000 0", "0 100000", "1 2 3"])
def test_cpu_max_garbage_is_none(text):
    assert parse_cpu_max(text) is None


def test_v1_cpu_quota_cores():
    assert parse_v1_cpu_quota("200000\n", "100000\n") == 2.0


def test_v1_cpu_quota_minus_one_is_unlimited():
    assert parse_v1_cpu_quota("-1\n", "100000\n") is None


def test_v1_cpu_quota_zero_period_is_none():
    assert parse_v1_cpu_quota("200000", "0") is None


def test_cpu_list_counts_ranges_and_singles():
    assert parse_cpu_list("0-3,8,10-11\n") == 7


def test_cpu_list_overlaps_count_once():
    assert parse_cpu_list("0-3,2-5,5") == 6


@pytest.mark.parametrize("text", ["", "3-0", "zero-three", "0-", "1,,2", "0-99999999999"])
def test_cpu_list_garbage_is_none(text):
    assert parse_cpu_list(text) is None


# --- combining -------------------------------------------------------------------------

def test_usable_cores_takes_the_smallest_bound():
    assert usable_cores(16, cpu_quota_cores=4.0, cpuset_cores=8) == 4


def test_usable_cores_floors_a_fractional_quota():
    assert usable_cores(16, cpu_quota_cores=1.5) == 1


def test_usable_cores_never_below_one():
    assert usable_cores(16, cpu_quota_cores=0.5) == 1


def test_usable_cores_cpuset_narrower_than_affinity():
    assert usable_cores(8, cpuset_cores=4) == 4


def test_usable_cores_without_limits_is_affinity():
    assert usable_cores(12) == 12


def test_usable_memory_is_the_smaller():
    assert usable_memory_bytes(16364212 * 1024, 6 * GIB) == 6 * GIB


def test_usable_memory_none_limit_is_unlimited():
    assert usable_memory_bytes(16364212 * 1024, None) == 16364212 * 1024


# --- reading fixture trees -------------------------------------------------------------

def test_v2_parent_limit_binds_the_child():
    limits = read_cgroup_limits(root=case("v2-nested-parent-limit"))
    assert limits["version"] == 2
    assert limits["memory_limit_bytes"] == 6442450944
    assert limits["cpu_quota_cores"] == 1.5
    assert limits["warnings"] == []


def test_v2_usage_and_cpuset_come_from_the_own_group():
    limits = read_cgroup_limits(root=case("v2-nested-parent-limit"))
    assert limits["memory_usage_bytes"] == 2147483648
    assert limits["cpuset_cores"] == 7


def test_v2_unlimited_has_no_limits():
    limits = read_cgroup_limits(root=case("v2-unlimited"))
    assert limits == {
        "version": 2,
        "memory_limit_bytes": None,
        "memory_usage_bytes": 1073741824,
        "cpu_quota_cores": None,
        "cpuset_cores": 8,
        "warnings": [],
    }


def test_v2_container_with_cgroup_namespace_reads_the_mount_point():
    limits = read_cgroup_limits(root=case("v2-container-cgroupns"))
    assert limits == {
        "version": 2,
        "memory_limit_bytes": 4 * GIB,
        "memory_usage_bytes": 536870912,
        "cpu_quota_cores": 2.0,
        "cpuset_cores": 8,
        "warnings": [],
    }


def test_v2_missing_own_path_falls_back_to_the_mount_point():
    limits = read_cgroup_limits(root=case("v2-own-path-missing"))
    assert limits["memory_limit_bytes"] == 6442450944
    assert limits["cpu_quota_cores"] == 1.5
    assert limits["cpuset_cores"] == 4
    assert limits["warnings"] == []


def test_v1_limited():
    limits = read_cgroup_limits(root=case("v1-limited"))
    assert limits == {
        "version": 1,
        "memory_limit_bytes": 6442450944,
        "memory_usage_bytes": 1288490188,
        "cpu_quota_cores": 2.0,
        "cpuset_cores": 4,
        "warnings": [],
    }


def test_v1_unlimited_docker_style_falls_back_to_mount_points():
    limits = read_cgroup_limits(root=case("v1-unlimited"))
    assert limits == {
        "version": 1,
        "memory_limit_bytes": None,
        "memory_usage_bytes": 48234496,
        "cpu_quota_cores": None,
        "cpuset_cores": 8,
        "warnings": [],
    }


def test_garbled_v2_files_become_warnings_naming_each_file():
    limits = read_cgroup_limits(root=case("garbled-v2"))
    assert limits["version"] == 2
    assert [limits[k] for k in ("memory_limit_bytes", "memory_usage_bytes", "cpu_quota_cores",
                                "cpuset_cores")] == [None, None, None, None]
    named = " ".join(limits["warnings"])
    for name in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/cpu.max",
                 "/sys/fs/cgroup/memory.current", "/sys/fs/cgroup/cpuset.cpus.effective"):
        assert name in named
    assert len(limits["warnings"]) == 4


def test_garbled_v1_files_become_warnings_naming_each_file():
    limits = read_cgroup_limits(root=case("garbled-v1"))
    assert limits["version"] == 1
    assert [limits[k] for k in ("memory_limit_bytes", "memory_usage_bytes", "cpu_quota_cores",
                                "cpuset_cores")] == [None, None, None, None]
    named = " ".join(limits["warnings"])
    for name in ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes",
                 "cpu,cpuacct/cpu.cfs_period_us", "cpuset/cpuset.effective_cpus"):
        assert "/sys/fs/cgroup/" + name in named
    assert len(limits["warnings"]) == 4


def test_warnings_name_the_file_as_the_host_sees_it():
    limits = read_cgroup_limits(root=case("garbled-v2"))
    assert not any(FIXTURES in warning for warning in limits["warnings"])


def test_no_cgroup_filesystem_is_silent(tmp_path):
    assert read_cgroup_limits(root=str(tmp_path)) == {
        "version": None,
        "memory_limit_bytes": None,
        "memory_usage_bytes": None,
        "cpu_quota_cores": None,
        "cpuset_cores": None,
        "warnings": [],
    }


def test_unreadable_file_is_a_warning_not_an_exception(tmp_path):
    base = tmp_path / "sys" / "fs" / "cgroup"
    base.mkdir(parents=True)
    (base / "cgroup.controllers").write_text("cpu memory\n")
    (base / "memory.max").mkdir()  # reading a directory fails with EISDIR
    (base / "cpu.max").write_text("200000 100000\n")
    (tmp_path / "proc" / "self").mkdir(parents=True)
    (tmp_path / "proc" / "self" / "cgroup").write_text("0::/\n")
    limits = read_cgroup_limits(root=str(tmp_path))
    assert limits["memory_limit_bytes"] is None
    assert limits["cpu_quota_cores"] == 2.0
    assert len(limits["warnings"]) == 1
    assert "/sys/fs/cgroup/memory.max" in limits["warnings"][0]


def test_missing_proc_self_cgroup_warns_and_uses_the_mount_point(tmp_path):
    base = tmp_path / "sys" / "fs" / "cgroup"
    base.mkdir(parents=True)
    (base / "cgroup.controllers").write_text("cpu memory\n")
    (base / "memory.max").write_text("1073741824\n")
    limits = read_cgroup_limits(root=str(tmp_path))
    assert limits["memory_limit_bytes"] == GIB
    assert len(limits["warnings"]) == 1
    assert "/proc/self/cgroup" in limits["warnings"][0]


def test_this_host_never_raises():
    limits = read_cgroup_limits()
    assert limits["version"] in (None, 1, 2)
    assert isinstance(limits["warnings"], list)


# --- properties ------------------------------------------------------------------------

ANY_TEXT = st.one_of(st.text(), st.text(alphabet="0123456789-,: max\n/", max_size=40))


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT)
def test_parse_proc_self_cgroup_never_raises(text):
    parsed = parse_proc_self_cgroup(text)
    assert set(parsed) == {"v2", "v1"}


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT)
def test_parse_memory_max_never_raises(text):
    value = parse_memory_max(text)
    assert value is None or (isinstance(value, int) and value >= 0)


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT)
def test_parse_v1_memory_limit_never_raises(text):
    value = parse_v1_memory_limit(text)
    assert value is None or 0 <= value < 2 ** 60


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT)
def test_parse_cpu_max_never_raises(text):
    value = parse_cpu_max(text)
    assert value is None or value > 0


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT, ANY_TEXT)
def test_parse_v1_cpu_quota_never_raises(quota, period):
    value = parse_v1_cpu_quota(quota, period)
    assert value is None or value > 0


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT)
def test_parse_cpu_list_never_raises(text):
    value = parse_cpu_list(text)
    assert value is None or value >= 1


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(FIXTURE_TEXTS), st.floats(min_value=0.0, max_value=1.0))
def test_truncated_fixture_files_never_raise_any_parser(text, fraction):
    cut = text[: int(len(text) * fraction)]
    parse_proc_self_cgroup(cut)
    parse_memory_max(cut)
    parse_v1_memory_limit(cut)
    parse_cpu_max(cut)
    parse_v1_cpu_quota(cut, cut)
    parse_cpu_list(cut)


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.none(), st.integers(min_value=-4, max_value=512)),
       st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
       st.one_of(st.none(), st.integers(min_value=-4, max_value=512)))
def test_usable_cores_is_always_a_positive_int(affinity, quota, cpuset):
    cores = usable_cores(affinity, quota, cpuset)
    assert isinstance(cores, int) and cores >= 1
