# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Put a verified part file in place: one model file renamed over dest, or a Vosk zip unpacked into it.

Each returns the end of the module's sentence on what it did. Runs on managed hosts: standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.voiceagent.models.plugins.module_utils._transfer import digest_cache
from ansible_collections.voiceagent.models.plugins.module_utils._transfer import file_attributes
from ansible_collections.voiceagent.models.plugins.module_utils._transfer import http_download as dl
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.atomic_write import fsync_dir
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.model_formats import FILE_CHECKS
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.outcome import Failure
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.part_file import fsync_file, remove, require_room
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.vosk_zip import extract_vosk_zip, inspect_vosk_zip

ZIP_MAX_RATIO = 20


def install_file(module, opts, part, digests):
    """Check the format, give the part file owner, group and mode, and rename it over dest."""
    dest = opts["dest"]
    problem = FILE_CHECKS[opts["format"]](part)
    if problem:
        remove(part)
        raise Failure("%s is not a usable %s file: %s The download was removed; %s was left untouched."
                      % (opts["source"], opts["format"], problem, dest))
    fsync_file(part)
    file_attributes.apply(module, part, opts["uid"], opts["gid"], opts["mode"])
    digest_cache.forget(dest)
    os.replace(part, dest)
    fsync_dir(os.path.dirname(dest))
    digest_cache.record(dest, digests["sha256"], digests.get("md5"))
    return "put it in place"


def install_vosk(module, opts, part, digests):
    """Inspect the zip, unpack it into a new folder that replaces dest as a whole, and drop the zip."""
    dest = opts["dest"]
    problem, plan = inspect_vosk_zip(part, opts["size"], ZIP_MAX_RATIO)
    if problem:
        remove(part)
        raise Failure("%s is not a usable Vosk model zip: %s The download was removed; %s was left untouched."
                      % (opts["source"], problem, dest))
    require_room(os.path.dirname(dest), plan["bytes"], "unpacking %s" % opts["source"])
    marker = {"format": "vosk-zip", "sha256": digests["sha256"], "md5": digests["md5"], "size": digests["size"],
              "url": dl.redact_url(opts["url"]) if opts["url"] else None, "root": plan["root"]}

    def finish(tmp_dir):
        file_attributes.apply_tree(module, tmp_dir, opts["uid"], opts["gid"])

    problem, unpacked = extract_vosk_zip(part, dest, plan, plan["bytes"], file_mode=opts["mode"], marker=marker,
                                         before_rename=finish)
    if problem:
        remove(part)
        raise Failure("%s The download was removed; %s was left untouched." % (problem, dest))
    fsync_dir(os.path.dirname(dest))
    remove(part)
    return "unpacked %d files (%d bytes) from %s" % (unpacked["files"], unpacked["bytes"], plan["root"] or "/")
