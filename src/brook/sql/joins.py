"""Joins as ksqlDB runs them: stream-stream (WITHIN, with or without GRACE PERIOD), stream-table and table-table;
INNER, LEFT, RIGHT and FULL OUTER where ksqlDB allows each.  Each side's rows are kept in a store named as Kafka
Streams names it (changelogged); a side joined on a column that is not its key is first re-keyed through ksqlDB's
`Join-left-repartition` / `Join-right-repartition` topic, so that equal join keys meet in the same partition."""

from __future__ import annotations

import heapq
import json
import logging
import struct
from dataclasses import dataclass
from typing import Any

from brook.sql import formats
from brook.sql.expressions import Compiler, SqlError, column_refs, expr_text, generated_names
from brook.sql.parser import Join, Query, type_str
from brook.sql.queries import PSEUDO, Source
from brook.sql.streams import ERRORS, Output, Topology
from brook.sql.windows import DEFAULT_GRACE_MS

log = logging.getLogger("processing")
_TS = struct.Struct(">qq")
FK_INDEX = "KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-0000000011"


class JoinCompiler(Compiler):
    """Columns named `<alias>_<column>` inside the joined row; `alias.column` and unambiguous bare names resolve."""

    def __init__(self, columns: dict[str, tuple], sides: dict[str, list[str]]) -> None:
        super().__init__(columns)
        self.sides = sides
        self.qualifiers = set(sides)

    def column(self, qualifier: str | None, name: str) -> str:
        if qualifier is not None:
            if qualifier not in self.sides:
                raise SqlError(f"'{qualifier}' is not a valid stream/table name or alias.")
            if name not in self.sides[qualifier]:
                raise SqlError(f"Column '{qualifier}.{name}' cannot be resolved.")
            return f"{qualifier}_{name}"
        if name in self.columns:
            return name
        owners = [q for q, names in self.sides.items() if name in names]
        if not owners:
            raise SqlError(f"Column '{name}' cannot be resolved.")
        if len(owners) > 1:
            raise SqlError(f"Column '{name}' is ambiguous. Could be {' or '.join(f'{q}.{name}' for q in owners)}.")
        return f"{owners[0]}_{name}"


def canonical(value: Any) -> bytes:
    """A join key as store-key bytes: the same value from either side gives the same prefix."""
    raw = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    return struct.pack(">I", len(raw)) + raw


@dataclass
class Side:
    source: Source
    alias: str
    key_fn: Any  # the join expression over this side's (renamed) row
    key_expr: Any
    repartition: str | None  # the repartition topic when the join expression is not the side's key
    outer: bool
    store: str = ""
    after: int = 0  # stream-stream: how far after this side's record the other side's records may be

    def renamed(self, row: dict) -> dict:
        return {f"{self.alias}_{n}": v for n, v in row.items()}


class JoinTopology(Topology):
    def __init__(self, query: Query, left: Source, right: Source, sink_kind: str, query_name: str,
                 partitions: dict[str, int]) -> None:
        if len(query.joins) > 1:
            raise SqlError("Joins of more than two sources are not yet supported by Brook's SQL engine.")
        join: Join = query.joins[0]
        la, ra = query.alias or left.name, join.alias or right.name
        if left.name == right.name:
            raise SqlError(f"Can not join '{left.name}' to '{right.name}': self joins are not yet supported.")
        self.kind = f"{left.kind[0]}{right.kind[0]}"  # SS, ST, TT (TS is refused)
        jt = join.kind
        if self.kind == "TS":
            raise SqlError(f"Invalid join order: table-stream joins are not supported; only stream-table joins. Got "
                           f"{left.name} [{jt}] JOIN {right.name}.")
        if self.kind == "ST" and jt in ("RIGHT", "FULL"):
            name = "full-outer" if jt == "FULL" else "right"
            raise SqlError(f"Invalid join type: {name} join not supported for stream-table join. Got "
                           f"{left.name} [{jt}] JOIN {right.name}.")
        if self.kind == "SS" and join.within is None:
            raise SqlError("Stream-Stream joins must have a WITHIN clause specified. None was provided. To learn "
                           "about how to specify a WITHIN clause with a stream-stream join, please visit: "
                           "https://docs.ksqldb.io/en/latest/developer-guide/joins/join-streams-and-tables/"
                           "#joins-and-windows")
        if self.kind != "SS" and join.within is not None:
            what = "Stream-Table" if self.kind == "ST" else "Table-Table"
            raise SqlError(f"A window definition was provided for a {what} join. These joins are not windowed. "
                           f"Please drop the window definition (ie. the WITHIN clause) and try to submit your "
                           f"{what} join again.")
        if left.value_format == "KAFKA" or right.value_format == "KAFKA":
            names = ", ".join(s.name for s in (left, right) if s.value_format == "KAFKA")
            raise SqlError(f"Source(s) {names} are using the 'KAFKA' value format. This format does not yet support "
                           "JOIN.")
        sides = {la: [n for n, _, _ in left.columns] + list(PSEUDO), ra: [n for n, _, _ in right.columns]
                 + list(PSEUDO)}
        scope = {f"{q}_{n}": t for q, s in ((la, left), (ra, right)) for n, t in
                 [*((n, t) for n, t, _ in s.columns), *PSEUDO.items()]}
        on = join.on
        if on[0] == "and":
            raise SqlError(f"Invalid join condition: joins on multiple conditions are not yet supported. Got "
                           f"{expr_text(on)}.")
        if on[0] != "cmp" or on[1] != "=":
            raise SqlError(f"Unsupported join expression: {expr_text(on)}")
        probe = JoinCompiler(scope, sides)
        ends = []
        for e in (on[2], on[3]):
            owners = {probe.column(c[1], c[2]).startswith(la + "_") for c in column_refs(e)}
            if len(owners) != 1:
                raise SqlError(f"Invalid comparison expression '{expr_text(e)}' in join '{expr_text(on)}'. Each side "
                               "of the join comparision must contain references from exactly one source.")
            ends.append((owners.pop(), e))
        if ends[0][0] == ends[1][0]:
            raise SqlError(f"Invalid join condition: each side of {expr_text(on)} must name a different source.")
        left_expr = next(e for is_left, e in ends if is_left)
        right_expr = next(e for is_left, e in ends if not is_left)
        lt, rt = probe.type_of(left_expr), probe.type_of(right_expr)
        if lt != rt:
            raise SqlError(f"Invalid join condition: types don't match. Got {expr_text(left_expr)}{{"
                           f"{type_str(lt) if lt else 'NULL'}}} = {expr_text(right_expr)}{{"
                           f"{type_str(rt) if rt else 'NULL'}}}.")
        self.key_type = lt or ("STRING",)
        self.sides = []
        # a table joined on a value column to the other table's key: ksqlDB's foreign-key join
        self.foreign_key = self.kind == "TT" and not (
            left_expr[0] == "col" and [probe.column(left_expr[1], left_expr[2])] == [
                f"{la}_{n}" for n, _ in left.key_columns])
        if self.foreign_key and jt in ("RIGHT", "FULL"):
            raise SqlError(f"{'RIGHT' if jt == 'RIGHT' else 'FULL'} OUTER JOIN on a foreign key is not supported")
        for source, alias, expr, outer in ((left, la, left_expr, jt in ("LEFT", "FULL")),
                                           (right, ra, right_expr, jt in ("RIGHT", "FULL"))):
            keyed = expr[0] == "col" and [probe.column(expr[1], expr[2])] == [
                f"{alias}_{n}" for n, _ in source.key_columns]
            if not keyed and source.kind == "TABLE" and not (self.foreign_key and alias == la):
                raise SqlError(f"Cannot repartition a TABLE source. If this is a join, make sure that the criteria "
                               f"uses the TABLE's key column {', '.join(n for n, _ in source.key_columns)} instead of "
                               f"[{expr_text(expr)}]")
            side_name = "left" if alias == la else "right"
            repartition = None if keyed or source.kind == "TABLE" else f"{query_name}-Join-{side_name}-repartition"
            self.sides.append(Side(source, alias, probe.compile(expr), expr, repartition, outer))
        co_partitioned = self.foreign_key or any(s.repartition for s in self.sides)
        if not co_partitioned and partitions[left.topic] != partitions[right.topic]:
            raise SqlError(f"Can't join `{left.name}` with `{right.name}` since the number of partitions don't "
                           f"match. `{left.name}` partitions = {partitions[left.topic]}; `{right.name}` partitions = "
                           f"{partitions[right.topic]}. Please repartition either one so that the number of "
                           "partitions match.")
        self.join_type = jt
        self.within = join.within
        self.legacy = join.grace is None  # no GRACE PERIOD: an unmatched outer row is written at once
        self.grace = DEFAULT_GRACE_MS if join.grace is None else join.grace
        if join.within is not None:
            self.sides[0].after, self.sides[1].after = join.within[1], join.within[0]
        self._stores()
        # the joined row's scope: both sides and ROWKEY, the synthetic key of a FULL OUTER join
        scope["ROWKEY"] = self.key_type
        self.compiler = JoinCompiler(scope, sides)
        self.where = self.compiler.compile(query.where) if query.where is not None else None
        self._projection(query, sink_kind, left_expr, right_expr)
        self.stream_time: dict[int, int] = {}
        self.pending: dict[int, list[tuple[int, bytes]]] = {}

    def _stores(self) -> None:
        left, right = self.sides
        if self.kind == "SS":
            left.store = ("KSTREAM-OUTERTHIS-0000000016-store" if left.outer
                          else "KSTREAM-JOINTHIS-0000000016-store")
            right.store = ("KSTREAM-OUTEROTHER-0000000017-store" if right.outer or left.outer
                           else "KSTREAM-JOINOTHER-0000000017-store")
            names = [left.store, right.store]
            if left.outer or right.outer:
                names.append("KSTREAM-OUTERSHARED-0000000016-store")
        else:
            right.store = "KafkaTopic_Right-Reduce"
            left.store = "KafkaTopic_Left-Reduce"
            names = [right.store] if self.kind == "ST" else [left.store, right.store]
            if self.foreign_key:
                names.append(FK_INDEX)
        self.store_names = tuple(names)

    def _projection(self, query: Query, sink_kind: str, left_expr: Any, right_expr: Any) -> None:
        c = self.compiler
        key_exprs: list[Any] = [("col", None, "ROWKEY")] if self.join_type == "FULL" else [left_expr, right_expr]
        if self.foreign_key:
            key_exprs = [("col", self.sides[0].alias, n) for n, _ in self.sides[0].source.key_columns]
        key_cols = {c.column(e[1], e[2]) for e in key_exprs if e[0] == "col"}
        self.columns = []
        self.fns: list[tuple[str, Any]] = []
        items: list[tuple[str, Any]] = []
        generated = generated_names(query.items)
        for index, item in enumerate(query.items):
            if item[0] in ("*", "src*"):
                for side in self.sides:
                    if item[0] == "src*" and item[1] != side.alias:
                        continue
                    s = side.source
                    names = [n for n, _, ns in s.columns if ns in ("KEY", "PRIMARY KEY")] + [
                        n for n, _, ns in s.columns if ns not in ("KEY", "PRIMARY KEY", "HEADERS")]
                    items += [(f"{side.alias}_{n}", ("col", side.alias, n)) for n in names]
                if item[0] == "src*" and item[1] not in c.qualifiers:
                    raise SqlError(f"'{item[1]}' is not a valid stream/table name or alias.")
                continue
            expr, alias = item[1], item[2]
            # ksqlDB names a qualified column of a join <alias>_<column>
            name = (f"{expr[1]}_{expr[2]}" if expr[1] else expr[2]) if expr[0] == "col" else generated[index]
            items.append((alias or name, expr))
        key_name = None
        for name, expr in items:
            is_key = key_name is None and expr[0] == "col" and c.column(expr[1], expr[2]) in key_cols
            if is_key:
                key_name = name
            if any(name == col[0] for col in self.columns):
                raise SqlError(f"Duplicate value columns found in schema: `{name}`")
            self.columns.append((name, c.type_of(expr), is_key))
            self.fns.append((name, c.compile(expr)))
        if key_name is None:
            if self.join_type == "FULL":
                raise SqlError("Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query "
                               "used to build the sink must include the join expression ROWKEY in its projection "
                               "(eg, SELECT ROWKEY...).\nROWKEY was added as a synthetic key column because the join "
                               "criteria did not match any source column. This expression must be included in the "
                               "projection and may be aliased.")
            if sink_kind == "TABLE" or self.kind != "ST":
                raise SqlError(f"Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query "
                               f"used to build the sink must include the join expressions {expr_text(left_expr)} or "
                               f"{expr_text(right_expr)} in its projection (eg, SELECT {expr_text(left_expr)}...).")
        self.key_name = key_name

    def topics(self) -> list[str]:
        out = []
        for side in self.sides:
            out.append(side.source.topic)
            if side.repartition:
                out.append(side.repartition)
        return out

    def rows(self) -> list[dict]:
        raise SqlError("Pull queries on joined tables are not yet supported by Brook's SQL engine.")

    # --- records --------------------------------------------------------------------------------------------

    def process(self, msg: Any, out: Output) -> None:
        topic = msg.topic()
        for index, side in enumerate(self.sides):
            if topic == side.repartition:
                return self._keyed(index, msg, json.loads(msg.value()) if msg.value() else None, out)
            if topic == side.source.topic:
                try:
                    row = side.source.decode(msg)
                except ERRORS as e:
                    log.warning("Error processing record %s-%d@%d: %s", topic, msg.partition(), msg.offset(), e)
                    return None
                if side.repartition:
                    if row is not None:
                        key = side.key_fn(side.renamed(row))
                        if key is not None:
                            out.producer.produce(side.repartition, key=self._repartition_key(key),
                                                 value=json.dumps(row, separators=(",", ":")).encode(),
                                                 timestamp=max(msg.timestamp()[1], 0))
                    return None
                return self._keyed(index, msg, row, out)
        return None

    def _repartition_key(self, key: Any) -> bytes | None:
        # the other side's key format and type, so that murmur2 places equal keys in equal partitions
        keyed = next((s for s in self.sides if not s.repartition), self.sides[0])
        return formats.key_serialize(keyed.source.key_format, {"K": key}, [("K", self.key_type)])

    def _keyed(self, index: int, msg: Any, row: dict | None, out: Output) -> None:
        side = self.sides[index]
        ts, p = msg.timestamp()[1], msg.partition()
        if row is None:
            if side.source.kind == "TABLE" and msg.key() is not None:
                key = self._table_key(side, msg)
                if key is not None and self.foreign_key:
                    self._foreign_key(index, key, None, ts, p, out)
                elif key is not None:
                    self._table_change(index, key, None, ts, p, out)
            return
        try:
            renamed = side.renamed(row)
            key = side.key_fn(renamed)
        except ERRORS as e:
            log.warning("Error processing record %s-%d@%d: %s", msg.topic(), msg.partition(), msg.offset(), e)
            return
        if key is None:
            return  # ksqlDB drops rows whose join key is NULL
        if self.kind == "SS":
            self._stream_stream(index, key, renamed, ts, p, msg.offset(), out)
        elif self.foreign_key:
            self._foreign_key(index, self._table_key(side, msg), renamed, ts, p, out)
        elif side.source.kind == "TABLE":
            self._table_change(index, key, renamed, ts, p, out)
        else:
            table = self.stores[self.sides[1].store].get(canonical(key))
            if table is not None or side.outer:
                self._emit(key, renamed, table, ts, out)

    def _table_key(self, side: Side, msg: Any) -> Any:
        keys = formats.deserialize(side.source.key_format, msg.key(), side.source.key_columns) or {}
        return next(iter(keys.values()), None)

    def _emit(self, key: Any, left: dict | None, right: dict | None, ts: int, out: Output) -> None:
        row = {**(left or {}), **(right or {}), "ROWKEY": key}
        try:
            if self.where is not None and self.where(row) is not True:
                return
            projected = {name: fn(row) for name, fn in self.fns}
        except ERRORS as e:
            log.warning("Error processing joined row: %s", e)
            return
        if self.key_name is not None:
            projected[self.key_name] = key
        out.send(out.key(projected), projected, ts)

    # --- foreign-key table-table --------------------------------------------------------------------------------

    def _foreign_key(self, index: int, key: Any, new: dict | None, ts: int, p: int, out: Output) -> None:
        """The left table's rows are indexed by their foreign key, so that a right row finds the left rows that
        point at it (Kafka Streams' subscription store; one process holds every partition, so no topic is
        needed between them).  A result row is keyed by the left key."""
        left, right = self.sides
        ck = canonical(key)
        tombstone = {self.key_name or "ROWKEY": key}
        if index == 1:
            self.stores[right.store].put(ck, new, p)
            for k, entry in self.stores[FK_INDEX].items(ck):
                if not k.startswith(ck):
                    break
                row = self.stores[left.store].get(canonical(entry["k"]))
                if row is None:
                    continue
                if new is not None or left.outer:
                    self._emit(entry["k"], row, new, ts, out)
                else:
                    out.send(out.key({self.key_name or "ROWKEY": entry["k"]}), None, ts)
            return
        store = self.stores[left.store]
        old = store.get(ck)
        store.put(ck, new, p)
        old_fk = left.key_fn(old) if old is not None else None
        new_fk = left.key_fn(new) if new is not None else None
        if old_fk is not None and old_fk != new_fk:
            self.stores[FK_INDEX].put(canonical(old_fk) + ck, None, p)
        if new_fk is not None:
            self.stores[FK_INDEX].put(canonical(new_fk) + ck, {"k": key}, p)
        if new is None:
            out.send(out.key(tombstone), None, ts)
            return
        match = self.stores[right.store].get(canonical(new_fk)) if new_fk is not None else None
        if match is not None or left.outer:
            self._emit(key, new, match, ts, out)
        elif old is not None:
            out.send(out.key(tombstone), None, ts)

    # --- table-table and the table of a stream-table join ------------------------------------------------------

    def _table_change(self, index: int, key: Any, new: dict | None, ts: int, p: int, out: Output) -> None:
        side = self.sides[index]
        store = self.stores[side.store]
        ck = canonical(key)
        old = store.get(ck)
        store.put(ck, new, p)
        if self.kind == "ST":
            return  # a table update never triggers a stream-table join
        other = self.stores[self.sides[1 - index].store].get(ck)
        left_outer, right_outer = self.sides[index].outer, self.sides[1 - index].outer

        def result(mine: dict | None) -> bool:
            return (mine is not None and (other is not None or left_outer)) or (
                mine is None and other is not None and right_outer)

        pair = (lambda mine: (mine, other)) if index == 0 else (lambda mine: (other, mine))
        if result(new):
            times = [r.get(f"{s.alias}_ROWTIME", ts) for r, s in ((new, side), (other, self.sides[1 - index]))
                     if r is not None]
            self._emit(key, *pair(new), max(times), out)
        elif result(old):
            key_row = {self.key_name or "ROWKEY": key}
            out.send(out.key(key_row), None, ts)

    # --- stream-stream ---------------------------------------------------------------------------------------

    def _stream_stream(self, index: int, key: Any, row: dict, ts: int, p: int, offset: int, out: Output) -> None:
        assert self.within is not None
        side, other = self.sides[index], self.sides[1 - index]
        st = self.stream_time[p] = max(self.stream_time.get(p, -1), ts)
        self._expire_pending(p, st, out)
        pair = (lambda mine, theirs: (mine, theirs)) if index == 0 else (lambda mine, theirs: (theirs, mine))
        if ts + side.after + self.grace < st:
            # too late to join: an outer side still writes it, unmatched
            if side.outer:
                self._emit(key, *pair(row, None), ts, out)
            return
        ck = canonical(key)
        before = other.after  # how far before this record the other side's records may be
        matched = False
        shared = self.stores.get("KSTREAM-OUTERSHARED-0000000016-store")
        for k, theirs in self.stores[other.store].items(ck):
            if not k.startswith(ck):
                break
            their_ts = _TS.unpack_from(k, len(ck))[0]
            if ts - before <= their_ts <= ts + side.after:
                matched = True
                self._emit(key, *pair(row, theirs), max(ts, their_ts), out)
                if shared is not None and not self.legacy:
                    shared.put(bytes([1 - index]) + k, None, p)  # its pending unmatched row is matched now
        store_key = ck + _TS.pack(ts, offset)
        self.stores[side.store].put(store_key, row, p)
        if not matched and side.outer:
            if self.legacy:
                self._emit(key, *pair(row, None), ts, out)
            elif shared is not None:
                shared.put(bytes([index]) + store_key, {"k": key, "r": row, "t": ts}, p)
                heapq.heappush(self.pending.setdefault(p, []), (ts + side.after + self.grace,
                                                                bytes([index]) + store_key))

    def _expire_pending(self, p: int, st: int, out: Output) -> None:
        heap = self.pending.get(p)
        shared = self.stores.get("KSTREAM-OUTERSHARED-0000000016-store")
        while heap and shared is not None and heap[0][0] < st:
            _, k = heapq.heappop(heap)
            entry = shared.get(k)
            if entry is None:
                continue
            shared.put(k, None, p)
            left, right = (entry["r"], None) if k[0] == 0 else (None, entry["r"])
            self._emit(entry["k"], left, right, entry["t"], out)

    def restored(self) -> None:
        shared = self.stores.get("KSTREAM-OUTERSHARED-0000000016-store")
        if shared is None:
            return
        for k, entry in shared.items():
            side = self.sides[k[0]]
            heapq.heappush(self.pending.setdefault(0, []), (entry["t"] + side.after + self.grace, k))
