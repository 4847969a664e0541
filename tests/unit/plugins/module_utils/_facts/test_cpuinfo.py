# -*- coding: utf-8 -*-
# Copyright: (c) 2025, voiceagent.models maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil

from hypothesis import given, settings, strategies as st

from ansible_collections.voiceagent.models.plugins.module_utils._facts.cpuinfo import (
    LLM_FLAGS,
    parse_cpuinfo,
    read_cpuinfo,
)

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "fixtures", "cpuinfo")
FIXTURE_NAMES = sorted(name for name in os.listdir(FIXTURES) if name.endswith(".txt"))


def fixture(name):
    with open(os.path.join(FIXTURES, name), "r", encoding="utf-8") as handle:
        return handle.read()


# --- x86 -------------------------------------------------------------------------------

def test_this_machine_amd_epyc_has_avx512_and_vnni():
    info = parse_cpuinfo(fixture("amd-epyc-avx512-this-machine.txt"))
    assert info == {
        "model": "AMD EPYC",
        "flags": ["avx", "avx2", "avx512_vnni", "avx512f", "avx_vnni", "f16c", "fma"],
    }


def test_haswell_xeon_has_avx2_and_fma_but_no_avx512():
    info = parse_cpuinfo(fixture("intel-xeon-e5-2670-v3-haswell.txt"))
    assert info["model"] == "Intel(R) Xeon(R) CPU E5-2670 v3 @ 2.30GHz"
    assert info["flags"] == ["avx", "avx2", "f16c", "fma"]


def test_sandy_bridge_xeon_has_avx_only():
    info = parse_cpuinfo(fixture("intel-xeon-e5-2670-sandybridge.txt"))
    assert info["model"] == "Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz"
    assert info["flags"] == ["avx"]


def test_flags_are_never_inferred_from_the_model_name():
    text = "processor\t: 0\nmodel name\t: Fancy CPU with AVX2 and AVX512F\nflags\t\t: fpu sse sse2 avx\n"
    assert parse_cpuinfo(text)["flags"] == ["avx"]


def test_only_the_first_processor_block_is_read():
    text = (
        "processor\t: 0\nmodel name\t: First\nflags\t\t: sse avx\n\n"
        "processor\t: 1\nmodel name\t: Second\nflags\t\t: sse avx avx2 fma\n"
    )
    assert parse_cpuinfo(text) == {"model": "First", "flags": ["avx"]}


def test_padded_old_intel_model_name_is_collapsed():
    text = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) CPU           E5620  @ 2.40GHz\nflags\t\t: sse\n"
    assert parse_cpuinfo(text)["model"] == "Intel(R) Xeon(R) CPU E5620 @ 2.40GHz"


# --- ARM -------------------------------------------------------------------------------

def test_graviton2_is_named_from_its_part_number():
    info = parse_cpuinfo(fixture("aws-graviton2-neoverse-n1.txt"))
    assert info == {"model": "ARM Neoverse N1", "flags": ["asimd", "asimddp"]}


def test_graviton3_has_sve_and_i8mm():
    info = parse_cpuinfo(fixture("aws-graviton3-neoverse-v1-sve.txt"))
    assert info == {"model": "ARM Neoverse V1", "flags": ["asimd", "asimddp", "i8mm", "sve"]}


def test_sve_sub_features_do_not_count_as_the_base_flag():
    text = "processor\t: 0\nFeatures\t: fp asimd svei8mm sve2\nCPU implementer\t: 0x41\nCPU part\t: 0xd4f\n"
    assert parse_cpuinfo(text) == {"model": "ARM Neoverse V2", "flags": ["asimd"]}


def test_raspberry_pi4_model_comes_from_the_trailing_hardware_line():
    info = parse_cpuinfo(fixture("raspberry-pi4-cortex-a72.txt"))
    assert info == {"model": "BCM2835", "flags": ["asimd"]}


def test_arm_model_name_wins_over_hardware():
    text = (
        "processor\t: 0\nmodel name\t: ARMv7 Processor rev 3 (v7l)\n"
        "Features\t: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt\n"
        "CPU implementer\t: 0x41\nCPU part\t: 0xd08\n\nHardware\t: BCM2711\n"
    )
    info = parse_cpuinfo(text)
    assert info == {"model": "ARMv7 Processor rev 3 (v7l)", "flags": []}


def test_cortex_a72_without_hardware_is_named_from_its_part():
    text = "processor\t: 0\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\nCPU part\t: 0xd08\n"
    assert parse_cpuinfo(text)["model"] == "ARM Cortex-A72"


def test_unknown_implementer_falls_back_to_hex_ids():
    text = "processor\t: 0\nFeatures\t: fp asimd\nCPU implementer\t: 0x61\nCPU part\t: 0x022\n"
    assert parse_cpuinfo(text)["model"] == "ARM implementer 0x61 part 0x022"


def test_arm_part_table_is_only_used_for_arm_ltd_implementer():
    # 0xd0c under Ampere's implementer id is not a Neoverse N1.
    text = "processor\t: 0\nFeatures\t: fp asimd\nCPU implementer\t: 0xc0\nCPU part\t: 0xd0c\n"
    assert parse_cpuinfo(text)["model"] == "ARM implementer 0xc0 part 0xd0c"


def test_old_arm_kernel_features_outside_the_processor_blocks():
    text = (
        "Processor\t: ARMv7 Processor rev 10 (v7l)\nprocessor\t: 0\nBogoMIPS\t: 790.52\n\n"
        "processor\t: 1\nBogoMIPS\t: 790.52\n\n"
        "Features\t: swp half thumb fastmult vfp edsp neon vfpv3 tls\n"
        "CPU implementer\t: 0x41\nCPU part\t: 0xc09\n\nHardware\t: Freescale i.MX 6Quad\n"
    )
    assert parse_cpuinfo(text) == {"model": "Freescale i.MX 6Quad", "flags": []}


# --- garbage ---------------------------------------------------------------------------

def test_empty_text_gives_no_model_and_no_flags():
    assert parse_cpuinfo("") == {"model": None, "flags": []}


def test_non_text_input_gives_no_model_and_no_flags():
    assert parse_cpuinfo(None) == {"model": None, "flags": []}


# --- reader ----------------------------------------------------------------------------

def test_read_cpuinfo_reads_proc_under_root(tmp_path):
    (tmp_path / "proc").mkdir()
    shutil.copy(os.path.join(FIXTURES, "aws-graviton3-neoverse-v1-sve.txt"), str(tmp_path / "proc" / "cpuinfo"))
    assert read_cpuinfo(root=str(tmp_path)) == {
        "model": "ARM Neoverse V1",
        "flags": ["asimd", "asimddp", "i8mm", "sve"],
        "warnings": [],
    }


def test_read_cpuinfo_missing_file_is_a_warning(tmp_path):
    info = read_cpuinfo(root=str(tmp_path))
    assert info["model"] is None
    assert info["flags"] == []
    assert len(info["warnings"]) == 1
    assert "/proc/cpuinfo" in info["warnings"][0]


def test_read_cpuinfo_without_a_flags_line_warns_that_flags_are_unknown(tmp_path):
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "cpuinfo").write_text("processor\t: 0\ncpu\t\t: POWER9 (architected)\n")
    info = read_cpuinfo(root=str(tmp_path))
    assert info["flags"] == []
    assert len(info["warnings"]) == 1
    assert "unknown" in info["warnings"][0]


def test_read_cpuinfo_on_this_host_never_raises():
    info = read_cpuinfo()
    assert set(info) == {"model", "flags", "warnings"}
    assert set(info["flags"]) <= set(LLM_FLAGS)


# --- properties ------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.text())
def test_random_text_never_raises(text):
    info = parse_cpuinfo(text)
    assert info["model"] is None or isinstance(info["model"], str)
    assert set(info["flags"]) <= set(LLM_FLAGS)
    assert info["flags"] == sorted(info["flags"])


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(FIXTURE_NAMES), st.floats(min_value=0.0, max_value=1.0))
def test_truncated_fixture_never_raises(name, fraction):
    text = fixture(name)
    info = parse_cpuinfo(text[: int(len(text) * fraction)])
    assert set(info["flags"]) <= set(LLM_FLAGS)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["processor", "model name", "flags", "Features", "Hardware",
                             "CPU implementer", "CPU part", "", "x"]),
            st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),
        ),
        max_size=12,
    )
)
def test_random_key_value_lines_never_raise(pairs):
    text = "\n".join("%s\t: %s" % pair for pair in pairs)
    info = parse_cpuinfo(text)
    assert set(info["flags"]) <= set(LLM_FLAGS)
