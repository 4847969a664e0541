# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a killed model_file run leaves beside its destination, and how the next run clears it up.

Only called under the host lock or on a host with one writer. Runs on managed hosts: standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import shutil
import time

from ansible_collections.voiceagent.models.plugins.module_utils._transfer.model_layout import controller_part_path
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.part_file import remove

# A file pushed from the controller that nobody wrote to for this long belongs to a run that died.
STALE_PUSH_SECONDS = 3600


def clean_up(opts, check_mode):
    """Clear a killed run's leftovers before anything else; returns the paths removed or restored.

    Nothing is touched in check mode.
    """
    if check_mode:
        return []
    cleaned = clear_vosk_leftovers(opts["dest"]) if opts["format"] == "vosk-zip" else []
    return cleaned + drop_stale_push(opts, False)


def drop_stale_part(part, check_mode):
    """A part file left beside a destination that is already right only takes space (maybe gigabytes)."""
    if not os.path.lexists(part):
        return False
    if not check_mode:
        remove(part)
    return True


def drop_stale_push(opts, check_mode, now=None):
    """Remove a file the action pushed beside dest for an earlier run that never took it (killed mid-push).

    A push still being written is younger than STALE_PUSH_SECONDS, so another run's transfer is left
    alone (the push happens outside the host lock). The push this call was given as O(src) is kept
    for the caller. Returns the paths removed (none in check mode).
    """
    pushed = controller_part_path(opts["dest"])
    if check_mode or (opts["src"] and os.path.abspath(opts["src"]) == pushed):
        return []
    try:
        age = (now if now is not None else time.time()) - os.lstat(pushed).st_mtime
    except OSError:
        return []
    if age < STALE_PUSH_SECONDS:
        return []
    remove(pushed)
    return [pushed]


def clear_vosk_leftovers(dest):
    """After a run killed mid-unpack: put a Vosk folder moved aside back when dest is gone, drop the rest.

    Returns the names removed or restored.
    """
    parent, name = os.path.split(dest)
    touched = []
    for aside in sorted(glob.glob(os.path.join(glob.escape(parent), ".%s.old-*" % glob.escape(name)))):
        old = os.path.join(aside, name)
        if not os.path.lexists(dest) and os.path.isdir(old) and not os.path.islink(old):
            os.rename(old, dest)
            touched.append(dest)
        shutil.rmtree(aside, ignore_errors=True)
        touched.append(aside)
    for tmp in sorted(glob.glob(os.path.join(glob.escape(parent), ".%s.tmp-*" % glob.escape(name)))):
        if os.path.isdir(tmp) and not os.path.islink(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
            touched.append(tmp)
    return touched
