# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``voiceagent.models.fleet_report``; documented in fleet_report.yml beside it."""

from ansible.errors import AnsibleFilterError

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.fleet_report import (
    ReportError,
    build_report,
    render_markdown,
)
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import (
    RegistryError,
    default_registry_path,
    load_registry,
)
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.report_history import settle
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.report_slices import (
    merge_slices,
    slice_document,
)


def fleet_report_filter(rows, registry=None, min_tier=None, mode=None, generated_at=None, previous=None,
                        slice=None, slices=None, slice_count=None):  # pylint: disable=redefined-builtin
    """``registry`` is the registry data or a path to it; None is the collection's own.
    ``previous``: the last report written, so a run that changed nothing leaves it as it is.
    ``slice``: this run is one slice of a sliced run; the result has the slice document to write.
    ``slices``: the slice documents of a sliced run, merged with ``rows`` into the one report."""
    try:
        rows = dict(rows or {})
        if slices is not None:
            merged, slices_mode = merge_slices(slices, slice_count)
            for host in set(rows) & set(merged):
                raise ReportError("host %s is in the input rows and in a slice" % host)
            rows.update(merged)
            mode = mode or slices_mode
        mode = mode or "run"
        report = settle(build_report(rows, load_registry(registry if registry is not None else default_registry_path()),
                                     min_tier or None, mode, generated_at), previous)
        result = {"report": report, "markdown": render_markdown(report)}
        if slice not in (None, ""):
            result["slice"] = slice_document(slice, rows, mode, generated_at, report)
    except (ReportError, RegistryError) as exc:
        raise AnsibleFilterError("voiceagent.models.fleet_report: %s" % exc)
    return result


class FilterModule(object):
    def filters(self):
        return {"fleet_report": fleet_report_filter}
