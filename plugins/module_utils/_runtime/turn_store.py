# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn check results kept on the host, beside the benchmark cache, keyed by what they measured.

The key is the sha256 of: each model's sha256 (the verified digest model_file recorded, the Vosk
marker's archive digest, else the file hashed now), the runtime (where, and the Python and engine
versions) and the settings (context, max tokens, threads, GPU layers, chat format, prompt length).
Another model file, engine version or setting is another key, so an old result never passes for
a new model. Standard library only; runs on the managed host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os

from ansible_collections.voiceagent.models.plugins.module_utils._facts.host_facts import default_cache_path
from ansible_collections.voiceagent.models.plugins.module_utils._transfer import digest_cache
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.atomic_write import write_atomically
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.model_layout import read_marker

STORE_NAME = "turn_check.json"
# Results kept per store: a host switches between a few tiers, not dozens.
MAX_ENTRIES = 16
_MAX_STORE_BYTES = 4 * 1024 * 1024


def default_store_path():
    """``turn_check.json`` in the folder of the hardware benchmark's cache."""
    return os.path.join(os.path.dirname(default_cache_path()), STORE_NAME)


def _dir_digest(path):
    """sha256 over a folder's files (relative name and content), for a Vosk model without a marker."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            if os.path.islink(full) or not os.path.isfile(full):
                continue
            digest.update(os.path.relpath(full, path).encode("utf-8", "surrogateescape") + b"\0")
            digest.update(digest_cache.file_sha256(full).encode("ascii"))
    return digest.hexdigest()


def model_digest(path):
    """(sha256, where it came from) of a model file or unpacked Vosk folder."""
    if os.path.isdir(path):
        marker = read_marker(path) or {}
        if isinstance(marker.get("sha256"), str):
            return marker["sha256"], "vosk marker"
        return _dir_digest(path), "hashed"
    recorded = digest_cache.lookup(path)
    if recorded:
        return recorded, "verified"
    return digest_cache.file_sha256(path), "hashed"


def store_key(digests, runtime, settings):
    """One hex key for (model digests, runtime identity, settings)."""
    payload = json.dumps({"models": digests, "runtime": runtime, "settings": settings}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def load(path):
    try:
        if os.path.getsize(path) > _MAX_STORE_BYTES:
            return {}
        with open(path, "rb") as handle:
            data = json.loads(handle.read().decode("utf-8"))
    except (IOError, OSError, ValueError, UnicodeDecodeError):
        return {}
    entries = data.get("results") if isinstance(data, dict) else None
    return dict((k, v) for k, v in (entries or {}).items() if isinstance(v, dict))


def _fresh(entry, max_age, now):
    """Whether a stored entry has a result measured within ``max_age`` seconds (0 or less: none is)."""
    if not entry or not max_age or max_age <= 0 or not isinstance(entry.get("result"), dict):
        return False
    stamp = entry.get("measured_epoch")
    return isinstance(stamp, (int, float)) and 0 <= now - stamp <= max_age


def lookup(path, key, max_age, now):
    """The stored entry (``measured_epoch``, ``measured_at``, ``result``) for ``key`` when younger than
    ``max_age`` seconds, else None. ``max_age`` 0 or less: never reuse."""
    if not max_age or max_age <= 0:
        return None
    entry = load(path).get(key)
    return entry if _fresh(entry, max_age, now) else None


# What the facts carry of each stored turn: enough for the tier selection and the report, not the transcript.
FACT_FIGURES = ("stt_sec", "llm_prefill_sec", "llm_prompt_tokens", "llm_tokens_per_sec", "llm_sec", "tts_sec",
                "first_audio_sec", "turn_sec")


def fact_entry(entry):
    """A stored entry as the facts return it (``turn_checks``): the tier, the LLM file and its sha256, the
    settings and the figures."""
    result = entry.get("result") if isinstance(entry.get("result"), dict) else {}
    models = entry.get("models") if isinstance(entry.get("models"), dict) else {}
    return {
        "tier": entry.get("tier"),
        "llm_file": entry.get("llm_file"),
        "llm_sha256": models.get("llm_model"),
        "settings": entry.get("settings") if isinstance(entry.get("settings"), dict) else {},
        "measured": dict((k, result.get(k)) for k in FACT_FIGURES),
        "measured_at": entry.get("measured_at"),
        "measured_epoch": entry.get("measured_epoch"),
        "runtime": result.get("runtime"),
    }


def recent(path, max_age, now):
    """Stored turns younger than ``max_age`` seconds, newest first, as fact entries (``turn_checks`` of
    hardware_facts)."""
    if not max_age or max_age <= 0:
        return []
    fresh = [fact_entry(entry) for entry in load(path).values() if _fresh(entry, max_age, now)]
    return sorted(fresh, key=lambda e: -e["measured_epoch"])


def save(path, key, entry):
    """Store ``entry`` under ``key`` atomically, keeping the newest MAX_ENTRIES. Raises OSError."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    entries = load(path)
    entries[key] = entry
    if len(entries) > MAX_ENTRIES:
        newest = sorted(entries, key=lambda k: entries[k].get("measured_epoch") or 0)[-MAX_ENTRIES:]
        entries = dict((k, entries[k]) for k in newest)
    payload = json.dumps({"results": entries}, indent=1, sort_keys=True).encode("utf-8")
    write_atomically(path, payload, 0o644)
