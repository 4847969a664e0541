# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters ``voiceagent.models.provision_plan`` and ``voiceagent.models.fleet_report``.

Documented in provision_plan.yml and fleet_report.yml beside this file.
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.fleet_report import (
    ReportError,
    build_report,
    render_markdown,
)
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.provision_plan import PlanError, provision_plan
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import RegistryError, load_registry


def provision_plan_filter(selection, models_dir, container_models_dir="/app/models", mirror=None, usable_cores=1,
                          lock=None):
    try:
        return provision_plan(selection, models_dir, container_models_dir, mirror or None, usable_cores, lock)
    except PlanError as exc:
        raise AnsibleFilterError("voiceagent.models.provision_plan: %s" % exc)


def fleet_report_filter(rows, registry, min_tier=None, mode="run", generated_at=None):
    try:
        report = build_report(rows, load_registry(registry), min_tier or None, mode, generated_at)
    except (ReportError, RegistryError) as exc:
        raise AnsibleFilterError("voiceagent.models.fleet_report: %s" % exc)
    return {"report": report, "markdown": render_markdown(report)}


class FilterModule(object):
    def filters(self):
        return {"provision_plan": provision_plan_filter, "fleet_report": fleet_report_filter}
