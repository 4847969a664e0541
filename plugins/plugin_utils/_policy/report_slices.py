# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One fleet report from the slices of a sliced run (AWX job slicing): pure functions.

A sliced run runs ``site.yml`` once per slice of the inventory, and each slice's report play sees
only its own hosts. With ``voiceagent_report_slice`` set, that play writes a slice document (its
hosts' rows as they came from the hosts, not yet a report) instead of the fleet report; the merge
puts the rows of every slice back together, so the one report is built, and the minimum tier
applied, once over the whole fleet, exactly as a run over all the hosts at once would do it.
"""

import re

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.fleet_report import ReportError

SLICE_FORMAT = 1
# A slice's name is a file name under the slices directory (AWX: the job id or the slice number).
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def slice_name(name):
    """The slice's name as a string; a ReportError when it cannot be a file name."""
    text = "" if name is None else str(name)
    if not _NAME.match(text):
        raise ReportError("voiceagent_report_slice %r: use letters, digits, '.', '_' or '-' (up to 100, "
                          "not starting with a dot), such as the AWX job id or the slice number." % text)
    return text


def slice_document(name, rows, mode, generated_at=None, report=None):
    """What one slice writes: its rows (host to row or None), and its own report for people to read."""
    return {"format": SLICE_FORMAT, "slice": slice_name(name), "mode": mode, "generated_at": generated_at,
            "hosts": sorted(rows), "rows": dict(rows), "report": report}


def _check(document, index):
    if not isinstance(document, dict) or document.get("format") != SLICE_FORMAT:
        raise ReportError("slice %d is not a slice report of format %d (written by site.yml with "
                          "voiceagent_report_slice set)" % (index + 1, SLICE_FORMAT))
    if not isinstance(document.get("rows"), dict):
        raise ReportError("slice %r has no rows" % document.get("slice"))
    return slice_name(document.get("slice"))


def merge_slices(slices, expected=None):
    """``slices``: the slice documents of one run. Returns ``(rows, mode)``: every slice's rows in one
    mapping, and the mode they share. A host in two slices, slices of a plan mixed with slices of a
    run, or (with ``expected``) another number of slices than expected is a ReportError."""
    slices = list(slices or [])
    if not slices:
        raise ReportError("no slice reports to merge")
    names = [_check(document, index) for index, document in enumerate(slices)]
    if len(set(names)) != len(names):
        raise ReportError("slice names repeat: %s" % ", ".join(sorted(n for n in set(names) if names.count(n) > 1)))
    if expected not in (None, "", 0, "0") and int(expected) != len(slices):
        raise ReportError("expected %d slices, found %d: %s" % (int(expected), len(slices), ", ".join(sorted(names))))
    modes = sorted(set(document.get("mode") or "run" for document in slices))
    if len(modes) > 1:
        raise ReportError("the slices mix a plan (--check) and a run: %s" % ", ".join(
            "%s is a %s" % (name, document.get("mode") or "run") for name, document in zip(names, slices)))
    rows, owner = {}, {}
    for name, document in zip(names, slices):
        for host, row in document["rows"].items():
            if host in owner:
                raise ReportError("host %s is in slice %s and in slice %s; slices must not overlap"
                                  % (host, owner[host], name))
            owner[host] = name
            rows[host] = row
    return rows, modes[0]
