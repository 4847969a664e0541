# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""model_file's options, checked and normalised before anything on the host is touched.

Runs on managed hosts: standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import re

from ansible_collections.voiceagent.models.plugins.module_utils._transfer import http_download as dl
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.atomic_write import parse_mode
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.outcome import Failure

_HEX = {"sha256": re.compile(r"[0-9a-f]{64}\Z"), "md5": re.compile(r"[0-9a-f]{32}\Z")}


def parse_digest(value, name):
    """A sha256 or md5 as lowercase hex (an optional ``sha256:`` prefix dropped); None when not given."""
    if value is None or value == "":
        return None
    text = value.strip().lower()
    if text.startswith(name + ":"):
        text = text[len(name) + 1:]
    if not _HEX[name].match(text):
        raise Failure("%s must be %d hex digits, got %r." % (name, 64 if name == "sha256" else 32, value))
    return text


def resolve_id(value, kind):
    """Owner or group name (or numeric id) -> numeric id; None stays None (leave as is).

    Resolved before anything is fetched, so that an owner missing on the host fails at once.
    """
    if value is None or value == "":
        return None
    if str(value).isdigit():
        return int(value)
    try:
        return pwd.getpwnam(value).pw_uid if kind == "owner" else grp.getgrnam(value).gr_gid
    except KeyError:
        raise Failure("%s %r does not exist on this host." % (kind, value))


def read_options(params):
    """The module's params with digests, mode, owner and group parsed, dest absolute, and the source named."""
    opts = dict(params)
    opts["sha256"] = parse_digest(params["sha256"], "sha256")
    opts["md5"] = parse_digest(params["md5"], "md5")
    try:
        opts["mode"] = parse_mode(params["mode"])
    except ValueError as exc:
        raise Failure(str(exc))
    opts["uid"] = resolve_id(params["owner"], "owner")
    opts["gid"] = resolve_id(params["group"], "group")
    opts["dest"] = os.path.abspath(params["dest"])
    if params["size"] is not None and params["size"] < 0:
        raise Failure("size must be the expected number of bytes, got %d." % params["size"])
    if params["max_seconds"] < 0:
        raise Failure("max_seconds must be 0 (until done) or a positive number, got %s." % params["max_seconds"])
    if params["timeout"] <= 0:
        raise Failure("timeout must be a positive number of seconds, got %d." % params["timeout"])
    if params["lock_timeout"] < 0:
        raise Failure("lock_timeout must be 0 (do not wait) or a positive number of seconds, got %s."
                      % params["lock_timeout"])
    opts["source"] = params["src"] or dl.redact_url(params["url"])
    return opts
