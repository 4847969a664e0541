# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether model_file's destination is already right, before any network request.

Each check returns (what is known about dest, None) when it is right, else (None, the reason in words).
Runs on managed hosts: standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.voiceagent.models.plugins.module_utils._transfer import digest_cache
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.model_formats import FILE_CHECKS
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.model_layout import VOSK_MARKER, missing_vosk_folder, read_marker
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.outcome import Failure
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.pin_check import mismatches


def present_file(opts, check_mode):
    """(digests and size, None) when dest is right, else (None, reason). Hashes only a file of the right size."""
    dest = opts["dest"]
    try:
        st = os.stat(dest)
    except OSError:
        return None, "is missing"
    if not stat.S_ISREG(st.st_mode):
        raise Failure("%s exists but is not a regular file; remove it or choose another dest." % dest)
    for _name, got, want in mismatches(opts, {"size": st.st_size}, ("size",)):
        return None, "has %d bytes, expected %d" % (got, want)
    names = ("sha256", "md5") if opts["md5"] else ("sha256",)
    digests, _cached = digest_cache.cached_digests(dest, names, write=not check_mode)
    for name, got, want in mismatches(opts, digests, ("sha256", "md5")):
        return None, "has %s %s, expected %s" % (name, got, want)
    if not opts["sha256"]:
        # Nothing pins the content: at least refuse what is not the format (an old truncated download).
        problem = FILE_CHECKS[opts["format"]](dest)
        if problem:
            return None, "fails the %s check (%s)" % (opts["format"], problem)
    digests["size"] = st.st_size
    return digests, None


def present_vosk(opts, check_mode=False):
    """({sha256, size} of the zip it came from, None) when the unpacked model is right, else (None, reason)."""
    dest = opts["dest"]
    if not os.path.lexists(dest):
        return None, "is missing"
    if os.path.islink(dest) or not os.path.isdir(dest):
        raise Failure("%s exists but is not a directory; remove it or choose another dest." % dest)
    marker = read_marker(dest)
    if marker is None:
        return None, "has no readable %s (not unpacked by this module)" % VOSK_MARKER
    for name, got, want in mismatches(opts, marker):
        return None, "was unpacked from a zip with %s %s, expected %s" % (name, got, want)
    missing = missing_vosk_folder(dest)
    if missing:
        return None, "has lost its %s/ folder" % missing
    return {"sha256": marker.get("sha256"), "size": marker.get("size")}, None
