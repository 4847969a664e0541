# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bring model_file's part file forward: download it (resuming), or take a file already on the host.

Runs on managed hosts: standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat

from ansible_collections.voiceagent.models.plugins.module_utils._transfer import http_download as dl
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.outcome import Failure, result
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.part_file import file_size, remove, require_room
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.pin_check import digest_names

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def transfer(opts, part):
    """Download (or copy) into the part file.

    Returns (download stats, result for 'partial' or None, digests hashed while writing or None).
    """
    if os.path.islink(part):
        remove(part)  # never append through a link someone planted at our temporary name
    before = file_size(part)
    if opts["size"] is not None and not opts["src"]:
        require_room(os.path.dirname(part), opts["size"] - min(before, opts["size"]), opts["source"])
    try:
        got = fetch(opts, part)
    except dl.DownloadError as exc:
        if exc.errno in DISK_FULL:
            remove(part)
            raise Failure(disk_full_message(opts, part, exc), bytes_done=0, resumed_from=before,
                          bytes_total=exc.total if exc.total is not None else opts["size"], disk_full=True)
        if exc.discard:
            remove(part)
        extra = {"state": "partial"} if exc.resumable else {}
        raise Failure(str(exc), bytes_done=file_size(part), resumed_from=before,
                      bytes_total=exc.total if exc.total is not None else opts["size"], **extra)
    done = got["bytes_now"]
    downloaded = done - got["bytes_before"] if not got.get("restarted") else done
    stats = {"bytes_downloaded": max(downloaded, 0), "bytes_done": done,
             "bytes_total": got["total"] if got["total"] is not None else opts["size"], "resumed_from": before}
    if not got["complete"]:
        total = stats["bytes_total"]
        msg = "Fetched %d of %s bytes of %s in the %s s allowed; run again to continue." % (
            done, total if total is not None else "?", opts["source"], opts["max_seconds"])
        return stats, result(opts, "partial", downloaded > 0, msg, **stats), None
    return stats, None, got.get("digests")


def fetch(opts, part):
    """Bring the part file forward; returns download()'s dict."""
    if opts["src"]:
        return take_src(opts["src"], part, opts)
    return dl.download(opts["url"], part, expected_size=opts["size"], timeout=opts["timeout"],
                       max_seconds=opts["max_seconds"] or None, validate_certs=opts["validate_certs"],
                       digests=digest_names(opts))


def take_src(src, part, opts):
    """A file already on the host becomes the part file: renamed on the same filesystem, else copied."""
    try:
        src_stat = os.stat(src)
    except OSError as exc:
        raise dl.DownloadError("src %s cannot be used: %s." % (src, exc.strerror or exc))
    if not stat.S_ISREG(src_stat.st_mode):
        raise dl.DownloadError("src %s is not a regular file." % src)
    if os.path.realpath(src) != os.path.realpath(part):
        if src_stat.st_dev != os.stat(os.path.dirname(part)).st_dev:
            return dl.copy_local(src, part, opts["size"], opts["max_seconds"] or None)
        # Same filesystem: a rename is instant and leaves no second copy of gigabytes behind.
        os.replace(src, part)
    size = file_size(part)
    return {"bytes_before": size, "bytes_now": size, "complete": True, "total": size}


def disk_full_message(opts, part, exc):
    dest = opts["dest"]
    kept = ("the previous %s is kept unchanged" % dest) if os.path.lexists(dest) else (
        "there was no previous %s" % dest)
    return ("The disk filled up while fetching %s: writing %s failed after %d bytes (%s). The partial download was "
            "removed to give the space back; %s. Free some space and run again."
            % (opts["source"], part, exc.bytes_now, os.strerror(exc.errno), kept))


def would_download(opts, part, reason, changed):
    """The result of check mode or present_only when dest is not right: what a real run would fetch."""
    have = file_size(part)
    if opts["src"]:
        remaining = 0
    elif opts["size"] is not None:
        remaining = max(opts["size"] - have, 0) if have <= opts["size"] else opts["size"]
    else:
        remaining = None
    detail = ""
    if remaining is not None:
        detail = " (%d bytes%s)" % (remaining, ", %d already in the part file" % have if have else "")
    msg = "%s %s; a real run would fetch %s%s." % (opts["dest"], reason, opts["source"], detail)
    return result(opts, "absent", changed, msg, would_download_bytes=remaining, bytes_done=have, resumed_from=have)
