# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's language: which Vosk model and which voice a tier gets for it. Pure functions.

A tier's own ``models.stt`` and ``models.tts`` are in the registry's ``default_language``. Any other
language takes its STT line (the tier's ``stt_line``, or ``small`` where the language has no large
model) and its voice from the registry's ``languages``. A layer the language lacks never falls back
silently: without ``fallback`` the host fails with the languages that layer has; with it, that
layer comes from the fallback language and the result says so.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

LAYERS = ("stt", "tts")
LAYER_WORDS = {"stt": "speech-to-text model (Vosk)", "tts": "voice (Piper)"}
TAG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class LanguageError(ValueError):
    """The host's language (or its fallback) cannot be served; the message says what would be valid."""


def stt_line(tier):
    """``small`` or ``large``: the tier's own, else read from its STT model's name (the loader stores it)."""
    line = tier.get("stt_line")
    if line in ("small", "large"):
        return line
    return "small" if "-small-" in (tier["models"]["stt"].get("target_path") or "") else "large"


def _known(registry):
    # The loader refuses a languages entry for the default language: the tiers' own models are it.
    return [registry["default_language"]] + sorted(registry["languages"])


def _code(registry, value, option):
    """``value`` as the registry spells it (tags compare case-insensitively), or LanguageError."""
    if not isinstance(value, str) or not TAG.match(value.lower()):
        raise LanguageError("%s %r is not a BCP-47 language tag; give one such as %s."
                            % (option, value, ", ".join(_known(registry)[:4])))
    for code in _known(registry):
        if code.lower() == value.lower():
            return code
    raise LanguageError("%s %r is not a language of the registry; valid languages are: %s."
                        % (option, value, ", ".join(_known(registry))))


def supported(registry, layer):
    """The languages that have a model for ``layer`` (stt or tts), the default language first."""
    return [registry["default_language"]] + [code for code, entry in sorted(registry["languages"].items())
                                             if (entry["stt"] if layer == "stt" else entry.get("tts"))]


def _layer(tier, registry, code, layer):
    """(models of ``layer`` for ``code``, model name, stt line or None); (None, None, None) when missing."""
    if code == registry["default_language"]:
        spec = tier["models"][layer]
        line = stt_line(tier) if layer == "stt" else None
    else:
        entry = registry["languages"][code]
        if layer == "stt":
            lines = entry["stt"]
            line = stt_line(tier) if stt_line(tier) in lines else ("small" if "small" in lines else "large")
            spec = lines.get(line)
        else:
            spec, line = entry.get("tts"), None
    if not spec:
        return None, None, None
    if layer == "stt":
        name = spec["target_path"].rstrip("/").rsplit("/", 1)[-1]
    else:
        onnx = [f for f in spec["files"] if f.get("format") == "piper-onnx"] or spec["files"]
        name = spec.get("voice") or onnx[0]["dest_path"].rsplit("/", 1)[-1].replace(".onnx", "")
    return spec, name, line


def speech_models(tier, registry, language=None, fallback=None, tier_name="The tier"):
    """(the tier's models in ``language``, the language block of the selection, notes for its warnings).

    ``registry`` is a loaded registry; ``language`` a BCP-47 tag (None: the registry's default);
    ``fallback`` a language allowed to stand in for a layer ``language`` lacks, or None / empty.
    A note says when the tier gets another Vosk line than its own (the language has only the other).
    """
    code = _code(registry, registry["default_language"] if language is None else language, "voiceagent_language")
    fallback_code = _code(registry, fallback, "voiceagent_language_fallback") if fallback else None
    models = copy.deepcopy(tier["models"])
    block = {"requested": code, "fallback": None}
    notes = []
    for layer in LAYERS:
        spec, name, line = _layer(tier, registry, code, layer)
        used = code
        if spec is None and fallback_code:
            spec, name, line = _layer(tier, registry, fallback_code, layer)
            used = fallback_code
        if spec is None:
            having = supported(registry, layer)
            raise LanguageError(
                "voiceagent_language %s has no %s in the registry%s; the languages with one are: %s. Choose one of "
                "them, or set voiceagent_language_fallback to one of them to give this host's callers that "
                "language's %s." % (code, LAYER_WORDS[layer],
                                    " (nor has the fallback %s)" % fallback_code if fallback_code else "",
                                    ", ".join(having), LAYER_WORDS[layer]))
        models[layer] = copy.deepcopy(spec)
        block[layer] = {"language": used, "model": name}
        if line:
            block[layer]["line"] = line
        if layer == "stt":
            # The registry's word for the model's language; None lets the turn check read the folder name.
            block[layer]["model_language"] = spec.get("language")
            if line != stt_line(tier):
                notes.append("%s takes the %s Vosk model line, but %s has only a %s model in the registry: "
                             "%s is used." % (tier_name, stt_line(tier), used, line, name))
        if used != code:
            block["fallback"] = fallback_code
            block.setdefault("fallback_layers", []).append(layer)
    return models, block, notes


def language_words(block):
    """One line for the report: ``es-ES``, or ``ja-JP (voice from the fallback en-US)``."""
    if not block or not block.get("requested"):
        return ""
    if not block.get("fallback"):
        return block["requested"]
    layers = " and ".join("the %s" % ("voice" if layer == "tts" else "speech model")
                          for layer in block.get("fallback_layers") or [])
    return "%s (%s from the fallback %s)" % (block["requested"], layers, block["fallback"])
