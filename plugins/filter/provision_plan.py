# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``voiceagent.models.provision_plan``; documented in provision_plan.yml beside it."""

from ansible.errors import AnsibleFilterError

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.provision_plan import PlanError, provision_plan


def provision_plan_filter(selection, models_dir, container_models_dir="/app/models", mirror=None, usable_cores=1,
                          lock=None, manage_backends=True):
    try:
        return provision_plan(selection, models_dir, container_models_dir, mirror or None, usable_cores, lock,
                              manage_backends)
    except PlanError as exc:
        raise AnsibleFilterError("voiceagent.models.provision_plan: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"provision_plan": provision_plan_filter}
