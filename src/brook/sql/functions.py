"""ksqlDB's scalar functions (a first set: string, math, null handling, date/time, GEO_DISTANCE), their return
types, and CAST.  Every function returns NULL for a NULL argument unless ksqlDB documents otherwise."""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable
from typing import Any

from brook.sql.parser import type_str

AGGREGATES = ("COUNT", "SUM", "AVG", "MIN", "MAX", "LATEST_BY_OFFSET", "EARLIEST_BY_OFFSET", "COLLECT_LIST",
              "COLLECT_SET", "TOPK", "TOPKDISTINCT", "HISTOGRAM", "COUNT_DISTINCT")
STRING, INTEGER, BIGINT, DOUBLE, BOOLEAN = ("STRING",), ("INTEGER",), ("BIGINT",), ("DOUBLE",), ("BOOLEAN",)


def _nulls(fn: Callable) -> Callable:
    def wrapped(*args: Any) -> Any:
        return None if any(a is None for a in args) else fn(*args)
    return wrapped


def _substring(s: str, pos: int, length: int | None = None) -> str:
    # ksqlDB: 1-based positions, negative counts from the end
    start = pos - 1 if pos > 0 else len(s) + pos
    start = max(start, 0)
    return s[start:] if length is None else s[start:start + max(length, 0)]


def _geo_distance(lat1: float, lon1: float, lat2: float, lon2: float, unit: str = "KM") -> float:
    radius = {"KM": 6371.0, "KILOMETERS": 6371.0, "MILES": 3959.0, "MI": 3959.0}.get(unit.upper())
    if radius is None:
        raise ValueError("GeoDistance function units parameter must be one of miles, mi, kilometers or km.")
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlat, dlon = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dlat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(a))


def _java_format(fmt: str) -> str:
    """The common letters of Java's DateTimeFormatter as strftime (enough for ksqlDB's documented examples)."""
    out, i = [], 0
    table = [("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S"),
             ("SSS", "%f"), ("yy", "%y"), ("EEE", "%a"), ("MMM", "%b")]
    while i < len(fmt):
        if fmt[i] == "'":
            end = fmt.index("'", i + 1) if "'" in fmt[i + 1:] else len(fmt)
            out.append(fmt[i + 1:end])
            i = end + 1
            continue
        for pat, rep in table:
            if fmt.startswith(pat, i):
                out.append(rep)
                i += len(pat)
                break
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


def _timestamp_to_string(ms: int, fmt: str, zone: str = "UTC") -> str:
    from zoneinfo import ZoneInfo

    t = dt.datetime.fromtimestamp(ms / 1000, ZoneInfo(zone))
    text = t.strftime(_java_format(fmt))
    return text.replace(f"{t.microsecond:06d}", f"{t.microsecond // 1000:03d}") if "SSS" in fmt else text


def _string_to_timestamp(text: str, fmt: str, zone: str = "UTC") -> int:
    from zoneinfo import ZoneInfo

    t = dt.datetime.strptime(text, _java_format(fmt).replace("%f", "%f"))
    return int(t.replace(tzinfo=ZoneInfo(zone)).timestamp() * 1000)


def _round(x: float, digits: int | None = None) -> float | int:
    # ksqlDB rounds half up (Java's Math.round), not to even
    if digits is None:
        return math.floor(x + 0.5)
    scale = 10 ** digits
    return math.floor(x * scale + 0.5) / scale


def _extract_json_field(text: str, path: str) -> str | None:
    try:
        value: Any = json.loads(text)
    except ValueError:
        return None
    for part in path.lstrip("$").replace("[", ".").replace("]", "").split("."):
        if not part:
            continue
        if isinstance(value, dict):
            value = value.get(part.strip("'\""))
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value if value is None or isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _coalesce(*args: Any) -> Any:
    return next((a for a in args if a is not None), None)


# name -> (implementation, return type: a tuple, or a function of the argument types; (min, max) argument count)
SCALARS: dict[str, tuple[Callable, Any, tuple[int, int]]] = {
    "UCASE": (_nulls(str.upper), STRING, (1, 1)),
    "LCASE": (_nulls(str.lower), STRING, (1, 1)),
    "LEN": (_nulls(len), INTEGER, (1, 1)),
    "TRIM": (_nulls(str.strip), STRING, (1, 1)),
    "LTRIM": (_nulls(str.lstrip), STRING, (1, 1)),
    "RTRIM": (_nulls(str.rstrip), STRING, (1, 1)),
    "CONCAT": (lambda *a: "".join(str(x) for x in a if x is not None), STRING, (1, 99)),
    "CONCAT_WS": (lambda sep, *a: None if sep is None else sep.join(str(x) for x in a if x is not None),
                  STRING, (2, 99)),
    "SUBSTRING": (_nulls(_substring), STRING, (2, 3)),
    "REPLACE": (_nulls(lambda s, a, b: s.replace(a, b)), STRING, (3, 3)),
    "INSTR": (_nulls(lambda s, sub: s.find(sub) + 1), INTEGER, (2, 2)),
    "LPAD": (_nulls(lambda s, n, p: (p * n + s)[-n:] if len(s) < n and p else s[:n]), STRING, (3, 3)),
    "RPAD": (_nulls(lambda s, n, p: (s + p * n)[:n] if p else s[:n]), STRING, (3, 3)),
    "SPLIT": (_nulls(lambda s, d: list(s) if d == "" else s.split(d)), ("ARRAY", STRING), (2, 2)),
    "INITCAP": (_nulls(lambda s: " ".join(w[:1].upper() + w[1:].lower() for w in s.split(" "))), STRING, (1, 1)),
    "ABS": (_nulls(abs), lambda t: t[0] or DOUBLE, (1, 1)),
    "CEIL": (_nulls(lambda x: float(math.ceil(x)) if isinstance(x, float) else x), lambda t: t[0] or DOUBLE, (1, 1)),
    "FLOOR": (_nulls(lambda x: float(math.floor(x)) if isinstance(x, float) else x), lambda t: t[0] or DOUBLE,
              (1, 1)),
    "ROUND": (_nulls(_round), lambda t: (BIGINT if t[0] == DOUBLE else t[0]) if len(t) == 1 else (t[0] or DOUBLE),
              (1, 2)),
    "SQRT": (_nulls(lambda x: math.sqrt(x) if x >= 0 else math.nan), DOUBLE, (1, 1)),
    "EXP": (_nulls(math.exp), DOUBLE, (1, 1)),
    "LN": (_nulls(lambda x: math.log(x) if x > 0 else math.nan), DOUBLE, (1, 1)),
    "POWER": (_nulls(lambda x, y: float(x) ** y), DOUBLE, (2, 2)),
    "SIGN": (_nulls(lambda x: (x > 0) - (x < 0)), INTEGER, (1, 1)),
    "RANDOM": (lambda: __import__("random").random(), DOUBLE, (0, 0)),
    "GREATEST": (lambda *a: max((x for x in a if x is not None), default=None), lambda t: t[0], (1, 99)),
    "LEAST": (lambda *a: min((x for x in a if x is not None), default=None), lambda t: t[0], (1, 99)),
    "COALESCE": (_coalesce, lambda t: next((x for x in t if x), None), (1, 99)),
    "IFNULL": (lambda a, b: b if a is None else a, lambda t: t[0] or t[1], (2, 2)),
    "NULLIF": (lambda a, b: None if a == b else a, lambda t: t[0], (2, 2)),
    "GEO_DISTANCE": (_nulls(_geo_distance), DOUBLE, (4, 5)),
    "UNIX_TIMESTAMP": (lambda *a: a[0] if a else int(time.time() * 1000), BIGINT, (0, 1)),
    "TIMESTAMPTOSTRING": (_nulls(_timestamp_to_string), STRING, (2, 3)),
    "STRINGTOTIMESTAMP": (_nulls(_string_to_timestamp), BIGINT, (2, 3)),
    "EXTRACTJSONFIELD": (_nulls(_extract_json_field), STRING, (2, 2)),
    "ARRAY_LENGTH": (_nulls(len), INTEGER, (1, 1)),
    "MAP_KEYS": (_nulls(lambda m: sorted(m)), lambda t: ("ARRAY", t[0][1]) if t[0] else None, (1, 1)),
    # a table function: the projection makes one row per element (queries.Plan.apply_all)
    "EXPLODE": (lambda a: a, lambda t: t[0][1] if t[0] and t[0][0] == "ARRAY" else None, (1, 1)),
}


def scalar(name: str) -> Callable | None:
    entry = SCALARS.get(name)
    return entry[0] if entry else None


def return_type(name: str, arg_types: list) -> tuple | None:
    entry = SCALARS.get(name)
    if entry is None:
        return ("BIGINT",) if name == "COUNT" else (arg_types[0] if arg_types else None)
    _, result, (low, high) = entry
    if not low <= len(arg_types) <= high:
        from brook.sql.expressions import SqlError

        types = ", ".join(type_str(t) if t else "null" for t in arg_types)
        raise SqlError(f"Function '{name}' does not accept parameters ({types}).")
    return result(arg_types) if callable(result) else result


def divide(x: Any, y: Any) -> Any:
    if y == 0:
        return math.copysign(math.inf, x) if x else math.nan  # Java's double division
    return x / y


def modulo(x: Any, y: Any) -> Any:
    return math.fmod(x, y) if y else math.nan


def array_index(arr: list | None, i: int | None) -> Any:
    # ksqlDB arrays are 1-based; negative indexes count from the end; out of range is NULL
    if arr is None or i is None or i == 0 or abs(i) > len(arr):
        return None
    return arr[i - 1] if i > 0 else arr[i]


def cast(value: Any, target: tuple) -> Any:
    if value is None:
        return None
    kind = target[0]
    try:
        if kind == "STRING":
            if isinstance(value, bool):
                return "true" if value else "false"
            return json.dumps(value, separators=(",", ":")) if isinstance(value, (list, dict)) else str(value)
        if kind in ("INTEGER", "BIGINT"):
            return int(float(value)) if isinstance(value, str) else int(value)
        if kind in ("DOUBLE", "DECIMAL"):
            return float(value)
        if kind == "BOOLEAN":
            return value.strip().lower() == "true" if isinstance(value, str) else bool(value)
    except ValueError:
        return None
    return value
