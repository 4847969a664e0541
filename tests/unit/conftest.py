"""Builders shared by the unit tests, and the compatibility shim for older ansible-core."""
import copy
import sys
import types

import pytest

try:
    import ansible.module_utils.testing  # noqa: F401  (ansible-core >= 2.19)
except ImportError:
    # ansible-core 2.16-2.18 have no ansible.module_utils.testing: give the tests the same
    # patch_module_args (tests/unit/module_args.py) under that name.
    import ansible.module_utils
    import module_args

    _testing = types.ModuleType("ansible.module_utils.testing")
    _testing.__doc__ = "Stand-in for ansible-core 2.19's helper (tests/unit/module_args.py)."
    _testing.patch_module_args = module_args.patch_module_args
    sys.modules["ansible.module_utils.testing"] = _testing
    ansible.module_utils.testing = _testing

BASE_FACTS = {
    "cpu": {"arch": "x86_64", "model": "Test CPU", "logical_cores": 8, "physical_cores": 4, "affinity_cores": 8,
            "cgroup_cpu_quota": None, "usable_cores": 8, "flags": ["avx", "avx2", "f16c", "fma"]},
    "memory": {"total_gb": 15.6, "available_gb": 14.0, "cgroup_limit_gb": None, "usable_gb": 15.6},
    "gpus": [],
    "gpu": {"present": False, "vendor": None, "count": 0, "max_vram_gb": 0.0},
    "benchmark": {"score": 4.5, "memory_bandwidth_gbps": 30.0, "seconds": 0.5, "cached": False,
                  "measured_at": "2026-11-24T00:00:00Z", "version": 1},
    "warnings": [],
}


def build_facts(cores=8, memory_gb=15.6, total_gb=None, limit_gb=None, bandwidth=30.0, score=4.5, vram_mb=()):
    """Facts in the module's shape; ``vram_mb`` lists one entry per discrete card."""
    facts = copy.deepcopy(BASE_FACTS)
    total = total_gb if total_gb is not None else memory_gb
    facts["cpu"].update(logical_cores=cores, affinity_cores=cores, usable_cores=cores)
    facts["memory"].update(total_gb=total, cgroup_limit_gb=limit_gb,
                           usable_gb=min(total, limit_gb) if limit_gb is not None else total)
    facts["benchmark"].update(score=score, memory_bandwidth_gbps=bandwidth)
    facts["gpus"] = [{"index": i, "vendor": "nvidia", "name": "card %d" % i, "vram_total_mb": mb,
                      "vram_free_mb": mb, "uuid": None, "driver": None, "integrated": False,
                      "unified_memory": False, "compute_capability": None, "mig": False, "source": "nvidia-smi"}
                     for i, mb in enumerate(vram_mb)]
    if vram_mb:
        facts["gpu"] = {"present": True, "vendor": "nvidia", "count": len(vram_mb),
                        "max_vram_gb": round(max(vram_mb) / 1024.0, 2)}
    return facts


@pytest.fixture
def make_facts():
    return build_facts
