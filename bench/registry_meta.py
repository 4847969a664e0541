# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read each registry LLM's GGUF header keys from the file itself, and check or complete the registry.

    python bench/registry_meta.py registry/registry.json                    # from each LLM's URL
    python bench/registry_meta.py REG --mirror http://127.0.0.1:8000        # <mirror>/<host>/<path>, as the role
    python bench/registry_meta.py REG --models-dir DIR                      # DIR/<file name of dest_path>
    python bench/registry_meta.py REG --write                               # fill in what is missing, fix what differs

Over HTTP only the header is read, with ``Range: bytes=N-M`` requests in growing pieces (256 KiB
first); a server that ignores the range is read only as far as the header and the connection
closed. Exit status: 0 when every reachable file agrees with the registry (or --write fixed it),
1 when a key differs and --write was not given, 2 when a file could not be read and --strict.
"""

import argparse
import json
import os
import pathlib
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".collections"))

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import gguf_meta  # noqa: E402

TIMEOUT = 30


def http_reader(url, counter=None):
    """``read(offset, size)`` with one range request per call."""
    def read(offset, size):
        request = urllib.request.Request(url, headers={"Range": "bytes=%d-%d" % (offset, offset + size - 1),
                                                       "User-Agent": "voiceagent-registry-meta"})
        if counter is not None:
            counter.append((offset, size))
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                if response.status == 206:
                    return response.read(size)
                # 200: the server sent the whole file; skip to the offset and stop after the piece.
                skip = offset
                while skip:
                    got = response.read(min(skip, 1 << 20))
                    if not got:
                        return b""
                    skip -= len(got)
                return response.read(size)
        except urllib.error.HTTPError as exc:
            if exc.code == 416:
                return b""
            raise
    return read


def source_for(llm, mirror=None, models_dir=None):
    """Where to read the LLM from: a local path or a URL."""
    if models_dir:
        return os.path.join(models_dir, os.path.basename(llm["dest_path"]))
    url = llm["url"]
    if mirror:
        parts = urlsplit(url)
        url = mirror.rstrip("/") + "/" + parts.netloc + parts.path
    return url


def read_keys(source, counter=None):
    if source.startswith(("http://", "https://")):
        return gguf_meta.header_keys(http_reader(source, counter))
    with open(source, "rb") as handle:
        return gguf_meta.header_keys(gguf_meta.file_reader(handle))


def run(registry_path, mirror=None, models_dir=None, write=False, strict=False, out=sys.stdout):
    with open(registry_path) as handle:
        registry = json.load(handle)
    seen, differ, unread = {}, 0, 0
    for name in sorted(registry["tiers"]):
        llm = registry["tiers"][name]["models"]["llm"]
        source = source_for(llm, mirror, models_dir)
        if source not in seen:
            try:
                seen[source] = read_keys(source)
            except (OSError, urllib.error.URLError, gguf_meta.GGUFMetaError) as exc:
                seen[source] = None
                out.write("%s: %s could not be read: %s\n" % (name, source, exc))
        header = seen[source]
        if header is None:
            unread += 1
            continue
        problems = gguf_meta.compare(llm.get("gguf"), header)
        missing = sorted(k for k in header if k not in (llm.get("gguf") or {}))
        for problem in problems:
            out.write("%s: %s\n" % (name, problem))
        if missing:
            out.write("%s: the registry lacks %s\n" % (name, ", ".join(missing)))
        if not problems and not missing:
            out.write("%s: the registry's %d GGUF keys match %s\n" % (name, len(header), source))
        if write:
            llm["gguf"] = gguf_meta.completed(llm.get("gguf"), header)
        elif problems:
            differ += 1
    if write:
        text = json.dumps(registry, indent=2, ensure_ascii=False) + "\n"
        tmp = registry_path + ".tmp"
        with open(tmp, "w") as handle:
            handle.write(text)
        os.replace(tmp, registry_path)
        out.write("wrote %s\n" % registry_path)
    if differ:
        return 1
    return 2 if strict and unread else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("registry")
    parser.add_argument("--mirror", help="read <mirror>/<host>/<path> instead of each URL (voiceagent_mirror_url)")
    parser.add_argument("--models-dir", help="read local files: DIR/<file name of dest_path>")
    parser.add_argument("--write", action="store_true", help="complete and correct the registry in place")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a file could not be read")
    args = parser.parse_args(argv)
    return run(args.registry, args.mirror, args.models_dir, args.write, args.strict)


if __name__ == "__main__":
    sys.exit(main())
