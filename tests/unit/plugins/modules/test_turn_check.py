"""turn_check with stand-in engines in a real subprocess: the turn, load failures, no runtime, the store."""
import io
import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.voiceagent.models.plugins.module_utils._runtime.turn_prompt import SENTENCE, SENTENCES
from ansible_collections.voiceagent.models.plugins.modules import turn_check
from ansible_collections.voiceagent.models.tests.support.fake_engines import REPLY, make_models, make_runtime


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            turn_check.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def host(tmp_path):
    models = make_models(tmp_path / "models")
    args = {"stt_model": models["stt"], "tts_model": models["tts"], "llm_model": models["llm"],
            "context": 768, "max_tokens": 24, "threads": 2, "chat_format": "zephyr",
            "stop_tokens": ["</s>"], "store_path": str(tmp_path / "cache" / "turn_check.json"),
            "agent_dir": str(tmp_path / "agent")}
    return tmp_path, models, args


def test_a_turn_is_measured_and_stored(host, capsys):
    tmp_path, _runtime, args = host
    args["python"] = make_runtime(tmp_path / "rt")
    result = run(args, capsys)
    measured = result["measured"]
    assert result["cached"] is False and result["not_measured"] is None
    assert measured["runtime"] == "python" and measured["reply"] == " ".join(REPLY.split(" ")[:24])
    assert measured["transcript_checked"] is True and measured["transcript_word_share"] == 1.0
    assert measured["llm_generated_tokens"] == len(REPLY.split(" "))
    assert measured["first_phrase"] == "Of course."
    assert 0 < measured["first_audio_sec"] <= measured["turn_sec"]
    assert measured["turn_sec"] >= measured["stt_sec"] + measured["llm_sec"]
    assert set(measured["load_sec"]) == {"stt", "tts", "llm"}
    # The stand-in voice speaks 0.05 s per word of the sentence.
    assert measured["audio_sec"] == pytest.approx(len(SENTENCE.split()) * 0.05, abs=0.01)
    stored = json.loads(open(result["store_path"]).read())["results"]
    assert list(stored) == [result["key"]] and stored[result["key"]]["result"]["turn_sec"] == measured["turn_sec"]


def test_the_next_run_returns_the_stored_result_without_running(host, capsys):
    tmp_path, _runtime, args = host
    args["python"] = make_runtime(tmp_path / "rt")
    first = run(args, capsys)
    again = run(args, capsys)
    assert again["cached"] is True and again["measured"] == first["measured"]
    args["threads"] = 1
    assert run(args, capsys)["cached"] is False


def test_a_gguf_that_does_not_load_fails_with_the_model_the_runtime_and_its_message(host, capsys):
    tmp_path, models, args = host
    with open(models["llm"], "wb") as handle:
        handle.write(b"GGUF\x03\x00\x00\x00 no tensors")
    args["python"] = make_runtime(tmp_path / "rt")
    result = run(args, capsys)
    assert result["failed"] is True
    assert "the LLM model %s did not load with llama.cpp (llama-cpp-python 9.9.9)" % models["llm"] in result["msg"]
    assert "Failed to load model from file" in result["msg"]
    assert "missing tensor 'token_embd.weight'" in result["msg"]
    assert not os.path.exists(args["store_path"])


def test_a_voice_config_of_another_voice_fails(host, capsys):
    tmp_path, models, args = host
    config = json.load(open(models["tts"] + ".json"))
    config["num_speakers"] = 4
    json.dump(config, open(models["tts"] + ".json", "w"))
    args["python"] = make_runtime(tmp_path / "rt")
    result = run(args, capsys)
    assert result["failed"] is True and "the TTS voice %s did not load" % models["tts"] in result["msg"]
    assert "4 speakers" in result["msg"]


def test_an_stt_model_that_mishears_the_same_language_fails(host, capsys):
    tmp_path, models, args = host
    with open(os.path.join(models["stt"], "heard.txt"), "w") as handle:
        handle.write("the weather is nice")
    args["python"] = make_runtime(tmp_path / "rt")
    result = run(args, capsys)
    assert result["failed"] is True and "the STT model %s failed its turn" % models["stt"] in result["msg"]


def test_another_language_is_reported_not_checked(host, capsys):
    tmp_path, models, args = host
    with open(os.path.join(models["stt"], "heard.txt"), "w") as handle:
        handle.write("헬로 아이")
    args.update(python=make_runtime(tmp_path / "rt"), stt_language="ko")
    measured = run(args, capsys)["measured"]
    assert measured["transcript"] == "헬로 아이" and measured["transcript_checked"] is False
    assert measured["sentence_language"] == "en"


def chinese_host(host, heard):
    """A zh_CN voice and Vosk's Chinese model folder (vosk-model-small-cn-0.22) hearing ``heard``."""
    tmp_path, models, args = host
    config = json.load(open(models["tts"] + ".json"))
    config["language"], config["espeak"] = {"code": "zh_CN"}, {"voice": "cmn"}
    json.dump(config, open(models["tts"] + ".json", "w"))
    stt = os.path.join(os.path.dirname(models["stt"]), "vosk-model-small-cn-0.22")
    os.rename(models["stt"], stt)
    with io.open(os.path.join(stt, "heard.txt"), "w", encoding="utf-8") as handle:
        handle.write(heard)
    args.update(python=make_runtime(tmp_path / "rt"), stt_model=stt)
    return args


def test_a_chinese_voice_speaks_chinese_and_the_cn_model_is_held_to_its_characters(host, capsys):
    # Vosk's own word breaks; the characters are the sentence's.
    args = chinese_host(host, "你好 我 想 预订 一 张 明天 晚上 七 点 的 两 人 桌")
    measured = run(args, capsys)["measured"]
    assert measured["languages"] == {"stt": "zh", "tts": "zh"} and measured["sentence_language"] == "zh"
    assert measured["transcript_checked"] is True and measured["transcript_word_share"] == 1.0


def test_a_chinese_mishearing_fails_on_its_characters(host, capsys):
    result = run(chinese_host(host, "天气 很 好"), capsys)
    assert result["failed"] is True and "of its characters" in result["msg"]
    assert SENTENCES["zh"] in result["msg"], result["msg"]


def test_a_runtime_without_llama_cpp_is_not_measured_under_auto(host, capsys):
    tmp_path, _runtime, args = host
    args["python"] = make_runtime(tmp_path / "rt", without=("llama_cpp",))
    result = run(args, capsys)
    assert result["measured"] is None and "lacks llama-cpp-python" in result["not_measured"]


def test_a_runtime_without_llama_cpp_fails_when_required(host, capsys):
    tmp_path, _runtime, args = host
    args.update(python=make_runtime(tmp_path / "rt", without=("llama_cpp",)), required=True)
    result = run(args, capsys)
    assert result["failed"] is True and "lacks llama-cpp-python" in result["msg"]
    assert "voiceagent_turn_check is true" in result["msg"]


def test_no_runtime_at_all_is_not_measured_or_fails_when_required(host, capsys):
    _tmp, _runtime, args = host
    result = run(args, capsys)
    assert result["measured"] is None and "no voiceagent_runtime_python given" in result["not_measured"]
    args["required"] = True
    assert run(args, capsys)["failed"] is True


def test_check_mode_runs_nothing(host, capsys):
    tmp_path, _runtime, args = host
    args.update(python=make_runtime(tmp_path / "rt"), _ansible_check_mode=True)
    result = run(args, capsys)
    assert result["measured"] is None and result["not_measured"].startswith("check mode")
    assert not os.path.exists(args["store_path"])


def test_the_container_path_runs_in_the_agent_container_with_container_paths(host, capsys):
    tmp_path, models, args = host
    python = make_runtime(tmp_path / "rt")
    agent = tmp_path / "agent"
    agent.mkdir()
    (agent / "docker-compose.yml").write_text("services: {}\n")
    # The container sees the models folder at /app/models: the stand-in maps it back and runs the command.
    calls = tmp_path / "docker-calls"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "docker").write_text(
        '#!/bin/sh\necho "$*" >> %s\n'
        'if [ "$2" = ps ]; then echo 0123abcd; exit 0; fi\n'
        'if [ "$2" = exec ]; then tee %s | sed "s#/app/models#%s#g" | %s -; exit $?; fi\nexit 1\n'
        % (calls, tmp_path / "sent.py", tmp_path / "models", python))
    os.chmod(str(bindir / "docker"), 0o755)
    args.update(models_dir=str(tmp_path / "models"))
    old = os.environ["PATH"]
    os.environ["PATH"] = "%s:%s" % (bindir, old)
    try:
        result = run(args, capsys)
    finally:
        os.environ["PATH"] = old
    assert result["measured"]["runtime"] == "container" and result["runtime"]["where"] == "container"
    log = calls.read_text()
    assert "compose exec -T local_ai_server python3 -" in log
    assert "/app/models/llm/model.gguf" in (tmp_path / "sent.py").read_text()
