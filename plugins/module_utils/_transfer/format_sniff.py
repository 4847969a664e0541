# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the first bytes of a file are, and a bounded reader for binary headers.

Shared by the format checks (gguf_header, piper_files, vosk_zip); runs on managed hosts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import struct


class Garbled(Exception):
    """A header that cannot be what it claims; the message is the sentence to return."""


def describe_start(head, what):
    """Say in words what the first bytes of a file are, for a file that is not ``what``."""
    text = head.lstrip()
    if not head:
        return "is empty"
    if text.startswith(b"version https://git-lfs"):
        return "is a Git LFS pointer file, not the model: the URL points at the pointer instead of the content"
    if text[:1] == b"<":
        snippet = re.match(br"[^>\r\n]{1,40}", text).group(0)
        return "starts with %r, not %s: probably an error page saved as a model" % (_ascii(snippet), what)
    if text[:1] in (b"{", b"["):
        return "starts with %r, not %s: probably a JSON error answer saved as a model" % (_ascii(text[:20]), what)
    if all(32 <= b < 127 or b in (9, 10, 13) for b in bytearray(head[:16])):
        return "starts with the text %r, not %s" % (_ascii(head[:16]), what)
    return "starts with the bytes %s, not %s" % (" ".join("%02x" % b for b in bytearray(head[:8])), what)


def _ascii(data):
    return data.decode("ascii", "replace").strip()


def read_head(path, n=64):
    with open(path, "rb") as fh:
        return fh.read(n)


def run_check(path, parse):
    """``parse(path, fh, size)`` on the open file: its sentence, or one for a Garbled header or a read error."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            return parse(path, fh, size)
    except Garbled as exc:
        return "%s %s." % (path, exc)
    except (IOError, OSError) as exc:
        return "%s cannot be read: %s." % (path, exc.strerror or exc)


def not_a(path, head, what):
    return "%s %s." % (path, describe_start(head, what))


class Reader(object):
    """Bounded little reader over a binary file: refuses to go past EOF."""

    def __init__(self, fh, size, endian):
        self.fh = fh
        self.size = size
        self.pos = fh.tell()
        self.endian = endian

    def left(self):
        return self.size - self.pos

    def take(self, n, what):
        if n > self.left():
            raise Garbled("is truncated or garbled: %s needs %d bytes at offset %d, but only %d are left"
                          % (what, n, self.pos, self.left()))
        data = self.fh.read(n)
        if len(data) != n:  # the file shrank while we read it
            raise Garbled("ended early at offset %d while reading %s" % (self.pos + len(data), what))
        self.pos += n
        return data

    def skip(self, n, what):
        if n > self.left():
            raise Garbled("is truncated or garbled: %s needs %d bytes at offset %d, but only %d are left"
                          % (what, n, self.pos, self.left()))
        self.fh.seek(n, os.SEEK_CUR)
        self.pos += n

    def unpack(self, code, what):
        fmt = self.endian + code
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))[0]
