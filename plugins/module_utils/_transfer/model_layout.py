# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a model file and its leftovers lie on the host, and the marker of an unpacked Vosk model.

Runs on managed hosts: standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

# Peak disk use of a Vosk archive: the zip plus its extracted folder, which
# is about 1.7x the zip for upstream's models; 3x leaves room.
ZIP_PEAK_FACTOR = 3


VOSK_MARKER = ".voiceagent-source.json"
# The folders a Vosk model cannot run without; a zip must hold both, an unpacked model must keep them.
VOSK_FOLDERS = ("am", "conf")


def part_path(dest, fmt):
    """Where an unfinished download of ``dest`` lives, beside it: ``.<name>.part`` (``.zip.part`` for Vosk)."""
    parent, name = os.path.split(dest.rstrip("/"))
    return os.path.join(parent, (".%s.zip.part" if fmt == "vosk-zip" else ".%s.part") % name)


def controller_part_path(dest):
    """Where the action pushes a file from the controller cache before the module takes it: beside ``dest``."""
    parent, name = os.path.split(dest.rstrip("/"))
    return os.path.join(parent, ".%s.controller-part" % name)


def missing_vosk_folder(directory):
    """The first of VOSK_FOLDERS an unpacked model lacks, or None when it has them all."""
    for folder in VOSK_FOLDERS:
        if not os.path.isdir(os.path.join(directory, folder)):
            return folder
    return None


def read_marker(directory):
    """The marker an unpacked Vosk model carries ({sha256, md5, size, ...}), or None."""
    try:
        with open(os.path.join(directory, VOSK_MARKER), "rb") as fh:
            marker = json.loads(fh.read(65536).decode("utf-8"))
    except (IOError, OSError, ValueError, UnicodeDecodeError):
        return None
    return marker if isinstance(marker, dict) else None
