# -*- coding: utf-8 -*-
# Copyright (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load, validate and normalise the model tier registry.

Controller-side helper: the registry files live in the collection's
``registry/`` folder, which is not shipped to managed hosts.

``load_registry()`` accepts the collection's own registry (``schema_version``
1) and a file written for upstream (no ``schema_version``, no ``size_bytes``,
``sha256``, ``md5``, ``format``, ``env`` or ``rank``), and returns a new,
normalised dict in which every optional field is present:

* top level: ``schema_version`` (0 for an upstream file), ``default_language``
  (``en-US`` when missing: the language of the tiers' own STT and TTS models)
  and ``languages`` (``{}`` when missing; each STT line and voice file
  normalised like a tier's);
* every file (``models.stt``, ``models.llm``, each ``models.tts.files[]``):
  ``size_bytes`` (from ``size_mb`` x 1,000,000 when missing, ``None`` when
  neither is given), ``size_exact`` (true only when ``size_bytes`` came from
  the registry), ``sha256`` and ``md5`` (``None`` when unknown, md5 in lower
  case) and ``format`` (from the file extension when missing: ``.gguf`` ->
  ``gguf``, ``.zip`` -> ``vosk-zip``, ``.onnx`` -> ``piper-onnx``,
  ``.onnx.json`` -> ``piper-config``);
* every tier: ``rank``, ``env`` and ``stt_line`` (read from its STT model's
  name when missing: ``small`` for a ``vosk-model-small-…`` folder).

Derived rank (only for a tier without ``rank``): all tiers are sorted by the
hardware they ask for, as the tuple (``gpu_required``, ``min_gpu_vram_gb``,
``min_ram_gb``, ``min_cpu_cores``, ``cpu_benchmark_min``), missing numbers
counting as 0; equal tuples share a place; the tier in place ``n`` (1 = least
demanding) gets rank ``10 * n``. A GPU tier thus always outranks a CPU tier,
and upstream's five tiers get the ranks the shipped registry gives them
(LIGHT_CPU 10, MEDIUM_CPU 20, HEAVY_CPU 30, MEDIUM_GPU 40, HEAVY_GPU 50).

Derived env (only keys a tier does not set): upstream's installer tuning by
tier name (``UPSTREAM_ENV``); an unknown tier name gets ``DEFAULT_ENV_GPU``
when ``gpu_required`` is true, else ``DEFAULT_ENV_CPU``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import os

from collections.abc import Mapping

# The schema check lives in registry_schema.py; its public names stay importable from here.
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.speech_language import stt_line
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry_schema import (  # noqa: F401 pylint: disable=unused-import
    HAS_JSONSCHEMA,
    JSONSCHEMA_IMPORT_ERROR,
    REGISTRY_DIR,
    RegistryError,
    _json_type,
    _load_schema,
    _show,
    _validate,
    json_path,
    schema_path,
)

SCHEMA_VERSION = 1
"""The registry format version this code reads and writes."""

ROLES = ("stt", "llm", "tts")
FORMATS = ("gguf", "vosk-zip", "piper-onnx", "piper-config")
ROLE_FORMATS = {
    "stt": ("vosk-zip",),
    "llm": ("gguf",),
    "tts": ("piper-onnx", "piper-config"),
}

ENV_KEYS = (
    "LOCAL_LLM_CONTEXT",
    "LOCAL_LLM_MAX_TOKENS",
    "LOCAL_LLM_INFER_TIMEOUT_SEC",
    "LOCAL_LLM_GPU_LAYERS",
)


def _env(context, max_tokens, timeout, gpu_layers):
    return dict(zip(ENV_KEYS, (context, max_tokens, timeout, gpu_layers)))


DEFAULT_ENV_CPU = _env(512, 24, 45, 0)
DEFAULT_ENV_GPU = _env(1024, 48, 20, -1)

# Upstream installer's .env tuning by tier name.
UPSTREAM_ENV = {
    "LIGHT_CPU": _env(512, 24, 45, 0),
    "MEDIUM_CPU": _env(512, 32, 30, 0),
    "HEAVY_CPU": _env(512, 28, 35, 0),
    "MEDIUM_GPU": _env(1024, 48, 20, -1),
    "HEAVY_GPU": _env(1024, 48, 20, -1),
}

RANK_STEP = 10

DEFAULT_LANGUAGE = "en-US"
"""The language of the tiers' own STT and TTS models when the registry does not name it."""


# --------------------------------------------------------------------------
# Paths and locations


def default_registry_path():
    """Path of the registry shipped with the collection."""
    return os.path.join(REGISTRY_DIR, "registry.json")


def _reject_constant(name):
    raise ValueError("%s is not valid JSON" % name)


def _read_file(path):
    name = path if path.isprintable() and path.strip() == path and path else json.dumps(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except (IOError, OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise RegistryError("$", "cannot read registry file %s: %s" % (name, reason),
                            "a readable JSON file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegistryError("$", "registry file %s is not UTF-8: %s" % (name, exc),
                            "a UTF-8 JSON file")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise RegistryError("$", "registry file %s is nested too deeply" % name,
                            "a JSON object with a \"tiers\" object")
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            reason = "%s at line %d column %d" % (exc.msg, exc.lineno, exc.colno)
        else:
            reason = str(exc)
        raise RegistryError("$", "invalid JSON in registry file %s: %s" % (name, reason),
                            "a JSON object with a \"tiers\" object")


def _plain(value, parts):
    """A deep copy of ``value`` made of plain JSON types, or RegistryError."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RegistryError(json_path(parts), "%r is not a finite number" % value,
                                "a finite JSON number")
        return float(value)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise RegistryError(json_path(parts), "has the key %r, which is not a string" % (key,),
                                    "JSON object keys are strings")
            key = str(key)
            out[key] = _plain(item, list(parts) + [key])
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(item, list(parts) + [index]) for index, item in enumerate(value)]
    raise RegistryError(json_path(parts), "holds %s, which JSON cannot represent" % _json_type(value),
                        "strings, numbers, booleans, null, arrays and objects")


def _check_schema_version(data):
    if "schema_version" not in data:
        return 0
    version = data["schema_version"]
    # JSON has no separate integer type: 1.0 is the integer 1 (as for JSON Schema).
    if isinstance(version, float) and version.is_integer():
        version = int(version)
    if isinstance(version, bool) or not isinstance(version, int) or version != SCHEMA_VERSION:
        raise RegistryError("$.schema_version", "unsupported schema_version %s" % _show(version),
                            "this collection reads schema_version %d, or a file without "
                            "schema_version written for upstream" % SCHEMA_VERSION)
    return version


# --------------------------------------------------------------------------
# Schema validation


def _as_int(value):
    """Integral floats (which JSON Schema accepts as integers) as int."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _infer_format(candidates):
    for candidate in candidates:
        if not isinstance(candidate, str):
            continue
        base = candidate.split("?", 1)[0].split("#", 1)[0].lower().rstrip("/")
        if base.endswith(".onnx.json"):
            return "piper-config"
        if base.endswith(".onnx"):
            return "piper-onnx"
        if base.endswith(".gguf"):
            return "gguf"
        if base.endswith(".zip"):
            return "vosk-zip"
    return None


def _normalise_file(entry, role, parts):
    out = dict(entry)
    for key in ("size_bytes", "gpu_layers"):
        if key in out:
            out[key] = _as_int(out[key])
    if out.get("size_bytes") is not None:
        out["size_exact"] = True
    else:
        size_mb = out.get("size_mb")
        size = int(round(size_mb * 1000000)) if size_mb is not None else 0
        out["size_bytes"] = size if size >= 1 else None
        out["size_exact"] = False
    out["sha256"] = out.get("sha256")
    md5 = out.get("md5")
    out["md5"] = md5.lower() if isinstance(md5, str) else None
    if out.get("format") is None:
        if role == "stt":
            candidates = (out.get("url"),)
        else:
            candidates = (out.get("dest_path"), out.get("name"), out.get("url"))
        inferred = _infer_format(candidates)
        if inferred not in ROLE_FORMATS[role]:
            raise RegistryError(json_path(parts + ["format"]),
                                "is missing and cannot be inferred from %s" % _show(candidates[0]),
                                "set format to one of " + ", ".join(ROLE_FORMATS[role]))
        out["format"] = inferred
    return out


def _check_stt_paths(stt, parts):
    dest_dir = stt["dest_dir"].rstrip("/")
    target = stt["target_path"].rstrip("/")
    if not target.startswith(dest_dir + "/"):
        raise RegistryError(json_path(parts + ["target_path"]),
                            "%s is not inside dest_dir %s" % (_show(stt["target_path"]), _show(stt["dest_dir"])),
                            "a path below dest_dir, where the zip's model folder ends up")


def _derived_ranks(tiers):
    def hardware(tier):
        req = tier.get("requirements") if isinstance(tier, Mapping) else None
        req = req if isinstance(req, Mapping) else {}

        def number(key):
            item = req.get(key)
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                return 0
            return item

        return (1 if req.get("gpu_required") is True else 0, number("min_gpu_vram_gb"),
                number("min_ram_gb"), number("min_cpu_cores"), number("cpu_benchmark_min"))

    keys = dict((name, hardware(tier)) for name, tier in tiers.items())
    places = dict((key, (index + 1) * RANK_STEP) for index, key in enumerate(sorted(set(keys.values()))))
    return dict((name, places[key]) for name, key in keys.items())


def _default_env(name, tier):
    if name in UPSTREAM_ENV:
        return dict(UPSTREAM_ENV[name])
    if tier["requirements"].get("gpu_required") is True:
        return dict(DEFAULT_ENV_GPU)
    return dict(DEFAULT_ENV_CPU)


def _normalise_tier(name, tier, derived_rank):
    base = ["tiers", name]
    out = dict(tier)
    out["rank"] = derived_rank if out.get("rank") is None else _as_int(out["rank"])
    out["stt_line"] = stt_line(tier)
    env = _default_env(name, tier)
    env.update(tier.get("env") or {})
    out["env"] = dict((key, _as_int(env[key])) for key in ENV_KEYS)
    requirements = dict(tier["requirements"])
    if "min_cpu_cores" in requirements:
        requirements["min_cpu_cores"] = _as_int(requirements["min_cpu_cores"])
    out["requirements"] = requirements
    if isinstance(tier.get("expectations"), Mapping) and "recommended_concurrent_calls" in tier["expectations"]:
        expectations = dict(tier["expectations"])
        expectations["recommended_concurrent_calls"] = _as_int(expectations["recommended_concurrent_calls"])
        out["expectations"] = expectations

    models = dict(tier["models"])
    models["stt"] = _normalise_stt(models["stt"], base + ["models", "stt"])
    models["llm"] = _normalise_file(models["llm"], "llm", base + ["models", "llm"])
    models["tts"] = _normalise_tts(models["tts"], base + ["models", "tts"])
    out["models"] = models
    return out


def _normalise_stt(stt, parts):
    """A Vosk zip entry (a tier's ``models.stt`` or a language's line), its paths checked."""
    _check_stt_paths(stt, parts)
    return _normalise_file(stt, "stt", parts)


def _normalise_tts(tts, parts):
    """A voice (a tier's ``models.tts`` or a language's ``tts``) with each file normalised."""
    out = dict(tts)
    out["files"] = [_normalise_file(entry, "tts", parts + ["files", index]) for index, entry in enumerate(tts["files"])]
    return out


def _normalise_language(code, language):
    """A ``languages`` entry with each STT line and voice file normalised like a tier's."""
    base = ["languages", code]
    out = dict(language)
    out["stt"] = dict((line, _normalise_stt(entry, base + ["stt", line]))
                      for line, entry in (language.get("stt") or {}).items())
    if isinstance(language.get("tts"), Mapping):
        out["tts"] = _normalise_tts(language["tts"], base + ["tts"])
    return out


def _file_locations(name, tier):
    """(parts of the destination field, normalised file) for each file of a tier."""
    models = tier["models"]
    base = ["tiers", name, "models"]
    yield base + ["stt", "target_path"], models["stt"]
    yield base + ["llm", "dest_path"], models["llm"]
    for index, entry in enumerate(models["tts"]["files"]):
        yield base + ["tts", "files", index, "dest_path"], entry


def _language_locations(code, language):
    base = ["languages", code]
    for line, entry in sorted(language["stt"].items()):
        yield base + ["stt", line, "target_path"], entry
    for index, entry in enumerate((language.get("tts") or {}).get("files") or []):
        yield base + ["tts", "files", index, "dest_path"], entry


def _check_destinations(tiers, languages=None):
    seen = {}
    places = [_file_locations(name, tier) for name, tier in tiers.items()]
    places += [_language_locations(code, language) for code, language in sorted((languages or {}).items())]
    for locations in places:
        for parts, entry in locations:
            dest = entry[parts[-1]].rstrip("/")
            if dest not in seen:
                seen[dest] = (parts, entry)
                continue
            first_parts, first = seen[dest]
            for field in ("sha256", "md5", "size_bytes", "format"):
                a, b = first.get(field), entry.get(field)
                if field == "size_bytes" and not (first.get("size_exact") and entry.get("size_exact")):
                    continue
                if a is not None and b is not None and a != b:
                    raise RegistryError(
                        json_path(parts),
                        "%s is also the destination of %s, but with a different %s (%s, not %s)"
                        % (_show(dest), json_path(first_parts), field, _show(b), _show(a)),
                        "files that share a destination must have the same sha256, md5, size_bytes and format")


def load_registry(source):
    """Read, validate and normalise a tier registry.

    ``source`` is a dict (already parsed, e.g. ``lookup('file', ...) | from_json``)
    or the path of a JSON file. Returns a new dict; the input is never changed.
    Raises RegistryError for any registry that cannot be used.
    """
    if isinstance(source, Mapping):
        data = source
    elif isinstance(source, (str, os.PathLike)):
        data = _read_file(os.fspath(source))
    else:
        raise RegistryError("$", "cannot load a registry from %s" % _json_type(source),
                            "a dict or the path of a JSON file")
    if not isinstance(data, Mapping):
        raise RegistryError("$", "the registry is %s" % _json_type(data),
                            "a JSON object with a \"tiers\" object")
    try:
        version = _check_schema_version(data)
        data = _plain(data, [])
        _validate(data)
    except RecursionError:
        raise RegistryError("$", "the registry is nested too deeply",
                            "a JSON object with a \"tiers\" object")

    tiers = data["tiers"]
    if not tiers:
        raise RegistryError("$.tiers", "is empty", "at least one tier")
    derived = _derived_ranks(tiers)
    normal_tiers = {}
    for name, tier in tiers.items():
        normal_tiers[name] = _normalise_tier(name, tier, derived[name])
    default_language = data.get("default_language") or DEFAULT_LANGUAGE
    languages = dict((code, _normalise_language(code, language))
                     for code, language in (data.get("languages") or {}).items())
    for code in languages:
        if code.lower() == default_language.lower():
            raise RegistryError(json_path(["languages", code]),
                                "is the default_language, whose models are the tiers' own",
                                "no entry for %s (set default_language to name another language)" % default_language)
    _check_destinations(normal_tiers, languages)

    out = {"schema_version": version, "default_language": default_language,
           "languages": languages}
    for key, item in data.items():
        if key not in out:
            out[key] = item
    out["tiers"] = normal_tiers
    return out


# --------------------------------------------------------------------------
# Queries on a loaded registry


def tier_order(registry):
    """Tier names best first: rank descending, then name.

    A tier without ``rank`` (a registry that did not go through
    ``load_registry``) gets its derived rank.
    """
    tiers = registry["tiers"]
    derived = None
    ranks = {}
    for name, tier in tiers.items():
        rank = tier.get("rank") if isinstance(tier, Mapping) else None
        if isinstance(rank, bool) or not isinstance(rank, (int, float)):
            if derived is None:
                derived = _derived_ranks(tiers)
            rank = derived[name]
        ranks[name] = rank
    return sorted(tiers, key=lambda name: (-ranks[name], name))


def iter_files(tier):
    """The tier's files as new dicts with a ``role`` key (stt, llm, tts), in that order."""
    models = tier.get("models") or {}
    files = []
    for role in ("stt", "llm"):
        entry = models.get(role)
        if isinstance(entry, Mapping):
            item = dict(entry)
            item["role"] = role
            files.append(item)
    tts = models.get("tts")
    if isinstance(tts, Mapping):
        for entry in tts.get("files") or []:
            if isinstance(entry, Mapping):
                item = dict(entry)
                item["role"] = "tts"
                files.append(item)
    return files
