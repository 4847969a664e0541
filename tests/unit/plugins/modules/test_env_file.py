# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The env_file module, run in-process: results, writes, modes, links, secrecy."""
import json
import os
import re
import shutil
import stat

import pytest
from ansible.module_utils.testing import patch_module_args
from dotenv import dotenv_values

from ansible_collections.voiceagent.models.plugins.modules import env_file

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "fixtures", "env", "agent.env")

VALUES = {
    "LOCAL_LLM_MODEL_PATH": "/app/models/llm/phi-3-mini-4k-instruct-q4.gguf",
    "LOCAL_LLM_CONTEXT": 1024,
    "LOCAL_LLM_BATCH": 256,
    "LOCAL_LLM_TEMPERATURE": 0.7,
    "GPU_AVAILABLE": False,
}

# Every secret of the fixture, and distinctive pieces of them.
SECRETS = [
    "Tr0ub|e&Strife!9/x", "Strife", "sk-proj-Xq7#bL2v", "Xq7", "dg_4f9a8b7c6d5e4f3a2b1c", "AIzaSy Bx-7",
    "el_77a1b2c3d4e5", "service_account", "b1e2c3", "9f$Kx", "Qm\\\\7", "tok-$HOME", "correct horse",
    "battery staple", "alerts@example.org", "ai-agent", "10.20.0.5", "/trap/inside",
]


def run_module(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            env_file.main()
    out = capsys.readouterr().out
    return exit_info.value.code, json.loads(out), out


@pytest.fixture
def agent_env(tmp_path):
    path = tmp_path / ".env"
    shutil.copy(FIXTURE, str(path))
    os.chmod(str(path), 0o640)
    return path


def split(data):
    return re.findall(rb"[^\n]*\n|[^\n]+\Z", data)


def assert_no_secret(out):
    for secret in SECRETS:
        assert secret not in out and json.dumps(secret)[1:-1] not in out, secret


def test_owned_keys_change_in_place_and_every_other_byte_stays(agent_env, capsys):
    original = agent_env.read_bytes()
    code, result, out = run_module({"path": str(agent_env), "values": VALUES}, capsys)
    assert code == 0 and result["changed"] is True
    assert result["changed_keys"] == list(VALUES)
    assert result["added_keys"] == ["LOCAL_LLM_BATCH", "LOCAL_LLM_TEMPERATURE", "GPU_AVAILABLE"]
    assert result["created"] is False
    new = agent_env.read_bytes()
    old_lines, new_lines = split(original), split(new)
    changed = [i for i, line in enumerate(old_lines) if new_lines[i] != line]
    assert [old_lines[i].split(b"=")[0] for i in changed] == [b"export LOCAL_LLM_MODEL_PATH", b"LOCAL_LLM_CONTEXT"]
    assert new_lines[changed[1]] == b"LOCAL_LLM_CONTEXT=1024   # tokens\n"
    assert new_lines[len(old_lines):] == [b"# Managed by voiceagent.models\n", b"LOCAL_LLM_BATCH=256\n",
                                          b"LOCAL_LLM_TEMPERATURE=0.7\n", b"GPU_AVAILABLE=false\n"]
    assert_no_secret(out)


def test_python_dotenv_reads_back_the_new_values_and_the_untouched_secrets(agent_env, capsys):
    before = dotenv_values(str(agent_env), encoding="utf-8")
    run_module({"path": str(agent_env), "values": VALUES}, capsys)
    after = dotenv_values(str(agent_env), encoding="utf-8")
    expected = dict(before)
    expected.update(LOCAL_LLM_MODEL_PATH="/app/models/llm/phi-3-mini-4k-instruct-q4.gguf", LOCAL_LLM_CONTEXT="1024",
                    LOCAL_LLM_BATCH="256", LOCAL_LLM_TEMPERATURE="0.7", GPU_AVAILABLE="false")
    assert after == expected
    assert after["ASTERISK_ARI_PASSWORD"] == "Tr0ub|e&Strife!9/x" and after["JWT_SECRET"] == "9f$Kx\\Qm\\7$Ab&zz"


def test_a_second_run_changes_and_writes_nothing(agent_env, capsys):
    run_module({"path": str(agent_env), "values": VALUES}, capsys)
    first = os.stat(str(agent_env))
    content = agent_env.read_bytes()
    code, result, _unused = run_module({"path": str(agent_env), "values": VALUES}, capsys)
    assert code == 0 and result["changed"] is False
    assert result["changed_keys"] == [] and result["added_keys"] == []
    second = os.stat(str(agent_env))
    assert (second.st_ino, second.st_mtime_ns) == (first.st_ino, first.st_mtime_ns)
    assert agent_env.read_bytes() == content


def test_a_crlf_file_stays_crlf(agent_env, capsys):
    agent_env.write_bytes(agent_env.read_bytes().replace(b"\n", b"\r\n"))
    original = agent_env.read_bytes()
    run_module({"path": str(agent_env), "values": VALUES}, capsys)
    new = agent_env.read_bytes()
    assert new.startswith(original[:original.index(b"export LOCAL_LLM_MODEL_PATH")])
    assert new.count(b"\n") == new.count(b"\r\n")
    assert new.endswith(b"GPU_AVAILABLE=false\r\n")


def test_an_existing_file_keeps_its_mode_and_no_temp_file_is_left(agent_env, capsys):
    run_module({"path": str(agent_env), "values": VALUES}, capsys)
    assert stat.S_IMODE(os.stat(str(agent_env)).st_mode) == 0o640
    assert sorted(os.listdir(str(agent_env.parent))) == [".env"]


def test_a_new_file_is_created_private(tmp_path, capsys):
    path = tmp_path / ".env"
    code, result, _unused = run_module({"path": str(path), "values": {"LOCAL_LLM_CONTEXT": 512}}, capsys)
    assert code == 0 and result["changed"] is True and result["created"] is True
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert path.read_text() == "# Managed by voiceagent.models\nLOCAL_LLM_CONTEXT=512\n"


def test_the_mode_option_applies_to_a_new_file_only(tmp_path, agent_env, capsys):
    path = tmp_path / "new.env"
    run_module({"path": str(path), "values": {"A": 1}, "mode": "0640"}, capsys)
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o640
    os.chmod(str(agent_env), 0o600)
    run_module({"path": str(agent_env), "values": VALUES, "mode": "0644"}, capsys)
    assert stat.S_IMODE(os.stat(str(agent_env)).st_mode) == 0o600


def test_a_bad_mode_is_refused(tmp_path, capsys):
    code, result, _unused = run_module({"path": str(tmp_path / ".env"), "values": {"A": 1}, "mode": "u+rw"}, capsys)
    assert code == 1 and "mode" in result["msg"]


def test_a_missing_file_is_an_error_without_create(tmp_path, capsys):
    path = tmp_path / ".env"
    code, result, _unused = run_module({"path": str(path), "values": {"A": 1}, "create": False}, capsys)
    assert code == 1 and "does not exist" in result["msg"]
    assert not path.exists()


def test_a_symlink_is_refused_naming_the_link_and_its_target(agent_env, tmp_path, capsys):
    link = tmp_path / "link.env"
    link.symlink_to(agent_env)
    original = agent_env.read_bytes()
    code, result, out = run_module({"path": str(link), "values": VALUES}, capsys)
    assert code == 1
    assert str(link) in result["msg"] and str(agent_env) in result["msg"] and "follow" in result["msg"]
    assert agent_env.read_bytes() == original
    assert_no_secret(out)


def test_follow_edits_the_target_and_keeps_the_link(agent_env, tmp_path, capsys):
    link = tmp_path / "link.env"
    link.symlink_to(agent_env)
    code, result, _unused = run_module({"path": str(link), "values": VALUES, "follow": True}, capsys)
    assert code == 0 and result["changed"] is True
    assert link.is_symlink() and os.readlink(str(link)) == str(agent_env)
    assert b"LOCAL_LLM_CONTEXT=1024" in agent_env.read_bytes()


def test_a_newline_in_a_value_is_refused_naming_the_key_only(agent_env, capsys):
    original = agent_env.read_bytes()
    code, result, out = run_module(
        {"path": str(agent_env), "values": {"LOCAL_LLM_MODEL_PATH": "/app/zq9\nINJECTED=1"}}, capsys)
    assert code == 1
    assert "LOCAL_LLM_MODEL_PATH" in result["msg"] and "newline" in result["msg"]
    assert "zq9" not in result["msg"] and "INJECTED" not in result["msg"]
    assert agent_env.read_bytes() == original
    assert_no_secret(out)


def test_an_invalid_key_is_refused(agent_env, capsys):
    code, result, _unused = run_module({"path": str(agent_env), "values": {"BAD-KEY": 1}}, capsys)
    assert code == 1 and "BAD-KEY" in result["msg"]


def test_check_mode_reports_and_writes_nothing(agent_env, tmp_path, capsys):
    original = agent_env.read_bytes()
    code, result, _unused = run_module({"path": str(agent_env), "values": VALUES, "_ansible_check_mode": True}, capsys)
    assert code == 0 and result["changed"] is True and result["changed_keys"] == list(VALUES)
    assert result["msg"].startswith("Would set 5 keys")
    assert agent_env.read_bytes() == original
    new = tmp_path / "new.env"
    code, result, _unused = run_module({"path": str(new), "values": VALUES, "_ansible_check_mode": True}, capsys)
    assert code == 0 and result["changed"] is True and result["created"] is True
    assert not new.exists()


def test_the_diff_holds_only_the_owned_keys_and_no_secret(agent_env, capsys):
    code, result, out = run_module({"path": str(agent_env), "values": VALUES, "_ansible_diff": True}, capsys)
    assert code == 0
    assert result["diff"] == {
        "before": "LOCAL_LLM_MODEL_PATH=/app/models/llm/tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf\n"
                  "LOCAL_LLM_CONTEXT=512\n",
        "after": "LOCAL_LLM_MODEL_PATH=/app/models/llm/phi-3-mini-4k-instruct-q4.gguf\n"
                 "LOCAL_LLM_CONTEXT=1024\nLOCAL_LLM_BATCH=256\nLOCAL_LLM_TEMPERATURE=0.7\nGPU_AVAILABLE=false\n",
        "before_header": str(agent_env),
        "after_header": str(agent_env),
    }
    assert_no_secret(out)


def test_the_diff_is_empty_when_nothing_changes(agent_env, capsys):
    run_module({"path": str(agent_env), "values": VALUES}, capsys)
    code, result, _unused = run_module({"path": str(agent_env), "values": VALUES, "_ansible_diff": True}, capsys)
    assert result["changed"] is False and result["diff"]["before"] == result["diff"]["after"] == ""


def test_a_left_open_quote_is_reported_by_line_number_only(tmp_path, capsys):
    path = tmp_path / ".env"
    path.write_text("SMTP_PASSWORD='sw0rdfish\nA=1\n")
    code, result, out = run_module({"path": str(path), "values": {"LOCAL_TTS_MODEL_PATH": "/app/a b.onnx"}}, capsys)
    assert code == 1 and "Line 1" in result["msg"]
    assert "sw0rdfish" not in out


def test_the_owner_and_group_given_are_checked_on_an_existing_file(agent_env, capsys):
    st = os.stat(str(agent_env))
    code, result, _unused = run_module({"path": str(agent_env), "values": {"LOCAL_LLM_CONTEXT": 512},
                                        "owner": str(st.st_uid), "group": str(st.st_gid)}, capsys)
    assert code == 0 and result["changed"] is False


def test_non_utf8_bytes_survive_untouched(tmp_path, capsys):
    path = tmp_path / ".env"
    path.write_bytes(b"LEGACY_PASSWORD=caf\xe9\xff\r\nLOCAL_LLM_CONTEXT=512\r\n")
    run_module({"path": str(path), "values": {"LOCAL_LLM_CONTEXT": 2048}}, capsys)
    assert path.read_bytes() == b"LEGACY_PASSWORD=caf\xe9\xff\r\nLOCAL_LLM_CONTEXT=2048\r\n"


def test_a_temp_copy_left_by_a_killed_run_is_removed_under_the_lock(agent_env, tmp_path, capsys):
    # What write_atomically leaves when killed between mkstemp and the rename: a copy holding secrets.
    leftover = agent_env.parent / ".{0}.k2j4x9q_.tmp".format(agent_env.name)
    leftover.write_bytes(agent_env.read_bytes())
    unrelated = agent_env.parent / ".other.env.k2j4x9q_.tmp"
    unrelated.write_text("not ours")
    lock = tmp_path / ".voiceagent.lock"
    code, result, _out = run_module({"path": str(agent_env), "values": {}, "host_lock": str(lock)}, capsys)
    assert code == 0
    assert result["cleaned_up"] == [str(leftover)]
    assert result["changed"] is True
    assert not leftover.exists()
    assert unrelated.exists()
    code, result, _out = run_module({"path": str(agent_env), "values": {}, "host_lock": str(lock)}, capsys)
    assert (result["cleaned_up"], result["changed"]) == ([], False)


def test_without_the_lock_a_temp_copy_is_left_alone(agent_env, capsys):
    # It could belong to a write in progress.
    leftover = agent_env.parent / ".{0}.k2j4x9q_.tmp".format(agent_env.name)
    leftover.write_text("in progress")
    code, result, _out = run_module({"path": str(agent_env), "values": {}}, capsys)
    assert code == 0 and result["cleaned_up"] == [] and leftover.exists()
