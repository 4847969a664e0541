#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: turn_check
short_description: Load a tier's models with the agent's engines and time one real caller turn
version_added: 0.1.0
description:
  - Loads the Vosk model, the Piper voice and the GGUF with the engines the agent's C(local_ai_server) uses
    (vosk, piper-tts, llama.cpp through llama-cpp-python), timing each load. A model that does not load fails the
    task with the model, the runtime and the engine's own message.
  - Piper speaks a short caller sentence (a table booking) in the voice's own language, one of the 15 the agent's
    installer offers (C(en), C(es), C(fr), C(de), C(it), C(pt), C(nl), C(ru), C(pl), C(zh), C(ja), C(ko), C(hi),
    C(ar), C(tr)), else in English. The audio, resampled to the Vosk model's rate, goes to Vosk. The transcript is
    returned, and checked (at least half the sentence's words, or characters for C(zh), C(ja) and C(ko)) only
    when the model's language is the voice's and the sentence is in it, so the host is checked in its own language.
  - The LLM reads a prompt of about O(prompt_tokens) tokens (voice preamble, system prompt, two earlier turns, the
    caller's words) in the tier's chat format and generates up to O(max_tokens) tokens at the tier's context,
    threads and GPU layers. Returns the prefill seconds, the prompt tokens, the generation speed,
    C(first_audio_sec) and C(turn_sec).
  - Runs inside the agent's running container when there is one (C(docker compose exec -T local_ai_server
    python3 -) in O(agent_dir)), else with O(python). Without either the result says why nothing was measured,
    or the task fails when O(required) is true.
  - The result is stored in O(store_path), keyed by the models' sha256, the runtime and the settings. A stored
    result younger than O(max_age) for the same key is returned without measuring again (RV(cached)).
  - In check mode nothing is run; a stored result for the same key is returned.
author:
  - voiceagent.models maintainers (@voiceagent)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - voiceagent.models._attributes
options:
  stt_model:
    description: The unpacked Vosk model folder on the host.
    type: path
    required: true
  tts_model:
    description: The Piper voice's C(.onnx) on the host.
    type: path
    required: true
  tts_config:
    description: The voice's C(.onnx.json); defaults to O(tts_model) with C(.json) added.
    type: path
  llm_model:
    description: The GGUF file on the host.
    type: path
    required: true
  context:
    description: C(LOCAL_LLM_CONTEXT), the LLM's context in tokens.
    type: int
    required: true
  max_tokens:
    description: C(LOCAL_LLM_MAX_TOKENS), the longest reply.
    type: int
    required: true
  threads:
    description: C(LOCAL_LLM_THREADS).
    type: int
    required: true
  gpu_layers:
    description: C(LOCAL_LLM_GPU_LAYERS), layers on the GPU (0 on CPU tiers).
    type: int
    default: 0
  chat_format:
    description:
      - C(LOCAL_LLM_CHAT_FORMAT). Empty is the agent's legacy Phi-style raw prompt, V(auto) the GGUF's own chat
        template, any other value a llama-cpp-python chat format name.
    type: str
    default: ""
  stop_tokens:
    description: C(LOCAL_LLM_STOP_TOKENS) as a list.
    type: list
    elements: str
    default: []
  prompt_tokens:
    description: The prompt's wanted length in tokens; it stays below O(context) minus O(max_tokens).
    type: int
    default: 400
  stt_language:
    description:
      - The Vosk model's language (C(en), C(ko), ...). When not given it is read from a C(vosk-model-[small-]LANG-...)
        folder name. Vosk's C(cn) (C(vosk-model-small-cn-0.22)) is the voice's C(zh) (C(zh_CN)). The transcript is
        checked only when it matches the voice's language.
    type: str
  runtime:
    description:
      - Where to run. V(auto) takes the agent's running container, else O(python). V(container) and V(python)
        use only that one.
    type: str
    choices: [auto, container, python]
    default: auto
  python:
    description: A Python that has vosk, piper-tts and llama-cpp-python (used when there is no agent container).
    type: path
  agent_dir:
    description: The folder of the agent's compose file.
    type: path
  models_dir:
    description: The models folder on the host; with O(container_models_dir) it maps host paths into the container.
    type: path
  container_models_dir:
    description: Where the container sees O(models_dir).
    type: str
    default: /app/models
  required:
    description:
      - Fail when there is no runtime (no container, no usable O(python), or a runtime that lacks an engine).
        Otherwise RV(not_measured) says why, and the task succeeds.
    type: bool
    default: false
  store_path:
    description:
      - The result store. Defaults to C(turn_check.json) beside the hardware benchmark's cache
        (C(/var/cache/voiceagent/) for root, C(~/.cache/voiceagent/) for other users).
    type: path
  max_age:
    description: Seconds a stored result for the same key is reused. V(0) always measures.
    type: int
    default: 604800
  timeout:
    description: Seconds the whole check may take in the runtime.
    type: int
    default: 900
  tier:
    description:
      - The tier these models belong to. It is stored with the result, so that the next run's
        M(voiceagent.models.hardware_facts) returns the measurement and the tier selection can use it for this tier
        instead of its prediction.
    type: str
"""

EXAMPLES = r"""
- name: Time a turn with the tier's models before the .env points at them
  voiceagent.models.turn_check:
    stt_model: /opt/asterisk-ai-voice-agent/models/stt/vosk-model-small-en-us-0.15
    tts_model: /opt/asterisk-ai-voice-agent/models/tts/en_US-lessac-medium.onnx
    llm_model: /opt/asterisk-ai-voice-agent/models/llm/tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf
    context: 768
    max_tokens: 24
    threads: 4
    chat_format: zephyr
    stop_tokens: ["</s>", "<|user|>"]
    agent_dir: /opt/asterisk-ai-voice-agent
    models_dir: /opt/asterisk-ai-voice-agent/models
    python: /opt/voiceagent-runtime/bin/python
  register: turn
"""

RETURN = r"""
measured:
  description:
    - The turn, or null when nothing was measured (RV(not_measured) says why).
    - C(load_sec) (C(stt), C(tts), C(llm)), C(stt_sec), C(transcript), C(transcript_checked),
      C(transcript_word_share), C(languages) (C(stt), C(tts)), C(sentence_language) (the spoken sentence's), C(tts_sec),
      C(audio_sec), C(llm_prefill_sec), C(llm_prompt_tokens), C(llm_generated_tokens), C(llm_tokens_per_sec),
      C(llm_sec), C(reply), C(first_phrase), C(first_audio_sec), C(turn_sec), C(settings), C(measured_at),
      C(runtime) (C(container) or C(python)).
  returned: always
  type: dict
fact:
  description:
    - The turn as M(voiceagent.models.hardware_facts) returns stored turns, one entry of its C(turn_checks), with
      C(tier), C(llm_file), C(llm_sha256), C(settings), C(measured), C(measured_at), C(measured_epoch) and
      C(runtime). The role weighs it against the tier's promise before the C(.env) points at the models.
  returned: when a turn was measured or found in the store
  type: dict
cached:
  description: Whether RV(measured) came from the store instead of a run now.
  returned: always
  type: bool
not_measured:
  description: Why nothing was measured (no runtime, check mode), or null.
  returned: always
  type: str
runtime:
  description: Where it ran (C(where)) and the Python and engine versions there.
  returned: when a runtime was found
  type: dict
key:
  description: The store key (sha256 of the model digests, the runtime and the settings).
  returned: when a runtime was found
  type: str
digests:
  description: Each model's sha256 and where it came from (C(verified), C(vosk marker) or C(hashed)).
  returned: when a runtime was found
  type: dict
store_path:
  description: The store that was read and written.
  returned: always
  type: str
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.voiceagent.models.plugins.module_utils._runtime import turn_runner as runner
from ansible_collections.voiceagent.models.plugins.module_utils._runtime import turn_store as store
from ansible_collections.voiceagent.models.plugins.module_utils._runtime import turn_prompt

ROLE_NAMES = {"stt": "STT model", "tts": "TTS voice", "llm": "LLM model"}


def failure_message(fields):
    """One sentence from the engine's fields: what failed, which model, which runtime, its message."""
    stage, role = fields.get("stage"), fields.get("role")
    what = ROLE_NAMES.get(role, "turn")
    if stage == "load":
        head = "the %s %s did not load with %s" % (what, fields.get("model"), fields.get("runtime"))
    elif stage in ("stt", "tts", "llm"):
        head = "the %s %s failed its turn with %s" % (what, fields.get("model"), fields.get("runtime"))
    else:
        head = "the runtime %s could not run the check" % (fields.get("runtime") or "")
    return "Turn check: %s: %s" % (head, fields.get("message"))


def settings_of(params):
    return {"context": params["context"], "max_tokens": params["max_tokens"], "threads": params["threads"],
            "gpu_layers": params["gpu_layers"], "chat_format": params["chat_format"],
            "stop_tokens": params["stop_tokens"], "prompt_tokens": params["prompt_tokens"]}


def request_of(params, where):
    def path(value):
        if where != "container":
            return value
        return runner.container_path(value, params["models_dir"], params["container_models_dir"])
    return dict(settings_of(params), stt_model=path(params["stt_model"]), tts_model=path(params["tts_model"]),
                tts_config=path(params["tts_config"] or params["tts_model"] + ".json"),
                llm_model=path(params["llm_model"]), stt_language=params["stt_language"], prompt=turn_prompt.prompt())


def main():
    module = AnsibleModule(
        argument_spec=dict(
            stt_model=dict(type="path", required=True),
            tts_model=dict(type="path", required=True),
            tts_config=dict(type="path"),
            llm_model=dict(type="path", required=True),
            context=dict(type="int", required=True),
            max_tokens=dict(type="int", required=True, no_log=False),
            threads=dict(type="int", required=True),
            gpu_layers=dict(type="int", default=0),
            chat_format=dict(type="str", default=""),
            stop_tokens=dict(type="list", elements="str", default=[], no_log=False),
            prompt_tokens=dict(type="int", default=400, no_log=False),
            stt_language=dict(type="str"),
            runtime=dict(type="str", choices=["auto", "container", "python"], default="auto"),
            python=dict(type="path"),
            agent_dir=dict(type="path"),
            models_dir=dict(type="path"),
            container_models_dir=dict(type="str", default="/app/models"),
            required=dict(type="bool", default=False),
            store_path=dict(type="path"),
            max_age=dict(type="int", default=604800),
            timeout=dict(type="int", default=900),
            tier=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    store_path = params["store_path"] or store.default_store_path()
    result = dict(changed=False, measured=None, cached=False, not_measured=None, store_path=store_path)

    def not_measured(reason):
        if params["required"]:
            module.fail_json(msg="Turn check: %s, and voiceagent_turn_check is true." % reason, **result)
        result["not_measured"] = reason
        module.exit_json(**result)

    try:
        runtime = runner.find_runtime(params["agent_dir"], params["python"] if params["runtime"] != "container" else None,
                                      use_container=params["runtime"] != "python")
    except runner.RuntimeMissing as exc:
        not_measured("no runtime to run it in: %s" % exc)
    try:
        probe = runner.run_engine(runtime, "probe()", min(params["timeout"], 120))
    except runner.EngineFailed as exc:
        not_measured("the runtime (%s) did not answer: %s" % (" ".join(runtime["argv"]), exc))
    result["runtime"] = dict(probe["runtime"], where=runtime["where"])
    missing = [dist for dist in ("vosk", "piper-tts", "llama-cpp-python") if not probe["runtime"].get(dist)]
    if missing:
        not_measured("%s in %s lacks %s" % (probe["runtime"].get("executable"), runtime["where"], ", ".join(missing)))

    digests = {}
    for role in ("stt_model", "tts_model", "tts_config", "llm_model"):
        path = params[role] or (params["tts_model"] + ".json" if role == "tts_config" else None)
        try:
            digest, source = store.model_digest(path)
        except (IOError, OSError) as exc:
            module.fail_json(msg="Turn check: cannot read %s (%s): %s" % (path, role, exc), **result)
        digests[role] = {"path": path, "sha256": digest, "source": source}
    key = store.store_key(dict((r, d["sha256"]) for r, d in digests.items()), result["runtime"], settings_of(params))
    result.update(key=key, digests=digests)

    now = time.time()
    entry = store.lookup(store_path, key, params["max_age"], now)
    if entry:
        result.update(measured=entry["result"], cached=True, fact=store.fact_entry(entry))
        module.exit_json(**result)
    if module.check_mode:
        result["not_measured"] = "check mode: the turn check runs only on a real run"
        module.exit_json(**result)

    try:
        outcome = runner.run_engine(runtime, runner.turn_call(request_of(params, runtime["where"])),
                                    params["timeout"])
    except runner.EngineFailed as exc:
        fields = exc.fields
        if fields.get("stage") == "runtime" and fields.get("missing"):
            not_measured(fields.get("message"))
        result["failure"] = fields
        module.fail_json(msg=failure_message(fields), **result)
    measured = dict(outcome["measured"], runtime=runtime["where"],
                    measured_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)))
    result["measured"] = measured
    entry = {"measured_epoch": now, "measured_at": measured["measured_at"], "result": measured,
             "runtime": result["runtime"], "tier": params["tier"], "settings": settings_of(params),
             "llm_file": os.path.basename(params["llm_model"]),
             "models": dict((r, d["sha256"]) for r, d in digests.items())}
    result["fact"] = store.fact_entry(entry)
    try:
        store.save(store_path, key, entry)
    except (IOError, OSError) as exc:
        module.warn("The turn check's result could not be stored in %s: %s" % (store_path, exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
