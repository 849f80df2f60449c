"""java.text.BreakIterator.getLineInstance(): where the JDK allows a line break, which jopt-simple's help columns
and argparse4j's wrapping both use. The JDK's rules, as far as the tools' texts need them (checked against
Java 17's BreakIterator on the tools' help and error texts)."""

from __future__ import annotations

_OPEN, _CLOSE = "([{", ")]}"


def breaks_after(text: str, i: int) -> bool:
    """May a line end after text[i]? After a run of white space; after . , : ; unless between digits ("3.3");
    after hyphens before a letter or a dot, or before a digit unless they start a number ("-5", "(-1)"); before an
    opening bracket glued to a word ("server(s)"); after a closing bracket glued to a word or '='."""
    c, nxt = text[i], text[i + 1]
    if c.isspace():
        return not nxt.isspace()
    if nxt in _OPEN:
        return c not in _OPEN and c not in "-"
    if c in _CLOSE:
        return nxt.isalnum() or nxt == "="
    if c in ".,:;":
        prev = text[i - 1] if i else " "
        return nxt.isalpha() or nxt == "-" or (nxt.isdigit() and not prev.isdigit())
    if c != "-":
        return False
    if nxt.isalpha() or nxt == ".":
        return True
    if not nxt.isdigit():
        return False
    j = i
    while j > 0 and text[j - 1] == "-":
        j -= 1
    return j > 0 and not text[j - 1].isspace() and text[j - 1] != "("


def line_segments(text: str) -> list[str]:
    """The text cut at every break opportunity (each segment keeps its trailing white space)."""
    out, start = [], 0
    for i in range(len(text) - 1):
        if breaks_after(text, i):
            out.append(text[start:i + 1])
            start = i + 1
    if start < len(text):
        out.append(text[start:])
    return out
