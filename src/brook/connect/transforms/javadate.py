"""java.text.SimpleDateFormat patterns (the subset Connect users write) in UTC, as TimestampConverter and
TimestampRouter use them: y M d H h m s S a E Z X and 'quoted' literals."""

from __future__ import annotations

import datetime as dt
import re

_TOKEN = re.compile(r"'([^']*)'|([A-Za-z])\2*|(.)")
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class PatternError(ValueError):
    pass


def tokens(pattern: str) -> list[tuple[str, str]]:
    """(kind, text): kind 'lit' for literals, else the pattern letter with text its full run."""
    out = []
    for m in _TOKEN.finditer(pattern):
        if m.group(1) is not None:
            out.append(("lit", m.group(1) or "'"))
        elif m.group(2) is not None:
            letter = m.group(2)
            if letter not in "yYMdHhmsSaEZXkK":
                raise PatternError(f"Illegal pattern character '{letter}'")
            out.append((letter, m.group(0)))
        else:
            out.append(("lit", m.group(3)))
    return out


def format_date(pattern: str, value: dt.datetime) -> str:
    v = value.astimezone(dt.UTC)
    out = []
    for kind, text in tokens(pattern):
        n = len(text)
        if kind == "lit":
            out.append(text)
        elif kind in "yY":
            out.append(f"{v.year % 100:02d}" if n == 2 else f"{v.year:0{n}d}")
        elif kind == "M":
            out.append(MONTHS[v.month - 1] if n >= 4 else MONTHS[v.month - 1][:3] if n == 3 else f"{v.month:0{n}d}")
        elif kind == "d":
            out.append(f"{v.day:0{n}d}")
        elif kind in "Hk":
            out.append(f"{v.hour:0{n}d}")
        elif kind in "hK":
            out.append(f"{(v.hour % 12) or 12:0{n}d}")
        elif kind == "m":
            out.append(f"{v.minute:0{n}d}")
        elif kind == "s":
            out.append(f"{v.second:0{n}d}")
        elif kind == "S":
            out.append(f"{v.microsecond // 1000:0{n}d}")
        elif kind == "a":
            out.append("AM" if v.hour < 12 else "PM")
        elif kind == "E":
            out.append(DAYS[v.weekday()] if n >= 4 else DAYS[v.weekday()][:3])
        elif kind == "Z":
            out.append("+0000")
        elif kind == "X":
            out.append("Z")
    return "".join(out)


def parse_date(pattern: str, text: str) -> dt.datetime:
    regex, fields = [], []
    for kind, tok in tokens(pattern):
        if kind == "lit":
            regex.append(re.escape(tok))
            continue
        if kind in "MEa" and (len(tok) >= 3 or kind != "M"):
            regex.append(r"([A-Za-z]+)")
        elif kind in "ZX":
            regex.append(r"(Z|[+-]\d\d:?\d\d|[+-]\d\d)")
        else:
            width = max(len(tok), 4 if kind == "y" else 2 if kind != "S" else 3)
            regex.append(rf"(\d{{1,{width}}})")
        fields.append((kind, tok))
    m = re.fullmatch("".join(regex), text)
    if m is None:
        raise PatternError(f'Unparseable date: "{text}"')
    parts = {"y": 1970, "M": 1, "d": 1, "H": 0, "m": 0, "s": 0, "S": 0}
    pm, offset = None, dt.timedelta(0)
    for (kind, tok), g in zip(fields, m.groups(), strict=True):
        if kind == "M" and len(tok) >= 3:
            parts["M"] = [x[:3].lower() for x in MONTHS].index(g[:3].lower()) + 1
        elif kind == "a":
            pm = g.upper() == "PM"
        elif kind in "ZX":
            if g != "Z":
                sign = -1 if g[0] == "-" else 1
                digits = g[1:].replace(":", "")
                offset = sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        elif kind == "E":
            continue
        else:
            key = {"k": "H", "h": "H", "K": "H", "Y": "y"}.get(kind, kind)
            parts[key] = int(g)
    if pm is not None:
        parts["H"] = parts["H"] % 12 + (12 if pm else 0)
    if len([t for k, t in fields if k == "y"]) and len(next(t for k, t in fields if k == "y")) == 2:
        parts["y"] += 2000
    return dt.datetime(parts["y"], parts["M"], parts["d"], parts["H"], parts["m"], parts["s"], parts["S"] * 1000,
                       tzinfo=dt.UTC) - offset
