"""ksqlDB's aggregate functions as (initial, add, undo, merge, result) over JSON-able states: `undo` retracts a
table row that left the group (only the functions ksqlDB allows over tables have one), `merge` joins two session
windows' aggregates."""

from __future__ import annotations

import decimal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from brook.sql.casts import WIDE  # BigDecimal's add: every digit (Python's default context keeps 28)

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


class KsqlFunctionException(Exception):  # noqa: N818 - ksqlDB's name
    """A function's failure that stops the query, as ksqlDB's KsqlFunctionException out of an aggregate does (the
    stream thread dies, the query goes to ERROR); not one of streams.ERRORS, which skip the record."""


def decimal_sum(precision: int, scale: int) -> Udaf:
    """SUM of a DECIMAL(p, s): of the same type, the query failing when a sum does not fit (ksqlDB's
    DecimalSumKudaf; sum.json "sum decimal with overflow")."""
    digits = precision - scale
    zero = decimal.Decimal(0).scaleb(-scale)

    def add(s: decimal.Decimal, v: decimal.Decimal) -> decimal.Decimal:
        total = WIDE.add(s, v)
        if total.copy_abs() >= 10 ** digits:
            raise KsqlFunctionException(
                f"Numeric field overflow: A field with precision {precision} and scale {scale} must round to an "
                f"absolute value less than 10^{digits}. Got {total:.{scale}f}")
        return total
    return Udaf(lambda: zero, add, WIDE.add, undo=WIDE.subtract)


def _plus(a: Any, b: Any) -> Any:
    return WIDE.add(a, b) if isinstance(a, decimal.Decimal) or isinstance(b, decimal.Decimal) else a + b


def _sum_list(s: Any, values: list) -> Any:
    for x in values:
        if x is not None:
            s = _plus(s, x)
    return s


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


def _top(k: int, distinct: bool, columns: int) -> Udaf:
    # TOPK(col, other..., k) keeps [sort value, other values...]: ordered by the sort value only, a tie after the
    # entries already there (ksqlDB's TopkKudaf keeps its list stable)
    def add(state: list, v: Any) -> list:
        if distinct and v in state:
            return state
        return sorted([*state, v], key=lambda e: e[0], reverse=True)[:k]

    def merge(a: list, b: list) -> list:
        items = a + [x for x in b if not distinct or x not in a]
        return sorted(items, key=lambda e: e[0], reverse=True)[:k]
    if columns == 1:
        return Udaf(list, add, merge, lambda s: [e[0] for e in s])
    return Udaf(list, add, merge, lambda s: [{"sort_col": e[0], **{f"col{i}": x for i, x in enumerate(e[1:])}}
                                             for e in s])


def _by_offset(latest: bool, params: list) -> Udaf:
    """LATEST_BY_OFFSET / EARLIEST_BY_OFFSET(col [, n] [, ignoreNulls]): the state is [offset, value] pairs in
    offset order, the last (first) n of them; a NULL joins them unless ignored (the default)."""
    n = next((int(p) for p in params if not isinstance(p, bool)), 1)
    ignore_nulls = next((p for p in params if isinstance(p, bool)), True)
    listed = any(not isinstance(p, bool) for p in params)

    def keep(items: list) -> list:
        items = sorted(items, key=lambda e: e[0])
        return items[-n:] if latest else items[:n]

    def add(state: list, v: list) -> list:
        if v[1] is None and ignore_nulls:
            return state
        return keep([*state, v])

    def result(state: list) -> Any:
        if listed:
            return [v for _, v in state]
        return state[0][1] if state else None
    return Udaf(list, add, lambda a, b: keep(a + b), result=result, skip_nulls=False)


def _collect(distinct: bool, limit: int) -> Udaf:
    def add(s: list, v: Any) -> list:
        return s if len(s) >= limit or distinct and v in s else [*s, v]

    def merge(a: list, b: list) -> list:
        return (a + [x for x in b if not distinct or x not in a])[:limit]
    return Udaf(list, add, merge, undo=_minus_first, skip_nulls=False)


def _avg_result(s: list) -> float | None:
    return s[0] / s[1] if s[1] else None


# each made from the literal parameters and the number of column arguments
UDAFS: dict[str, Callable[[list, int], Udaf]] = {
    "COUNT": lambda *_: Udaf(lambda: 0, lambda s, v: s + 1, lambda a, b: a + b, undo=lambda s, v: s - 1),
    "SUM": lambda *_: Udaf(lambda: 0, lambda s, v: s + v, lambda a, b: a + b, undo=lambda s, v: s - v),
    "AVG": lambda *_: Udaf(lambda: [0, 0], lambda s, v: [s[0] + v, s[1] + 1], lambda a, b: [a[0] + b[0], a[1] + b[1]],
                          _avg_result, lambda s, v: [s[0] - v, s[1] - 1]),
    "MIN": lambda *_: Udaf(lambda: None, lambda s, v: v if s is None or v < s else s,
                          lambda a, b: b if a is None else a if b is None else min(a, b)),
    "MAX": lambda *_: Udaf(lambda: None, lambda s, v: v if s is None or v > s else s,
                          lambda a, b: b if a is None else a if b is None else max(a, b)),
    "LATEST_BY_OFFSET": lambda params, _: _by_offset(True, params),
    "EARLIEST_BY_OFFSET": lambda params, _: _by_offset(False, params),
    # NULL is collected too (ksqlDB's CollectListUdaf / CollectSetUdaf); the limit is a query property
    "COLLECT_LIST": lambda params, _: _collect(False, int(params[0]) if params else LIMIT),
    "COLLECT_SET": lambda params, _: _collect(True, int(params[0]) if params else LIMIT),
    "SUM_LIST": lambda *_: Udaf(lambda: 0, _sum_list, _plus),
    "HISTOGRAM": lambda *_: Udaf(dict, _histogram_add, _merge_histograms, undo=_histogram_undo),
    "COUNT_DISTINCT": lambda *_: Udaf(list, lambda s, v: s if v in s else [*s, v],
                                     lambda a, b: a + [x for x in b if x not in a], result=len),
    "TOPK": lambda params, columns: _top(int(params[-1]), False, columns),
    "TOPKDISTINCT": lambda params, columns: _top(int(params[-1]), True, columns),
}
# the functions ksqlDB can apply to a table source (they undo a row that leaves its group)
TABLE_UDAFS = ("COUNT", "SUM", "AVG", "COLLECT_LIST", "COLLECT_SET", "HISTOGRAM")
# the functions whose limit is a property (ksql.functions.<name>.limit)
LIMITED = ("COLLECT_LIST", "COLLECT_SET")
# the functions whose intermediate state is a STRUCT, ARRAY or MAP (ksqlDB refuses them over DELIMITED)
STRUCTURED_STATE = ("AVG", "TOPK", "TOPKDISTINCT", "COLLECT_LIST", "COLLECT_SET", "HISTOGRAM", "LATEST_BY_OFFSET",
                    "EARLIEST_BY_OFFSET", "COUNT_DISTINCT")


def signature(name: str, args: list) -> tuple[list | None, list]:
    """A call's column arguments and its literal parameters; (None, []) for a number of arguments the function
    does not take.  TOPK(col, other..., k), LATEST_BY_OFFSET / EARLIEST_BY_OFFSET(col [, n] [, ignoreNulls])."""
    if name == "TOPK" and len(args) >= 2:
        return args[:-1], args[-1:]
    if name == "TOPKDISTINCT" and len(args) == 2:
        return args[:1], args[1:]
    if name in ("LATEST_BY_OFFSET", "EARLIEST_BY_OFFSET") and 1 <= len(args) <= 3:
        return args[:1], args[1:]
    if name not in ("TOPK", "TOPKDISTINCT") and len(args) == 1:
        return args, []
    return None, []


def result_type(name: str, types: list, params: list) -> tuple:
    arg = types[0] if types else None
    if name in ("COUNT", "COUNT_DISTINCT"):
        return ("BIGINT",)
    if name == "AVG":
        return ("DOUBLE",)
    if name in ("TOPK", "TOPKDISTINCT") and len(types) > 1:
        return ("ARRAY", ("STRUCT", [("sort_col", arg or ("STRING",))]
                          + [(f"col{i}", t or ("STRING",)) for i, t in enumerate(types[1:])]))
    if name in ("COLLECT_LIST", "COLLECT_SET", "TOPK", "TOPKDISTINCT"):
        return ("ARRAY", arg or ("STRING",))
    if name in ("LATEST_BY_OFFSET", "EARLIEST_BY_OFFSET") and any(not isinstance(p, bool) for p in params):
        return ("ARRAY", arg or ("STRING",))
    if name == "SUM_LIST":
        return arg[1] if arg and arg[0] == "ARRAY" else ("DOUBLE",)
    if name == "HISTOGRAM":
        return ("MAP", ("STRING",), ("BIGINT",))
    return arg or ("STRING",)
