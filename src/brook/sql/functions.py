"""The one registry of ksqlDB's scalar and table functions (grouped by kind in functions_math, functions_string,
functions_datetime, functions_json and functions_collections), their argument checks and return types, and the
operators' helpers (division, modulo, subscripts, CAST)."""

from __future__ import annotations

import math
from typing import Any

from brook.sql import casts, functions_collections, functions_datetime, functions_json, functions_math, functions_string
from brook.sql.functions_base import NUMERIC, Fn, reject

AGGREGATES = ("COUNT", "SUM", "AVG", "MIN", "MAX", "LATEST_BY_OFFSET", "EARLIEST_BY_OFFSET", "COLLECT_LIST",
              "COLLECT_SET", "TOPK", "TOPKDISTINCT", "HISTOGRAM", "COUNT_DISTINCT", "SUM_LIST")
TABLE_FUNCTIONS = functions_collections.TABLE_FUNCTIONS
LAMBDA_FUNCTIONS = functions_collections.LAMBDA_FUNCTIONS
UNIT_FUNCTIONS = functions_datetime.UNIT_FUNCTIONS
TIME_UNITS = functions_datetime.UNITS

SCALARS: dict[str, Fn] = {}
for _module in (functions_math, functions_string, functions_datetime, functions_json, functions_collections):
    SCALARS.update(_module.FUNCTIONS)


def scalar(name: str) -> Fn | None:
    return SCALARS.get(name)


def _fits(kind: str | None, t: tuple | None) -> bool:
    if kind is None or t is None:
        return True
    if kind == "NUM":
        return t[0] in NUMERIC
    if kind == "INTEGER":
        return t[0] in ("INTEGER", "BIGINT")
    return t[0] == kind


def check(name: str, arg_types: list) -> Fn:
    """The function's entry once its arguments fit one of its signatures (ksqlDB's message otherwise)."""
    entry = SCALARS[name]
    low, high = entry.arity
    if not low <= len(arg_types) <= high or not all(_fits(k, t) for k, t in zip(entry.kinds, arg_types, strict=False)):
        raise reject(name, arg_types)
    return entry


def return_type(name: str, arg_types: list) -> tuple | None:
    if name not in SCALARS:
        return ("BIGINT",) if name == "COUNT" else (arg_types[0] if arg_types else None)
    entry = check(name, arg_types)
    return entry.result(arg_types) if callable(entry.result) else entry.result


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


def cast(value: Any, target: tuple, source: tuple | None = None) -> Any:
    return casts.cast(value, target, source)
