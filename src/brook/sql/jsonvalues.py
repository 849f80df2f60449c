"""JSON text of SQL values with DECIMALs as exact numbers (connect/exactjson.py) and BYTES as base64, as ksqlDB
writes them; which columns need their numbers read exactly."""

from __future__ import annotations

import base64
from typing import Any

from brook.connect import exactjson


def _fallback(value: Any) -> Any:
    if isinstance(value, bytes):  # BYTES as base64, as ksqlDB writes them in JSON
        return base64.b64encode(value).decode()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(value: Any, ensure_ascii: bool = True, allow_nan: bool = True, sort_keys: bool = False) -> str:
    """Compact JSON; a Decimal as a number with its digits (BigDecimal.toString's text, a valid JSON number)."""
    return exactjson.dumps(value, ensure_ascii=ensure_ascii, allow_nan=allow_nan, sort_keys=sort_keys,
                           fallback=_fallback)


def has_decimal(t: Any) -> bool:
    """Whether a type (or a list of (name, type) columns) holds a DECIMAL, for a reader to parse numbers exactly."""
    if isinstance(t, list):
        return any(has_decimal(ct) for _, ct in t)
    if not isinstance(t, tuple) or not t:
        return False
    if t[0] == "DECIMAL":
        return True
    if t[0] == "ARRAY":
        return has_decimal(t[1])
    if t[0] == "MAP":
        return has_decimal(t[2])
    if t[0] == "STRUCT":
        return any(has_decimal(ft) for _, ft in t[1])
    return False
