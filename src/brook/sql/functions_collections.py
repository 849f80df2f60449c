"""ksqlDB's array and map functions, the lambda functions TRANSFORM, FILTER and REDUCE (their lambdas arrive as
Python callables: expressions.Compiler builds them), and the table functions EXPLODE and CUBE_EXPLODE.  Expected
values follow ksqlDB's functional tests (query-validation-tests/array-set-functions.json, array-min-max-sort.json,
arrayjoin.json, slice.json, cube.json, transform-array.json, filter.json, reduce-array.json, reduce-map.json)."""

from __future__ import annotations

from typing import Any

from brook.sql.functions_base import (
    ARRAY,
    BOOLEAN,
    INTEGER,
    LAMBDA,
    MAP,
    STRING,
    TABLE,
    Fn,
    element,
    first,
    nulls,
)


def _distinct(values: list) -> list:
    out: list = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def _either(fn: Any) -> Any:
    # ARRAY_CONCAT and MAP_UNION: NULL only when both are; a NULL side counts as empty
    def wrapped(a: Any, b: Any) -> Any:
        if a is None and b is None:
            return None
        return fn(a if a is not None else type(b)(), b if b is not None else type(a)())
    return wrapped


def _java_str(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _array_join(arr: list | None, delimiter: str | None = ",") -> str | None:
    # arrayjoin.json: NULL elements print as 'null', a NULL delimiter joins with nothing
    if arr is None:
        return None
    return (delimiter or "").join(_java_str(v) for v in arr)


def _sorted(arr: list | None, direction: str = "ASC") -> list | None:
    # array-min-max-sort.json "array_sort_desc": NULLs go last in both directions
    if arr is None:
        return None
    if direction.upper() not in ("ASC", "DESC"):
        return None
    values = sorted((v for v in arr if v is not None), reverse=direction.upper() == "DESC")
    return values + [None] * (len(arr) - len(values))


def _extreme(pick: Any) -> Any:
    return nulls(lambda arr: pick((v for v in arr if v is not None), default=None))


def _slice(arr: list | None, start: int | None, end: int | None) -> list | None:
    if arr is None:
        return None
    lo = 0 if start is None else max(start - 1, 0)
    hi = len(arr) if end is None else min(end, len(arr))
    return arr[lo:hi]


def _generate_series(start: int, end: int, step: int | None = None) -> list:
    # array.json "GENERATE_SERIES": without a step the series counts down when end < start
    step = step if step is not None else (1 if end >= start else -1)
    if step == 0:
        raise ValueError("GENERATE_SERIES step cannot be zero")
    if (end - start > 0 and step < 0) or (end - start < 0 and step > 0):
        raise ValueError("GENERATE_SERIES step has wrong sign")
    return list(range(start, end + (1 if step > 0 else -1), step))


def _entries(m: dict | None, sort: bool | None) -> list | None:
    if m is None or sort is None:
        return None
    keys = sorted(m) if sort else list(m)
    return [{"K": k, "V": m[k]} for k in keys]


def _as_map(keys: list | None, values: list | None) -> dict | None:
    if keys is None or values is None:
        return None
    return {k: values[i] if i < len(values) else None for i, k in enumerate(keys)}


def _cube(arr: list | None) -> list:
    # cube.json: every combination of kept and NULLed columns, in binary order, each combination once
    if arr is None:
        return []
    out: list = []
    n = len(arr)
    for mask in range(1 << n):
        row = [arr[i] if mask >> (n - 1 - i) & 1 else None for i in range(n)]
        if row not in out:
            out.append(row)
    return out


def _transform(coll: Any, fn: Any, value_fn: Any = None) -> Any:
    if coll is None:
        return None
    if isinstance(coll, dict):
        out = {fn(k, v): value_fn(k, v) for k, v in coll.items()}
        if len(out) < len(coll):  # transform-map.json "transformed map with duplicate keys": the call fails
            raise ValueError("TRANSFORM gave a map two equal keys")
        return out
    return [fn(x) for x in coll]


def _filter(coll: Any, fn: Any) -> Any:
    if coll is None:
        return None
    if isinstance(coll, dict):
        return {k: v for k, v in coll.items() if fn(k, v) is True}
    return [x for x in coll if fn(x) is True]


def _reduce(coll: Any, state: Any, fn: Any) -> Any:
    # reduce-array.json "reduce an array with null initial state": a NULL state gives NULL; "reduce an array": a
    # NULL collection gives the initial state
    if state is None:
        return None
    if coll is None:
        return state
    if isinstance(coll, dict):
        for k, v in coll.items():
            state = fn(state, k, v)
    else:
        for x in coll:
            state = fn(state, x)
    return state


def _map_part(index: int) -> Any:
    return lambda t: ("ARRAY", t[0][index]) if t[0] and t[0][0] == "MAP" else None


def _entries_type(t: list) -> tuple | None:
    if not t[0] or t[0][0] != "MAP":
        return None
    return ("ARRAY", ("STRUCT", [("K", STRING), ("V", t[0][2])]))


A = ("ARRAY",)
FUNCTIONS: dict[str, Fn] = {
    "ARRAY_CONCAT": Fn(_either(lambda a, b: a + b), first, (2, 2), ARRAY, ("ARRAY", "ARRAY")),
    "ARRAY_CONTAINS": Fn(lambda a, v: a is not None and v in a, BOOLEAN, (2, 2), ARRAY, A),
    "ARRAY_DISTINCT": Fn(nulls(_distinct), first, (1, 1), ARRAY, A),
    "ARRAY_EXCEPT": Fn(nulls(lambda a, b: [v for v in _distinct(a) if v not in b]), first, (2, 2), ARRAY,
                       ("ARRAY", "ARRAY")),
    "ARRAY_INTERSECT": Fn(nulls(lambda a, b: [v for v in _distinct(a) if v in b]), first, (2, 2), ARRAY,
                          ("ARRAY", "ARRAY")),
    "ARRAY_JOIN": Fn(_array_join, STRING, (1, 2), ARRAY, ("ARRAY", "STRING")),
    "ARRAY_LENGTH": Fn(nulls(len), INTEGER, (1, 1), ARRAY, A),
    "ARRAY_MAX": Fn(_extreme(max), lambda t: element(t[0]), (1, 1), ARRAY, A),
    "ARRAY_MIN": Fn(_extreme(min), lambda t: element(t[0]), (1, 1), ARRAY, A),
    "ARRAY_REMOVE": Fn(lambda a, v: None if a is None else [x for x in a if x != v], first, (2, 2), ARRAY, A),
    "ARRAY_SORT": Fn(_sorted, first, (1, 2), ARRAY, ("ARRAY", "STRING")),
    "ARRAY_UNION": Fn(nulls(lambda a, b: _distinct(a + b)), first, (2, 2), ARRAY, ("ARRAY", "ARRAY")),
    "GENERATE_SERIES": Fn(nulls(_generate_series), lambda t: ("ARRAY", t[0] or INTEGER), (2, 3), ARRAY,
                          ("INTEGER", "INTEGER", "INTEGER")),
    "SLICE": Fn(_slice, first, (3, 3), ARRAY, ("ARRAY", "INTEGER", "INTEGER")),
    "ENTRIES": Fn(_entries, _entries_type, (2, 2), MAP, ("MAP", "BOOLEAN")),
    "AS_MAP": Fn(_as_map, lambda t: ("MAP", element(t[0]) or STRING, element(t[1])), (2, 2), MAP,
                 ("ARRAY", "ARRAY")),
    "MAP_KEYS": Fn(nulls(list), _map_part(1), (1, 1), MAP, ("MAP",)),
    "MAP_VALUES": Fn(nulls(lambda m: list(m.values())), _map_part(2), (1, 1), MAP, ("MAP",)),
    "MAP_UNION": Fn(_either(lambda a, b: {**a, **b}), first, (2, 2), MAP, ("MAP", "MAP")),
    # the lambda functions' result types depend on their lambdas' bodies: expressions.Compiler works them out
    "TRANSFORM": Fn(_transform, None, (2, 3), LAMBDA),
    "FILTER": Fn(_filter, None, (2, 2), LAMBDA),
    "REDUCE": Fn(_reduce, None, (3, 3), LAMBDA),
    # table functions: the projection makes one row per element (queries.Plan.apply_all)
    "EXPLODE": Fn(lambda a: a, lambda t: element(t[0]), (1, 1), TABLE, A),
    "CUBE_EXPLODE": Fn(_cube, first, (1, 1), TABLE, A),
}
TABLE_FUNCTIONS = ("EXPLODE", "CUBE_EXPLODE")
LAMBDA_FUNCTIONS = ("TRANSFORM", "FILTER", "REDUCE")
