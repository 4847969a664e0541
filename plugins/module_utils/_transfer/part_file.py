# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small helpers for the files model_file writes beside its destination.

Runs on managed hosts: standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.voiceagent.models.plugins.module_utils._transfer.outcome import Failure


def file_size(path):
    """Size of path in bytes; 0 when it does not exist."""
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def remove(path):
    """Unlink path; a path that is already gone is fine."""
    try:
        os.unlink(path)
    except OSError:
        pass


def fsync_file(path):
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def require_parent(dest):
    """Fail naming the directory of dest when it does not exist (it is never created here)."""
    parent = os.path.dirname(dest)
    if not os.path.isdir(parent):
        raise Failure("The directory %s does not exist; create it first (ansible.builtin.file, state: directory)."
                      % parent)


def require_room(directory, needed, what):
    """Fail when the filesystem of directory has less than needed bytes free for what."""
    if not needed or needed <= 0:
        return
    try:
        st = os.statvfs(directory)
    except OSError:
        return
    free = st.f_bavail * st.f_frsize
    if free < needed:
        raise Failure("Not enough space in %s for %s: %d more bytes are needed, %d are free."
                      % (directory, what, needed, free), bytes_needed=needed, bytes_free=free)
