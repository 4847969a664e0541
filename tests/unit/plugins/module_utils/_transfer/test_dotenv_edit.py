# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Editing the agent's .env: owned keys change, every other byte stays."""
import io
import os
import re
from collections import OrderedDict

import pytest
from dotenv import dotenv_values
from dotenv.parser import parse_stream
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from ansible_collections.voiceagent.models.plugins.module_utils._transfer import dotenv_edit as de

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "fixtures", "env", "agent.env")

OWNED = OrderedDict([
    ("LOCAL_STT_MODEL_PATH", "/app/models/stt/vosk-model-en-us-0.22"),
    ("LOCAL_LLM_MODEL_PATH", "/app/models/llm/phi-3-mini-4k-instruct-q4.gguf"),
    ("LOCAL_TTS_MODEL_PATH", "/app/models/tts/en_US-lessac-medium.onnx"),
    ("LOCAL_LLM_CONTEXT", 1024),
    ("LOCAL_LLM_BATCH", 256),
    ("LOCAL_LLM_MAX_TOKENS", 48),
    ("LOCAL_LLM_TEMPERATURE", 0.7),
    ("LOCAL_LLM_GPU_LAYERS", -1),
    ("GPU_AVAILABLE", True),
])
EXPECTED = {key: de.scalar_text(key, value) for key, value in OWNED.items()}

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fixture_text(crlf=False):
    with open(FIXTURE, "rb") as handle:
        text = handle.read().decode("utf-8")
    return text.replace("\n", "\r\n") if crlf else text


def read_dotenv(text):
    return dotenv_values(stream=io.StringIO(text))


def lines(text):
    """Lines split on '\\n' only, endings kept (str.splitlines also splits on \\x85, U+2028...)."""
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)


def owned_line_indexes(text, keys):
    """Indexes of the lines that set_keys may rewrite: the last active one per key."""
    last = {}
    for index, line in enumerate(de.parse_assignments(text)):
        if line.active and line.key in keys:
            last[line.key] = index
    return set(last.values())


# --- A model of docker compose's reader (compose-go dotenv) for single values ----
# Transcribed from the behaviour documented on the compose env-file syntax page:
# unquoted values end at ' #', single quotes are literal apart from \' ,
# double quotes decode \\ \" \n \t ... and then interpolate '$'.

_COMPOSE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
                    "v": "\v", '"': '"', "\\": "\\"}


def compose_value(raw):
    if raw[:1] not in ("'", '"'):
        value = raw.split(" #", 1)[0].rstrip()
        assert "$" not in value, "compose would interpolate"
        return value
    quote = raw[0]
    chars, escaped = [], False
    for index in range(1, len(raw)):
        char = raw[index]
        if char != quote:
            if not escaped and char == "\\":
                escaped = True
                continue
            if escaped:
                escaped = False
                chars.append("\\")
            chars.append(char)
            continue
        if escaped:
            escaped = False
            chars.append(char)
            continue
        assert raw[index + 1:].strip() == "", "text after the closing quote"
        value = "".join(chars)
        if quote == '"':
            value = re.sub(r'\\([abfnrtv"\\])', lambda m: _COMPOSE_ESCAPES[m.group(1)], value)
            assert "$" not in value, "compose would interpolate"
        return value
    raise AssertionError("unterminated quoted value")


# --- parse_assignments ---------------------------------------------------------

def test_comments_and_commented_duplicates_are_not_assignments():
    text = "# LOCAL_LLM_MODEL_PATH=/old\n  #LOCAL_LLM_CONTEXT=2048\n\nA=1\n"
    parsed = de.parse_assignments(text)
    assert [(p.active, p.key) for p in parsed] == [(False, None), (False, None), (False, None), (True, "A")]


def test_export_and_spaces_around_the_equal_sign_are_assignments():
    text = "export A=1\nB = 2\n  C=3\n"
    parsed = de.parse_assignments(text)
    assert [p.key for p in parsed] == ["A", "B", "C"]
    assert [text[p.value_start:p.value_end] for p in parsed] == ["1", "2", "3"]


def test_a_line_inside_a_multiline_quoted_value_is_not_an_assignment():
    text = 'J="{\nLOCAL_LLM_MODEL_PATH=/trap\n}"\nLOCAL_LLM_CONTEXT=1\n'
    parsed = de.parse_assignments(text)
    assert [(p.active, p.key, p.continuation) for p in parsed] == [
        (True, "J", False), (False, None, True), (False, None, True), (True, "LOCAL_LLM_CONTEXT", False)]
    assert text[parsed[0].value_start:parsed[0].value_end] == '"{\nLOCAL_LLM_MODEL_PATH=/trap\n}"'


def test_an_unterminated_quote_spoils_only_its_own_line():
    # python-dotenv skips the broken line and reads the next one.
    parsed = de.parse_assignments("A=\"open\nB=2\n")
    assert [(p.active, p.key) for p in parsed] == [(False, None), (True, "B")]


def test_value_spans_leave_inline_comments_and_trailing_blanks_out():
    text = "A=512   # tokens\nB='x y' # note\nC=a#b\nD= # empty\nE=  v  \r\n"
    parsed = de.parse_assignments(text)
    assert [text[p.value_start:p.value_end] for p in parsed] == ["512", "'x y'", "a#b", "", "v"]


def test_the_fixture_is_read_like_python_dotenv_reads_it():
    text = fixture_text()
    ours = {}
    for line in de.parse_assignments(text):
        if line.active:
            ours[line.key] = de.decode_value(text[line.value_start:line.value_end])
    assert ours == read_dotenv(text)


_tricky_text = st.lists(st.one_of(
    st.sampled_from(list("AB_=#'\"\\ \t\n\r$x") + ["export ", "KEY=", "\r\n", "\u2028", "\x85", "\ufeff"]),
    st.characters(blacklist_categories=("Cs",))), max_size=40).map("".join)


@SETTINGS
@given(_tricky_text)
@example("A='x\nB=\"y\nC='z")
@example("'\nA=1\n'=2\n")
@example("KEY\nA=1\rB=2")
def test_the_scanner_reads_statements_exactly_like_python_dotenv(text):
    theirs = [(b.key, b.value, b.error) for b in parse_stream(io.StringIO(text)) if b.key is not None or b.error]
    ours = [(s.key, None if s.value_start is None else de.decode_value(text[s.value_start:s.value_end]), s.error)
            for s in de.read_statements(text) if s.key is not None or s.error]
    assert ours == theirs


# --- format_value --------------------------------------------------------------

@pytest.mark.parametrize("value, written", [
    ("/app/models/llm/llama-2-7b-chat.Q4_K_M.gguf", "/app/models/llm/llama-2-7b-chat.Q4_K_M.gguf"),
    (512, "512"),
    (-1, "-1"),
    (0.7, "0.7"),
    (True, "true"),
    (False, "false"),
    ("", "''"),
    ("a b", "'a b'"),
    ("p|a&s$s#w", "'p|a&s$s#w'"),
    ('say "hi"', "'say \"hi\"'"),
    ("it's", '"it\'s"'),
    ("C:\\models\\", '"C:\\\\models\\\\"'),
    ("it's \"x\"", '"it\'s \\"x\\""'),
])
def test_format_value_picks_the_simplest_safe_form(value, written):
    assert de.format_value(value, "K") == written


@pytest.mark.parametrize("value, fragment", [
    ("/models/q7\n/y", "q7"), ("/models/q7\r/y", "q7"), ("/models/q7\0/y", "q7"), ("${HOME}/q7", "HOME"),
    ("it's $q7", "q7"), ("a\\$q7", "q7"), ("/q7\ud800", "q7"), (float("nan"), "nan"), (None, "q7"), (["q7"], "q7")])
def test_format_value_refuses_what_a_reader_would_change_naming_the_key_only(value, fragment):
    with pytest.raises(ValueError) as info:
        de.format_value(value, "LOCAL_LLM_MODEL_PATH")
    message = str(info.value)
    assert message.startswith("LOCAL_LLM_MODEL_PATH:")
    assert fragment not in message


values_strategy = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("$'\"\\#|&=` \t{}!%*;<>?~^-_./:@+,")),
        st.characters(blacklist_categories=("Cc", "Cs")),
    ),
    max_size=40,
)


@SETTINGS
@given(values_strategy)
@example("\\")
@example("a\\'b")
@example(" leading and trailing ")
@example("#not a comment")
def test_written_values_read_back_identically_in_both_readers(value):
    try:
        written = de.format_value(value, "KEY")
    except ValueError:
        assert "${" in value or ("$" in value and ("'" in value or "\\" in value))
        return
    assert read_dotenv("KEY=%s\n" % written) == {"KEY": value}
    assert read_dotenv("KEY=%s # comment\r\nNEXT=1" % written) == {"KEY": value, "NEXT": "1"}
    assert compose_value(written) == value


TRICKY_VALUES = [
    ("empty", ""),
    ("spaces", "  two  spaces inside and around  "),
    ("hash", "#not-a-comment # nor this"),
    ("single_quote", "it's"),
    ("double_quote", 'say "hi"'),
    ("both_quotes", "it's \"x\""),
    ("dollar", "p$ss$HOME"),
    ("dollar_brace_alone", "cost: 5$"),
    ("backslashes", "C:\\models\\n\\"),
    ("equals", "a=b==c"),
    ("unicode", "R\u00e9ception \u00e9t\u00e9 \u2603 \U0001f600"),
    ("pipe_and_ampersand", "p|a&s;s`w`"),
    ("tab", "a\tb"),
]


@pytest.mark.parametrize("value", [v for _unused, v in TRICKY_VALUES], ids=[i for i, _unused in TRICKY_VALUES])
def test_tricky_values_read_back_exactly_in_python_dotenv_and_the_compose_model(value):
    written = de.format_value(value, "KEY")
    text = de.set_keys("A=1\n", {"KEY": value})[0]
    assert read_dotenv(text) == {"A": "1", "KEY": value}
    assert compose_value(written) == value


def _compose_v2():
    """argv of a docker compose v2 client that answers offline, or None."""
    import shutil
    import subprocess
    for argv in (["docker", "compose"], ["docker-compose"]):
        if not shutil.which(argv[0]):
            continue
        proc = subprocess.run(argv + ["version", "--short"], capture_output=True, text=True, check=False)
        if proc.returncode == 0 and proc.stdout.strip().lstrip("v").startswith("2"):
            return argv
    return None


@pytest.mark.skipif(_compose_v2() is None, reason="docker compose v2 is not installed (the model above stands in)")
def test_tricky_values_read_back_exactly_in_docker_compose(tmp_path):
    import json
    import subprocess
    values = dict(("K_%s" % name.upper(), value) for name, value in TRICKY_VALUES)
    (tmp_path / "agent.env").write_text(de.set_keys("", values)[0], encoding="utf-8")
    (tmp_path / "compose.yaml").write_text("services:\n  agent:\n    image: scratch\n    env_file: agent.env\n")
    proc = subprocess.run(_compose_v2() + ["-f", str(tmp_path / "compose.yaml"), "config", "--format", "json"],
                          capture_output=True, text=True, check=False, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    environment = json.loads(proc.stdout)["services"]["agent"]["environment"]
    assert {key: environment.get(key) for key in values} == values


# --- set_keys on the realistic fixture --------------------------------------------

@pytest.mark.parametrize("crlf", [False, True])
def test_only_the_owned_lines_change_and_missing_keys_are_appended(crlf):
    text = fixture_text(crlf)
    eol = "\r\n" if crlf else "\n"
    new_text, changes = de.set_keys(text, OWNED)
    old_lines, new_lines = lines(text), lines(new_text)
    rewritten = owned_line_indexes(text, OWNED)
    for index, line in enumerate(old_lines):
        if index not in rewritten:
            assert new_lines[index] == line, "line %d changed" % (index + 1)
    # In place: the same line, same prefix ('export ', spacing) and inline comment.
    by_key = {line.split("=")[0].replace("export ", ""): i for i, line in enumerate(old_lines) if i in rewritten}
    assert new_lines[by_key["LOCAL_LLM_MODEL_PATH"]] == (
        "export LOCAL_LLM_MODEL_PATH=/app/models/llm/phi-3-mini-4k-instruct-q4.gguf" + eol)
    assert new_lines[by_key["LOCAL_LLM_CONTEXT"]] == "LOCAL_LLM_CONTEXT=1024   # tokens" + eol
    assert new_lines[by_key["LOCAL_LLM_GPU_LAYERS"]] == "LOCAL_LLM_GPU_LAYERS=-1" + eol
    assert new_lines[len(old_lines):] == [line + eol for line in (
        de.MANAGED_COMMENT, "LOCAL_TTS_MODEL_PATH=/app/models/tts/en_US-lessac-medium.onnx",
        "LOCAL_LLM_BATCH=256", "LOCAL_LLM_TEMPERATURE=0.7", "GPU_AVAILABLE=true")]
    assert [c["key"] for c in changes] == list(OWNED)
    assert [c["key"] for c in changes if c["before"] is None] == [
        "LOCAL_TTS_MODEL_PATH", "LOCAL_LLM_BATCH", "LOCAL_LLM_TEMPERATURE", "GPU_AVAILABLE"]
    assert changes[1] == {"key": "LOCAL_LLM_MODEL_PATH", "before":
                          "/app/models/llm/tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf",
                          "after": "/app/models/llm/phi-3-mini-4k-instruct-q4.gguf"}


@pytest.mark.parametrize("crlf", [False, True])
def test_python_dotenv_reads_the_new_owned_values_and_every_other_value_unchanged(crlf):
    text = fixture_text(crlf)
    before = read_dotenv(text)
    after = read_dotenv(de.set_keys(text, OWNED)[0])
    for key, value in before.items():
        if key not in OWNED:
            assert after[key] == value, key
    for key, value in EXPECTED.items():
        assert after[key] == value, key
    assert set(after) == set(before) | set(OWNED)
    assert after["ASTERISK_ARI_PASSWORD"] == "Tr0ub|e&Strife!9/x"
    assert after["JWT_SECRET"] == "9f$Kx\\Qm\\7$Ab&zz"


def test_commented_duplicates_and_quoted_traps_are_never_touched():
    new_text, _unused = de.set_keys(fixture_text(), OWNED)
    assert "# LOCAL_LLM_MODEL_PATH=/old/models/llm/tinyllama.gguf\n" in new_text
    assert "#LOCAL_LLM_CONTEXT=2048\n" in new_text
    assert "LOCAL_LLM_MODEL_PATH=/trap/inside/a/quoted/value\n" in new_text


def test_the_last_of_duplicate_assignments_is_the_one_rewritten():
    new_text, _unused = de.set_keys("A=1\nB=x\nA=2\n", {"A": 3})
    assert new_text == "A=1\nB=x\nA=3\n"


def test_a_second_run_changes_nothing():
    once, _unused = de.set_keys(fixture_text(), OWNED)
    twice, changes = de.set_keys(once, OWNED)
    assert twice == once and changes == []


def test_an_equal_value_in_another_quoting_is_left_as_written():
    text = "LOCAL_LLM_CONTEXT=\"512\"\nGPU_AVAILABLE='true'\n"
    assert de.set_keys(text, {"LOCAL_LLM_CONTEXT": 512, "GPU_AVAILABLE": True}) == (text, [])


def test_the_managed_comment_is_added_once_and_a_final_newline_first():
    once, _unused = de.set_keys("A=1", {"B": 2})
    assert once == "A=1\n%s\nB=2\n" % de.MANAGED_COMMENT
    twice, _unused = de.set_keys(once, {"C": 3})
    assert twice == once + "C=3\n"
    assert de.set_keys("", {"B": 2})[0] == "%s\nB=2\n" % de.MANAGED_COMMENT


def test_an_empty_value_with_an_inline_comment_keeps_the_comment():
    new_text, _unused = de.set_keys("LOCAL_LLM_BATCH= # set by provisioning\r\n", {"LOCAL_LLM_BATCH": 256})
    assert new_text == "LOCAL_LLM_BATCH=256 # set by provisioning\r\n"
    assert read_dotenv(new_text) == {"LOCAL_LLM_BATCH": "256"}


def test_a_comment_glued_to_a_closing_quote_stays_a_comment():
    new_text, _unused = de.set_keys('LOCAL_LLM_CONTEXT="512"#tokens\n', {"LOCAL_LLM_CONTEXT": 1024})
    assert new_text == "LOCAL_LLM_CONTEXT='1024'#tokens\n"
    assert read_dotenv(new_text) == {"LOCAL_LLM_CONTEXT": "1024"}


def test_a_multiline_owned_value_is_replaced_whole():
    new_text, _unused = de.set_keys('X=1\nLOCAL_LLM_MODEL_PATH="a\nb"  # old\nY=2\n', {"LOCAL_LLM_MODEL_PATH": "/m"})
    assert new_text == "X=1\nLOCAL_LLM_MODEL_PATH=/m  # old\nY=2\n"


def test_a_byte_order_mark_is_kept_and_the_first_key_still_found():
    new_text, _unused = de.set_keys("\ufeffA=1\n", {"A": 2})
    assert new_text == "\ufeffA=2\n"


@pytest.mark.parametrize("key", ["1ABC", "A-B", "A B", "", "Ä"])
def test_an_invalid_key_is_refused_by_name(key):
    with pytest.raises(ValueError) as info:
        de.set_keys("A=1\n", {key: 1})
    assert repr(key) in str(info.value)


def test_a_refused_value_names_the_key_and_changes_nothing():
    with pytest.raises(ValueError) as info:
        de.set_keys("A=1\n", OrderedDict([("A", 2), ("LOCAL_LLM_MODEL_PATH", "/x\n/y")]))
    assert "LOCAL_LLM_MODEL_PATH" in str(info.value) and "/x" not in str(info.value)


@pytest.mark.parametrize("text, values", [
    ("SMTP_PASSWORD='open\nA=1\n", {"LOCAL_LLM_MODEL_PATH": "/app/models/a b.gguf"}),
    ('A=1\nSMTP_PASSWORD="open\nLOCAL_LLM_MODEL_PATH=/old\n', {"LOCAL_LLM_MODEL_PATH": "it's"}),
])
def test_an_edit_that_a_left_open_quote_would_swallow_is_refused(text, values):
    # python-dotenv would pair the open quote with the written one and lose the lines between.
    with pytest.raises(ValueError) as info:
        de.set_keys(text, values)
    assert "Line 1 opens" in str(info.value) or "Line 2 opens" in str(info.value)
    assert "open" not in str(info.value).replace("opens", "")


def test_an_edit_before_a_left_open_quote_is_still_made():
    new_text, _unused = de.set_keys("LOCAL_LLM_CONTEXT=512\nSMTP_PASSWORD='open\n", {"LOCAL_LLM_CONTEXT": 1024})
    assert new_text == "LOCAL_LLM_CONTEXT=1024\nSMTP_PASSWORD='open\n"


# --- set_keys never changes a line it does not own ------------------------------------

OWNED_KEYS = ["LOCAL_LLM_MODEL_PATH", "LOCAL_LLM_CONTEXT", "GPU_AVAILABLE"]
_other_key = st.sampled_from(["ASTERISK_ARI_PASSWORD", "JWT_SECRET", "OPENAI_API_KEY", "lower.case", "X1"])
_raw_text = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\u2028\u2029\x85"),
                    max_size=20)
_blank = st.sampled_from(["", " ", "\t", "   "])


@st.composite
def env_line(draw):
    kind = draw(st.sampled_from(["comment", "blank", "other", "owned", "commented_owned", "multiline", "junk"]))
    if kind == "comment":
        return draw(_blank) + "#" + draw(_raw_text)
    if kind == "blank":
        return draw(_blank)
    if kind == "commented_owned":
        return "#" + draw(_blank) + draw(st.sampled_from(OWNED_KEYS)) + "=" + draw(_raw_text)
    if kind == "junk":
        return draw(_raw_text)
    key = draw(st.sampled_from(OWNED_KEYS) if kind == "owned" else _other_key)
    prefix = draw(st.sampled_from(["", "export ", "  "])) + key + draw(st.sampled_from(["=", " = ", "= "]))
    if kind == "multiline":
        body = draw(st.lists(st.sampled_from(["LOCAL_LLM_CONTEXT=7", "# x", "", "GPU_AVAILABLE=no", "  k: v"]),
                             min_size=1, max_size=3))
        return prefix + '"' + "\n".join(body) + '"'
    value = draw(st.one_of(
        st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\x85"),
                max_size=15),
        st.sampled_from(["'a b'", '"x#y" # c', "p|a&s", "$HOME\\x", "'it\\'s'"])))
    return prefix + value + draw(_blank)


@SETTINGS
@given(st.lists(env_line(), max_size=12), st.booleans(), st.booleans(),
       st.dictionaries(st.sampled_from(OWNED_KEYS),
                       st.one_of(st.integers(-5, 5000), st.booleans(),
                                 st.sampled_from(["/app/models/a b.gguf", "/m.gguf"]))))
def test_set_keys_never_changes_a_line_it_does_not_own(body, crlf, final_newline, values):
    eol = "\r\n" if crlf else "\n"
    text = eol.join(body) + (eol if final_newline and body else "")
    eol = "\r\n" if "\r\n" in text else "\n"  # a one-line file has no ending to copy
    try:
        new_text, changes = de.set_keys(text, values)
    except ValueError:
        # Only a quote left open by another line may make an edit unsafe.
        assert any(line.unterminated for line in de.parse_assignments(text))
        return
    rewritten = owned_line_indexes(text, values)
    parsed = de.parse_assignments(text)
    assume(not any(parsed[i].value_end > parsed[i].end for i in rewritten))  # a multi-line owned value shortens the file
    old_lines, new_lines = lines(text), lines(new_text)
    for index, line in enumerate(old_lines):
        if index in rewritten:
            continue
        if index == len(old_lines) - 1 and not line.endswith("\n"):
            assert new_lines[index] in (line, line + eol)
        else:
            assert new_lines[index] == line
    # The tail is only the managed comment and the added keys.
    tail = new_lines[len(old_lines):]
    added = [c["key"] for c in changes if c["before"] is None]
    assert [line.split("=")[0] for line in tail if not line.startswith("#")] == added
    # And the readers agree: owned keys got their values.
    result = read_dotenv(new_text)
    for key, value in values.items():
        assert result[key] == de.scalar_text(key, value)
