"""JSON text of SQL values with DECIMALs as exact numbers, as Jackson writes a BigDecimal (`1.50`, all 38 digits):
the standard encoder for the common case, a small recursive writer only for a value that holds a Decimal."""

from __future__ import annotations

import base64
import decimal
import json
from collections.abc import Callable
from typing import Any


class _HoldsDecimal(Exception):
    pass


def _fallback(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        raise _HoldsDecimal
    if isinstance(value, bytes):  # BYTES as base64, as ksqlDB writes them in JSON
        return base64.b64encode(value).decode()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(value: Any, ensure_ascii: bool = True, allow_nan: bool = True, sort_keys: bool = False,
          fallback: Callable[[Any], Any] = _fallback) -> str:
    """Compact JSON; a Decimal as a number with its digits (BigDecimal.toString's text, a valid JSON number)."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=ensure_ascii, allow_nan=allow_nan,
                          sort_keys=sort_keys, default=fallback)
    except _HoldsDecimal:
        pass

    def write(v: Any) -> str:
        if isinstance(v, decimal.Decimal):
            if not v.is_finite():
                raise ValueError(f"{v} is not a JSON number")
            return str(v)
        if isinstance(v, dict):
            items = sorted(v.items()) if sort_keys else v.items()
            return "{" + ",".join(write(str(k)) + ":" + write(x) for k, x in items) + "}"
        if isinstance(v, (list, tuple)):
            return "[" + ",".join(write(x) for x in v) + "]"
        return json.dumps(v, ensure_ascii=ensure_ascii, allow_nan=allow_nan, default=fallback)
    return write(value)


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
