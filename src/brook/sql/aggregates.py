"""CREATE TABLE AS SELECT ... [WINDOW ...] GROUP BY ... [HAVING ...]: aggregates kept per group (and window) in a
RocksDB store backed by ksqlDB's changelog topic.  A table source's changes retract: the old row leaves its group
(the aggregate's undo) before the new row joins its group.  Windows follow Kafka Streams: records later than the
grace period are dropped, sessions merge, EMIT FINAL holds a window's row until stream time closes it."""

from __future__ import annotations

import heapq
import logging
from typing import Any

from brook.sql import formats, stores
from brook.sql.expressions import (
    Compiler,
    SqlError,
    check_columns,
    columns_of,
    expr_text,
    generated_names,
    rewrite,
    unqualified,
)
from brook.sql.functions import AGGREGATES, TABLE_FUNCTIONS
from brook.sql.parser import Query
from brook.sql.queries import PSEUDO, Source, columns_schema
from brook.sql.streams import ERRORS, SOURCE_STORE, Output, Topology, decode_change
from brook.sql.udafs import LIMIT, LIMITED, STRUCTURED_STATE, TABLE_UDAFS, UDAFS, decimal_sum, result_type, signature
from brook.sql.windows import check_bounds, session_expired

log = logging.getLogger("processing")
STORE = "Aggregate-Aggregate-Materialize"
WINDOW_BOUNDS = {"WINDOWSTART": ("BIGINT",), "WINDOWEND": ("BIGINT",)}


class AggregateTopology(Topology):
    def __init__(self, query: Query, source: Source, key_format: str, app_id: str,
                 key_exprs: list | None = None, properties: dict | None = None) -> None:
        if query.having is not None and not query.group_by:
            raise SqlError("HAVING requires GROUP BY")
        if any(i[0] == "expr" and i[1][0] == "call" and i[1][1] in TABLE_FUNCTIONS for i in query.items):
            raise SqlError("Table functions cannot be used with aggregations.")  # ksqlDB's Analyzer
        check_bounds(query, source.window is not None)
        self.source = source
        self.table_source = source.kind == "TABLE"
        self.value_format = source.value_format  # the aggregate's state is written in it (ksqlDB's internal format)
        props = properties or {}
        # ksql.functions.collect_list.limit / collect_set.limit (a query's properties, then the server's)
        self.collect_limits = {n: int(props[f"ksql.functions.{n.lower()}.limit"]) for n in LIMITED
                               if props.get(f"ksql.functions.{n.lower()}.limit") is not None}
        self.window = query.window
        self.emit_final = query.emit == "FINAL"
        if self.emit_final and self.window is not None:
            self.window = self.window.final()
        if self.window is not None and self.table_source:
            raise SqlError("Windowing not supported for table aggregations.")
        if self.emit_final and self.window is None:
            raise SqlError("EMIT FINAL is only supported for windowed aggregations.")
        scope = {**PSEUDO, **{n: t for n, t, _ in source.columns}}
        if self.window is not None:
            scope.update(WINDOW_BOUNDS)
        self.compiler = Compiler(scope, query.alias, source.name)
        check_columns(self.compiler, query)
        self.where = self.compiler.compile_filter(unqualified(query.where), "WHERE") \
            if query.where is not None else None
        groups = [unqualified(g) for g in query.group_by or []]
        self.group_fns = [self.compiler.compile(g) for g in groups]
        self.aggs: list[tuple[str, Any, bool, Any]] = []  # (name, argument closure, COUNT(*), Udaf)
        calls: list[Any] = []
        out_scope: dict[str, tuple] = dict(WINDOW_BOUNDS) if self.window else {}

        def replace(e: Any) -> Any:
            if not isinstance(e, tuple) or not e or not isinstance(e[0], str):
                return None
            if e in groups:
                return ("col", None, f"KSQL_GRP_{groups.index(e)}")
            if e[0] == "call" and e[1] in AGGREGATES:
                if e not in calls:
                    calls.append(e)
                    self._add_aggregate(e, len(calls) - 1, out_scope)
                return ("col", None, f"KSQL_AGG_VARIABLE_{calls.index(e)}")
            return None

        for i, g in enumerate(groups):
            out_scope[f"KSQL_GRP_{i}"] = self.compiler.type_of(g) or ("STRING",)
        key_names: list[str | None] = [g[2] if g[0] == "col" else None for g in groups]
        self.columns: list[tuple[str, tuple | None, bool]] = []
        value_exprs: list[tuple[str, Any]] = []
        bad: list[str] = []
        generated = generated_names(query.items)
        selected: list[int | str] = []  # the SELECT's columns in order: a group's index or a value's name
        for index, item in enumerate(query.items):
            if item[0] != "expr":
                raise SqlError("SELECT * is not supported with GROUP BY: name the key and the aggregates.")
            expr, alias = unqualified(item[1]), item[2]
            if expr in groups:
                i = groups.index(expr)
                # a struct field (`ADDRESS->TOWN`) is named after the field (group-by.json "struct field")
                key_names[i] = alias or key_names[i] or (expr[2] if expr[0] == "deref" else generated[index])
                selected.append(i)
                continue
            if expr[0] == "col" and expr[2] in WINDOW_BOUNDS and self.window is not None:
                value_exprs.append((alias or expr[2], expr))
                selected.append(value_exprs[-1][0])
                continue
            replaced = rewrite(expr, replace)
            stray = columns_of(replaced) - set(out_scope) - set(WINDOW_BOUNDS)
            if stray:
                bad.append(expr_text(item[1]))
            value_exprs.append((alias or (expr[2] if expr[0] == "col" else generated[index]), replaced))
            selected.append(value_exprs[-1][0])
        having = rewrite(unqualified(query.having), replace) if query.having is not None else None
        if not calls:
            raise SqlError("GROUP BY requires aggregate functions in either the SELECT or HAVING clause.")
        if bad:
            raise SqlError(f"Non-aggregate SELECT expression(s) not part of GROUP BY: {', '.join(bad)}")
        not_table = [n for n, _, _, _ in self.aggs if n not in TABLE_UDAFS]
        if self.table_source and not_table:
            names = sorted(set(not_table), key=not_table.index)
            listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            raise SqlError(f"The aggregation function{'s' if len(names) > 1 else ''} {listed} cannot be applied "
                           "to a table source, only to a stream source.")
        self.key_columns = [(key_names[i] or f"KSQL_COL_{len(generated) + i}",
                             self.compiler.type_of(g) or ("STRING",)) for i, g in enumerate(groups)]
        out = Compiler(out_scope)
        self.key_names = [n for n, _ in self.key_columns]
        self.columns = [(n, t, True) for n, t in self.key_columns]
        self.value_fns = []
        for name, e in value_exprs:
            if any(name == c[0] for c in self.columns):
                raise SqlError(f"Duplicate value columns found in schema: `{name}`")
            self.columns.append((name, out.select_type(e), False))
            self.value_fns.append((name, out.compile(e)))
        # HAVING's messages name the aggregates and groups it reads (`SUM(VALUE)`), not their columns
        out.display = {**{f"KSQL_AGG_VARIABLE_{i}": c for i, c in enumerate(calls)},
                       **{f"KSQL_GRP_{i}": g for i, g in enumerate(groups)}}
        self.having = out.compile_filter(having, "HAVING") if having is not None else None
        # a push query's columns (ksqlDB streams the SELECT's columns, the key only when selected)
        by_name = {c[0]: c for c in self.columns}
        self.projection = [by_name[self.key_names[x] if isinstance(x, int) else x] for x in selected]
        self.store_names = (STORE, SOURCE_STORE) if self.table_source else (STORE,)
        self.key_format = key_format
        self.encode_key: Any = None  # set by the engine to the sink's encode_key
        # key_exprs: what equals the key of a joined row (either side's join expression)
        by_key = groups == [("col", None, n) for n, _ in source.key_columns] or (
            key_exprs is not None and len(groups) == 1 and groups[0] in key_exprs)
        # KTable.groupBy always re-keys; a stream grouped by exactly its key needs no repartition
        self.repartition = None if by_key and not self.table_source else f"{app_id}-Aggregate-GroupBy-repartition"
        self.stream_time: dict[int, int] = {}
        self.timers: dict[int, list[tuple[int, int, bytes]]] = {}  # partition -> heap of (when, what, store key)

    def _add_aggregate(self, call: tuple, index: int, out_scope: dict) -> None:
        name, args = call[1], call[2]
        if name not in UDAFS:
            raise SqlError(f"The aggregate function {name} is not yet supported by Brook's SQL engine.")
        star = not args or args[0][0] == "star"  # COUNT() counts rows as COUNT(*) does (count.json "count")
        columns, params = ([], []) if star and len(args) <= 1 else signature(name, args)
        if columns is None or not args and name != "COUNT":
            raise SqlError(f"Function '{name}' does not accept parameters of this number.")
        if any(a[0] != "lit" for a in params):
            raise SqlError(f"The second parameter of {name} must be a literal.")
        literals = [a[1] for a in params]
        if name in LIMITED and not literals:
            literals = [self.collect_limits.get(name, LIMIT)]
        types = [] if star else [self.compiler.type_of(c) for c in columns]
        fns = [] if star else [self.compiler.compile(c) for c in columns]
        fn: Any = fns[0] if fns else None
        if name in ("TOPK", "TOPKDISTINCT"):  # the extra columns travel with the sort value: [sort, other...]
            def fn(row: dict, fns: list = fns) -> list:
                return [f(row) for f in fns]
        udaf = UDAFS[name](literals, len(columns))
        if name == "SUM" and types and types[0] and types[0][0] == "DECIMAL":
            udaf = decimal_sum(types[0][1], types[0][2])
        if name == "AVG" and types and types[0] and types[0][0] == "DECIMAL":  # AverageUdaf's averageDouble
            def fn(row: dict, f: Any = fn) -> Any:
                return None if (v := f(row)) is None else float(v)
        if self.value_format == "DELIMITED" and name in STRUCTURED_STATE:
            raise SqlError("One of the functions used in the statement has an intermediate type that the value "
                           "format can not handle. Please remove the function or change the format.")
        self.aggs.append((name, fn, star, udaf))
        out_scope[f"KSQL_AGG_VARIABLE_{index}"] = result_type(name, types, literals)

    def schema(self) -> str:
        return columns_schema(self.columns)

    def topics(self) -> list[str]:
        return [self.source.topic] + ([self.repartition] if self.repartition else [])

    # --- the aggregate itself ---------------------------------------------------------------------------------

    def _fold(self, states: list, row: dict, undo: bool) -> list:
        out = []
        for (name, fn, star, udaf), s in zip(self.aggs, states, strict=True):
            v: Any = 1 if star else fn(row)
            if name in ("TOPK", "TOPKDISTINCT"):
                v = None if v[0] is None else v
            elif name in ("LATEST_BY_OFFSET", "EARLIEST_BY_OFFSET"):
                v = [row.get("ROWOFFSET", 0), v]
            if v is None and udaf.skip_nulls:
                out.append(s)
            elif undo:
                out.append(udaf.undo(s, v))
            else:
                out.append(udaf.add(s, v))
        return out

    def _output(self, keys: list, states: list, window: tuple[int, int] | None) -> dict | None:
        """The table's row for a group, or None when HAVING rejects it."""
        scope: dict[str, Any] = {f"KSQL_GRP_{i}": k for i, k in enumerate(keys)}
        for i, ((_, _, _, udaf), s) in enumerate(zip(self.aggs, states, strict=True)):
            scope[f"KSQL_AGG_VARIABLE_{i}"] = udaf.result(s)
        if window is not None:
            scope["WINDOWSTART"], scope["WINDOWEND"] = window
        if self.having is not None and self.having(scope) is not True:
            return None
        row = dict(zip(self.key_names, keys, strict=True))
        if window is not None:
            row["WINDOWSTART"], row["WINDOWEND"] = window
        for name, fn in self.value_fns:
            row[name] = fn(scope)
        return row

    def _groups(self, row: dict | None, msg: Any) -> list | None:
        if row is None:
            return None
        try:
            if self.where is not None and self.where(row) is not True:
                return None
            keys = [f(row) for f in self.group_fns]
        except ERRORS as e:
            where = f"record {msg.topic()}-{msg.partition()}@{msg.offset()}" if msg is not None else "joined row"
            log.warning("Error processing %s: %s", where, e)
            return None
        return None if any(k is None for k in keys) else keys  # ksqlDB drops rows whose group is NULL

    def process(self, msg: Any, out: Output) -> None:
        ts, p = msg.timestamp()[1], msg.partition()
        if msg.topic() == self.repartition:
            change = stores.loads(msg.value())
            ts, keys = change.get("t", ts), change["k"]
            old, new = change.get("o"), change.get("n")
            self._apply(keys if old is not None else None, old, keys if new is not None else None, new, ts, p, out)
            return
        try:
            old, new = decode_change(self.source, msg, self.stores.get(SOURCE_STORE))
        except ERRORS as e:
            log.warning("Error processing record %s-%d@%d: %s", msg.topic(), msg.partition(), msg.offset(), e)
            return
        self.change(old, new, ts, p, out, msg)

    def change(self, old: dict | None, new: dict | None, ts: int, p: int, out: Output, msg: Any = None) -> None:
        """A change of the input (old row, new row): a stream row replaces nothing; the rows of a join too."""
        old_keys, new_keys = self._groups(old, msg), self._groups(new, msg)
        if self.repartition is None:
            self._apply(old_keys, old, new_keys, new, ts, p, out)
            return
        # re-keyed by the group through ksqlDB's -GroupBy-repartition topic: a change that stays in its group
        # travels as one record (undone and redone at once), one that moves as two
        records = []
        if old_keys is not None and old_keys == new_keys:
            records.append((new_keys, {"k": new_keys, "o": old, "n": new}))
        else:
            if old_keys is not None:
                records.append((old_keys, {"k": old_keys, "o": old}))
            if new_keys is not None:
                records.append((new_keys, {"k": new_keys, "n": new}))
        for keys, change in records:
            # librdkafka reads a timestamp of 0 as "now": the value keeps the real one
            out.producer.produce(self.repartition, key=self._store_key(keys), timestamp=max(ts, 1),
                                 value=stores.dumps({**change, "t": ts}))

    def _apply(self, old_keys: list | None, old: dict | None, new_keys: list | None, new: dict | None, ts: int,
               p: int, out: Output) -> None:
        if self.window is not None:
            st = self.stream_time[p] = max(self.stream_time.get(p, -1), ts)
            if new_keys is not None and new is not None:
                if self.window.kind == "SESSION":
                    self._session(new_keys, new, ts, p, st, out)
                else:
                    self._time_windows(new_keys, new, ts, p, st, out)
            self._timers(p, st, out)
            return
        if old_keys is not None and old_keys == new_keys:
            self._update(old_keys, [(old, True), (new, False)], ts, p, out)
            return
        if old_keys is not None:
            self._update(old_keys, [(old, True)], ts, p, out)
        if new_keys is not None:
            self._update(new_keys, [(new, False)], ts, p, out)

    def _store_key(self, keys: list) -> bytes:
        row = dict(zip(self.key_names, keys, strict=True))
        if self.encode_key is not None:  # the sink's serde (a schema-registry key format)
            return self.encode_key(row, self.key_columns) or b""
        return formats.key_serialize(self.key_format, row, self.key_columns) or b""

    def _emit(self, out: Output, key: bytes, before: dict | None, row: dict | None, ts: int) -> None:
        if row is not None:
            out.send(key, row, ts)
        elif before is not None:
            out.send(key, None, ts)  # HAVING no longer holds: the row leaves the table

    def _update(self, keys: list, changes: list, ts: int, p: int, out: Output) -> None:
        store = self.stores[STORE]
        key = self._store_key(keys)
        entry = store.get(key) or {"s": [udaf.initial() for *_, udaf in self.aggs], "r": None, "t": ts, "p": p}
        states = entry["s"]
        for row, undo in changes:
            states = self._fold(states, row, undo)
        row = self._output(keys, states, None)
        ts = max(ts, entry["t"])
        store.put(key, {"s": states, "r": row, "t": ts, "p": p}, p)
        self._emit(out, key, entry["r"], row, ts)

    # --- windows ----------------------------------------------------------------------------------------------

    def _time_windows(self, keys: list, row: dict, ts: int, p: int, st: int, out: Output) -> None:
        assert self.window is not None
        store, grace = self.stores[STORE], self.window.grace_ms
        base = self._store_key(keys)
        for start, end in self.window.windows_for(ts):
            if end <= st - grace:
                log.debug("Skipping record for expired window. start=%d end=%d streamTime=%d", start, end, st)
                continue
            key = self.window.key(base, start, end)
            entry = store.get(key)
            if entry is None:
                entry = {"s": [udaf.initial() for *_, udaf in self.aggs], "r": None, "t": ts, "w": [start, end], "p": p}
                self._timer(p, start + self.window.retention_ms + 1, 0, key)
                if self.emit_final:
                    self._timer(p, end + grace, 1, key)
            states = self._fold(entry["s"], row, False)
            result = self._output(keys, states, (start, end))
            t = max(ts, entry["t"])
            store.put(key, {**entry, "s": states, "r": result, "t": t}, p)
            if not self.emit_final:
                self._emit(out, key, entry["r"], result, t)

    def _session(self, keys: list, row: dict, ts: int, p: int, st: int, out: Output) -> None:
        assert self.window is not None
        store, gap, grace = self.stores[STORE], self.window.size, self.window.grace_ms
        base = self._store_key(keys)
        merged = []
        for k, entry in store.items(base):
            if not k.startswith(base):
                break
            if len(k) != len(base) + 16:
                continue
            if session_expired(self.window, entry["w"][1], st):
                continue
            start, end = entry["w"]
            if start - gap <= ts <= end + gap:
                merged.append((k, entry))
        start = min([ts] + [e["w"][0] for _, e in merged])
        end = max([ts] + [e["w"][1] for _, e in merged])
        if end < st - grace - gap:
            log.debug("Skipping record for expired session. start=%d end=%d streamTime=%d", start, end, st)
            return
        states = [udaf.initial() for *_, udaf in self.aggs]
        for _, entry in sorted(merged, key=lambda x: x[1]["w"][0]):
            states = [udaf.merge(a, b) for (*_, udaf), a, b in zip(self.aggs, states, entry["s"], strict=True)]
        states = self._fold(states, row, False)
        for k, entry in merged:
            store.put(k, None, p)
            if not self.emit_final and entry["r"] is not None:
                out.send(k, None, entry["w"][1])
        key = self.window.key(base, start, end)
        result = self._output(keys, states, (start, end))
        store.put(key, {"s": states, "r": result, "t": end, "w": [start, end], "p": p}, p)
        if self.emit_final:
            self._timer(p, end + gap + grace + 1, 1, key)
        else:
            self._emit(out, key, None, result, end)

    def _timer(self, p: int, when: int, what: int, key: bytes) -> None:
        """what 0: the window leaves the store (retention); 1: EMIT FINAL writes it (the window closed)."""
        heapq.heappush(self.timers.setdefault(p, []), (when, what, key))

    def _timers(self, p: int, st: int, out: Output) -> None:
        heap, store = self.timers.get(p), self.stores[STORE]
        while heap and heap[0][0] <= st:
            _, what, key = heapq.heappop(heap)
            entry = store.get(key)
            if entry is None or entry.get("f"):
                continue
            assert self.window is not None
            expired = self.window.kind != "SESSION" and entry["w"][0] + self.window.retention_ms < st
            if expired:
                store.delete_local(key)  # past its retention: gone, even before EMIT FINAL could write it
            elif what == 1:
                if entry["r"] is not None:
                    out.send(key, entry["r"], entry["t"])
                store.put(key, {**entry, "f": True}, p)

    def restored(self) -> None:
        """Stream time and the windows' timers come back from the store."""
        if self.window is None:
            return
        for key, entry in self.stores[STORE].items():
            p = entry.get("p", 0)
            start, end = entry["w"]
            self.stream_time[p] = max(self.stream_time.get(p, -1), entry["t"])
            if entry.get("f"):
                continue
            if self.window.kind != "SESSION":
                self._timer(p, start + self.window.retention_ms + 1, 0, key)
            if self.emit_final:
                gap = self.window.size if self.window.kind == "SESSION" else 0
                self._timer(p, end + gap + self.window.grace_ms + (1 if gap else 0), 1, key)

    def rows(self) -> list[dict]:
        # ROWTIME: the latest timestamp the row's records had
        return [{**entry["r"], "ROWTIME": entry["t"]} for _, entry in self.stores[STORE].items()
                if entry["r"] is not None]
