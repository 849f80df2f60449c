"""Syntax errors worded as ksqlDB's SyntaxErrorValidator words ANTLR's: an unknown statement and the closest
command, a missing `;`, a short list of what could come next, else just `Syntax Error` (key-schemas.json)."""

from __future__ import annotations

import re

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from brook.sql.statements import ParseError


def _describe_terminal(lark: Lark, name: str) -> str:
    try:
        pattern = lark.get_terminal(name).pattern
    except KeyError:
        return name
    if pattern.type == "str":
        return "'" + pattern.value.upper() + "'"
    return {"IDENTIFIER": "IDENTIFIER", "QUOTED_IDENTIFIER": "IDENTIFIER", "STRING": "STRING",
            "INT_NUMBER": "INTEGER_VALUE", "DECIMAL_NUMBER": "DECIMAL_VALUE"}.get(
        name, "'" + re.sub(r"[()\\b?:]", "", pattern.value).replace("|", "', '").upper() + "'")


# SyntaxErrorValidator's commands: an unknown statement's "Did you mean" is the closest of them
COMMANDS = ("SELECT", "CREATE", "INSERT", "DESCRIBE", "PRINT", "EXPLAIN", "SHOW", "LIST", "TERMINATE", "PAUSE",
            "RESUME", "DROP", "SET", "DEFINE", "UNDEFINE", "UNSET", "ASSERT", "ALTER")


def _levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[:], i
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
    return row[-1]


def unknown_statement(word: str, line: int = 1, col: int = 1) -> ParseError:
    similar = min(COMMANDS, key=lambda c: _levenshtein(c, word.upper()))  # the first of the closest
    return ParseError(f"line {line}:{col}: Syntax Error\nUnknown statement '{word}'\nDid you mean '{similar}'?")


def _expected_order(name: str) -> tuple:
    # as ANTLR lists its expected tokens: punctuation (`,` before `)`), then keywords, then token names
    punctuation = ("';'", "','", "')'", "'('")
    return (0, punctuation.index(name)) if name in punctuation else (1, name) if name[:1] == "'" else (2, name)


def syntax_error(lark: Lark, text: str, e: UnexpectedInput) -> ParseError:
    """ksqlDB's SyntaxErrorValidator over what the parser expected: an unknown statement and the closest command, a
    missing closing bracket at the end, a short list of what was expected, else just `Syntax Error`."""
    line, col = getattr(e, "line", 1), getattr(e, "column", 1)
    if isinstance(e, UnexpectedToken):
        expected = sorted({_describe_terminal(lark, t) for t in e.accepts or e.expected}, key=_expected_order)
        if isinstance(e, UnexpectedEOF) or e.token.type == "$END":
            line, col = text.count("\n") + 1, len(text.rsplit("\n", 1)[-1]) + 1
            if expected[:1] == ["';'"]:  # ANTLR's single-token insertion: the statement's end is all that is missing
                return ParseError(f"line {line}:{col}: Syntax Error\nmissing ';' at '<EOF>'")
            return ParseError(f"line {line}:{col}: Syntax Error\nSyntax error at or near \";\"\n'}}', ']', or ')' "
                              "is missing")
        if {"'SELECT'", "'CREATE'", "'INSERT'"} <= set(expected):
            return unknown_statement(str(e.token), line, col)
        detail = f"Expecting {{{', '.join(expected)}}}" if len(expected) <= 3 else ""
        return ParseError(f"line {line}:{col}: Syntax Error\n{detail}")
    if isinstance(e, UnexpectedCharacters):
        return ParseError(f"line {line}:{col}: Syntax Error\nextraneous input '{e.char}'")
    return ParseError(f"line {line}:{col}: Syntax Error")
