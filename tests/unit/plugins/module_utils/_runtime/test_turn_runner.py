"""turn_runner: choosing the runtime, the script it is sent, and reading its one result line."""
import json
import os

import pytest

from ansible_collections.voiceagent.models.plugins.module_utils._runtime import turn_engine
from ansible_collections.voiceagent.models.plugins.module_utils._runtime import turn_runner as runner
from ansible_collections.voiceagent.models.tests.support.fake_engines import make_runtime


def docker_standin(folder, running):
    """A docker that answers `compose ps` with an id (or nothing) and runs `compose exec ... python3 -` here."""
    path = os.path.join(str(folder), "docker")
    with open(path, "w") as handle:
        handle.write('#!/bin/sh\nif [ "$2" = ps ]; then %s; exit 0; fi\nexit 0\n'
                     % ("echo 0123abcd" if running else "true"))
    os.chmod(path, 0o755)
    return path


def test_the_running_agent_container_comes_first(tmp_path):
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")
    found = runner.find_runtime(str(tmp_path), "/usr/bin/python3", docker=docker_standin(tmp_path, True))
    assert found["where"] == "container"
    assert found["argv"][1:] == ["compose", "exec", "-T", "local_ai_server", "python3", "-"]
    assert found["cwd"] == str(tmp_path)


def test_a_stopped_container_falls_back_to_the_runtime_python(tmp_path):
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")
    found = runner.find_runtime(str(tmp_path), os.path.realpath("/bin/sh"), docker=docker_standin(tmp_path, False))
    assert found["where"] == "python"


def test_no_runtime_says_what_was_looked_for(tmp_path):
    with pytest.raises(runner.RuntimeMissing) as caught:
        runner.find_runtime(str(tmp_path), str(tmp_path / "nope" / "python"))
    text = str(caught.value)
    assert "no compose file in %s" % tmp_path in text
    assert "nope/python is not an executable file" in text


def test_no_docker_command_is_a_reason_not_a_crash(tmp_path):
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")
    running, why = runner.container_running(str(tmp_path), docker=str(tmp_path / "no-docker"))
    assert running is False and why.startswith("no docker command")


def test_the_script_is_the_engine_source_and_one_call():
    text = runner.script(runner.turn_call({"context": 768}))
    assert "def main(request):" in text
    assert text.rstrip().endswith("main(json.loads('{\"context\": 768}'))")


def test_the_result_line_is_found_among_engine_logs():
    out = "llama.cpp says hi\npartial line " + turn_engine.MARKER + json.dumps({"ok": True, "x": 1}) + "\n"
    assert runner.parse(0, out, "")["x"] == 1


def test_no_result_line_gives_the_exit_code_and_the_last_stderr_lines():
    with pytest.raises(runner.EngineFailed) as caught:
        runner.parse(139, "", "loading\nSegmentation fault\n")
    assert "rc 139" in str(caught.value) and "Segmentation fault" in str(caught.value)


def test_a_timeout_says_so():
    with pytest.raises(runner.EngineFailed) as caught:
        runner.parse(None, "", "")
    assert "time limit" in str(caught.value)


def test_the_probe_reads_versions_without_importing_the_engines(tmp_path):
    python = make_runtime(tmp_path)
    result = runner.run_engine({"argv": [python, "-"]}, "probe()", 60)
    assert result["runtime"]["llama-cpp-python"] == "9.9.9"
    assert result["runtime"]["vosk"] == "9.9.9" and result["runtime"]["piper-tts"] == "9.9.9"


def test_host_paths_become_container_paths_below_the_models_folder():
    assert runner.container_path("/opt/a/models/llm/x.gguf", "/opt/a/models", "/app/models") == "/app/models/llm/x.gguf"
    assert runner.container_path("/elsewhere/x.gguf", "/opt/a/models", "/app/models") == "/elsewhere/x.gguf"
    assert runner.container_path("/opt/a/models2/x", "/opt/a/models", "/app/models") == "/opt/a/models2/x"
