# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep the fleet report still when nothing changed: pure functions.

A rerun that changes nothing on any host must leave the report files as they are, so that
``changed=0`` holds for the controller too. A host this run did not change keeps the run
details of its previous row (what the last change moved, and when: ``changed_at``), and the
report keeps its previous ``generated_at`` when nothing else in it differs.
"""

# What a row says about one run rather than about the host's state: what it found missing, moved,
# and where it took each digest from (a first download pins a digest that later runs read from the lock).
RUN_FIELDS = ("changed", "files_changed", "files_unchanged", "bytes_moved", "bytes_to_download", "download_seconds",
              "benchmark_cached", "digests", "agent", "env_keys_changed", "changed_at")


def changed_this_run(host):
    """Whether this run had work on the host: something not in place, a file moved, new .env values."""
    return bool(host.get("changed")) or bool(host.get("files_changed")) or bool(host.get("env_keys_changed"))


def _previous_hosts(previous):
    hosts = previous.get("hosts") if isinstance(previous, dict) else None
    return dict((h.get("host"), h) for h in hosts or [] if isinstance(h, dict))


def _without_time(report):
    return dict((key, value) for key, value in report.items() if key != "generated_at")


def settle(report, previous):
    """``report`` with unchanged hosts' run details and time stamp taken from ``previous``."""
    before = _previous_hosts(previous)
    hosts = []
    for host in report["hosts"]:
        host = dict(host)
        old = before.get(host["host"])
        if report["mode"] == "run" and changed_this_run(host):
            host["changed_at"] = report["generated_at"]
        elif old is not None and old.get("status") == host["status"]:
            host.update((key, old.get(key)) for key in RUN_FIELDS)
        else:
            host["changed_at"] = None
        hosts.append(host)
    settled = dict(report, hosts=hosts)
    settled["summary"] = dict(report["summary"], bytes_moved=sum(h["bytes_moved"] or 0 for h in hosts),
                              bytes_to_download=sum(int(h["bytes_to_download"] or 0) for h in hosts))
    if isinstance(previous, dict) and _without_time(previous) == _without_time(settled):
        settled["generated_at"] = previous.get("generated_at")
    return settled
