"""Kafka Streams' processing model for persistent queries: a topology reads its input topics in one consumer group
(ksqlDB's application id), turns each record into a change (old row, new row) -- a stream record is (None, row), a
table record carries the row it replaces -- and writes sink records, store updates and changelogs per batch, with
the input offsets committed after the batch is acknowledged (at_least_once) or in its transaction
(exactly_once_v2)."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from brook.sql import formats
from brook.sql.exprtree import columns_of
from brook.sql.queries import PersistentQuery, Plan, Source
from brook.sql.rebalance import Rebalance, process_id
from brook.sql.stores import Store, Stores
from brook.sql.windows import WindowSpec

log = logging.getLogger("processing")
SOURCE_STORE = "KsqlTopic-Reduce"  # ksqlDB's store of a materialized source table
ERRORS = (formats.SerdeError, TypeError, ValueError, ArithmeticError, KeyError, AttributeError)


class Output:
    """The sink of a topology: rows serialized in the sink's formats, keyed (and windowed) as ksqlDB writes them."""

    def __init__(self, producer: Any, sink: Source) -> None:
        self.producer = producer
        self.sink = sink
        self.topic = sink.topic
        self.values = sink.value_columns
        self.keys = sink.key_columns
        self.count = 0

    def key(self, row: dict) -> bytes | None:
        return self.sink.encode_key(row, self.keys)

    def send(self, key: bytes | None, row: dict | None, ts: int) -> None:
        if row is not None and self.sink.timestamp is not None:  # WITH (TIMESTAMP='col') on the sink
            column = self.sink.record_time(row)
            if column is not None and column < 0:
                log.warning("Dropping a record for %s: its timestamp column %s is null, negative or unreadable",
                            self.topic, self.sink.timestamp)
                return
            ts = column if column is not None else ts
        value = None if row is None else self.sink.encode_value(row, self.values)
        self.producer.produce(self.topic, key=key, value=value, timestamp=max(ts, 0))
        self.count += 1
        if self.count % 1000 == 0:
            self.producer.poll(0)


class Topology:
    """One query's processing: input topics, stores, per-record work and per-batch work."""

    columns: list[tuple[str, tuple | None, bool]]
    window: WindowSpec | None = None
    store_names: tuple[str, ...] = ()
    stores: dict[str, Store]

    def topics(self) -> list[str]:
        raise NotImplementedError

    def open(self, stores: Stores) -> None:
        self.stores = {name: stores.add(name) for name in self.store_names}

    def restored(self) -> None:
        """Called once the stores hold their changelogs' contents."""

    def process(self, msg: Any, out: Output) -> None:
        raise NotImplementedError

    def rows(self) -> list[dict]:
        raise NotImplementedError


def decode_change(source: Source, msg: Any, store: Store | None) -> tuple[dict | None, dict | None]:
    """A record as (old, new): a stream record replaces nothing; a table record replaces the row its key had
    (kept in the source's store when the query needs it), a tombstone deletes it."""
    new = source.decode(msg)
    if source.kind == "STREAM" or store is None:
        return None, new
    key = msg.key()
    if key is None:
        return None, None  # ksqlDB: a table row needs a key
    old = store.get(key)
    store.put(key, new, msg.partition())
    return old, new


class ProjectTopology(Topology):
    """SELECT ... FROM stream|table [WHERE] [PARTITION BY]: a filter and a projection (table functions explode a
    row into several).  Over a table, a row that no longer passes the filter becomes a tombstone.

    A table built from a table is materialized as ksqlDB materializes it: the source's rows in `KsqlTopic-Reduce`
    (changelog `<application id>-KsqlTopic-Reduce-changelog`), the query's filter and projection applied when a
    pull query reads them (ksqlDB's materialization transforms)."""

    def __init__(self, plan: Plan, source: Source, sink_kind: str) -> None:
        self.plan = plan
        self.source = source
        self.columns = plan.columns
        self.names = [c[0] for c in plan.columns]
        self.table = source.kind == "TABLE" and sink_kind == "TABLE"
        self.window = source.window
        self.where = plan.where  # EXPLAIN shows a FILTER step when there is one
        self.pullable = self.table
        self.store_names = (SOURCE_STORE,) if self.table else ()
        # ksqlDB's stream SELECT maps a null value to a null value (the key kept, session-windows.json "import
        # session stream"); a filter or a table function drops it; a new key (PARTITION BY) is computed from the
        # record's key columns, its value columns null (partition-by.json "key expression - with null value")
        keys = [e for (n, _, k), e in zip(plan.columns, plan.exprs, strict=True)
                if k and n not in ("WINDOWSTART", "WINDOWEND")]
        self.forward_nulls = (source.kind == "STREAM" and sink_kind == "STREAM" and plan.where is None
                              and not plan.table_functions)
        self.same_key = keys == [("col", None, n) for n, _ in source.key_columns]
        self.rekey_nulls = self.forward_nulls and not self.same_key
        # an expression that reads a value column is NULL there (null.json "stream PARTITION BY IS NULL with null
        # value": `NAME IS NULL` keys it NULL; partition-by.json "multiple columns with expressions": ABS(ID) NULL,
        # AGE + 2 of the key column AGE computed)
        key_names = {n for n, _ in source.key_columns} | ({"WINDOWSTART", "WINDOWEND"} if source.window else set())
        self.key_only = [not columns_of(e) - key_names for e in plan.exprs]

    def topics(self) -> list[str]:
        return [self.source.topic]

    def process(self, msg: Any, out: Output) -> None:
        ts = msg.timestamp()[1]
        if self.source.kind == "TABLE" and msg.key() is None and self.source.key_columns:
            return  # a table row needs a key: Kafka Streams' table source skips it (table.json "null key")
        try:
            row = self.source.decode(msg)
            if self.table and msg.key() is not None:
                self._materialize(msg, row)
            if row is None:
                if self.table and msg.key() is not None:
                    out.send(msg.key(), None, ts)  # a tombstone deletes the key downstream too
                elif self.forward_nulls and not self.rekey_nulls and (msg.key() is None
                                                                       or self._same_key_bytes(out)):
                    out.send(msg.key(), None, ts)  # the same key bytes: the sink's key format is the source's
                elif self.forward_nulls:
                    # the key computed again (a new key, or the sink's key format or schema is another)
                    keyed = self.source.decode_key(msg)
                    values = [f(keyed) if own else None for f, own in zip(self.plan.fns, self.key_only, strict=True)]
                    key = out.key(dict(zip(self.names, values, strict=True)))
                    if self.window is not None and key is not None and "WINDOWSTART" in keyed:
                        key = self.window.key(key, keyed["WINDOWSTART"], keyed["WINDOWEND"])
                    out.send(key, None, ts)
                return
            results = self.plan.apply_all(row)
        except ERRORS as e:
            log.warning("Error processing record %s-%d@%d: %s", msg.topic(), msg.partition(), msg.offset(), e)
            return
        if not results:
            if self.table and msg.key() is not None:
                out.send(msg.key(), None, ts)
            return
        for values in results:
            projected = dict(zip(self.names, values, strict=True))
            # a record without a key keeps none where the key is not re-made (multi-col-keys.json "select *")
            key = None if self.same_key and msg.key() is None else out.key(projected)
            if self.window is not None and key is not None:
                key = self.window.key(key, row["WINDOWSTART"], row["WINDOWEND"])
            out.send(key, projected, ts)

    def _same_key_bytes(self, out: Output) -> bool:
        return out.sink.key_format == self.source.key_format and out.sink.key_serde is None \
            and self.source.key_serde is None

    def _materialize(self, msg: Any, row: dict | None) -> None:
        """The source's row (or its tombstone) into the store pull queries read."""
        try:
            self.stores[SOURCE_STORE].put(msg.key(), row, msg.partition())
        except TypeError as e:  # a value the store cannot hold: the sink still gets the row
            log.warning("Error materializing record %s-%d@%d: %s", msg.topic(), msg.partition(), msg.offset(), e)
            self.stores[SOURCE_STORE].put(msg.key(), None, msg.partition())  # no stale row left behind

    def rows(self) -> list[dict]:
        """The table's rows: the stored source rows that pass the filter, projected."""
        out = []
        for _, row in self.stores[SOURCE_STORE].items():
            try:
                results = self.plan.apply_all(row)
            except ERRORS:
                continue  # the record was skipped when processed, as ksqlDB's processing log skips it
            for values in results:
                projected = dict(zip(self.names, values, strict=True))
                for pseudo in ("ROWTIME", "WINDOWSTART", "WINDOWEND"):
                    if pseudo in row:
                        projected.setdefault(pseudo, row[pseudo])
                out.append(projected)
        return out


class SourceTableTopology(ProjectTopology):
    """A `CREATE SOURCE TABLE`'s query (ksqlDB's CST_...): the table's rows into its store, no sink."""

    def process(self, msg: Any, out: Output) -> None:
        if msg.key() is None:
            return
        try:
            row = self.source.decode(msg)
        except ERRORS as e:
            log.warning("Error processing record %s-%d@%d: %s", msg.topic(), msg.partition(), msg.offset(), e)
            return
        self._materialize(msg, row)


class _Timed:
    """A record whose time is a column of its value (ksqlDB's TIMESTAMP property), seen as its Kafka timestamp."""

    def __init__(self, msg: Any, ts: int) -> None:
        self._msg, self._ts = msg, ts

    def timestamp(self) -> tuple[int, int]:
        return (1, self._ts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._msg, name)


def _extract(msg: Any, source: Source) -> Any:
    try:
        row = source.decode(msg)
    except ERRORS:
        return msg
    ts = source.record_time(row)
    if ts is not None and ts < 0:  # dropped, as Kafka Streams drops a record its extractor gives no time
        log.warning("Dropping record %s-%d@%d: its timestamp column %s is null, negative or unreadable",
                    msg.topic(), msg.partition(), msg.offset(), source.timestamp)
        return None
    return _Timed(msg, ts) if ts is not None else msg


class PartitionGroups:
    """Kafka Streams' partition groups: a task (one partition number) reading several topics takes the record with
    the lowest timestamp among its partitions' heads, and waits (at most 5 s) while a partition that has no
    buffered record is not yet caught up, so that a join sees both sides in time order."""

    IDLE_S = 5.0

    def __init__(self, topics: list[str], in_flight: Any = None, pass_through: Any = (), merged: bool = False
                 ) -> None:
        self.topics = topics
        # a join's own repartition topics: the oldest record it wrote there and has not read back yet
        self.in_flight = in_flight
        self.pass_through = set(pass_through)
        # one task over every partition: a foreign-key join, whose tables need not be co-partitioned, sees both in
        # time order as ksqlDB's test driver feeds them (fk-join.json "Should allow partition count mismatch")
        self.merged = merged
        self.held: dict[int, float] = {}
        self.queues: dict[int, dict[tuple[str, int], deque]] = {}
        self.waiting: dict[int, float] = {}
        self.arrivals = 0  # equal timestamps: the record that arrived first goes first

    def add(self, msgs: list) -> None:
        for m in msgs:
            if not m.error():
                self.arrivals += 1
                task = 0 if self.merged else m.partition()
                self.queues.setdefault(task, {}).setdefault((m.topic(), m.partition()), deque()).append(
                    (self.arrivals, m))

    def pending(self) -> bool:
        return any(q for queues in self.queues.values() for q in queues.values())

    def _caught_up(self, consumer: Any, topic: str, p: int) -> bool:
        from confluent_kafka import TopicPartition

        tp = TopicPartition(topic, p)
        if not any(a.topic == topic and a.partition == p for a in consumer.assignment()):
            return True
        _, high = consumer.get_watermark_offsets(tp, cached=True)
        position = consumer.position([tp])[0].offset
        return high == 0 or (high > 0 and position >= high)

    def ready(self, consumer: Any) -> Iterator[Any]:
        """The records to process, in order, one at a time (the caller processes each before the next is chosen,
        so that what it writes to its own repartition topics is seen)."""
        assigned = [(a.topic, a.partition) for a in consumer.assignment() if a.topic in self.topics] \
            if self.merged else []
        for p, queues in self.queues.items():
            slots = assigned if self.merged else [(t, p) for t in self.topics]
            while True:
                heads = [(q[0][1].timestamp()[1], q[0][0], slot) for slot, q in queues.items() if q]
                if not heads:
                    break
                empty = [slot for slot in slots if not queues.get(slot)]
                if not empty:
                    self.waiting.pop(p, None)
                elif not all(self._caught_up(consumer, t, tp) for t, tp in empty):
                    # waited long enough once: go on until the empty partition has data again
                    since = self.waiting.setdefault(p, time.monotonic())
                    if time.monotonic() - since < self.IDLE_S:
                        break
                ts, _, slot = min(heads)
                if self._held(p, ts, slot[0]):
                    break
                yield queues[slot].popleft()[1]

    def _held(self, p: int, ts: int, topic: str) -> bool:
        """A join waits (at most IDLE_S) for the records it re-keyed through its repartition topics that are older
        than the next record, as Kafka Streams' test driver passes them on at once; a topic whose records only
        go to a repartition topic needs no wait."""
        if self.in_flight is None or topic in self.pass_through:
            return False
        if not any(t != topic and (m := self.in_flight(t)) is not None and m <= ts for t in self.topics):
            self.held.pop(p, None)
            return False
        return time.monotonic() - self.held.setdefault(p, time.monotonic()) < self.IDLE_S


class StreamsQuery(PersistentQuery):
    """A persistent query driven by a topology; its stores live under ksql.streams.state.dir."""

    state_dir: str = ""
    ready: bool = False
    commit_interval_ms: int = 2000  # ksql.streams.commit.interval.ms
    topology: Topology

    def rows(self) -> list[dict]:
        return self.topology.rows()

    def changelogs(self) -> list[str]:
        return [f"{self.group_id}-{name}-changelog" for name in self.topology.store_names]

    def _run(self) -> None:
        from confluent_kafka import Producer, TopicPartition

        from brook.cli.clients import producer_config

        eos = self.guarantee.startswith("exactly_once")
        consumer = self.consumer(eos)
        pid = process_id(Path(self.state_dir) / self.group_id)  # Kafka Streams: <application id>-<process id>
        # exactly_once(_v2): store updates reach the changelog and the sink in the transaction that also commits
        # the input offsets, so a killed server restores its stores from committed changelog records only
        producer = Producer(producer_config({**self.client_props, "client.id": self.group_id,
                                             "linger.ms": "5",
                                             # Kafka Streams' EOS default: a dead instance's transaction ends soon
                                             **({"transactional.id": f"{self.group_id}-{pid}",
                                                 "transaction.timeout.ms": "10000"} if eos else {})}))
        stores = Stores(self.state_dir, self.group_id)
        topology = self.topology
        out = Output(producer, self.sink)
        clean = False
        try:
            if eos:
                producer.init_transactions(30)
            topology.open(stores)
            stores.restore(self.client_props, self.stop_event)
            topology.restored()
            self.ready = True  # pull queries wait for the restored stores
            topics = topology.topics()
            groups = PartitionGroups(topics, getattr(topology, "in_flight", None),
                                     getattr(topology, "pass_through", ()), getattr(topology, "merged", False)
                                     ) if len(topics) > 1 else None
            # Kafka Streams commits every commit.interval.ms (ksqlDB's default: 2000), not per batch
            interval = self.commit_interval_ms / 1000
            done: dict[tuple[str, int], int] = {}  # the offsets processed since the last commit
            in_txn, last_commit = False, time.monotonic()

            def commit() -> None:
                nonlocal in_txn
                if not done:
                    return
                in_txn = False
                # what was processed (records still buffered in a partition group are not)
                offsets = [TopicPartition(t, p, o) for (t, p), o in done.items()]
                if eos:
                    producer.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata(), 30)
                    producer.commit_transaction(30)
                elif producer.flush(30) == 0:
                    # at least once: the outputs are acknowledged before the inputs' offsets are committed
                    consumer.commit(offsets=offsets, asynchronous=False)
                done.clear()

            # servers sharing the service id share the group: a task moving here reads its changelogs first
            rebalance = Rebalance(stores, self.client_props, self.stop_event, commit, groups, interval)
            consumer.subscribe(topics, on_assign=rebalance.assigned, on_revoke=rebalance.revoked)
            timed = {s.topic: s for s in ([lf.source for lf in topology.leaves] if hasattr(topology, "leaves")
                                           else [self.source]) if s.timestamp is not None}
            while not self.stop_event.is_set():
                msgs: Any = consumer.consume(500, 0.2)
                if timed:
                    msgs = [x for x in (_extract(m, timed[m.topic()]) if not m.error() and m.topic() in timed else m
                                        for m in msgs) if x is not None]
                if groups is not None:
                    groups.add(msgs)
                    msgs = groups.ready(consumer)
                processed = False
                for msg in msgs:
                    if msg.error():
                        continue
                    if eos and not in_txn:
                        producer.begin_transaction()
                        in_txn = True
                    topology.process(msg, out)
                    done[(msg.topic(), msg.partition())] = msg.offset() + 1
                    processed = True
                if processed:
                    producer.poll(0)  # what went to a repartition topic leaves now
                    for store in stores.stores.values():
                        store.flush_changelog(producer)
                if done and time.monotonic() - last_commit >= interval:
                    commit()
                    last_commit = time.monotonic()
                rebalance.standbys()
            if done:
                commit()
            clean = True
        except Exception as e:  # noqa: BLE001 - a failed query is reported by SHOW QUERIES, the server goes on
            logging.getLogger("io.confluent.ksql").error("Query %s failed: %s", self.query_id, e)
            self.state, self.error = "ERROR", str(e)
            # a function's failure is the user's (ksqlDB's KsqlFunctionClassifier), others unknown
            kind = "USER" if type(e).__name__ == "KsqlFunctionException" else "UNKNOWN"
            self.errors.append({"timestamp": int(time.time() * 1000), "errorMessage": str(e), "type": kind})
        finally:
            self.ready = False
            producer.flush(5)
            consumer.close()
            stores.close(self.client_props if clean else None)
