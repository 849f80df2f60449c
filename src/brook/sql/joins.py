"""Joins as ksqlDB runs them: stream-stream (WITHIN, with or without GRACE PERIOD), stream-table and table-table,
INNER, LEFT, RIGHT and FULL OUTER where ksqlDB allows each, chained for N-way joins (joinplan.py).  Each source's rows
are kept in a store named as Kafka Streams names it (changelogged); a side joined on something that is not its key
is first re-keyed through ksqlDB's repartition topic, so that equal join keys meet in the same partition.  A step's
result feeds the next step, the last one the sink (projected), or an aggregate (GROUP BY over a join)."""

from __future__ import annotations

import json
import logging
import struct
import time
from typing import Any

from brook.sql import formats, stores
from brook.sql.aggregates import AggregateTopology
from brook.sql.expressions import SqlError, check_columns, check_reserved, generated_names
from brook.sql.joinplan import FK_OUTPUT, JoinPlan, Leaf, Step, combine
from brook.sql.joinsteps import KeepingJoins, canonical
from brook.sql.parser import Query
from brook.sql.queries import Source, expand_struct_stars
from brook.sql.stores import Stores
from brook.sql.streams import ERRORS, SOURCE_STORE, Output, Topology

log = logging.getLogger("processing")
PROJECT_STORE = "Project-Last"  # ksqlDB materializes a table built by a join here (pull queries read it)



def _key_twice(column: str, aliases: list[str]) -> SqlError:
    return SqlError(f"The projection contains a key column (`{column}`) more than once, aliased as: "
                    f"{_and(sorted(aliases))}.\nEach key column must only be in the projection once. If you intended "
                    "to copy the key into the value, then consider using the AS_VALUE function to indicate which key "
                    "reference should be copied.")

class JoinTopology(KeepingJoins, Topology):
    def __init__(self, query: Query, sources: list[Source], sink_kind: str, query_name: str,
                 partitions: dict[str, int], sink_name: str = "", key_format: str = "KAFKA",
                 transient: bool = False) -> None:
        self.plan = plan = JoinPlan(query, sources, query_name, partitions)
        query = expand_struct_stars(query, plan.compiler.type_of)
        if not transient:
            check_reserved(query)
        check_columns(plan.compiler, query, synthetic=not query.group_by)
        # a push query (pushjoin.py) has no sink: its result is the join's own kind and needs no key column
        self.transient = transient
        if transient:
            sink_kind = plan.result_kind
        self.steps, self.leaves = plan.steps, plan.leaves
        self.kind = plan.kind
        self.compiler = plan.compiler
        self.aliases = plan.aliases
        self.aggregate: AggregateTopology | None = None
        names = plan.store_names()
        if query.group_by:
            self.aggregate = self._aggregate(query, key_format, query_name)
            self.columns = self.aggregate.columns
            self.window = self.aggregate.window
            names += [n for n in self.aggregate.store_names if n != SOURCE_STORE]
        else:
            # ksqlDB prints a join's columns as the joined row names them (`I1_BAR`)
            self.where = self.compiler.compile_filter(self.compiler.resolve(query.where), "WHERE") \
                if query.where is not None else None
            self._projection(query, sink_kind, sink_name)
            self.window = plan.window
            if sink_kind == "TABLE":
                names.append(PROJECT_STORE)
        self.store_names = tuple(names)
        self.pullable = sink_kind == "TABLE"
        self.stream_time: dict[tuple[int, int], int] = {}
        self.pending: dict[tuple[int, int], list[tuple[int, bytes]]] = {}
        # stream-stream window stores: (record time, key) of every row, oldest first, for expiry
        self.expiry: dict[str, list[tuple[int, bytes]]] = {}
        # each window store's own stream time by partition (the newest row put into it): a store shows only rows
        # within its retention of that time, as Kafka Streams' segmented window store fetches
        self.observed: dict[tuple[str, int], int] = {}
        self.seq = 0
        # the timestamps of the records written to each repartition topic and not yet read back
        self.rekeyed: dict[str, dict[int, int]] = {}
        self.rekeyed_at: dict[str, float] = {}
        self.pass_through = [lf.source.topic for lf in self.leaves if lf.repartition]
        self.merged = any(step.foreign_key for step in self.steps)  # see PartitionGroups

    def in_flight(self, topic: str) -> int | None:
        """The oldest record re-keyed into `topic` that has not come back yet (forgotten 5 s after the last one
        was written: records in another server's partitions never come back here)."""
        pending = self.rekeyed.get(topic)
        if pending and time.monotonic() - self.rekeyed_at.get(topic, 0.0) > 5.0:
            pending.clear()
        return min(pending) if pending else None

    def _aggregate(self, query: Query, key_format: str, query_name: str) -> AggregateTopology:
        """GROUP BY over the joined rows: the aggregate sees one flat source whose columns are `<alias>_<column>`."""
        c = self.compiler
        flat = c.resolve
        sides = self.plan.sides.values()
        shared = {n for cols in sides for n in cols if sum(n in other for other in sides) > 1}

        def named(e: Any, alias: str | None) -> str | None:
            """A selected column is named as a join's projection names it (the GROUP BY key takes that name)."""
            if alias is not None or e[0] != "col":
                return alias
            return f"{e[1]}_{e[2]}" if e[1] and e[2] in shared else e[2]
        items = [("expr", flat(i[1]), named(i[1], i[2])) if i[0] == "expr" else i for i in query.items]
        grouped = Query(items, "", None, where=flat(query.where) if query.where is not None else None,
                        group_by=[flat(g) for g in query.group_by or []], window=query.window,
                        having=flat(query.having) if query.having is not None else None, emit=query.emit)
        columns = [(n, t, None) for n, t in self.plan.scope.items()]
        source = Source("", self.plan.result_kind, "", "KAFKA", "JSON", columns, "")
        return AggregateTopology(grouped, source, key_format, query_name, key_exprs=self.steps[-1].key_equiv)

    def _projection(self, query: Query, sink_kind: str, sink_name: str) -> None:
        c = self.compiler
        self.columns = []
        self.fns: list[tuple[str, Any]] = []
        items: list[tuple[str, Any]] = []
        generated = generated_names(query.items)
        # ksqlDB names a qualified column <alias>_<column> when sources share the column's name, else plainly
        sides = self.plan.sides.values()
        shared = {n for cols in sides for n in cols if sum(n in other for other in sides) > 1}
        for index, item in enumerate(query.items):
            if item[0] in ("*", "src*"):
                if item[0] == "src*" and item[1] not in c.qualifiers:
                    raise SqlError(f"'{item[1]}' is not a valid stream/table name or alias.")
                if item[0] == "*" and self.steps[-1].key_equiv == [("col", None, "ROWKEY")]:
                    items.append((c.synthetic, ("col", None, "ROWKEY")))  # the synthetic key comes first
                for leaf in self.leaves:
                    if item[0] == "src*" and item[1] != leaf.alias:
                        continue
                    s = leaf.source
                    names = [n for n, _ in s.key_columns] + (["WINDOWSTART", "WINDOWEND"] if s.window else []) + [
                        n for n, _, ns in s.columns if ns not in ("KEY", "PRIMARY KEY")]  # header columns too
                    items += [(f"{leaf.alias}_{n}", ("col", leaf.alias, n)) for n in names]
                continue
            expr, alias = item[1], item[2]
            # ksqlDB names a qualified column of a join <alias>_<column>
            name = generated.get(index, "")
            if expr[0] == "col":
                name = f"{expr[1]}_{expr[2]}" if expr[1] and expr[2] in shared else expr[2]
            items.append((alias or name, expr))
        # the key is the first join expression (left side first) the projection names, under its first name
        refs = [c.column(expr[1], expr[2]) if expr[0] == "col" else None for _, expr in items]
        self.key_names: list[str] = []
        if self.steps[-1].foreign_key:  # the left table's primary key, every column of it
            self._foreign_key_projection(items, refs, sink_name)
            return
        key_col = next((e[2] for e in self.steps[-1].key_equiv if e[0] == "col" and e[2] in refs), None)
        key_aliases = [name for (name, _), ref in zip(items, refs, strict=True) if key_col and ref == key_col]
        if len(key_aliases) > 1 and not self.transient:
            raise _key_twice(str(key_col), key_aliases)
        key_name = key_aliases[0] if key_aliases else None
        for name, expr in items:
            is_key = name == key_name
            if any(name == col[0] for col in self.columns):
                raise SqlError(f"Duplicate value columns found in schema: `{name}`")
            self.columns.append((name, c.select_type(expr), is_key))
            self.fns.append((name, c.compile(expr)))
        # a two-source stream-table join may leave its key out (the stream keeps no key)
        if key_name is None and not self.transient and (sink_kind == "TABLE" or self.kind != "ST"
                                                        or len(self.steps) > 1):
            raise SqlError(self.plan.key_missing(sink_name))
        self.key_name = key_name

    def _foreign_key_projection(self, items: list[tuple[str, Any]], refs: list, sink_name: str) -> None:
        """A foreign-key join's result is keyed by the left table's primary key: the projection names each of its
        columns (once, as the key), else ksqlDB's refusal (fk-join.json "Should fail on partial left source key
        in projection")."""
        c, left = self.compiler, self.leaves[0]
        wanted = [(n, f"{left.alias}_{n}") for n, _ in left.source.key_columns]
        missing = [n for n, flat in wanted if flat not in refs]
        if missing and not self.transient:
            several = len(missing) > 1
            raise SqlError(f"Primary key column{'s' if several else ''} missing in projection. For foreign-key "
                           "table-table joins, the projection must include all primary key columns from the left "
                           f"input table (`{left.alias}`). Missing column{'s' if several else ''}: "
                           + ", ".join(f"`{n}`" for n in missing) + ".")
        keys = {}
        for _, flat in wanted:
            aliases = [name for (name, _), ref in zip(items, refs, strict=True) if ref == flat]
            if len(aliases) > 1 and not self.transient:
                raise _key_twice(flat, aliases)
            if aliases:
                keys[flat] = aliases[0]
        self.key_names = list(keys.values())
        for name, expr in items:
            if any(name == col[0] for col in self.columns):
                raise SqlError(f"Duplicate value columns found in schema: `{name}`")
            self.columns.append((name, c.select_type(expr), name in self.key_names))
            self.fns.append((name, c.compile(expr)))
        self.key_name = self.key_names[0] if len(self.key_names) == 1 else None

    def topics(self) -> list[str]:
        extra = [self.aggregate.repartition] if self.aggregate is not None and self.aggregate.repartition else []
        return self.plan.topics() + extra

    def open(self, stores: Stores) -> None:
        super().open(stores)
        if self.aggregate is not None:
            self.aggregate.stores = self.stores

    def rows(self) -> list[dict]:
        if self.aggregate is not None:
            return self.aggregate.rows()
        return [row for _, row in self.stores[PROJECT_STORE].items()]

    # --- records --------------------------------------------------------------------------------------------

    def process(self, msg: Any, out: Output) -> None:
        topic = msg.topic()
        self.seq = 0
        if self.aggregate is not None and topic == self.aggregate.repartition:
            self.aggregate.process(msg, out)
            return
        for step, side, rekeyed in [(s, 0, s.left_repartition) for s in self.steps] + [
                (self.steps[lf.step], lf.side, lf.repartition) for lf in self.leaves]:
            if topic == rekeyed:
                entry = stores.loads(msg.value())
                pending = self.rekeyed.get(topic, {})
                if pending.get(entry["t"], 0) > 1:
                    pending[entry["t"]] -= 1
                else:
                    pending.pop(entry["t"], None)
                # the timestamp travels in the value too: librdkafka would read a timestamp of 0 as "now"
                self._arrive(step, side, entry["k"], None, entry["r"], _At(msg, entry["t"], msg.partition()), out)
                return
        for leaf in self.leaves:
            if topic == leaf.source.topic:
                self._leaf(leaf, msg, out)
        return

    def _leaf(self, leaf: Leaf, msg: Any, out: Output) -> None:
        try:
            row = leaf.source.decode(msg)
            renamed = None if row is None else leaf.renamed(row)
            key = None if renamed is None else leaf.key_fn(renamed)
        except ERRORS as e:
            log.warning("Error processing record %s-%d@%d: %s", msg.topic(), msg.partition(), msg.offset(), e)
            return
        step = self.steps[leaf.step]
        if renamed is None:  # a tombstone deletes a table's row
            if leaf.source.kind == "TABLE" and msg.key() is not None:
                key = self._table_key(leaf, msg)
                if key is not None:
                    self._arrive(step, leaf.side, key, None, None, msg, out)
            return
        if leaf.repartition:
            self._rekey(step, leaf.repartition, key, renamed, msg.timestamp()[1], out)
            return
        if step.foreign_key and leaf.side == 0:
            key = self._table_key(leaf, msg)
        if key is not None:  # ksqlDB drops rows whose join key is NULL
            self._arrive(step, leaf.side, key, None, renamed, msg, out)

    def _rekey(self, step: Step, topic: str, key: Any, row: dict, ts: int, out: Output) -> None:
        if key is None:
            return
        # in the key format of the side that is not re-keyed, so that murmur2 places equal keys together (keyless
        # sides in the default KAFKA format)
        partner = self.leaves[0] if step.right.repartition else step.right
        src = partner.source
        try:
            if src.key_format == "NONE" or len(src.key_columns) != 1:
                raw = formats.key_serialize("KAFKA", {"K": key}, [("K", step.key_type)])
            else:
                raw = src.encode_key({src.key_columns[0][0]: key}, src.key_columns)
        except (formats.SerdeError, struct.error, TypeError, ValueError):  # a key its format cannot hold
            raw = json.dumps(key, default=str).encode()
        out.producer.produce(topic, key=raw, value=stores.dumps({"k": key, "r": row, "t": ts}),
                             timestamp=max(ts, 1))  # librdkafka reads 0 as "now"; the value keeps the real one
        pending = self.rekeyed.setdefault(topic, {})
        pending[ts] = pending.get(ts, 0) + 1
        self.rekeyed_at[topic] = time.monotonic()

    def _table_key(self, leaf: Leaf, msg: Any) -> Any:
        src = leaf.source
        keys = (src.key_serde.deserialize(msg.key()) if src.key_serde is not None else
                formats.deserialize(src.key_format, msg.key(), src.key_columns, src.key_delimiter)) or {}
        if len(src.key_columns) > 1:  # a foreign-key join's left table of a composite key: all its values
            values = [keys.get(n) for n, _ in src.key_columns]
            return None if all(v is None for v in values) else values
        return next(iter(keys.values()), None)

    def _arrive(self, step: Step, side: int, key: Any, old: dict | None, new: dict | None, msg: Any,
                out: Output) -> None:
        """A row (or a table's change) reaches one side of a step."""
        ts, p = msg.timestamp()[1], msg.partition()
        if step.kind == "SS":
            if new is not None:
                self._stream_stream(step, side, key, new, ts, p, msg, out)
        elif step.foreign_key:
            self._foreign_key(step, side, key, new, ts, p, msg, out)
        elif step.kind == "ST":
            if side == 1:
                self.stores[step.right.store].put(canonical(key), new, p)  # a table update triggers nothing
            elif new is not None:
                table = self.stores[step.right.store].get(canonical(key))
                self._result(step, key, None, combine(step.join_type, new, table, key), ts, p, msg, out)
        else:
            self._table_change(step, side, key, old, new, ts, p, msg, out)

    def _left_value(self, step: Step, key: Any) -> dict | None:
        """A table-table step's left row for a key: the left table's, or the previous steps' joined row."""
        if step.index == 0:
            assert step.left_leaf is not None
            return self.stores[step.left_leaf.store].get(canonical(key))
        prev = self.steps[step.index - 1]
        if prev.foreign_key:
            return self.stores[FK_OUTPUT].get(canonical(key))
        right = self.stores[prev.right.store].get(canonical(key))
        return combine(prev.join_type, self._left_value(prev, key), right, key)

    def _table_change(self, step: Step, side: int, key: Any, old: dict | None, new: dict | None, ts: int, p: int,
                      msg: Any, out: Output) -> None:
        ck = canonical(key)
        if side == 1 or step.index == 0:
            store = self.stores[step.right.store if side == 1 else step.left_leaf.store]  # type: ignore[union-attr]
            old = store.get(ck)
            store.put(ck, new, p)
        if side == 1:
            left = self._left_value(step, key)
            before, after = combine(step.join_type, left, old, key), combine(step.join_type, left, new, key)
        else:
            right = self.stores[step.right.store].get(ck)
            before, after = combine(step.join_type, old, right, key), combine(step.join_type, new, right, key)
        if after is not None:
            ts = max([v for k, v in after.items() if k.endswith("_ROWTIME") and isinstance(v, int)] or [ts])
        self._result(step, key, before, after, ts, p, msg, out)

    def _result(self, step: Step, key: Any, old: dict | None, new: dict | None, ts: int, p: int, msg: Any,
                out: Output) -> None:
        """A step's result: to the next step (re-keyed first when its join expression is not this key), or to the
        sink or the aggregate."""
        if old is None and new is None:
            return
        if step.index + 1 < len(self.steps):
            nxt = self.steps[step.index + 1]
            if nxt.left_repartition:
                if new is not None:
                    try:
                        self._rekey(nxt, nxt.left_repartition, nxt.left_key_fn(new), new, ts, out)
                    except ERRORS as e:
                        log.warning("Error processing joined row: %s", e)
                return
            self._arrive(nxt, 0, key, old, new, _At(msg, ts, p), out)
            return
        if self.aggregate is not None:
            self.aggregate.change(old, new, ts, p, out)
            return
        table = step.result_kind == "TABLE"
        bounds: list = []
        if self.window is not None:  # a join of windowed sources: the key's value, then its window's bounds
            key, *bounds = key
        projected = self._project(key, new)
        if projected is not None:
            k = self._window_key(out.key(projected), bounds)
            out.send(k, projected, ts)
            if table:
                self.stores[PROJECT_STORE].put(k or b"", projected, p)
        elif table and (old is not None or new is not None):
            named = dict(zip(self.key_names, key, strict=True)) if len(self.key_names) > 1 else \
                {self.key_name or "ROWKEY": key}
            k = self._window_key(out.key(named), bounds)
            # only a row the sink has (its old row passed the WHERE) becomes a tombstone (Kafka Streams' filter)
            if self._project(key, old) is not None or self.stores[PROJECT_STORE].get(k or b"") is not None:
                out.send(k, None, ts)
                self.stores[PROJECT_STORE].put(k or b"", None, p)

    def _window_key(self, key: bytes | None, bounds: list) -> bytes | None:
        if self.window is None or key is None:
            return key
        start = bounds[0]
        return self.window.key(key, start, bounds[1] if len(bounds) > 1 else start + self.window.size)

    def _project(self, key: Any, row: dict | None) -> dict | None:
        if row is None:
            return None
        try:
            if self.where is not None and self.where(row) is not True:
                return None
            projected = {name: fn(row) for name, fn in self.fns}
        except ERRORS as e:
            log.warning("Error processing joined row: %s", e)
            return None
        if self.key_name is not None:
            projected[self.key_name] = key
        return projected

    def restored(self) -> None:
        self._restore_windows(self.steps)
        if self.aggregate is not None:
            self.aggregate.restored()


def _and(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


class _At:
    """A step's result passed on to the next step as if it were a record: its timestamp and partition, the offset
    of the record that caused it."""

    def __init__(self, msg: Any, ts: int, p: int) -> None:
        self.msg, self.ts, self.p = msg, ts, p

    def timestamp(self) -> tuple[int, int]:
        return (0, self.ts)

    def partition(self) -> int:
        return self.p

    def offset(self) -> int:
        return int(self.msg.offset())
