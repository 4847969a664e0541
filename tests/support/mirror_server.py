# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small threaded HTTP mirror for tests and the demo, with fault injection.

Serves one directory on 127.0.0.1 (GET and HEAD, ``Range: bytes=N-`` and ``bytes=N-M``
answered with 206 and Content-Range, 416 past the end) and logs every request as
``(method, path, range_header_or_None)`` in ``.requests``; ``request_counts("GET")`` sums
that log per path (how often each file was fetched).

Faults, set per URL path (``"/llm/x.gguf"``) at any time, and kept until removed:

* ``drop_after[path] = n``: send the headers with the full Content-Length, then ``n``
  bytes, then close the socket;
* ``status[path] = 404``: answer with that status and a small HTML error page;
* ``ignore_range[path] = True``: answer 200 with the whole file even to a Range request;
* ``throttle[path] = bytes_per_second``: send slowly, in 16 KiB pieces;
* ``redirect[path] = "/other/path"``: answer 302 with that Location (as Hugging Face does to its CDN).

Usage::

    with MirrorServer(root) as server:   # or server.start() ... server.stop()
        url = server.url + "/llm/x.gguf"

    python tests/support/mirror_server.py DIR --port 8000
"""

import argparse
import os
import posixpath
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

_RANGE = re.compile(r"bytes=(\d+)-(\d*)\s*\Z")
_PIECE = 16 * 1024


class MirrorServer(object):
    def __init__(self, root_dir, port=0):
        self.root = os.path.abspath(str(root_dir))
        self.port = port
        self.requests = []
        self.drop_after = {}
        self.status = {}
        self.ignore_range = {}
        self.throttle = {}
        self.redirect = {}
        self.url = None
        self._lock = threading.Lock()
        self._httpd = None
        self._thread = None

    def start(self):
        handler = type("MirrorHandler", (_Handler,), {"mirror": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()
        return self.url

    def stop(self):
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(5)
            self._httpd = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def log(self, method, path, range_header):
        with self._lock:
            self.requests.append((method, path, range_header))

    def request_counts(self, method=None):
        """{path: number of requests} from the log, only ``method`` ("GET", "HEAD") when given."""
        counts = {}
        with self._lock:
            logged = list(self.requests)
        for logged_method, path, _range in logged:
            if method is None or logged_method == method:
                counts[path] = counts.get(path, 0) + 1
        return counts

    def local_path(self, url_path):
        """The file for a URL path, or None when it would leave the served directory."""
        clean = posixpath.normpath("/" + url_path.lstrip("/"))
        full = os.path.realpath(os.path.join(self.root, clean.lstrip("/")))
        if full != self.root and not full.startswith(self.root + os.sep):
            return None
        return full


class _Handler(BaseHTTPRequestHandler):
    mirror = None  # set per server by MirrorServer.start
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def do_HEAD(self):
        self._answer(body=False)

    def do_GET(self):
        self._answer(body=True)

    def _answer(self, body):
        mirror = self.mirror
        path = unquote(urlsplit(self.path).path)
        range_header = self.headers.get("Range")
        mirror.log(self.command, path, range_header)
        if path in mirror.status:
            return self._error(mirror.status[path], body)
        if path in mirror.redirect:
            self.send_response(302)
            self.send_header("Location", mirror.redirect[path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        local = mirror.local_path(path)
        if local is None or not os.path.isfile(local):
            return self._error(404, body)
        size = os.path.getsize(local)
        start, end, code = 0, size - 1, 200
        match = _RANGE.match(range_header or "")
        if match and not mirror.ignore_range.get(path):
            start = int(match.group(1))
            end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % size)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            code = 206
        length = end - start + 1
        self.send_response(code)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        if code == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        self.end_headers()
        if body:
            self._send_body(local, path, start, length)
        return None

    def _send_body(self, local, path, start, length):
        limit = self.mirror.drop_after.get(path)
        rate = self.mirror.throttle.get(path)
        budget = length if limit is None else min(limit, length)
        with open(local, "rb") as fh:
            fh.seek(start)
            sent = 0
            while sent < budget:
                data = fh.read(min(_PIECE, budget - sent))
                if not data:
                    break
                try:
                    self.wfile.write(data)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                    return
                sent += len(data)
                if rate:
                    time.sleep(len(data) / float(rate))
        if limit is not None and limit < length:
            # Cut the connection mid-body, as a dying proxy or network would.
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _error(self, code, body):
        page = ("<!DOCTYPE html>\n<html><head><title>%d</title></head><body><h1>Error %d</h1></body></html>\n"
                % (code, code)).encode("ascii")
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=ascii")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        if body:
            self.wfile.write(page)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Serve a directory over HTTP with Range support.")
    parser.add_argument("directory")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    args = parser.parse_args(argv)
    server = MirrorServer(args.directory, port=args.port)
    print(server.start(), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
