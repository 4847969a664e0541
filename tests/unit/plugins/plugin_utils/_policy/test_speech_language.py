# -*- coding: utf-8 -*-
# Copyright (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for the host's language: which Vosk model and voice a tier gets (speech_language)."""

import copy
import json

import pytest

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import (
    RegistryError,
    default_registry_path,
    load_registry,
)
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.speech_language import (
    LanguageError,
    language_words,
    speech_models,
    stt_line,
    supported,
)
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.tier_selection import (
    LanguageNotServedError,
    select_tier,
)


def _stt(name, size):
    return {"url": "https://alphacephei.com/vosk/models/%s.zip" % name, "dest_dir": "models/stt",
            "target_path": "models/stt/%s" % name, "size_bytes": size, "format": "vosk-zip", "backend": "vosk",
            "language": name.split("-")[-2]}


def _voice(name):
    return {"backend": "piper", "voice": name, "language": name.split("-")[0],
            "files": [{"name": name + ".onnx", "url": "https://example.org/%s.onnx" % name,
                       "dest_path": "models/tts/%s.onnx" % name, "size_bytes": 10, "format": "piper-onnx"},
                      {"name": name + ".onnx.json", "url": "https://example.org/%s.onnx.json" % name,
                       "dest_path": "models/tts/%s.onnx.json" % name, "size_bytes": 2, "format": "piper-config"}]}


def _raw():
    with open(default_registry_path()) as handle:
        data = json.load(handle)
    data["languages"] = {
        "es-ES": {"stt": {"small": _stt("vosk-model-small-es-0.42", 100), "large": _stt("vosk-model-es-0.42", 900)},
                  "tts": _voice("es_ES-davefx-medium")},
        "ja-JP": {"stt": {"small": _stt("vosk-model-small-ja-0.22", 100)}, "tts": None,
                  "notes": "Piper has no Japanese voice."},
    }
    return data


REGISTRY = load_registry(_raw())
LIGHT, HEAVY = REGISTRY["tiers"]["LIGHT_CPU"], REGISTRY["tiers"]["HEAVY_CPU"]


def test_the_default_language_keeps_the_tiers_own_models():
    models, block, notes = speech_models(HEAVY, REGISTRY)
    assert models == HEAVY["models"] and notes == []
    assert block["requested"] == "en-US" and block["fallback"] is None
    # The shipped tiers do not name their model's language: the turn check reads it from the folder name.
    assert block["stt"] == {"language": "en-US", "model": "vosk-model-en-us-0.22", "line": "large",
                            "model_language": None}
    assert block["tts"] == {"language": "en-US", "model": "en_US-lessac-high"}
    assert language_words(block) == "en-US"


def test_each_tier_takes_its_own_line_in_another_language():
    assert (stt_line(LIGHT), stt_line(HEAVY)) == ("small", "large")
    light = speech_models(LIGHT, REGISTRY, "es-ES")[0]
    heavy, block, notes = speech_models(HEAVY, REGISTRY, "es-ES")
    assert light["stt"]["target_path"] == "models/stt/vosk-model-small-es-0.42"
    assert heavy["stt"]["target_path"] == "models/stt/vosk-model-es-0.42"
    assert [f["name"] for f in heavy["tts"]["files"]] == ["es_ES-davefx-medium.onnx", "es_ES-davefx-medium.onnx.json"]
    assert heavy["llm"] == HEAVY["models"]["llm"]
    assert block["stt"]["model_language"] == "es" and block["tts"]["model"] == "es_ES-davefx-medium"
    assert notes == []


def test_a_language_without_a_large_model_takes_the_small_one_and_says_so():
    models, block, notes = speech_models(HEAVY, REGISTRY, "ja-JP", "en-US", "HEAVY_CPU")
    assert models["stt"]["target_path"] == "models/stt/vosk-model-small-ja-0.22"
    assert block["stt"]["line"] == "small"
    assert notes == ["HEAVY_CPU takes the large Vosk model line, but ja-JP has only a small model in the registry: "
                     "vosk-model-small-ja-0.22 is used."]


def test_a_missing_voice_never_falls_back_silently():
    with pytest.raises(LanguageError) as info:
        speech_models(LIGHT, REGISTRY, "ja-JP")
    message = str(info.value)
    assert "ja-JP has no voice (Piper)" in message
    assert "the languages with one are: en-US, es-ES" in message
    assert "voiceagent_language_fallback" in message


def test_an_allowed_fallback_stands_in_for_the_missing_layer_only():
    models, block = speech_models(LIGHT, REGISTRY, "ja-JP", "en-US")[:2]
    assert models["tts"] == LIGHT["models"]["tts"]
    assert models["stt"]["target_path"] == "models/stt/vosk-model-small-ja-0.22"
    assert block["fallback"] == "en-US" and block["fallback_layers"] == ["tts"]
    assert block["tts"]["language"] == "en-US" and block["stt"]["language"] == "ja-JP"
    assert language_words(block) == "ja-JP (the voice from the fallback en-US)"


def test_a_fallback_without_the_layer_fails_too():
    words = r"ja-JP has no voice \(Piper\) in the registry \(nor has the fallback es-ES\)"
    with pytest.raises(LanguageError, match=words):
        speech_models(LIGHT, copy.deepcopy(dict(REGISTRY, languages=dict(
            REGISTRY["languages"], **{"es-ES": dict(REGISTRY["languages"]["es-ES"], tts=None)}))), "ja-JP", "es-ES")


@pytest.mark.parametrize("value, words", [
    ("xx-XX", "'xx-XX' is not a language of the registry; valid languages are: en-US, es-ES, ja-JP."),
    ("es_ES", "'es_ES' is not a BCP-47 language tag"),
    ("", "'' is not a BCP-47 language tag"),
    (7, "7 is not a BCP-47 language tag"),
])
def test_an_unknown_language_is_named_with_the_valid_ones(value, words):
    with pytest.raises(LanguageError) as info:
        speech_models(LIGHT, REGISTRY, value)
    assert str(info.value).startswith("voiceagent_language ") and words in str(info.value)


def test_an_unknown_fallback_is_named():
    with pytest.raises(LanguageError, match="voiceagent_language_fallback 'xx' is not a language of the registry"):
        speech_models(LIGHT, REGISTRY, "ja-JP", "xx")


def test_tags_compare_case_insensitively():
    block = speech_models(LIGHT, REGISTRY, "ES-es")[1]
    assert block["requested"] == "es-ES"


def test_supported_lists_the_languages_of_each_layer():
    assert supported(REGISTRY, "stt") == ["en-US", "es-ES", "ja-JP"]
    assert supported(REGISTRY, "tts") == ["en-US", "es-ES"]


def test_the_loader_normalises_language_files_and_checks_their_destinations():
    es = REGISTRY["languages"]["es-ES"]
    assert es["stt"]["small"]["size_exact"] is True and es["tts"]["files"][0]["md5"] is None
    data = _raw()
    # The same destination as the tiers' English voice, with another size: two files cannot share it.
    data["languages"]["es-ES"]["tts"]["files"][0]["dest_path"] = "models/tts/en_US-lessac-medium.onnx"
    with pytest.raises(RegistryError) as info:
        load_registry(data)
    assert info.value.path == '$.languages["es-ES"].tts.files[0].dest_path', str(info.value)
    assert "is also the destination of $.tiers.LIGHT_CPU.models.tts.files[0].dest_path" in str(info.value)


def test_the_default_language_has_no_entry_of_its_own():
    data = _raw()
    data["languages"]["en-US"] = data["languages"]["es-ES"]
    with pytest.raises(RegistryError) as info:
        load_registry(data)
    assert info.value.path == '$.languages["en-US"]' and "is the default_language" in str(info.value)


def test_the_loader_stores_each_tiers_line():
    data = _raw()
    del data["tiers"]["LIGHT_CPU"]["stt_line"]
    assert load_registry(data)["tiers"]["LIGHT_CPU"]["stt_line"] == "small"


def test_the_schema_rejects_a_bad_language_tag():
    data = _raw()
    data["languages"]["Spanish"] = data["languages"].pop("es-ES")
    with pytest.raises(RegistryError) as info:
        load_registry(data)
    assert "languages" in str(info.value)


SHIPPED = load_registry(default_registry_path())


def test_the_shipped_languages_have_exact_sizes_and_md5_for_every_file():
    assert len(SHIPPED["languages"]) == 14 and SHIPPED["default_language"] == "en-US"
    for code, language in SHIPPED["languages"].items():
        assert "small" in language["stt"], code
        files = list(language["stt"].values()) + list((language["tts"] or {}).get("files") or [])
        for entry in files:
            assert entry["size_exact"] and entry["md5"], (code, entry["url"])
        if language["tts"] is None:
            assert "voiceagent_language_fallback" in language["notes"], code
    assert set(t["stt_line"] for t in SHIPPED["tiers"].values()) == {"small", "large"}


def test_the_shipped_registry_leaves_japanese_korean_and_hindi_without_a_voice():
    assert supported(SHIPPED, "tts") == ["en-US", "ar", "de-DE", "es-ES", "fr-FR", "it-IT", "nl-NL", "pl-PL",
                                         "pt-BR", "ru-RU", "tr-TR", "zh-CN"]


def test_select_tier_serves_the_hosts_language(make_facts):
    facts = make_facts(cores=8, memory_gb=15.6)
    spanish = select_tier(facts, SHIPPED, language="es-ES")
    english = select_tier(facts, SHIPPED)
    assert spanish["tier"] == english["tier"]
    assert spanish["models"]["stt"]["target_path"] == "models/stt/vosk-model-small-es-0.42"
    assert spanish["models"]["llm"] == english["models"]["llm"]
    assert spanish["language"]["tts"] == {"language": "es-ES", "model": "es_ES-davefx-medium"}
    assert english["language"]["requested"] == "en-US"
    with pytest.raises(LanguageNotServedError, match="voiceagent_language ko-KR has no voice"):
        select_tier(facts, SHIPPED, language="ko-KR")
    with pytest.raises(LanguageNotServedError, match="voiceagent_language '' is not a BCP-47 language tag"):
        select_tier(facts, SHIPPED, language="")
    korean = select_tier(facts, SHIPPED, language="ko-KR", language_fallback="en-US")
    assert korean["models"]["tts"] == english["models"]["tts"]
    assert korean["language"]["fallback_layers"] == ["tts"]
