# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""model_file's one path for every format: clean up, check what is there, fetch, verify, put in place.

A single model file and an unpacked Vosk model differ only in the steps of KINDS: how the present
check reads dest, how the owner, group and mode of a present dest are kept, and how a verified part
file is put in place. Runs on managed hosts: standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.voiceagent.models.plugins.module_utils._transfer import digest_cache
from ansible_collections.voiceagent.models.plugins.module_utils._transfer import file_attributes
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.fetch_part import transfer, would_download
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.install import install_file, install_vosk
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.leftovers import clean_up, drop_stale_part
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.model_layout import part_path
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.outcome import result
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.part_file import require_parent
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.pin_check import pins_text, verify_part
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.present_check import present_file, present_vosk


def keep_file(module, opts, found):
    """Owner, group and mode of a present file; True when they changed (or would, in check mode)."""
    dest = opts["dest"]
    changed = file_attributes.apply(module, dest, opts["uid"], opts["gid"], opts["mode"])
    if changed and not module.check_mode:
        # A chown or chmod moves the ctime the cached digest is tied to: record it again.
        digest_cache.record(dest, found["sha256"], found.get("md5"))
    return changed


def keep_vosk(module, opts, found):
    """Owner and group of a present model: compared on the folder itself, fixed throughout when they differ."""
    dest = opts["dest"]
    if not file_attributes.owner_differs(module, dest, opts["uid"], opts["gid"]):
        return False
    if not module.check_mode:
        file_attributes.apply_tree(module, dest, opts["uid"], opts["gid"])
    return True


# format -> (present check, keep a present dest, put a verified part file in place, how a present dest is named)
KINDS = {
    "file": (present_file, keep_file, install_file, "is present and verified"),
    "vosk-zip": (present_vosk, keep_vosk, install_vosk, "is present, unpacked from a verified zip"),
}


def ensure(module, opts):
    """Bring dest to the pinned content and return the module's result; a Failure ends the run."""
    present, keep, install, present_words = KINDS.get(opts["format"], KINDS["file"])
    dest = opts["dest"]
    check_mode = module.check_mode
    cleaned = clean_up(opts, check_mode)
    found, reason = present(opts, check_mode)
    part = part_path(dest, opts["format"])
    if found:
        changed = keep(module, opts, found)
        changed = drop_stale_part(part, check_mode) or changed or bool(cleaned)
        return result(opts, "present", changed, "%s %s (%s)." % (dest, present_words, pins_text(opts)),
                      sha256=found["sha256"], size=found["size"], bytes_done=found["size"] or 0,
                      bytes_total=found["size"], cleaned_up=cleaned)
    if check_mode or opts["present_only"]:
        return would_download(opts, part, reason, changed=check_mode)
    require_parent(dest)
    started = time.monotonic()
    stats, partial, streamed = transfer(opts, part)
    if partial:
        partial["seconds"] = round(time.monotonic() - started, 3)
        return partial
    digests = verify_part(opts, part, streamed)
    done = install(module, opts, part, digests)
    msg = "%s %s; fetched %s (%d bytes), verified it and %s." % (dest, reason, opts["source"], digests["size"], done)
    return result(opts, "downloaded", True, msg, sha256=digests["sha256"], size=digests["size"],
                  seconds=round(time.monotonic() - started, 3), cleaned_up=cleaned, **stats)
