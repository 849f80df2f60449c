"""What every scalar-function module shares: the registry entry, SQL type constants, ksqlDB's categories and
its NULL rule (a NULL argument gives NULL unless the function documents otherwise)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

STRING, INTEGER, BIGINT, DOUBLE, BOOLEAN = ("STRING",), ("INTEGER",), ("BIGINT",), ("DOUBLE",), ("BOOLEAN",)
BYTES, DATE, TIME, TIMESTAMP = ("BYTES",), ("DATE",), ("TIME",), ("TIMESTAMP",)
NUMERIC = ("INTEGER", "BIGINT", "DECIMAL", "DOUBLE")

# ksqlDB's FunctionCategory names, as SHOW FUNCTIONS prints them
MATHEMATICAL, STRING_CAT, REGEX, JSON = "MATHEMATICAL", "STRING", "REGULAR EXPRESSION", "JSON"
DATE_TIME, ARRAY, MAP, URL, OTHER = "DATE / TIME", "ARRAY", "MAP", "URL", "OTHER"
TABLE, LAMBDA, CONVERSIONS, CONDITIONAL = "TABLE", "LAMBDA", "CONVERSIONS", "CONDITIONAL"


class Fn(NamedTuple):
    impl: Callable
    # a type tuple, or a function of the argument types (None for an untyped NULL) giving one
    result: Any
    arity: tuple[int, int]
    category: str
    # the kinds the leading arguments must have ("NUM" any numeric, "ARRAY", "MAP", a type name, None: any)
    kinds: tuple[str | None, ...] = ()
    # the implementation takes the argument types first (TO_JSON_STRING writes a DATE unlike an INT)
    typed: bool = False


def nulls(fn: Callable) -> Callable:
    def wrapped(*args: Any) -> Any:
        return None if any(a is None for a in args) else fn(*args)
    return wrapped


def reject(name: str, arg_types: list) -> Exception:
    """ksqlDB's error for arguments no signature of the function takes."""
    from brook.sql.expressions import SqlError
    from brook.sql.parser import type_str

    types = ", ".join(type_str(t) if t else "null" for t in arg_types)
    return SqlError(f"Function '{name}' does not accept parameters ({types}).")


def first(t: list) -> tuple | None:
    return t[0] if t else None


def same(t: list) -> tuple:
    return t[0] or DOUBLE


def element(t: tuple | None) -> tuple | None:
    return t[1] if t and t[0] == "ARRAY" else None


def widest(types: list) -> tuple | None:
    """The common numeric type of arguments (INTEGER < BIGINT < DECIMAL < DOUBLE), else the first known type."""
    known = [t for t in types if t]
    if known and all(t[0] in NUMERIC for t in known):
        return max(known, key=lambda t: NUMERIC.index(t[0]))
    return known[0] if known else None
