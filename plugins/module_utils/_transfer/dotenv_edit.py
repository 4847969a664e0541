# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Change a few keys of a ``.env`` file and leave every other byte alone.

The voice agent's ``.env`` also holds the operator's passwords and API keys.
Upstream rewrote it with unescaped ``sed``, which corrupted values holding
``|`` or ``&`` and un-commented commented-out examples. These functions work on
the text only: they locate the value of an active assignment and replace that
span, or append a line. Nothing is re-rendered.

Two readers matter: docker compose ``env_file`` (compose-go's dotenv parser)
and python-dotenv. The scanner follows python-dotenv's grammar step by step:
it is the more permissive of the two (quoted keys, quoted values spanning
lines), so text that either reader takes for part of a value is never taken
for an assignment. Every edit is checked by reading the result again.
See docs/env-file.md.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math
import re
from collections import namedtuple

MANAGED_COMMENT = "# Managed by voiceagent.models"

KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Characters both readers take literally in an unquoted value: no quote, no
# space, no '#', no '$' (interpolation), no backslash.
UNQUOTED_RE = re.compile(r"^[A-Za-z0-9_./:@+,-]+$")

# python-dotenv's grammar (dotenv/parser.py), one regex per step. A quoted
# value or quoted key may span lines; a backslash escapes the next character.
_LEADING_SPACE = re.compile(r"\s*")
_EXPORT = re.compile(r"(?:export[^\S\r\n]+)?")
_QUOTED_KEY = re.compile(r"'([^']+)'")
_BARE_KEY = re.compile(r"[^=#\s]+")
_BLANKS = re.compile(r"[^\S\r\n]*")
_EQUAL = re.compile(r"=[^\S\r\n]*")
_SINGLE_QUOTED = re.compile(r"'(?:\\.|[^'\\])*'", re.DOTALL)
_DOUBLE_QUOTED = re.compile(r'"(?:\\.|[^"\\])*"', re.DOTALL)
_UNQUOTED = re.compile(r"[^\r\n]*")
_INLINE_COMMENT = re.compile(r"\s+#")
_COMMENT = re.compile(r"(?:[^\S\r\n]*#[^\r\n]*)?")
_END_OF_LINE = re.compile(r"[^\S\r\n]*(?:\r\n|\n|\r|$)")
_REST_OF_LINE = re.compile(r"[^\r\n]*(?:\r|\n|\r\n)?")

_DOUBLE_ESCAPES = {
    "\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b",
    "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
}
_SINGLE_ESCAPES = {"\\": "\\", "'": "'"}

# One statement as python-dotenv reads it, by offsets in the text.
# start: where its key (or comment) starts; end: after its line ending.
# key: None for a comment; value_start/value_end: the value as written
#   (quotes included, inline comment and trailing blanks excluded), None
#   when the statement has no '='.
# error: python-dotenv skips the statement; unterminated: because a quote
#   it opens is never closed.
Statement = namedtuple("Statement", "start end key value_start value_end error unterminated")

# One physical line of the file.
# start/end: offsets of the line in the text, its line ending included.
# active: the line starts an assignment both readers bind (KEY=value).
# key: the key as the readers see it (quotes of a quoted key removed), or None.
# value_start/value_end: offsets of the value as written; may run past 'end'
#   when a quoted value spans lines.
# continuation: the line lies inside a statement begun on an earlier line,
#   such as a multi-line quoted value; it is never an assignment itself.
# unterminated: the line opens a quote that is never closed.
Line = namedtuple("Line", "start end active key value_start value_end continuation unterminated")


class _Unreadable(Exception):
    def __init__(self, position, unterminated=False):
        super(_Unreadable, self).__init__(position)
        self.position = position
        self.unterminated = unterminated


def _split_lines(text):
    """Offsets (start, end) of each line, ending included. Only '\\n' ends a line.

    str.splitlines() would also split on U+2028, form feeds and other
    characters that neither reader takes for a line end.
    """
    spans = []
    pos = 0
    while pos < len(text):
        nl = text.find("\n", pos)
        end = len(text) if nl < 0 else nl + 1
        spans.append((pos, end))
        pos = end
    return spans


def _content_end(text, start, end):
    """End of a line's content: before its '\\n' or '\\r\\n'."""
    if end > start and text[end - 1] == "\n":
        end -= 1
        if end > start and text[end - 1] == "\r":
            end -= 1
    return end


def _must(regex, text, pos, unterminated=False):
    match = regex.match(text, pos)
    if match is None:
        raise _Unreadable(pos, unterminated)
    return match


def _read_value(text, pos):
    """(value_start, value_end, where reading goes on) for the value at pos."""
    char = text[pos:pos + 1]
    if char in ("'", '"'):
        match = _must(_SINGLE_QUOTED if char == "'" else _DOUBLE_QUOTED, text, pos, unterminated=True)
        return pos, match.end(), match.end()
    if char in ("", "\n", "\r"):
        return pos, pos, pos
    raw = _UNQUOTED.match(text, pos).group()
    comment = _INLINE_COMMENT.search(raw)
    value = (raw[:comment.start()] if comment else raw).rstrip()
    return pos, pos + len(value), pos + len(raw)


def _read_statement(text, start):
    """The Statement that starts at start (after leading whitespace)."""
    pos = start
    try:
        pos = _EXPORT.match(text, pos).end()
        key = value_start = value_end = None
        if text.startswith("'", pos):
            match = _must(_QUOTED_KEY, text, pos, unterminated=True)
            key, pos = match.group(1), match.end()
        elif not text.startswith("#", pos):
            match = _must(_BARE_KEY, text, pos)
            key, pos = match.group(), match.end()
        pos = _BLANKS.match(text, pos).end()
        if key is not None and text.startswith("=", pos):
            equal = _EQUAL.match(text, pos)
            if equal.end() - equal.start() > 1 and text.startswith("#", equal.end()):
                # 'KEY= # note': an empty value; a new one goes right after '='
                # so that the blank still separates the comment.
                value_start = value_end = pos + 1
                pos = equal.end()
            else:
                value_start, value_end, pos = _read_value(text, equal.end())
        pos = _COMMENT.match(text, pos).end()
        end = _must(_END_OF_LINE, text, pos).end()
        return Statement(start, end, key, value_start, value_end, False, False)
    except _Unreadable as exc:
        end = _REST_OF_LINE.match(text, exc.position).end()
        return Statement(start, max(end, start + 1), None, None, None, True, exc.unterminated)


def read_statements(text):
    """Every statement of text in order, as python-dotenv reads them."""
    statements = []
    pos = 1 if text.startswith("\ufeff") else 0  # python-dotenv drops a byte order mark
    while True:
        pos = _LEADING_SPACE.match(text, pos).end()
        if pos >= len(text):
            return statements
        statements.append(_read_statement(text, pos))
        pos = statements[-1].end


def parse_assignments(text):
    """Describe every line of text: a list of ``Line``, one per line.

    Comments (``# KEY=x``) and blank lines are never assignments. A quoted
    value may span lines (both readers accept that); the lines it covers are
    marked ``continuation`` and never taken for assignments themselves. A
    quote that never closes leaves its line inactive and ``unterminated``.
    """
    statements = read_statements(text)
    lines = []
    index = 0
    for start, end in _split_lines(text):
        while index < len(statements) and statements[index].end <= start:
            index += 1
        if index < len(statements) and statements[index].start < start:
            lines.append(Line(start, end, False, None, None, None, True, False))
            continue
        here = [s for s in statements[index:] if s.start < end]
        active = [s for s in here if is_active(s)]
        if active:
            first = active[0]
            lines.append(Line(start, end, True, first.key, first.value_start, first.value_end, False, False))
        else:
            lines.append(Line(start, end, False, None, None, None, False, any(s.unterminated for s in here)))
    return lines


def is_active(statement):
    """A KEY=value statement that python-dotenv binds."""
    return statement.key is not None and statement.value_start is not None and not statement.error


def _unescape(body, table):
    out = []
    i = 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body) and body[i + 1] in table:
            out.append(table[body[i + 1]])
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def decode_value(raw):
    """The value python-dotenv reads from raw value text (no interpolation)."""
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return _unescape(raw[1:-1], _DOUBLE_ESCAPES)
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return _unescape(raw[1:-1], _SINGLE_ESCAPES)
    return raw


def scalar_text(key, value):
    """A scalar as the agent expects it: ints as digits, booleans as true/false."""
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("%s: the value must be a finite number." % key)
        return repr(value)
    if isinstance(value, str):
        return value
    raise ValueError("%s: the value must be a string, number or boolean, not %s."
                     % (key, type(value).__name__))


def format_value(value, key="value", quote=False):
    """The text to write after ``KEY=`` so that both readers read value back.

    - Refused (ValueError naming key, never the value): a newline, carriage
      return or NUL (they would end or split the line); a lone surrogate (not
      UTF-8); ``${`` (python-dotenv
      expands ``${NAME}`` in every quoting form); ``$`` together with ``'`` or
      ``\\`` (only double quotes could hold that, and docker compose expands
      ``$NAME`` inside double quotes while python-dotenv does not).
    - Unquoted when non-empty and made only of ``[A-Za-z0-9_./:@+,-]``
      (single-quoted instead when quote is true).
    - Single-quoted when it holds no ``'`` and no ``\\``: both readers take it
      literally. A backslash is excluded because python-dotenv turns ``\\\\``
      into ``\\`` inside single quotes and docker compose does not.
    - Otherwise double-quoted, with ``\\`` written as ``\\\\`` and ``"`` as
      ``\\"``. Note: both readers decode exactly these two escapes the same
      way; the value holds no ``$`` here, so no interpolation applies.
    """
    text = scalar_text(key, value)
    for char, name in (("\n", "a newline"), ("\r", "a carriage return"), ("\0", "a NUL byte")):
        if char in text:
            raise ValueError("%s: the value contains %s, which a .env line cannot hold." % (key, name))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("%s: the value is not valid Unicode text (it holds a lone surrogate)." % key)
    if "${" in text:
        raise ValueError("%s: the value contains '${', which python-dotenv would expand." % key)
    if "$" in text and ("'" in text or "\\" in text):
        raise ValueError("%s: the value contains '$' together with a quote or backslash, which "
                         "docker compose and python-dotenv cannot both read literally." % key)
    if UNQUOTED_RE.match(text) and not quote:
        return text
    if "'" not in text and "\\" not in text:
        return "'%s'" % text
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


def check_key(key):
    """Raise ValueError unless key is a portable variable name."""
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise ValueError("%r is not a valid key: it must match ^[A-Za-z_][A-Za-z0-9_]*$." % (key,))


def _line_ending(text):
    """The file's line ending, so a CRLF file stays CRLF."""
    return "\r\n" if "\r\n" in text else "\n"


def set_keys(text, values):
    """Set each KEY of the ordered mapping values in text.

    Returns (new_text, changes), changes being a list of
    {key, before, after} for the keys whose value changed (before is None for
    an added key). The last active assignment of a key (the one both readers
    keep) has its value span replaced; a missing key is appended at the end.
    Every other byte is kept. Raises ValueError (naming a key or a line
    number, never a value of the file) when that cannot be done safely.
    """
    for key in values:
        check_key(key)
    wanted = [(key, scalar_text(key, value), value) for key, value in values.items()]

    last = {}
    for statement in read_statements(text):
        if statement.key is not None and not statement.error:
            last[statement.key] = statement

    changes = []
    edits = []  # (start, end, replacement), applied right to left
    appended = []
    for key, after, value in wanted:
        statement = last.get(key)
        if statement is None or statement.value_start is None:
            # Missing, or last seen as a bare 'KEY' line (which python-dotenv
            # binds to None): only a new line at the end takes effect.
            appended.append("%s=%s" % (key, format_value(value, key)))
            changes.append({"key": key, "before": None, "after": after})
            continue
        before = decode_value(text[statement.value_start:statement.value_end])
        if before != after:
            # '"old"#note' keeps its comment only if the new value is quoted too.
            quote = text.startswith("#", statement.value_end)
            edits.append((statement.value_start, statement.value_end, format_value(value, key, quote)))
            changes.append({"key": key, "before": before, "after": after})

    new_text = text
    for start, end, replacement in sorted(edits, reverse=True):
        new_text = new_text[:start] + replacement + new_text[end:]
    if appended:
        new_text = _append(new_text, appended)
    _check_reading(text, new_text, dict((key, after) for key, after, _unused in wanted))
    return new_text, changes


def _bindings(text):
    """What python-dotenv binds, in order: (key, value or None)."""
    return [(s.key, None if s.value_start is None else decode_value(text[s.value_start:s.value_end]))
            for s in read_statements(text) if s.key is not None and not s.error]


def _check_reading(text, new_text, wanted):
    """Refuse an edit that would change how any other line is read.

    A quote that an earlier line opens and never closes would pair with a
    quote of a written value and swallow the lines in between. Expected: the
    old bindings in order, the last one of each owned key with its new value
    (or the key appended), and nothing else.
    """
    expected = _bindings(text)
    last = dict((key, index) for index, (key, _unused) in enumerate(expected))
    for key, value in wanted.items():
        if key in last and expected[last[key]][1] is not None:
            expected[last[key]] = (key, value)
        else:
            expected.append((key, value))
    if _bindings(new_text) != expected:
        broken = [str(number + 1) for number, line in enumerate(parse_assignments(text)) if line.unterminated]
        where = (" Line %s opens a quote that is never closed." % ", ".join(broken)) if broken else ""
        raise ValueError("The edit would change how other lines of the file are read, so it was not made.%s "
                         "Fix the file first." % where)


def _append(text, lines):
    eol = _line_ending(text)
    if text and not text.endswith("\n"):
        text += eol
    block = lines
    if not any(_content(text, s, e) == MANAGED_COMMENT for s, e in _split_lines(text)):
        block = [MANAGED_COMMENT] + lines
    return text + "".join(line + eol for line in block)


def _content(text, start, end):
    return text[start:_content_end(text, start, end)]
