# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The size, SHA-256 and MD5 a file must have, checked in one place for the module and the action.

Runs on managed hosts (and on the controller, in the action): standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.voiceagent.models.plugins.module_utils._transfer import digest_cache
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.outcome import Failure
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.part_file import file_size, remove

PINS = ("size", "sha256", "md5")


def mismatches(expected, actual, names=PINS):
    """[(name, actual value, expected value)] for each of names that expected pins and actual lacks.

    A value of expected that is None or empty pins nothing. The order is the order of names.
    """
    wrong = []
    for name in names:
        want = expected.get(name)
        if want is None or want == "":
            continue
        if actual.get(name) != want:
            wrong.append((name, actual.get(name), want))
    return wrong


def pins_text(opts):
    """The pins of opts in words, for a message."""
    pins = []
    if opts["size"] is not None:
        pins.append("%d bytes" % opts["size"])
    if opts["sha256"]:
        pins.append("sha256 %s" % opts["sha256"])
    if opts["md5"]:
        pins.append("md5 %s" % opts["md5"])
    return ", ".join(pins) or "no pinned size or digest"


def digest_names(opts):
    """The digests a part file is checked with: md5 where the registry gives one, and for Vosk zips."""
    return ("sha256", "md5") if opts["md5"] or opts["format"] == "vosk-zip" else ("sha256",)


def verify_part(opts, part, streamed=None):
    """Size and digests of the complete part file; a mismatch removes it. Returns the digests.

    ``streamed`` are the digests hashed while a fresh download was written; without them the
    file is read and hashed here (a resumed download, a copy, a push from the controller).
    """
    actual = file_size(part)
    for _name, _actual, want in mismatches(opts, {"size": actual}, ("size",)):
        remove(part)
        raise Failure("%s gave %d bytes, expected %d. The download was removed; %s was left untouched."
                      % (opts["source"], actual, want, opts["dest"]))
    names = digest_names(opts)
    if streamed and all(name in streamed for name in names):
        digests = dict((name, streamed[name]) for name in names)
    else:
        digests = digest_cache.file_digests(part, names)
    for name, got, want in mismatches(opts, digests, ("sha256", "md5")):
        remove(part)
        raise Failure("%s of %s is %s, expected %s. The download was removed; %s was left untouched."
                      % (name, opts["source"], got, want, opts["dest"]), expected=want, actual=got)
    digests["size"] = actual
    return digests
