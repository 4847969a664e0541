"""Build a local mirror of synthetic model files and a demo registry that describes them.

    python demo/build_mirror.py OUT_DIR [--tiers LIGHT_CPU ...] [--languages es-ES ... | all] [--registry PATH]

For every file of the chosen tiers and languages of the real registry (``registry/registry.json``),
a small synthetic stand-in of the same format (see ``synthetic_models.py``) is
written at ``OUT_DIR/mirror/<upstream host>/<upstream path>``. That is the layout
``voiceagent_mirror_url`` serves: the upstream host name becomes the first path
segment, so
``https://huggingface.co/TheBloke/.../resolve/main/x.gguf`` is found at
``<mirror>/huggingface.co/TheBloke/.../resolve/main/x.gguf``.

Then ``OUT_DIR/registry.json`` is written: the real registry, cut to the chosen
tiers, with the same URLs (the mirror rewrites them at run time), destinations
and formats, but the ``size_bytes``, ``size_mb``, ``sha256`` and ``md5`` of the
synthetic files. Where the real registry's ``sha256`` is ``null``, the demo's
``sha256`` and ``md5`` are both ``null`` (so the lock-file path, "the first
verified download pins the sha256", is exercised with only the size to check);
``--md5-for-unpinned`` gives those files their md5 instead, as the real registry
does (the "size and md5 must match before pinning" path).
LIGHT_CPU's requirements are lowered to 1 core and 1 GB so a small machine without
a GPU gets it. The result passes ``load_registry``.
"""
from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import math
import os
import posixpath
import sys
from urllib.parse import unquote, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_REGISTRY = os.path.join(REPO, "registry", "registry.json")
DEMO_TIER = "LIGHT_CPU"
DEMO_REQUIREMENTS = {"min_ram_gb": 1, "min_cpu_cores": 1}
DEMO_DESCRIPTION = (
    "DEMO registry written by demo/build_mirror.py: the real registry's URLs, destinations "
    "and formats, with the sizes and digests of small synthetic stand-ins served from a local "
    "mirror (<mirror>/<upstream host>/<upstream path>). Files whose real sha256 is null keep "
    "sha256 null (the first verified download pins it). LIGHT_CPU's requirements are lowered to %d core and %d GB RAM so a small "
    "machine without a GPU gets it; the other tiers keep the real requirements."
    % (DEMO_REQUIREMENTS["min_cpu_cores"], DEMO_REQUIREMENTS["min_ram_gb"])
)

# Stand-in hyper-parameters per upstream GGUF: the real models' shape in miniature
# (a bigger model gets a bigger stand-in), each well under 1 MB.
GGUF_PROFILES = {
    "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf":
        dict(n_embd=64, n_layer=2, n_head=4, n_head_kv=2, n_ff=128, vocab=300, n_ctx=2048),
    "Phi-3-mini-4k-instruct-q4.gguf":
        dict(n_embd=96, n_layer=2, n_head=4, n_head_kv=4, n_ff=192, vocab=320, n_ctx=4096),
    "llama-2-7b-chat.Q4_K_M.gguf":
        dict(n_embd=128, n_layer=2, n_head=4, n_head_kv=4, n_ff=256, vocab=320, n_ctx=4096),
    "llama-2-13b-chat.Q4_K_M.gguf":
        dict(n_embd=160, n_layer=3, n_head=5, n_head_kv=5, n_ff=320, vocab=320, n_ctx=4096),
}
DEFAULT_GGUF_PROFILE = dict(n_embd=64, n_layer=2, n_head=4, n_head_kv=2, n_ff=128, vocab=300, n_ctx=2048)


def _synthetic_models():
    name = "voiceagent_demo_synthetic_models"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, "synthetic_models.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def mirror_relpath(url):
    """``<host>/<path>`` of an upstream URL: where the mirror holds it."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("https", "http"):
        raise ValueError("not an http(s) URL with a host: %r" % (url,))
    segments = [segment for segment in parts.path.split("/") if segment]
    if not segments or any(unquote(s) in (".", "..") or "\\" in unquote(s) for s in segments):
        raise ValueError("URL path is empty or has a . or .. segment: %r" % (url,))
    return posixpath.join(host, *segments)


def _entries(tier):
    """(role, entry) for each file of a (raw) tier, stt, llm, then tts."""
    models = tier["models"]
    yield "stt", models["stt"]
    yield "llm", models["llm"]
    for entry in models["tts"]["files"]:
        yield "tts", entry


def _language_entries(language):
    """(role, entry) for each file of a (raw) ``languages`` entry: its Vosk lines, then its voice."""
    for line in sorted(language.get("stt") or {}):
        yield "stt", language["stt"][line]
    for entry in (language.get("tts") or {}).get("files") or []:
        yield "tts", entry


def _format(role, entry):
    fmt = entry.get("format")
    if fmt:
        return fmt
    url = entry["url"]
    if role == "stt":
        return "vosk-zip"
    if role == "llm":
        return "gguf"
    return "piper-config" if url.endswith(".json") else "piper-onnx"


def _write_stand_in(fmt, url, path, nested_vosk):
    """Write the synthetic file for one registry entry at ``path``."""
    sm = _synthetic_models()
    base = posixpath.basename(urlsplit(url).path)
    if fmt == "vosk-zip":
        name = base[:-4] if base.endswith(".zip") else base
        sm.write_vosk_zip(path, name, nested=nested_vosk)
    elif fmt == "gguf":
        profile = GGUF_PROFILES.get(base, DEFAULT_GGUF_PROFILE)
        sm.write_gguf(path, name="voiceagent-synthetic " + base, **profile)
    elif fmt == "piper-onnx":
        sm.write_piper_voice(path)
    elif fmt == "piper-config":
        # The config is written next to its voice (same bytes every time).
        onnx = path[:-5] if path.endswith(".json") else path + ".onnx"
        sm.write_piper_voice(onnx)
    else:
        raise ValueError("no synthetic writer for format %r (%s)" % (fmt, url))


def build_mirror(out_dir, registry_path=DEFAULT_REGISTRY, tiers=None, nested_vosk=False,
                 md5_for_unpinned=False, languages=None):
    """Write the synthetic mirror and the demo registry under ``out_dir``.

    ``tiers``: tier names to include (default: all tiers of the registry, in
    its order). ``nested_vosk``: write the Vosk zips with the model folder one
    level deeper, as some upstream zips have it. ``md5_for_unpinned``: files
    whose real ``sha256`` is null get the synthetic md5 (default: md5 null
    too, so only the size is known before the first download pins the sha256).
    Returns a dict::

        {"out_dir", "mirror_dir", "registry_path", "tiers": [...],
         "files": [{"url", "mirror_relpath", "path", "format", "tiers",
                    "size_bytes", "sha256", "md5",
                    "registry_sha256", "registry_md5"}, ...]}

    ``sha256``/``md5`` are the file's; ``registry_*`` what the demo registry
    says (``None`` for the files whose real ``sha256`` is ``null``).

    ``languages``: the registry's languages whose Vosk models and voices get stand-ins too (``"all"``
    or a list of tags; default none); the demo registry keeps only these. A file's ``tiers`` names the
    tiers and languages that use it.
    """
    sm = _synthetic_models()
    with open(registry_path, "r", encoding="utf-8") as handle:
        real = json.load(handle)
    names = list(real["tiers"])
    if tiers is None:
        chosen = names
    else:
        tiers = [tiers] if isinstance(tiers, str) else list(tiers)
        unknown = [name for name in tiers if name not in real["tiers"]]
        if unknown:
            raise ValueError("tier(s) %s not in %s (it has %s)"
                             % (", ".join(unknown), registry_path, ", ".join(names)))
        if not tiers:
            raise ValueError("no tier chosen")
        chosen = [name for name in names if name in tiers]

    out_dir = os.path.abspath(os.fspath(out_dir))
    mirror_dir = os.path.join(out_dir, "mirror")
    os.makedirs(mirror_dir, exist_ok=True)

    demo = dict((key, copy.deepcopy(value)) for key, value in real.items() if key not in ("tiers", "languages"))
    demo["description"] = DEMO_DESCRIPTION
    demo["tiers"] = {}
    written = {}  # url -> summary entry

    def stand_in(owner, role, entry):
        """Write ``entry``'s synthetic file once per URL and give ``entry`` its size and digests."""
        url = entry["url"]
        fmt = _format(role, entry)
        if url not in written:
            pinned = entry.get("sha256") is not None
            has_md5 = entry.get("md5") is not None
            rel = mirror_relpath(url)
            path = os.path.join(mirror_dir, *rel.split("/"))
            _write_stand_in(fmt, url, path, nested_vosk)
            info = sm.file_digests(path)
            written[url] = {
                "url": url,
                "mirror_relpath": rel,
                "path": path,
                "format": fmt,
                "tiers": [],
                "size_bytes": info["size_bytes"],
                "sha256": info["sha256"],
                "md5": info["md5"],
                "registry_sha256": info["sha256"] if pinned else None,
                "registry_md5": info["md5"] if pinned or (md5_for_unpinned and has_md5) else None,
            }
        item = written[url]
        if owner not in item["tiers"]:
            item["tiers"].append(owner)
        entry["size_bytes"] = item["size_bytes"]
        if "size_mb" in entry:
            entry["size_mb"] = int(math.ceil(item["size_bytes"] / 1e6))
        entry["sha256"] = item["registry_sha256"]
        entry["md5"] = item["registry_md5"]
        entry["format"] = fmt

    for name in chosen:
        tier = copy.deepcopy(real["tiers"][name])
        if name == DEMO_TIER:
            tier["requirements"].update(DEMO_REQUIREMENTS)
            tier["description"] = (
                "DEMO (synthetic model files, requirements lowered to %d core and %d GB RAM so a "
                "small machine without a GPU gets this tier). Real tier: %s"
                % (DEMO_REQUIREMENTS["min_cpu_cores"], DEMO_REQUIREMENTS["min_ram_gb"],
                   tier.get("description", name)))
        for role, entry in _entries(tier):
            stand_in(name, role, entry)
        demo["tiers"][name] = tier

    real_languages = real.get("languages") or {}
    wanted = list(real_languages) if languages == "all" else list(languages or ())
    unknown = [code for code in wanted if code not in real_languages]
    if unknown:
        raise ValueError("language(s) %s not in %s (it has %s)"
                         % (", ".join(unknown), registry_path, ", ".join(real_languages) or "none"))
    demo["languages"] = {}
    for code in wanted:
        language = copy.deepcopy(real_languages[code])
        for role, entry in _language_entries(language):
            stand_in(code, role, entry)
        demo["languages"][code] = language

    registry_out = os.path.join(out_dir, "registry.json")
    with open(registry_out, "w", encoding="utf-8", newline="\n") as handle:
        json.dump(demo, handle, indent=2)
        handle.write("\n")

    return {
        "out_dir": out_dir,
        "mirror_dir": mirror_dir,
        "registry_path": registry_out,
        "tiers": chosen,
        "files": list(written.values()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("out_dir")
    parser.add_argument("--tiers", nargs="+", metavar="TIER", default=None,
                        help="tiers to include (default: all)")
    parser.add_argument("--registry", default=DEFAULT_REGISTRY, help="the real registry (default: %(default)s)")
    parser.add_argument("--nested-vosk", action="store_true",
                        help="nest the Vosk model folder one level deeper in its zip")
    parser.add_argument("--md5-for-unpinned", action="store_true",
                        help="give files whose real sha256 is null their synthetic md5 (default: null)")
    parser.add_argument("--languages", nargs="+", metavar="TAG", default=None,
                        help="languages of the registry whose STT models and voices get stand-ins too "
                             "('all' for every one)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    try:
        summary = build_mirror(args.out_dir, registry_path=args.registry, tiers=args.tiers,
                               nested_vosk=args.nested_vosk, md5_for_unpinned=args.md5_for_unpinned,
                               languages="all" if args.languages == ["all"] else args.languages)
    except (OSError, ValueError) as error:
        parser.error(str(error))
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print("demo registry: %s (tiers %s)" % (summary["registry_path"], ", ".join(summary["tiers"])))
    for item in summary["files"]:
        print("%10d  %s  %s" % (item["size_bytes"], item["registry_sha256"] or "(sha256 null, md5 %s)"
                                % ("null" if item["registry_md5"] is None else "set"), item["mirror_relpath"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
