# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""probe_gpus with a fake command runner replaying captured tool output."""

import pathlib

from ansible_collections.voiceagent.models.plugins.module_utils._facts.commands import CommandTimeout
from ansible_collections.voiceagent.models.plugins.module_utils._facts.gpu_amd import rocm_json_argv, rocm_text_argv
from ansible_collections.voiceagent.models.plugins.module_utils._facts.gpu_nvidia import (
    GPU_LOST_SENTENCE,
    MISMATCH_SENTENCE,
    QUERY_FIELDS,
    query_argv,
    xml_argv,
)
from ansible_collections.voiceagent.models.plugins.module_utils._facts.gpu_probe import (
    GPU_KEYS,
    probe_gpus,
    summarise_gpus,
)

FIXTURES = pathlib.Path(__file__).resolve().parents[4] / "fixtures"
NVIDIA = tuple(query_argv(QUERY_FIELDS))
NVIDIA_OLD = tuple(query_argv(tuple(f for f in QUERY_FIELDS if f != "compute_cap")))
NVIDIA_XML = tuple(xml_argv())
ROCM_JSON = tuple(rocm_json_argv())
ROCM_TEXT = tuple(rocm_text_argv())


def text(path):
    return (FIXTURES / path).read_text(encoding="utf-8")


class FakeRun(object):
    """argv tuple -> (rc, stdout, stderr) or an exception; unknown tools are missing."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __call__(self, argv, timeout):
        self.calls.append(tuple(argv))
        answer = self.answers.get(tuple(argv), FileNotFoundError(2, "not found", argv[0]))
        if isinstance(answer, BaseException):
            raise answer
        return answer


def ok(path):
    return (0, text(path), "")


def probe(answers, **kwargs):
    kwargs.setdefault("sysfs_root", str(FIXTURES / "nothing_here"))
    run = FakeRun(answers)
    gpus, warnings = probe_gpus(run=run, **kwargs)
    return gpus, warnings, run


def test_no_tools_and_no_driver_means_no_gpu_and_no_warning():
    gpus, warnings, _unused = probe({})
    assert (gpus, warnings) == ([], [])


def test_every_gpu_dict_has_exactly_the_documented_keys():
    gpus, _unused, _unused = probe({NVIDIA: ok("nvidia_smi/query_1gpu.csv"), ROCM_JSON: ok("rocm_smi/json_1card.json")})
    assert [sorted(g) for g in gpus] == [sorted(GPU_KEYS)] * 2


def test_nvidia_gpu_from_the_csv_query():
    gpus, warnings, _unused = probe({NVIDIA: ok("nvidia_smi/query_1gpu.csv")})
    assert warnings == []
    assert gpus == [{
        "index": 0, "vendor": "nvidia", "name": "NVIDIA GeForce RTX 3060",
        "vram_total_mb": 12288, "vram_free_mb": 11870,
        "uuid": "GPU-5d1c2a7e-3f0b-4c6e-9a8d-1b2c3d4e5f60", "driver": "550.54.14",
        "integrated": False, "unified_memory": False, "source": "nvidia-smi",
        "compute_capability": "8.6", "mig": False,
    }]


def test_missing_nvidia_smi_with_loaded_driver_warns():
    gpus, warnings, _unused = probe({}, sysfs_root=str(FIXTURES / "nvidia_smi" / "proc_root"))
    assert gpus == []
    assert warnings == [
        "the NVIDIA kernel driver is loaded (/proc/driver/nvidia/version exists) but nvidia-smi "
        "is not on PATH, so NVIDIA GPUs cannot be measured; install the driver's utilities package"
    ]


def test_nvidia_timeout_warning_text():
    gpus, warnings, _unused = probe({NVIDIA: CommandTimeout(NVIDIA, 10)}, timeout=10)
    assert gpus == []
    assert warnings == ["nvidia-smi did not answer within 10 s"]


def test_timeout_is_written_without_trailing_zero():
    _unused, warnings, _unused = probe({NVIDIA: CommandTimeout(NVIDIA, 2.5)}, timeout=2.5)
    assert warnings == ["nvidia-smi did not answer within 2.5 s"]


def test_unknown_compute_cap_field_retries_without_it():
    gpus, warnings, run = probe({
        NVIDIA: (2, text("nvidia_smi/unknown_field_compute_cap.txt"), ""),
        NVIDIA_OLD: ok("nvidia_smi/query_no_compute_cap.csv"),
    })
    assert run.calls[:2] == [NVIDIA, NVIDIA_OLD]
    assert warnings == []
    assert [(g["name"], g["vram_total_mb"], g["compute_capability"]) for g in gpus] == [
        ("NVIDIA GeForce GTX 1080 Ti", 11264, None),
    ]


def test_nvml_mismatch_is_reported_and_no_gpu_claimed():
    gpus, warnings, _unused = probe({NVIDIA: (18, text("nvidia_smi/nvml_mismatch.txt"), "")})
    assert gpus == []
    assert warnings == [MISMATCH_SENTENCE]


def test_mig_insufficient_permissions_falls_back_to_xml_slice_memory():
    gpus, _unused, run = probe({
        NVIDIA: ok("nvidia_smi/query_mig_insufficient.csv"),
        NVIDIA_XML: ok("nvidia_smi/q_x_mig.xml"),
    })
    assert NVIDIA_XML in run.calls
    gpu = gpus[0]
    assert (gpu["vram_total_mb"], gpu["vram_free_mb"], gpu["mig"], gpu["source"]) == (
        40448, 40151, True, "nvidia-smi-xml")


def test_mig_fallback_says_it_took_the_largest_slice():
    _unused, warnings, _unused = probe({
        NVIDIA: ok("nvidia_smi/query_mig_insufficient.csv"),
        NVIDIA_XML: ok("nvidia_smi/q_x_mig.xml"),
    })
    assert ("NVIDIA GPU 0 (NVIDIA A100-SXM4-80GB) is split into MIG slices; VRAM is the largest "
            "visible slice, 40448 MiB") in warnings


def test_mig_fallback_with_garbled_xml_keeps_the_gpu_with_unknown_vram():
    gpus, warnings, _unused = probe({
        NVIDIA: ok("nvidia_smi/query_mig_insufficient.csv"),
        NVIDIA_XML: ok("nvidia_smi/q_x_garbled.xml"),
    })
    assert [(g["name"], g["vram_total_mb"]) for g in gpus] == [("NVIDIA A100-SXM4-80GB", None)]
    assert any(w.startswith("nvidia-smi -q -x printed XML that could not be read") for w in warnings)


def test_unified_memory_board_takes_system_memory():
    gpus, warnings, _unused = probe({NVIDIA: ok("nvidia_smi/query_gb10_na.csv")}, system_memory_mb=122478)
    gpu = gpus[0]
    assert (gpu["unified_memory"], gpu["vram_total_mb"], gpu["vram_free_mb"]) == (True, 122478, None)
    assert ("NVIDIA GPU 0 (NVIDIA GB10) shares system memory (unified memory); its VRAM is taken "
            "as the system memory, 122478 MiB") in warnings


def test_unified_memory_board_without_system_memory_has_unknown_vram():
    gpus, _unused, _unused = probe({NVIDIA: ok("nvidia_smi/query_gb10_na.csv")})
    assert (gpus[0]["unified_memory"], gpus[0]["vram_total_mb"]) == (True, None)


def test_amd_json_is_used_first():
    gpus, warnings, run = probe({ROCM_JSON: ok("rocm_smi/json_2cards_apu.json")})
    assert ROCM_TEXT not in run.calls
    assert warnings == []
    assert [(g["vendor"], g["name"], g["vram_total_mb"], g["integrated"], g["source"]) for g in gpus] == [
        ("amd", "Navi 21 [Radeon RX 6800/6800 XT / 6900 XT]", 16368, False, "rocm-smi-json"),
        ("amd", "Radeon RX 7900 XT", 20464, False, "rocm-smi-json"),
        ("amd", "Raphael", 64, True, "rocm-smi-json"),
    ]


def test_amd_gfx_version_is_the_compute_capability():
    gpus, _unused, _unused = probe({ROCM_JSON: ok("rocm_smi/json_1card.json")})
    assert gpus[0]["compute_capability"] == "gfx1100"


def test_amd_garbled_json_falls_back_to_text():
    gpus, warnings, _unused = probe({
        ROCM_JSON: ok("rocm_smi/json_garbled.json"),
        ROCM_TEXT: ok("rocm_smi/text_bytes.txt"),
    })
    assert [(g["name"], g["source"]) for g in gpus] == [
        ("Navi 21 [Radeon RX 6800/6800 XT / 6900 XT]", "rocm-smi-text"),
        ("Raphael", "rocm-smi-text"),
    ]
    assert warnings[0].startswith("rocm-smi --json printed output that is not JSON (exit status 0: {")


def test_amd_rocm_smi_failing_both_ways_falls_back_to_sysfs():
    failure = (1, text("rocm_smi/driver_not_initialized.txt"), "")
    gpus, warnings, _unused = probe({ROCM_JSON: failure, ROCM_TEXT: failure},
                                    sysfs_root=str(FIXTURES / "amd_sysfs" / "instinct"))
    assert [(g["name"], g["vram_total_mb"], g["source"]) for g in gpus] == [("Instinct MI210", 65520, "sysfs")]
    assert len(warnings) == 2


def test_amd_missing_rocm_smi_reads_sysfs_quietly():
    gpus, warnings, _unused = probe({}, sysfs_root=str(FIXTURES / "amd_sysfs" / "dgpu_apu_nvidia"))
    assert warnings == []
    assert [(g["index"], g["vram_total_mb"], g["integrated"], g["source"]) for g in gpus] == [
        (1, 20464, False, "sysfs"), (2, 64, True, "sysfs"),
    ]


def test_amd_timeout_warns_and_goes_to_sysfs_without_the_text_form():
    gpus, warnings, run = probe({ROCM_JSON: CommandTimeout(ROCM_JSON, 10)},
                                sysfs_root=str(FIXTURES / "amd_sysfs" / "instinct"))
    assert ROCM_TEXT not in run.calls
    assert warnings == ["rocm-smi did not answer within 10 s"]
    assert gpus[0]["source"] == "sysfs"


def test_unexpected_error_in_one_vendor_leaves_the_other_running():
    gpus, warnings, _unused = probe({NVIDIA: RuntimeError("boom"), ROCM_JSON: ok("rocm_smi/json_1card.json")})
    assert [g["vendor"] for g in gpus] == ["amd"]
    assert warnings == [
        "the NVIDIA GPU probe failed unexpectedly (RuntimeError: boom); NVIDIA GPUs are not reported"
    ]


def test_both_vendors_are_listed_nvidia_first():
    gpus, _unused, _unused = probe({NVIDIA: ok("nvidia_smi/query_2gpus.csv"), ROCM_JSON: ok("rocm_smi/json_1card.json")})
    assert [(g["vendor"], g["index"]) for g in gpus] == [("nvidia", 0), ("nvidia", 1), ("amd", 0)]


def test_summary_takes_the_largest_card_and_never_sums():
    gpus, _unused, _unused = probe({NVIDIA: ok("nvidia_smi/query_2gpus.csv")})
    assert summarise_gpus(gpus) == {"present": True, "vendor": "nvidia", "count": 2, "max_vram_gb": 47.99}


def test_summary_ignores_the_apu_igpu():
    gpus, _unused, _unused = probe({ROCM_JSON: ok("rocm_smi/json_2cards_apu.json")})
    assert summarise_gpus(gpus) == {"present": True, "vendor": "amd", "count": 2, "max_vram_gb": 19.98}


def test_summary_of_mixed_vendors_names_the_largest_card():
    gpus, _unused, _unused = probe({NVIDIA: ok("nvidia_smi/query_1gpu.csv"), ROCM_JSON: ok("rocm_smi/json_1card.json")})
    assert summarise_gpus(gpus) == {"present": True, "vendor": "amd", "count": 2, "max_vram_gb": 19.98}


def test_summary_of_an_apu_only_host_is_no_gpu():
    gpus, _unused, _unused = probe({ROCM_JSON: ok("rocm_smi/json_device_name_apu.json")})
    assert len(gpus) == 1
    assert summarise_gpus(gpus) == {"present": False, "vendor": None, "count": 0, "max_vram_gb": 0.0}


def test_summary_of_nothing():
    assert summarise_gpus([]) == {"present": False, "vendor": None, "count": 0, "max_vram_gb": 0.0}


def test_failed_query_keeps_the_gpus_that_answered():
    lost = ("0, GPU-5d1c2a7e-3f0b-4c6e-9a8d-1b2c3d4e5f60, NVIDIA GeForce RTX 3060, 12288, 11870, 550.54.14, 8.6\n"
            "Unable to determine the device handle for GPU0000:02:00.0: GPU is lost.  "
            "Reboot the system to recover this GPU\n")
    gpus, warnings, _unused = probe({NVIDIA: (15, lost, "")})
    assert [g["name"] for g in gpus] == ["NVIDIA GeForce RTX 3060"]
    assert warnings == [GPU_LOST_SENTENCE]
