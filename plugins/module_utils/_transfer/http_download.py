# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resumable download of one URL into a ``.part`` file.

``download()`` only ever appends to (or truncates) the part file: the caller
verifies it and renames it into place. What arrived before a broken connection
or a ``max_seconds`` stop stays in the part file, and the next call continues
with ``Range: bytes=<size of the part file>-``:

* 206 Partial Content: append, after checking that Content-Range starts where the part file ends;
* 200 OK to a Range request (the server ignores Range): truncate and start over;
* 416 Range Not Satisfiable: the part file is complete (it has the size the server reports)
  or longer than the file (truncate and start over);
* anything else: ``DownloadError`` with a sentence naming the URL (credentials and query
  string removed) and the HTTP status.

HTTP goes through ``ansible.module_utils.urls.open_url`` (proxy variables, CA bundle,
``validate_certs``). It passes our headers through, keeps ``Range`` across redirects
(Hugging Face redirects to a CDN) and raises ``urllib.error.HTTPError`` for 4xx/5xx
answers. ``file://`` URLs (a mirror on a local or mounted path) are copied with the
same resume logic.

Runs on managed hosts: standard library and ansible.module_utils only, Python 3.8 syntax.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import re
import socket
import time

import http.client as http_client
import urllib.error as urllib_error
from urllib.parse import unquote, urlsplit, urlunsplit

from ansible.module_utils.urls import open_url

from ansible_collections.voiceagent.models.plugins.module_utils._units import CHUNK

from ansible_collections.voiceagent.models.plugins.module_utils._transfer.digest_cache import BackgroundDigests
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.part_file import file_size

# How much of a download is written before it is handed to the disk (see _start_writeback). With
# 1 MiB reads, 16 MiB was quicker than 64 MiB for a 1 GiB file on the reference VM
# (bench/writeback_window.py, bench/results/writeback_window.json).
WRITEBACK_BYTES = 16 * 1024 * 1024
_CONTENT_RANGE = re.compile(r"bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)\s*\Z", re.IGNORECASE)
# Headers that must not follow a redirect to another host (the CDN needs no credentials).
_UNREDIRECTED = ["Authorization", "Cookie"]


class DownloadError(Exception):
    """A download that could not go on. ``resumable``: the part file holds good bytes to continue
    from; ``discard``: the part file is known to be wrong and should be removed; ``errno``: the
    error number of a failed write (``ENOSPC`` when the disk filled up), else None."""

    def __init__(self, msg, resumable=False, discard=False, bytes_now=0, total=None, status=None, errno=None):
        super(DownloadError, self).__init__(msg)
        self.errno = errno
        self.resumable = resumable
        self.discard = discard
        self.bytes_now = bytes_now
        self.total = total
        self.status = status


def redact_url(url):
    """The URL without user:password and query string, for messages and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = "<redacted>" if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _truncate(path):
    with open(path, "wb"):
        pass
    return 0


def _start_writeback(fd, offset, length):
    """Start writing a written stretch of the part file to disk, and let it leave the page cache.

    On Linux, POSIX_FADV_DONTNEED starts writeback of dirty pages without waiting, then drops the
    clean ones. So the fsync before the rename finds little left to write, and a multi-GB download
    does not push the running agent's model out of the page cache. Where it is missing, nothing happens.
    """
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return
    try:
        advise(fd, offset, length, os.POSIX_FADV_DONTNEED)
    except OSError:
        pass


def _result(before, now, complete, total, status=None, restarted=False):
    return {"bytes_before": before, "bytes_now": now, "complete": complete, "total": total,
            "status": status, "restarted": restarted}


def parse_content_range(value):
    """``bytes 100-199/1000`` -> (100, 199, 1000); ``bytes */1000`` -> (None, None, 1000); '*' -> None."""
    match = _CONTENT_RANGE.match((value or "").strip())
    if not match:
        return None
    start, end, total = match.groups()
    return (int(start) if start else None, int(end) if end else None,
            int(total) if total != "*" else None)


def _content_length(headers):
    value = headers.get("Content-Length") if headers is not None else None
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def download(url, part_path, expected_size=None, timeout=30, max_seconds=None, validate_certs=True,
             headers=None, opener=None, clock=None, chunk=CHUNK, digests=None):
    """Fetch ``url`` into ``part_path``, continuing from what the part file already holds.

    Returns ``{bytes_before, bytes_now, complete, total, status, restarted}``; ``complete`` is
    False only when ``max_seconds`` ran out first. Raises ``DownloadError`` otherwise.

    ``digests`` (names such as ``("sha256",)``): when the body is written from byte 0 and
    arrives whole in this call, the result also holds ``digests``, hashed in a second thread
    while the bytes were written, so the caller need not read the file again. A resumed part
    file gets no ``digests`` (its first bytes were never seen here): hash the file instead.
    """
    clock = clock or time.monotonic
    deadline = clock() + max_seconds if max_seconds else None
    before = file_size(part_path)
    if urlsplit(url).scheme.lower() == "file":
        return copy_local(_file_url_path(url), part_path, expected_size, max_seconds, clock, chunk)
    offset = before
    restarted = False
    if expected_size is not None and offset > expected_size:
        offset = _truncate(part_path)  # longer than the file can be: not a prefix of it
        restarted = True
    if expected_size is not None and offset == expected_size and offset > 0:
        return _result(before, offset, True, expected_size)
    for _attempt in range(3):
        response, status, total, restart = _request(url, offset, expected_size, timeout, validate_certs,
                                                    headers, opener or open_url)
        if response is None:  # 416: already complete, or the part file has to go
            if not restart:
                return _result(before, offset, True, total, status)
        elif not restart:
            return _stream(response, url, part_path, before, offset, total, expected_size, deadline, clock,
                           chunk, status, restarted, digests if offset == 0 else None)
        else:
            response.close()
        offset = _truncate(part_path)
        restarted = True
    raise DownloadError("%s kept answering Range requests inconsistently; giving up." % redact_url(url))


def _request(url, offset, expected_size, timeout, validate_certs, headers, opener):
    """Send the GET; returns (response or None, status, total, restart_from_zero)."""
    request_headers = dict(headers or {})
    request_headers["Accept-Encoding"] = "identity"  # byte offsets must count file bytes, not gzip bytes
    if offset:
        request_headers["Range"] = "bytes=%d-" % offset
    try:
        response = opener(url, method="GET", headers=request_headers, timeout=timeout,
                          validate_certs=validate_certs, follow_redirects="safe", decompress=False,
                          unredirected_headers=[h for h in _UNREDIRECTED if h in request_headers])
    except urllib_error.HTTPError as exc:
        if exc.code == 416 and offset:
            parsed = parse_content_range(exc.headers.get("Content-Range") if exc.headers else None)
            total = parsed[2] if parsed else None
            # Range past the end: complete when the part has the file's size, otherwise start over.
            return None, 416, total, total != offset
        raise DownloadError(_http_message(url, exc.code, exc.reason), resumable=offset > 0, bytes_now=offset,
                            status=exc.code)
    except urllib_error.URLError as exc:
        raise DownloadError("Could not connect to %s: %s." % (redact_url(url), _reason(exc.reason)),
                            resumable=offset > 0, bytes_now=offset)
    except (http_client.HTTPException, socket.timeout, OSError) as exc:
        raise DownloadError("Could not connect to %s: %s." % (redact_url(url), _reason(exc)),
                            resumable=offset > 0, bytes_now=offset)
    except ValueError as exc:  # urllib's "unknown url type" for a URL without a scheme
        raise DownloadError("%s is not a URL that can be downloaded: %s." % (redact_url(url), exc))
    status = getattr(response, "status", None) or response.getcode()
    length = _content_length(response.headers)
    if status == 206 and offset:
        parsed = parse_content_range(response.headers.get("Content-Range"))
        if not parsed or parsed[0] != offset:
            return response, status, None, True  # not the range we asked for: start over
        total = parsed[2]
    elif status == 200:
        total = length
    else:
        response.close()
        raise DownloadError("%s answered HTTP %s instead of sending the file." % (redact_url(url), status),
                            resumable=offset > 0, bytes_now=offset, status=status)
    if expected_size is not None and total is not None and total != expected_size:
        response.close()
        raise DownloadError("%s is %d bytes on the server, but %d were expected: the pinned size is wrong "
                            "or the URL points at another file." % (redact_url(url), total, expected_size),
                            resumable=False, bytes_now=offset, total=total, status=status)
    # 200 to a Range request: the server ignores Range, the body is the whole file.
    return response, status, total, status == 200 and offset > 0


def _http_message(url, code, reason):
    hint = {404: " (nothing at that address: check the URL or the mirror)",
            401: " (the server wants credentials)", 403: " (access denied)",
            429: " (rate limited: try again later)"}.get(code, "")
    return "Downloading %s failed: HTTP %s %s%s." % (redact_url(url), code, reason or "", hint)


def _reason(exc):
    text = getattr(exc, "strerror", None) or str(exc) or exc.__class__.__name__
    return text.rstrip(".")


def _stream(response, url, part_path, before, offset, total, expected_size, deadline, clock, chunk, status,
            restarted, digests=None):
    """Append the body to the part file until EOF, a break, or the deadline."""
    hasher = BackgroundDigests(digests) if digests else None
    try:
        got = _stream_into(response, url, part_path, before, offset, total, expected_size, deadline, clock, chunk,
                           status, restarted, hasher)
    except BaseException:
        if hasher is not None:
            hasher.abandon()
        raise
    if hasher is not None:
        if got["complete"] and hasher.bytes == got["bytes_now"]:
            got["digests"] = hasher.hexdigests()
        else:
            hasher.abandon()
    return got


def _stream_into(response, url, part_path, before, offset, total, expected_size, deadline, clock, chunk, status,
                 restarted, hasher):
    body_length = None if total is None else total - offset
    if body_length is None:
        body_length = _content_length(response.headers)
    now = offset
    # read1 returns what has arrived (up to chunk) instead of waiting for a full chunk, so a
    # slow link still gets back to the deadline check in time.
    read = getattr(response, "read1", None) or response.read
    flushed = offset
    try:
        with open(part_path, "ab") as out:
            while True:
                try:
                    data = read(chunk)
                except (http_client.HTTPException, socket.timeout, OSError) as exc:
                    data, broken = b"", _reason(exc)
                else:
                    broken = None
                if data:
                    out.write(data)
                    now += len(data)
                    if hasher is not None:
                        hasher.update(data)
                    if now - flushed >= WRITEBACK_BYTES:
                        out.flush()
                        _start_writeback(out.fileno(), flushed, now - flushed)
                        flushed = now
                if expected_size is not None and now > expected_size:
                    raise DownloadError("%s sent more than the expected %d bytes; the download was discarded."
                                        % (redact_url(url), expected_size), discard=True, bytes_now=now,
                                        total=total, status=status)
                if broken or not data:
                    break
                if deadline is not None and clock() >= deadline:
                    return _result(before, now, total is not None and now == total, total, status, restarted)
    except (IOError, OSError) as exc:
        raise DownloadError("Writing %s failed after %d bytes: %s. The bytes so far are kept for a resume."
                            % (part_path, now, _reason(exc)), resumable=True, bytes_now=now, total=total,
                            status=status, errno=exc.errno)
    finally:
        response.close()
    received = now - offset
    if broken or (body_length is not None and received < body_length):
        raise DownloadError(
            "The connection to %s broke after %d of %s bytes (%s). The %d bytes are kept in %s; "
            "run the task again to resume from there." % (
                redact_url(url), now, total if total is not None else "?", broken or "closed early",
                now, part_path),
            resumable=True, bytes_now=now, total=total, status=status)
    return _result(before, now, True, total if total is not None else now, status, restarted)


def _file_url_path(url):
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise DownloadError("%s names another host; a file:// mirror must be a path on this host." % url)
    return unquote(parts.path)


def copy_local(src, part_path, expected_size=None, max_seconds=None, clock=None, chunk=CHUNK):
    """Copy a local file into ``part_path`` with the same resume and deadline logic as ``download``."""
    clock = clock or time.monotonic
    deadline = clock() + max_seconds if max_seconds else None
    before = file_size(part_path)
    try:
        total = os.path.getsize(src)
    except OSError as exc:
        raise DownloadError("%s cannot be read: %s." % (src, _reason(exc)))
    if expected_size is not None and total != expected_size:
        raise DownloadError("%s is %d bytes, but %d were expected." % (src, total, expected_size), bytes_now=before,
                            total=total)
    offset = before
    restarted = False
    if offset > total:
        offset = _truncate(part_path)
        restarted = True
    now = offset
    try:
        with open(src, "rb") as source, open(part_path, "ab") as out:
            source.seek(offset)
            while now < total:
                data = source.read(min(chunk, total - now))
                if not data:
                    raise DownloadError("%s shrank while it was copied." % src, resumable=True, bytes_now=now,
                                        total=total)
                out.write(data)
                now += len(data)
                if deadline is not None and clock() >= deadline and now < total:
                    return _result(before, now, False, total, None, restarted)
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT and now == offset:
            raise DownloadError("%s does not exist." % src)
        raise DownloadError("Copying %s to %s failed after %d bytes: %s." % (src, part_path, now, _reason(exc)),
                            resumable=True, bytes_now=now, total=total, errno=exc.errno)
    return _result(before, now, True, total, None, restarted)
