# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``voiceagent.models.select_tier``; documented in select_tier.yml beside it."""

from ansible.errors import AnsibleFilterError

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import default_registry_path
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.tier_selection import SelectionError, select_tier


def select_tier_filter(facts, registry=None, override=None, current=None, language=None, language_fallback=None):
    """Pick the tier for one host. ``registry`` is the registry data or a path to it."""
    try:
        return select_tier(facts, registry if registry is not None else default_registry_path(), override,
                           current=current, language=language, language_fallback=language_fallback)
    except SelectionError as exc:
        raise AnsibleFilterError("voiceagent.models.select_tier: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"select_tier": select_tier_filter}
