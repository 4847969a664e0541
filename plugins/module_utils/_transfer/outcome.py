# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a model_file run ends with: its result, or a Failure that becomes fail_json.

Runs on managed hosts: standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class Failure(Exception):
    """Ends the module with fail_json(msg, **extra)."""

    def __init__(self, msg, **extra):
        super(Failure, self).__init__(msg)
        self.extra = extra


def result(opts, state, changed, msg, **values):
    """The module's result: every documented key, with the defaults of a run that fetched nothing."""
    out = {"changed": changed, "dest": opts["dest"], "state": state, "sha256": None, "size": None,
           "bytes_downloaded": 0, "bytes_done": 0, "bytes_total": opts["size"], "resumed_from": 0,
           "would_download_bytes": 0, "cleaned_up": [], "seconds": 0, "msg": msg}
    out.update(values)
    return out
