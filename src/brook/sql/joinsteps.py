"""The joins that keep more than each side's latest row: stream-stream joins (each side's rows in a window store,
for the window and grace; unmatched outer rows waiting in ksqlDB's shared store) and foreign-key table-table joins
(the left rows indexed by their foreign key). A mixin of JoinTopology (joins.py), which routes records to them and
passes their results on (`_result`)."""

from __future__ import annotations

import heapq
import struct
from typing import Any

from brook.sql import jsonvalues
from brook.sql.joinplan import FK_INDEX, FK_OUTPUT, Step, combine
from brook.sql.stores import Store
from brook.sql.streams import Output

_TS = struct.Struct(">qqi")


def canonical(value: Any) -> bytes:
    """A join key as store-key bytes: the same value from either side gives the same prefix."""
    raw = jsonvalues.dumps(value, sort_keys=True).encode()
    return struct.pack(">I", len(raw)) + raw


class KeepingJoins:
    """State and steps of the stream-stream and foreign-key joins (JoinTopology sets the state up)."""

    stores: dict[str, Store]
    stream_time: dict[tuple[int, int], int]
    pending: dict[tuple[int, int], list[tuple[int, bytes]]]
    expiry: dict[str, list[tuple[int, bytes]]]
    observed: dict[tuple[str, int], int]
    seq: int

    def _result(self, step: Step, key: Any, old: dict | None, new: dict | None, ts: int, p: int, msg: Any,
                out: Output) -> None:
        raise NotImplementedError

    # --- foreign-key table-table (two tables) ------------------------------------------------------------------

    def _foreign_key(self, step: Step, side: int, key: Any, new: dict | None, ts: int, p: int, msg: Any,
                     out: Output) -> None:
        """The left table's rows are indexed by their foreign key, so that a right row finds the left rows that
        point at it (Kafka Streams' subscription store; one process holds every partition, so no topic is
        needed between them).  A result row is keyed by the left key."""
        left, right = step.left_leaf, step.right
        assert left is not None
        ck = canonical(key)
        if side == 1:
            self.stores[right.store].put(ck, new, p)
            for k, entry in self.stores[FK_INDEX].items(ck):
                if not k.startswith(ck):
                    break
                row = self.stores[left.store].get(canonical(entry["k"]))
                if row is not None:
                    self._fk_result(step, entry["k"], row, combine(step.join_type, row, new, entry["k"]), ts, p,
                                    msg, out)
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
        match = self.stores[right.store].get(canonical(new_fk)) if new_fk is not None else None
        before = old if old is not None else None
        self._fk_result(step, key, before, combine(step.join_type, new, match, key) if new is not None else None, ts,
                        p, msg, out)

    def _fk_result(self, step: Step, key: Any, before: dict | None, after: dict | None, ts: int, p: int, msg: Any,
                   out: Output) -> None:
        """A foreign-key step followed by another (an N-way join) keeps its joined rows in ksqlDB's output store,
        where the next step reads them; the change it passes on is then that of the joined row."""
        joined = self.stores.get(FK_OUTPUT)
        if joined is not None:
            ck = canonical(key)
            before = joined.get(ck)
            joined.put(ck, after, p)
        self._result(step, key, before, after, ts, p, msg, out)

    # --- stream-stream ---------------------------------------------------------------------------------------

    def _stream_stream(self, step: Step, side: int, key: Any, row: dict, ts: int, p: int, msg: Any,
                       out: Output) -> None:
        """Kafka Streams' KStreamKStreamJoin: a record joins the other side's rows within the window that its store
        still shows (its retention, before + after + grace, counted from that store's own newest row: a late record
        still joins the rows of a side that has seen no newer ones); an outer record that joins nothing is written
        unmatched at once when its window has passed the stream time (shared by both sides), else when the window
        and grace have (unless a record joins it first)."""
        mine, theirs_store = step.stores["this" if side == 0 else "other"], step.stores["other" if side == 0 else
                                                                                           "this"]
        after, before = step.after[side], step.after[1 - side]
        retention = step.after[0] + step.after[1] + step.grace
        st = self.stream_time[(step.index, p)] = max(self.stream_time.get((step.index, p), -1), ts)
        if ts == st:
            self._expire_pending(step, p, st, msg, out)
        outer = step.left_outer if side == 0 else step.right_outer

        def pair(a: dict | None, b: dict | None) -> dict | None:
            return combine(step.join_type, a, b, key) if side == 0 else combine(step.join_type, b, a, key)
        ck = canonical(key)
        matched = False
        shared = self.stores.get(step.stores.get("shared", ""))
        low = max(ts - before, self.observed.get((theirs_store, p), -(1 << 62)) - retention + 1)
        for k, theirs in list(self.stores[theirs_store].items(ck)):
            if not k.startswith(ck):
                break
            their_ts = _TS.unpack_from(k, len(ck))[0]
            if low <= their_ts <= ts + after:
                matched = True
                self._result(step, key, None, pair(row, theirs), max(ts, their_ts), p, msg, out)
                if shared is not None and not step.legacy:
                    shared.put(bytes([1 - side]) + k, None, p)  # its pending unmatched row is matched now
        seen = self.observed[(mine, p)] = max(self.observed.get((mine, p), -1), ts)
        self.seq += 1
        store_key = ck + _TS.pack(ts, msg.offset(), self.seq)
        if ts > seen - retention:  # an older row would never be shown: the store drops it
            self.stores[mine].put(store_key, row, p)
            heapq.heappush(self.expiry.setdefault(mine, []), (ts, store_key))
            self._expire_rows(mine, retention)
        if not matched and outer:
            if step.legacy or ts + after < st:
                self._result(step, key, None, pair(row, None), ts, p, msg, out)
            elif shared is not None:
                shared.put(bytes([side]) + store_key, {"k": key, "r": row, "t": ts}, p)
                heapq.heappush(self.pending.setdefault((step.index, p), []),
                               (ts + after + step.grace, bytes([side]) + store_key))

    def _expire_rows(self, store: str, retention: int) -> None:
        """A row no record can join any more leaves the window store: past the store's retention (the window's
        size and grace; ksqlDB's default grace is 24 h without GRACE PERIOD) of its newest row. That time is the
        lowest of the store's partitions' (a row's partition is not kept in its key), so no partition loses a row
        it still shows; the changelog keeps the row until its own retention, as for expired aggregate windows."""
        heap = self.expiry.get(store)
        if not heap:
            return
        horizon = min(t for (name, _), t in self.observed.items() if name == store) - retention
        while heap and heap[0][0] <= horizon:
            self.stores[store].delete_local(heapq.heappop(heap)[1])

    def _expire_pending(self, step: Step, p: int, st: int, msg: Any, out: Output) -> None:
        heap = self.pending.get((step.index, p))
        shared = self.stores.get(step.stores.get("shared", ""))
        while heap and shared is not None and heap[0][0] < st:
            _, k = heapq.heappop(heap)
            entry = shared.get(k)
            if entry is None:
                continue
            shared.put(k, None, p)
            left, right = (entry["r"], None) if k[0] == 0 else (None, entry["r"])
            self._result(step, entry["k"], None, combine(step.join_type, left, right, entry["k"]), entry["t"], p,
                         msg, out)

    def _restore_windows(self, steps: list[Step]) -> None:
        """After a restore: the window stores' rows queued for expiry, the waiting unmatched rows for their time."""
        for step in steps:
            for name in (step.stores.get("this"), step.stores.get("other")) if step.kind == "SS" else ():
                if name is not None and name in self.stores:
                    for k, _ in self.stores[name].items():
                        heapq.heappush(self.expiry.setdefault(name, []), (_TS.unpack_from(k, len(k) - _TS.size)[0], k))
            shared: Store | None = self.stores.get(step.stores.get("shared", ""))
            if shared is None:
                continue
            for k, entry in shared.items():
                heapq.heappush(self.pending.setdefault((step.index, 0), []),
                               (entry["t"] + step.after[k[0]] + step.grace, k))
