"""WINDOW TUMBLING | HOPPING | SESSION as Kafka Streams assigns records to windows, and windowed keys as Kafka
Streams serializes them on a topic: the key's bytes then the window start (time windows) or the end and the start
(session windows), 8 bytes big-endian each."""

from __future__ import annotations

import dataclasses
import re
import struct
from dataclasses import dataclass
from typing import Any

UNITS = {"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}
# Kafka Streams' deprecated default grace period (24 hours), which ksqlDB 0.29 keeps less the window's size
DEFAULT_GRACE_MS = 86_400_000
_LONG = struct.Struct(">q")


def duration_ms(amount: int, unit: str) -> int:
    u = unit.upper()
    factor = UNITS.get(u[:-1] if u.endswith("S") else u)
    if factor is None:
        raise ValueError(f"Unknown time unit: {unit}. Valid values are: DAYS, HOURS, MINUTES, SECONDS, "
                         "MILLISECONDS.")
    return amount * factor


@dataclass(frozen=True)
class WindowSpec:
    kind: str  # TUMBLING | HOPPING | SESSION
    size: int  # SESSION: the inactivity gap
    advance: int = 0
    grace: int | None = None
    retention: int | None = None

    @property
    def grace_ms(self) -> int:
        """ksqlDB's default grace (none given): 24 hours less the window's size (a session's gap)."""
        return max(DEFAULT_GRACE_MS - self.size, 0) if self.grace is None else self.grace

    def final(self) -> WindowSpec:
        """The window of an EMIT FINAL aggregate: without a GRACE PERIOD, ksqlDB gives it none (its
        RewrittenAnalysis), so a window's row is written as soon as stream time reaches its end (suppress.json
        "should emit at window end if no grace period given")."""
        return self if self.grace is not None else dataclasses.replace(self, grace=0)

    @property
    def retention_ms(self) -> int:
        """How long a window stays in the store after it starts (Kafka Streams: size + grace by default)."""
        return self.retention if self.retention is not None else self.size + self.grace_ms

    @property
    def window_type(self) -> str:
        return "SESSION" if self.kind == "SESSION" else "TIME"

    def sql(self) -> str:
        def d(ms: int) -> str:
            return f"{ms} MILLISECONDS"
        parts = [d(self.size)] if self.kind == "SESSION" else [f"SIZE {d(self.size)}"]
        if self.kind == "HOPPING":
            parts.append(f"ADVANCE BY {d(self.advance)}")
        if self.retention is not None:
            parts.append(f"RETENTION {d(self.retention)}")
        if self.grace is not None:
            parts.append(f"GRACE PERIOD {d(self.grace)}")
        return f"{self.kind} ( {', '.join(parts)} )"

    def windows_for(self, ts: int) -> list[tuple[int, int]]:
        """The (start, end) of every time window holding `ts`, earliest first (Kafka Streams' TimeWindows: starts
        are multiples of the advance, none before 0)."""
        advance = self.advance if self.kind == "HOPPING" else self.size
        last = ts - ts % advance
        first = max(0, -(-(ts - self.size + 1) // advance) * advance)  # the first multiple past ts - size
        return [(s, s + self.size) for s in range(first, last + 1, advance)]

    def key(self, key: bytes, start: int, end: int) -> bytes:
        if self.kind == "SESSION":
            return key + _LONG.pack(end) + _LONG.pack(start)
        return key + _LONG.pack(start)

    def split_key(self, data: bytes) -> tuple[bytes, int, int]:
        """A windowed key as (the key's bytes, window start, window end)."""
        if self.kind == "SESSION":
            end, start = _LONG.unpack_from(data, len(data) - 16)[0], _LONG.unpack_from(data, len(data) - 8)[0]
            return data[:-16], start, end
        start = _LONG.unpack_from(data, len(data) - 8)[0]
        return data[:-8], start, start + self.size


_WINDOW_TYPES = ("SESSION", "HOPPING", "TUMBLING")


# java.util.concurrent.TimeUnit, which ksqlDB's DurationParser names units by: its nanoseconds per unit
_TIME_UNITS = {"NANOSECONDS": 1, "MICROSECONDS": 1_000, "MILLISECONDS": 1_000_000, "SECONDS": 1_000_000_000,
               "MINUTES": 60_000_000_000, "HOURS": 3_600_000_000_000, "DAYS": 86_400_000_000_000}


def parse_duration(text: str) -> int:
    """ksqlDB's DurationParser: `<number> <unit>` (`'1 HOUR'`, `'10 SECONDS'`) in milliseconds, with its
    messages."""
    parts = re.split(r"\s", text)
    while parts and not parts[-1]:  # Java's String.split drops trailing empty strings
        parts.pop()
    try:
        if len(parts) != 2:
            raise ValueError(f"Expected 2 tokens, got: {len(parts)}")
        if not re.fullmatch(r"[+-]?[0-9]+", parts[0]):
            raise ValueError(f"Not numeric: '{parts[0]}'")
        amount = int(parts[0])
        unit = parts[1].upper()
        nanos = _TIME_UNITS.get(unit if unit.endswith("S") else unit + "S")
        if nanos is None:
            raise ValueError(f"Unknown time unit: '{unit}'\nSupported time units are: {', '.join(_TIME_UNITS)}")
    except ValueError as e:
        raise ValueError(f"Invalid duration: '{text}'. {e}") from None
    return amount * nanos // 1_000_000


def source_window(props: dict) -> WindowSpec | None:
    """CREATE STREAM|TABLE ... WITH (WINDOW_TYPE=..., WINDOW_SIZE=...): a source whose keys are windowed, with
    ksqlDB's validation (CreateSourceProperties)."""
    raw = props.get("WINDOW_TYPE")
    size = props.get("WINDOW_SIZE")
    ms = 0
    if size is not None:  # ksqlDB validates the property as it reads the WITH clause
        try:
            ms = parse_duration(str(size))
        except ValueError as e:
            raise ValueError(f"Configuration WINDOW_SIZE is invalid: {e}") from None
    if raw is None:
        return None
    kind = str(raw).upper()
    if kind not in _WINDOW_TYPES:
        raise ValueError(f"Invalid value {raw} for property WINDOW_TYPE: String must be one of: "
                         f"{', '.join(_WINDOW_TYPES)}")
    if kind == "SESSION":
        if size is not None:
            raise ValueError("'WINDOW_SIZE' should not be set for SESSION windows.")
        return WindowSpec(kind, 0)
    if size is None:
        raise ValueError(f"{kind} windows require 'WINDOW_SIZE' to be provided in the WITH clause. For example: "
                         "'WINDOW_SIZE'='10 SECONDS'")
    return WindowSpec(kind, ms, ms if kind == "HOPPING" else 0)


def refuse_windowed_table(sources: dict, query: Any) -> None:
    """ksqlDB runs no persistent query over a windowed table (a source declared with WINDOW_TYPE, or a windowed
    aggregate's table)."""
    from brook.sql.expressions import SqlError  # expressions imports the parser, which imports this module

    for name in [query.source, *(j.source for j in query.joins)]:
        s = sources.get(name)
        if s is not None and s.kind == "TABLE" and s.window is not None:
            raise SqlError("KSQL does not support persistent queries on windowed tables.")


BOUNDS = ("WINDOWSTART", "WINDOWEND")


def check_bounds(query: Any, source_windowed: bool) -> None:
    """ksqlDB's rules for WINDOWSTART / WINDOWEND in a windowed aggregation (its AggregateAnalyzer): the window is
    not known before the aggregation, so the bounds are no column of the WHERE (unless the source is windowed),
    and may appear only in the SELECT, outside aggregate functions: not in their arguments, GROUP BY nor HAVING."""
    from brook.sql.expressions import SqlError, column_refs, expr_text, rewrite
    from brook.sql.functions import AGGREGATES

    if query.window is None:
        return

    def bounds(e: Any) -> list[tuple]:
        return [c for c in column_refs(e) if c[2] in BOUNDS]

    if query.where is not None and not source_windowed and (found := bounds(query.where)):
        raise SqlError(f"Error in WHERE expression: Unknown column {found[0][2]}.")
    calls: list[tuple] = []

    def visit(e: Any) -> Any:
        if isinstance(e, tuple) and e[:1] == ("call",) and e[1] in AGGREGATES:
            calls.append(e)
            return e  # an aggregate's arguments are its own
        return None

    for item in query.items:
        if item[0] == "expr":
            rewrite(item[1], visit)
    found = [b for c in calls for b in bounds(c[2])]
    if query.where is not None:
        found += bounds(query.where)
    found += bounds(query.group_by or [])
    if query.having is not None:
        found += bounds(query.having)
    if found:
        raise SqlError(f"Window bounds column {expr_text(found[0])} can only be used in the SELECT clause of "
                       "windowed aggregations and can not be passed to aggregate functions.\n"
                       "See https://github.com/confluentinc/ksql/issues/4397")


def session_expired(window: WindowSpec, end: int, stream_time: int) -> bool:
    """A session past the store's retention (gap + grace unless RETENTION is given): Kafka Streams' session store
    no longer finds it, so a later record starts a new session instead of merging with it
    (session-windows.json "out of order - explicit grace period")."""
    return end <= stream_time - window.retention_ms


_PARTIAL = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?)?)?)?"
                      r"(Z|[+-]\d{2}:?\d{2})?")


def partial_timestamp(text: str) -> int | None:
    """A text timestamp as a pull query's window bounds take it (ksqlDB's PartialStringToTimestampParser):
    `yyyy[-MM[-dd[THH[:mm[:ss[.SSS]]]]]]` with an optional zone (`Z`, `+hhmm`, `-hh:mm`; UTC by default), the parts
    left out at their lowest; hour 24 is the next day's midnight. None when it is no such text."""
    import calendar

    m = _PARTIAL.fullmatch(text.strip())
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(g) if g else d for g, d in zip(m.groups()[:6], (0, 1, 1, 0, 0, 0),
                                                                                strict=True))
    millis = int((m.group(7) or "0").ljust(3, "0"))
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1] and hour <= 24 and minute < 60
            and second < 60):
        return None
    ms = (calendar.timegm((year, month, day, 0, 0, 0)) + hour * 3600 + minute * 60 + second) * 1000 + millis
    zone = m.group(8)
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        offset = (int(digits[:2]) * 60 + int(digits[2:])) * 60_000
        ms -= offset if zone[0] == "+" else -offset
    return ms


def text_bounds(where: Any) -> Any:
    """A windowed table's pull query compares WINDOWSTART / WINDOWEND with text timestamps as with their epoch
    milliseconds (pull-queries-against-materialized-aggregates.json "text datetime window bounds")."""
    from brook.sql.expressions import rewrite

    def literal(e: Any) -> Any:
        if isinstance(e, tuple) and e[:1] == ("lit",) and e[2] == ("STRING",):
            ms = partial_timestamp(e[1])
            return ("lit", ms, ("BIGINT",)) if ms is not None else e
        return e

    def visit(e: Any) -> Any:
        if isinstance(e, tuple) and e[:1] == ("cmp",) and len(e) == 4:
            a, b = e[2], e[3]
            if isinstance(a, tuple) and a[:1] == ("col",) and a[2] in BOUNDS:
                return (*e[:3], literal(b))
            if isinstance(b, tuple) and b[:1] == ("col",) and b[2] in BOUNDS:
                return (e[0], e[1], literal(a), b)
        return None

    return rewrite(where, visit) if where is not None else None
