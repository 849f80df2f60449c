"""CAST as ksqlDB's docs table it (numbers, text, dates and times, and ARRAY/MAP/STRUCT element by element), the
common type of ARRAY[...] and MAP(...) elements (implicit coercion), and Java's text for values that CAST to
STRING.  Expected values follow query-validation-tests/cast.json, create_array.json and create_map.json."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any

from brook.connect.data import EXACT
from brook.sql.functions_base import NUMERIC

TEMPORAL = ("DATE", "TIME", "TIMESTAMP")
WIDE = EXACT  # BigDecimal's arithmetic and setScale: any number of digits (Python's default context keeps 28)
DAY_MS = 86_400_000


def to_decimal(value: Any) -> decimal.Decimal:
    """A number (or its text) as a Decimal; a double as its shortest text (BigDecimal.valueOf)."""
    if isinstance(value, decimal.Decimal):
        return value
    return decimal.Decimal(repr(value) if isinstance(value, float) else str(value).strip())


def decimal_type(d: decimal.Decimal) -> tuple:
    """DecimalUtil.fromValue: the DECIMAL type a number's digits make (`1.5` DECIMAL(2, 1), `0.05` DECIMAL(3, 2))."""
    sign, digits, exponent = d.as_tuple()
    assert isinstance(exponent, int)  # finite
    scale = max(-exponent, 0)
    precision = scale + 1 if abs(d) < 1 else len(digits) + max(exponent, 0)
    return ("DECIMAL", max(precision, scale), scale)


def scaled(value: Any, scale: int) -> decimal.Decimal:
    """A number as a DECIMAL of `scale` (BigDecimal.setScale, half up): the value a DECIMAL column holds. A double
    is read as its shortest text (BigDecimal.valueOf), as ksqlDB's serdes read a JSON or Avro double."""
    d = to_decimal(value)
    if not d.is_finite():
        raise ValueError(f"{value} is not a DECIMAL")
    return d.quantize(decimal.Decimal(1).scaleb(-scale), rounding=decimal.ROUND_HALF_UP, context=WIDE)


def read_decimal(text: str) -> decimal.Decimal:
    """A DECIMAL's text (DELIMITED, a JSON string) as its value, every digit kept."""
    d = decimal.Decimal(text.strip())
    if not d.is_finite():
        raise ValueError(f"{text} is not a DECIMAL")
    return d


def decimal_text(value: Any, scale: int) -> str:
    """A DECIMAL as BigDecimal prints it at its scale (`5.40`)."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return f"{scaled(value, scale):f}"


def java_double(x: float) -> str:
    """Double.toString: plain between 10^-3 and 10^7, else `d.dddE<n>`; the shortest digits that read back
    (Java 8's text of Double.MIN_VALUE is `4.9E-324`; literals.json "DOUBLE literal min/max")."""
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1, x) < 0 else "0.0"
    if abs(x) == 5e-324:
        return "-4.9E-324" if x < 0 else "4.9E-324"
    if 1e-3 <= abs(x) < 1e7:
        text = repr(x)
        return text if "e" not in text else f"{x:f}".rstrip("0").rstrip(".") + ".0"
    sign, digits, exponent = decimal.Decimal(repr(x)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) + int(exponent) - 1
    return f"{'-' if sign else ''}{text[0]}.{text[1:] or '0'}E{power}"


def java_text(value: Any, t: tuple | None = None) -> str:
    """A value as Java's toString prints it (cast.json "array to string", "map to string", "struct to string")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    kind = t[0] if t else None
    if kind in TEMPORAL:
        from brook.sql.functions_json import to_json

        return str(to_json(value, t))
    if isinstance(value, list):
        inner = t[1] if t and kind == "ARRAY" else None
        return "[" + ", ".join(java_text(v, inner) for v in value) + "]"
    if isinstance(value, dict) and kind == "STRUCT":
        fields = dict(t[1]) if t else {}
        return "Struct{" + ",".join(f"{k}={java_text(v, fields.get(k))}" for k, v in value.items()
                                    if v is not None) + "}"
    if isinstance(value, dict):
        inner = t[2] if t and kind == "MAP" else None
        return "{" + ", ".join(f"{java_text(k)}={java_text(v, inner)}" for k, v in value.items()) + "}"
    if isinstance(value, float) and kind in (None, "DOUBLE"):
        return java_double(value)
    if isinstance(value, decimal.Decimal) and kind == "DOUBLE":
        return java_double(float(value))
    return str(value)  # a Decimal as BigDecimal.toString: the same rules


def refuse(source: tuple | None, target: tuple) -> str | None:
    """ksqlDB's message for a cast it does not support, or None."""
    from brook.sql.parser import type_str

    if source is None:
        return None
    s, t = source[0], target[0]
    # the docs' CAST table: BYTES casts to nothing else, nothing casts to BYTES
    if (t in ("ARRAY", "MAP", "STRUCT") and s != t) or (s == "BYTES") != (t == "BYTES"):
        return f"Cast of {type_str(source)} to {type_str(target)} is not supported"
    return None


def _int32(v: int) -> int:
    return (v + 2**31) % 2**32 - 2**31  # Java's narrowing of a long to an int


def _temporal(value: Any, kind: str, source: tuple | None) -> Any:
    src = source[0] if source else None
    if isinstance(value, str):
        text = value.strip()
        if kind == "DATE":  # a year or a year and month is its first day (PartialStringToTimestampParser)
            parts = text.split("-")
            text += "-01-01" if len(parts) == 1 else "-01" if len(parts) == 2 else ""
            return (dt.date.fromisoformat(text) - dt.date(1970, 1, 1)).days
        if kind == "TIME":
            t = dt.time.fromisoformat(text)
            return (t.hour * 3600 + t.minute * 60 + t.second) * 1000 + t.microsecond // 1000
        stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
        return (stamp - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1)
    if src == "TIMESTAMP" and kind != "TIMESTAMP":
        return value // DAY_MS if kind == "DATE" else value % DAY_MS
    if src == "DATE" and kind == "TIMESTAMP":
        return value * DAY_MS
    return value


def _decimal(value: Any, precision: int, scale: int, source: tuple | None) -> decimal.Decimal | None:
    """CAST to DECIMAL(p, s) as ksqlDB's DecimalUtil.cast: a number first rounded to p digits (a DOUBLE from its
    exact binary value), NULL when it does not fit (cast.json "integer to decimal": 10 as DECIMAL(2,1)), then
    rounded half up to the scale."""
    if isinstance(value, str):
        d = decimal.Decimal(value.strip())
    elif isinstance(value, (float, int)) and not isinstance(value, bool):
        d = decimal.Context(prec=precision, rounding=decimal.ROUND_HALF_UP).plus(decimal.Decimal(value))
    else:
        d = decimal.Decimal(value)
    if not d.is_finite() or d.copy_abs() >= decimal.Decimal(10) ** (precision - scale):
        return None
    return scaled(d, scale)


def cast(value: Any, target: tuple, source: tuple | None = None) -> Any:
    """`value` (of type `source` when known) as `target`; NULL when it cannot be converted."""
    if value is None:
        return None
    kind = target[0]
    try:
        if kind in TEMPORAL:
            return _temporal(value, kind, source)
        if kind == "STRING" and source and source[0] == "DECIMAL" and len(source) == 3:
            return decimal_text(value, source[2])  # BigDecimal's text keeps the scale (cast.json "decimal to other")
        if kind == "STRING":
            return java_text(value, source) if isinstance(value, (list, dict, bool, float)) or (
                source and source[0] in TEMPORAL) else str(value)
        if kind in ("INTEGER", "BIGINT"):
            n = int(float(value)) if isinstance(value, str) else int(value)
            return _int32(n) if kind == "INTEGER" else n
        if kind == "DECIMAL" and len(target) == 3:
            return _decimal(value, target[1], target[2], source)
        if kind == "DECIMAL":
            return to_decimal(value)
        if kind == "DOUBLE":
            return float(value)
        if kind == "BOOLEAN":
            return value.strip().lower() == "true" if isinstance(value, str) else bool(value)
        if kind == "ARRAY" and isinstance(value, list):
            inner = source[1] if source and source[0] == "ARRAY" else None
            return [cast(v, target[1], inner) for v in value]
        if kind == "MAP" and isinstance(value, dict):
            ks, vs = (source[1], source[2]) if source and source[0] == "MAP" else (None, None)
            return {cast(k, target[1], ks): cast(v, target[2], vs) for k, v in value.items()}
        if kind == "STRUCT" and isinstance(value, dict):
            # cast.json "struct to struct with different schema": the target's fields, case-sensitive, others NULL
            fields = dict(source[1]) if source and source[0] == "STRUCT" else {}
            return {name: cast(value.get(name), ft, fields.get(name)) for name, ft in target[1]}
    except (ValueError, TypeError, OverflowError, ArithmeticError):
        return None
    return value


def common_type(types: list) -> tuple | None:
    """The type ARRAY[...] and MAP(...) coerce their elements to: the first non-NULL element's, widened to the
    widest number when that is a number, STRUCT fields merged (create_array.json "construct a list from compatible
    mismatching elements", create_map.json "create map from named tuples compatible mismatching types")."""
    known = [t for t in types if t]
    if not known:
        return None
    if known[0][0] == "STRUCT" and all(t[0] == "STRUCT" for t in known):
        merged: dict[str, tuple] = {}
        for t in known:
            for name, ft in t[1]:
                merged.setdefault(name, ft)
        return ("STRUCT", list(merged.items()))
    numbers = [t for t in known if t[0] in NUMERIC]
    if known[0][0] in NUMERIC:
        widest = max(numbers, key=lambda t: NUMERIC.index(t[0]))
        if widest[0] == "DECIMAL":  # DecimalUtil.widen: room for the most integer digits and the largest scale
            ps = [t[1:] if t[0] == "DECIMAL" else (19, 0) if t[0] == "BIGINT" else (10, 0) for t in numbers]
            scale = max(s for _, s in ps)
            return ("DECIMAL", max(p - s for p, s in ps) + scale, scale)
        return widest
    return known[0]


def coerce_to(value: Any, target: tuple | None, source: tuple | None) -> Any:
    if target is None or source == target:
        return value
    return cast(value, target, source)

