"""The filter wraps the pure function and turns its errors into AnsibleFilterError."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.voiceagent.models.plugins.filter.select_tier import FilterModule


@pytest.fixture
def select_tier():
    return FilterModule().filters()["select_tier"]


def test_the_collection_registry_is_the_default(select_tier, make_facts):
    assert select_tier(make_facts(cores=8, memory_gb=15.6))["tier"] == "MEDIUM_CPU"


def test_an_unknown_override_fails_as_a_filter_error_listing_the_tiers(select_tier, make_facts):
    with pytest.raises(AnsibleFilterError, match="Unknown tier 'NOPE'; valid tiers are: HEAVY_GPU"):
        select_tier(make_facts(), override="NOPE")


def test_a_host_below_every_tier_fails_as_a_filter_error(select_tier, make_facts):
    with pytest.raises(AnsibleFilterError, match="No tier fits this host"):
        select_tier(make_facts(cores=1))


def test_a_missing_registry_file_names_the_file(select_tier, make_facts, tmp_path):
    with pytest.raises(AnsibleFilterError, match="missing.json"):
        select_tier(make_facts(), str(tmp_path / "missing.json"))
