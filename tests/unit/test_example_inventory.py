# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""examples/inventory parses as Ansible reads it, and its overrides land where the docs say."""
import json
import pathlib

import pytest
import yaml
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.vars.manager import VariableManager

ROOT = pathlib.Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "examples" / "inventory"
ARGUMENT_SPECS = ROOT / "roles" / "provision" / "meta" / "argument_specs.yml"
REGISTRY = ROOT / "registry" / "registry.json"


@pytest.fixture(scope="module")
def inventory():
    loader = DataLoader()
    manager = InventoryManager(loader=loader, sources=[str(INVENTORY)])
    return manager, VariableManager(loader=loader, inventory=manager)


def host_vars(inventory, name):
    manager, variables = inventory
    return variables.get_vars(host=manager.get_host(name), include_hostvars=False)


def test_mixed_fleet_in_the_site_playbook_group(inventory):
    manager, _variables = inventory
    assert sorted(h.name for h in manager.groups["voiceagent_cpu"].get_hosts()) == [
        "pbx-cpu-01.example.com", "pbx-cpu-02.example.com", "pbx-cpu-03.example.com"]
    assert sorted(h.name for h in manager.groups["voiceagent_gpu"].get_hosts()) == [
        "pbx-gpu-01.example.com", "pbx-gpu-02.example.com", "pbx-gpu-03.example.com"]
    assert len(manager.groups["voiceagent"].get_hosts()) == 6


def test_overrides_follow_precedence(inventory):
    gpu2 = host_vars(inventory, "pbx-gpu-02.example.com")
    cpu3 = host_vars(inventory, "pbx-cpu-03.example.com")
    cpu1 = host_vars(inventory, "pbx-cpu-01.example.com")
    assert gpu2["voiceagent_tier"] == "MEDIUM_CPU"
    assert gpu2["voiceagent_download_timeout"] == 120
    assert "voiceagent_tier" not in cpu1 and "voiceagent_download_timeout" not in cpu1
    assert cpu3["voiceagent_install_dir"] == "/srv/voice-agent"
    assert cpu1["voiceagent_install_dir"] == "/opt/asterisk-ai-voice-agent"
    assert cpu1["voiceagent_min_tier"] == "LIGHT_CPU"


def test_every_voiceagent_variable_is_a_role_option_with_a_known_tier(inventory):
    specs = yaml.safe_load(ARGUMENT_SPECS.read_text(encoding="utf-8"))
    options = set(specs["argument_specs"]["main"]["options"])
    tiers = set(json.loads(REGISTRY.read_text(encoding="utf-8"))["tiers"])
    manager, _variables = inventory
    for host in manager.get_hosts():
        found = host_vars(inventory, host.name)
        names = set(k for k in found if k.startswith("voiceagent_"))
        assert names <= options, "%s: %s are not provision role options" % (host.name, sorted(names - options))
        for key in ("voiceagent_tier", "voiceagent_min_tier"):
            assert found.get(key, "LIGHT_CPU") in tiers


def test_connection_settings_do_not_reach_localhost(inventory):
    manager, variables = inventory
    local = variables.get_vars(host=manager.localhost or manager.get_host("localhost"), include_hostvars=False)
    assert "ansible_become" not in local and "ansible_user" not in local
    assert local["voiceagent_min_tier"] == "LIGHT_CPU"


# ----------------------------------------------------------------- the fleet overlay (tests/fleet/example_fleet.py)

def _example_fleet():
    import sys
    sys.path.insert(0, str(ROOT / "tests" / "fleet"))
    import example_fleet
    return example_fleet


def test_every_example_host_has_a_profile_from_its_comment():
    example_fleet = _example_fleet()
    hosts, _hostvars, groups = example_fleet.read_inventory(INVENTORY)
    profile_map = json.loads(example_fleet.DEFAULT_MAP.read_text())
    profiles = dict(zip(hosts, example_fleet.pick_profiles(hosts, groups, profile_map)))
    assert profiles["pbx-gpu-01.example.com"] == "nvidia-12gb"   # NVIDIA, 12 GiB
    assert profiles["pbx-gpu-02.example.com"] == "nvidia-4gb"    # NVIDIA, 4 GiB
    assert profiles["pbx-gpu-03.example.com"] == "amd-gpu"       # AMD
    assert set(profiles[h] for h in hosts if "-cpu-" in h) <= {"small-cpu", "big-cpu"}
    with pytest.raises(Exception, match="no profile for pbx-cpu-01.example.com"):
        example_fleet.pick_profiles(hosts, groups, {"hosts": {}, "groups": {"voiceagent_gpu": "amd-gpu"}})


def test_the_overlay_wins_only_for_connections_and_the_mirror(tmp_path):
    """The example inventory, then the overlay: the overlay's host vars beat the example's group_vars,
    and the example's host_vars (install dir, pinned tier) still hold."""
    example_fleet = _example_fleet()
    hosts, _hostvars, _groups = example_fleet.read_inventory(INVENTORY)
    record = {"hosts": [{"name": h, "address": "127.0.0.%d" % (60 + i), "profile": "small-cpu",
                         "dir": str(tmp_path / h)} for i, h in enumerate(hosts)]}
    example_fleet.write_overlay(tmp_path, record, {"url": "http://127.0.0.1:8000", "registry": "/r.json"},
                                "/venv/bin/python")
    loader = DataLoader()
    manager = InventoryManager(loader=loader, sources=[str(INVENTORY), str(tmp_path / "overlay.yml")])
    variables = VariableManager(loader=loader, inventory=manager)
    assert sorted(h.name for h in manager.groups["voiceagent"].get_hosts()) == hosts
    for index, name in enumerate(hosts):
        found = variables.get_vars(host=manager.get_host(name), include_hostvars=False)
        assert found["ansible_host"] == "127.0.0.%d" % (60 + index)
        assert found["ansible_user"] == "root" and found["ansible_become"] is False
        assert found["ansible_python_interpreter"] == "/venv/bin/python"
        assert found["voiceagent_mirror_url"] == "http://127.0.0.1:8000"
        assert found["voiceagent_registry"] == "/r.json"
        assert found["voiceagent_owner"] == "asterisk"
        assert found["voiceagent_controller_cache_dir"] == "/var/cache/voiceagent-controller/blobs"
    cpu3 = variables.get_vars(host=manager.get_host("pbx-cpu-03.example.com"), include_hostvars=False)
    assert cpu3["voiceagent_install_dir"] == "/srv/voice-agent"
    assert cpu3["voiceagent_env_file"] == "/srv/voice-agent/config/.env"
    gpu2 = variables.get_vars(host=manager.get_host("pbx-gpu-02.example.com"), include_hostvars=False)
    assert gpu2["voiceagent_tier"] == "MEDIUM_CPU" and gpu2["voiceagent_download_timeout"] == 120
