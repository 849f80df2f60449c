"""JSON text with Decimals as exact numbers, as Jackson writes a BigDecimal (`1.50`, all 38 digits), and JSON read
with its fractional numbers as Decimals (Jackson's USE_BIG_DECIMAL_FOR_FLOATS): the standard encoder for the common
case, a small recursive writer only for a value that holds a Decimal."""

from __future__ import annotations

import decimal
import json
from collections.abc import Callable
from typing import Any


class _HoldsDecimal(Exception):
    pass


def _no_fallback(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(value: Any, ensure_ascii: bool = True, allow_nan: bool = True, sort_keys: bool = False,
          fallback: Callable[[Any], Any] = _no_fallback, separators: tuple[str, str] = (",", ":")) -> str:
    """JSON text; a Decimal as a number with its digits (BigDecimal.toString's text, a valid JSON number)."""
    def first(v: Any) -> Any:
        if isinstance(v, decimal.Decimal):
            raise _HoldsDecimal
        return fallback(v)
    try:
        return json.dumps(value, separators=separators, ensure_ascii=ensure_ascii, allow_nan=allow_nan,
                          sort_keys=sort_keys, default=first)
    except _HoldsDecimal:
        pass
    item, key = separators

    def write(v: Any) -> str:
        if isinstance(v, decimal.Decimal):
            if not v.is_finite():
                raise ValueError(f"{v} is not a JSON number")
            return str(v)
        if isinstance(v, dict):
            pairs = sorted(v.items()) if sort_keys else v.items()
            return "{" + item.join(write(str(k)) + key + write(x) for k, x in pairs) + "}"
        if isinstance(v, (list, tuple)):
            return "[" + item.join(write(x) for x in v) + "]"
        return json.dumps(v, ensure_ascii=ensure_ascii, allow_nan=allow_nan, default=fallback)
    return write(value)


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=decimal.Decimal)
