"""ksqlDB's aggregate functions as (initial, add, undo, merge, result) over JSON-able states: `undo` retracts a
table row that left the group (only the functions ksqlDB allows over tables have one), `merge` joins two session
windows' aggregates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# ksqlDB's defaults of ksql.functions.collect_list.limit, collect_set.limit and the histogram's 1000 entries
LIMIT = 1000


@dataclass(frozen=True)
class Udaf:
    initial: Callable[[], Any]
    add: Callable[[Any, Any], Any]
    merge: Callable[[Any, Any], Any]
    result: Callable[[Any], Any] = lambda s: s
    undo: Callable[[Any, Any], Any] | None = None
    skip_nulls: bool = True  # the value NULL leaves the state as it is


def _minus_first(items: list, value: Any) -> list:
    out = list(items)
    if value in out:
        out.remove(value)
    return out


def _histogram_add(h: dict, v: Any) -> dict:
    key = str(v)
    if key not in h and len(h) >= LIMIT:
        return h
    return {**h, key: h.get(key, 0) + 1}


def _histogram_undo(h: dict, v: Any) -> dict:
    key, out = str(v), dict(h)
    if key in out:
        out[key] -= 1
        if out[key] <= 0:
            del out[key]
    return out


def _merge_histograms(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, n in b.items():
        out[k] = out.get(k, 0) + n
    return out


def _top(k: int, distinct: bool) -> Udaf:
    def add(state: list, v: Any) -> list:
        if distinct and v in state:
            return state
        return sorted([*state, v], reverse=True)[:k]

    def merge(a: list, b: list) -> list:
        items = a + [x for x in b if not distinct or x not in a]
        return sorted(items, reverse=True)[:k]
    return Udaf(list, add, merge)


def _by_offset(latest: bool) -> Udaf:
    # the state is [offset of the value, value]: session merges keep the later (or earlier) one
    def add(state: list | None, v: list) -> list:
        if state is None:
            return v
        return v if (v[0] >= state[0]) == latest else state
    return Udaf(lambda: None, add, lambda a, b: b if a is None else add(a, b) if b is not None else a,
                result=lambda s: None if s is None else s[1])


def _avg_result(s: list) -> float | None:
    return s[0] / s[1] if s[1] else None


UDAFS: dict[str, Callable[[list], Udaf]] = {
    "COUNT": lambda _: Udaf(lambda: 0, lambda s, v: s + 1, lambda a, b: a + b, undo=lambda s, v: s - 1),
    "SUM": lambda _: Udaf(lambda: 0, lambda s, v: s + v, lambda a, b: a + b, undo=lambda s, v: s - v),
    "AVG": lambda _: Udaf(lambda: [0, 0], lambda s, v: [s[0] + v, s[1] + 1], lambda a, b: [a[0] + b[0], a[1] + b[1]],
                          _avg_result, lambda s, v: [s[0] - v, s[1] - 1]),
    "MIN": lambda _: Udaf(lambda: None, lambda s, v: v if s is None or v < s else s,
                          lambda a, b: b if a is None else a if b is None else min(a, b)),
    "MAX": lambda _: Udaf(lambda: None, lambda s, v: v if s is None or v > s else s,
                          lambda a, b: b if a is None else a if b is None else max(a, b)),
    "LATEST_BY_OFFSET": lambda _: _by_offset(True),
    "EARLIEST_BY_OFFSET": lambda _: _by_offset(False),
    "COLLECT_LIST": lambda _: Udaf(list, lambda s, v: s if len(s) >= LIMIT else [*s, v],
                                   lambda a, b: (a + b)[:LIMIT], undo=_minus_first),
    "COLLECT_SET": lambda _: Udaf(list, lambda s, v: s if v in s or len(s) >= LIMIT else [*s, v],
                                  lambda a, b: (a + [x for x in b if x not in a])[:LIMIT], undo=_minus_first),
    "HISTOGRAM": lambda _: Udaf(dict, _histogram_add, _merge_histograms, undo=_histogram_undo),
    "COUNT_DISTINCT": lambda _: Udaf(list, lambda s, v: s if v in s else [*s, v],
                                     lambda a, b: a + [x for x in b if x not in a], result=len),
    "TOPK": lambda args: _top(int(args[0]), False),
    "TOPKDISTINCT": lambda args: _top(int(args[0]), True),
}
# the functions ksqlDB can apply to a table source (they undo a row that leaves its group)
TABLE_UDAFS = ("COUNT", "SUM", "AVG", "COLLECT_LIST", "COLLECT_SET", "HISTOGRAM")
ARITY = {"TOPK": 2, "TOPKDISTINCT": 2}


def result_type(name: str, arg: tuple | None) -> tuple:
    if name in ("COUNT", "COUNT_DISTINCT"):
        return ("BIGINT",)
    if name == "AVG":
        return ("DOUBLE",)
    if name in ("COLLECT_LIST", "COLLECT_SET", "TOPK", "TOPKDISTINCT"):
        return ("ARRAY", arg or ("STRING",))
    if name == "HISTOGRAM":
        return ("MAP", ("STRING",), ("BIGINT",))
    return arg or ("STRING",)
