# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""run_command with real, tiny commands."""

import os
import time

import pytest

from ansible_collections.voiceagent.models.plugins.module_utils._facts.commands import (
    CommandTimeout,
    format_seconds,
    run_command,
)


def test_true_exits_zero_with_no_output():
    assert run_command(["true"], 5) == (0, "", "")


def test_exit_status_and_both_streams_are_returned():
    assert run_command(["sh", "-c", "echo out; echo err >&2; exit 3"], 5) == (3, "out\n", "err\n")


def test_runs_in_the_c_locale():
    _unused, out, _unused = run_command(["sh", "-c", 'echo "$LANG $LC_ALL"'], 5)
    assert out == "C C\n"


def test_invalid_utf8_is_replaced_not_fatal():
    _unused, out, _unused = run_command(["sh", "-c", r"printf 'a\377b'"], 5)
    assert out == "a\ufffdb"


def test_slow_command_raises_timeout_quickly():
    started = time.monotonic()
    with pytest.raises(CommandTimeout) as caught:
        run_command(["sh", "-c", "sleep 5"], 0.2)
    assert time.monotonic() - started < 3
    assert str(caught.value) == "sh did not answer within 0.2 s"


def test_missing_binary_raises_file_not_found():
    with pytest.raises(FileNotFoundError):
        run_command(["voiceagent-no-such-tool-4f1c"], 5)


def test_fake_tool_first_on_path_is_found(tmp_path, monkeypatch):
    tool = tmp_path / "nvidia-smi"
    tool.write_text("#!/bin/sh\necho fake\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ.get("PATH", ""))
    assert run_command(["nvidia-smi"], 5) == (0, "fake\n", "")


def test_seconds_are_formatted_without_trailing_zero():
    assert (format_seconds(10), format_seconds(10.0), format_seconds(0.2)) == ("10", "10", "0.2")
