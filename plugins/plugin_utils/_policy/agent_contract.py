# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the voice agent needs in its ``.env`` to really run a tier: pure functions.

The agent's rules (docs/env-file.md; its local_ai_server/config.py):

* ``LOCAL_AI_MODE`` unset means ``minimal`` on a host without ``GPU_AVAILABLE``, and minimal
  skips the LLM, so every tier with an LLM writes ``full``.
* ``LOCAL_LLM_GPU_LAYERS=-1`` is the agent's own guess from the first card's VRAM, not "all
  layers": the count is always explicit. A registry's -1 (all layers) becomes the GGUF's block
  count plus one, llama.cpp's count of offloadable layers (the output layer is the extra one).
* ``LOCAL_LLM_CONTEXT`` below 768 is too small for the agent's realistic prompts; above the
  model's trained context llama.cpp warns and quality drops.
* ``GPU_AVAILABLE`` means "a working NVIDIA GPU for the container" (its GPU image is CUDA only).
"""

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.llm_memory import kv_bytes, model_shape

AGENT_MIN_CONTEXT = 768
AGENT_MAX_THREADS = 16
DEFAULT_GPU_VENDORS = ("nvidia",)


class ContractError(ValueError):
    """The registry lacks what the agent's .env needs; the message names the field."""


def gguf_value(llm, suffix):
    """``<arch>.<suffix>`` from the registry's ``models.llm.gguf`` header keys, or None."""
    header = llm.get("gguf") or {}
    arch = header.get("general.architecture")
    if not arch:
        return None
    return header.get("%s.%s" % (arch, suffix))


def trained_context(llm):
    return gguf_value(llm, "context_length")


def agent_context(tier):
    """(LOCAL_LLM_CONTEXT, note or None): at least the agent's floor, never above the trained context."""
    llm = tier["models"]["llm"]
    wanted = tier["env"].get("LOCAL_LLM_CONTEXT") or AGENT_MIN_CONTEXT
    # Raising to the floor is the rule, not news; lowering to the trained context is worth a warning.
    context = max(int(wanted), AGENT_MIN_CONTEXT)
    note = None
    trained = trained_context(llm)
    if trained and context > trained:
        note = "LOCAL_LLM_CONTEXT %s is lowered to %s, the model's trained context" % (context, trained)
        context = int(trained)
    return context, note


def kv_cache_bytes(llm, context):
    """f16 KV cache bytes at ``context`` tokens, or None without the header keys (llm_memory's sum)."""
    shape = model_shape(llm)
    return kv_bytes(shape, context) if shape else None


def gpu_layers(tier_name, tier):
    """The explicit LOCAL_LLM_GPU_LAYERS: 0 on CPU tiers, every offloadable layer for "all" (-1)."""
    if not tier["requirements"].get("gpu_required"):
        return 0
    llm = tier["models"]["llm"]
    wanted = llm.get("gpu_layers", tier["env"].get("LOCAL_LLM_GPU_LAYERS", -1))
    if wanted is not None and int(wanted) >= 0:
        return int(wanted)
    blocks = gguf_value(llm, "block_count")
    if not blocks:
        raise ContractError(
            "tier %s puts all LLM layers on the GPU, but models.llm.gguf has no general.architecture and "
            "<architecture>.block_count, so the layer count for LOCAL_LLM_GPU_LAYERS is unknown (-1 would let the "
            "agent guess from the VRAM); add the GGUF header keys to the registry, or set models.llm.gpu_layers"
            % tier_name)
    return int(blocks) + 1


def gpu_vendors(tier):
    return tuple(tier["requirements"].get("gpu_vendors") or DEFAULT_GPU_VENDORS)


def llm_threads(usable_cores):
    """min(usable cores, 16), at least 1: the agent's own cap on a host's cores."""
    return max(1, min(int(usable_cores), AGENT_MAX_THREADS))


def backends(models):
    """The agent backends that read the tier's models (registry ``backend``; vosk and piper by default)."""
    return {"stt": models["stt"].get("backend") or "vosk", "tts": models["tts"].get("backend") or "piper"}


def agent_env(selection, usable_cores, manage_backends=True):
    """The tier keys of the ``.env`` (paths are added by the plan), in a stable order."""
    models = selection["models"]
    env = selection["env"]
    llm = models["llm"]
    values = [("LOCAL_AI_MODE", "full")]
    if manage_backends:
        names = backends(models)
        values += [("LOCAL_STT_BACKEND", names["stt"]), ("LOCAL_TTS_BACKEND", names["tts"])]
    values += [
        ("LOCAL_LLM_CHAT_FORMAT", llm.get("chat_format", "auto")),
        ("LOCAL_LLM_STOP_TOKENS", ",".join(llm.get("stop_tokens") or [])),
    ]
    values += sorted(env.items())
    values.append(("LOCAL_LLM_THREADS", llm_threads(usable_cores)))
    values.append(("GPU_AVAILABLE", "true" if selection.get("gpu_available") else "false"))
    return values
