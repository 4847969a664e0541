# -*- coding: utf-8 -*-
# Copyright (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is wrong with a registry URL, as a phrase: one pure function.

Shared by the registry loader (to explain a schema refusal) and the provision
plan (which re-checks every URL it hands out, mirror or not).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re


_URL_DOT_SEGMENT = re.compile(r"/(?:\.|%2[Ee]){1,2}(?:[/?#]|$)")
_URL_HOST = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]{1,5})?")


def url_problem(url):
    """Why ``url`` is not a registry URL (``https://host/path``), as a phrase; None when it is one.

    Only the mirror (``voiceagent_mirror_url``) may be ``http://`` or ``file://``: a registry URL
    is always https, names no user or password, and has no space, control character, backslash
    or ``.``/``..`` path segment (a ``file://`` mirror would otherwise read outside its folder).
    """
    if not isinstance(url, str):
        return "is not a string"
    for index, char in enumerate(url):
        if char.isspace() or ord(char) < 0x20 or ord(char) == 0x7f or char == "\\":
            return "has %s at position %d" % (json.dumps(char), index)
    scheme, sep, rest = url.partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        head = url.split(":", 1)[0] if ":" in url else ""
        if head and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", head):
            return "uses the scheme %s" % json.dumps(head)
        return "has no scheme"
    if scheme != "https":
        return "uses the scheme %s" % json.dumps(scheme)
    authority = re.split(r"[/?#]", rest, 1)[0]
    if "@" in authority:
        return "names a user or password before the host (user info)"
    if not _URL_HOST.fullmatch(authority):
        return "has no valid host name (letters, digits, dots and hyphens, and an optional :port)"
    if authority and not rest[len(authority):].startswith("/") and rest[len(authority):]:
        return "has a query or fragment but no path"
    # From the start of the URL, as the schema's pattern looks: "https://." is a dot segment too.
    if _URL_DOT_SEGMENT.search(re.split(r"[?#]", url, 1)[0]):
        return "has a . or .. path segment"
    return None
