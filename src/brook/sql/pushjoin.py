"""Push queries over joins (SELECT ... FROM a JOIN b ON ... EMIT CHANGES [LIMIT n]) and over aggregates (GROUP BY,
over a join or a single source), run as ksqlDB runs them: a transient query with the join's or the aggregate's
topology (joins.py, aggregates.py), its own stores in a state directory of its own under ksql.streams.state.dir and
its own repartition topics when the join or the GROUP BY re-keys, reading its sources from auto.offset.reset.  Rows
go to the response as they come; when LIMIT is reached or the client goes away the stores' directory and the
repartition topics are removed.  The stores keep no changelog: nothing restores a transient query."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Any

from brook.sql.aggregates import AggregateTopology
from brook.sql.joins import JoinTopology
from brook.sql.parser import Query
from brook.sql.queries import columns_schema
from brook.sql.stores import Stores
from brook.sql.streams import Output, PartitionGroups


class JoinColumns:
    """What the REST layer reads of a push query's plan: its columns, schema text and LIMIT (with GROUP BY: the
    SELECT's columns in its order, as ksqlDB streams an aggregate's rows, the key only when selected)."""

    def __init__(self, topology: JoinTopology | AggregateTopology, limit: int | None) -> None:
        self.columns = output_columns(topology)
        self.limit = limit

    def schema(self) -> str:
        return columns_schema(self.columns)


class Collect(Output):
    """The topology's output: projected rows are kept for the response (a table's deletions are not rows);
    `producer` writes the repartition topics."""

    def __init__(self, producer: Any, names: list[str], key_name: str | None) -> None:
        self.producer = producer
        self.names = names
        self.key_name = key_name
        self.rows: list[list] = []

    def key(self, row: dict) -> bytes | None:
        value = row.get(self.key_name or "ROWKEY")
        return None if value is None else json.dumps(value, sort_keys=True, default=str).encode()

    def send(self, key: bytes | None, row: dict | None, ts: int) -> None:
        if row is not None:
            self.rows.append([row.get(n) for n in self.names])


def topology(engine: Any, query: Query, app_id: str) -> JoinTopology | AggregateTopology:
    """The join's or the aggregate's topology, named after the transient application id (its repartition topics
    carry it).  With GROUP BY the aggregate's store and -Aggregate-GroupBy-repartition topic are the query's own too;
    its keys are JSON (nothing outside the query reads them, and JSON holds several GROUP BY columns)."""
    source = engine._source(query.source)
    if not query.joins:
        return AggregateTopology(query, source, "JSON", app_id)
    sources = [source] + [engine._source(j.source) for j in query.joins]
    partitions = {s.topic: (engine._topic_partitions(s.topic) or (1, 1))[0] for s in sources}
    return JoinTopology(query, sources, "STREAM", app_id, partitions, key_format="JSON", transient=True)


def _aggregate(topo: JoinTopology | AggregateTopology) -> AggregateTopology | None:
    return topo if isinstance(topo, AggregateTopology) else topo.aggregate


def output_columns(topo: JoinTopology | AggregateTopology) -> list:
    """The streamed columns: a join's projection, or an aggregate's SELECT in its order (ksqlDB streams the key of
    an aggregate only when it is selected)."""
    aggregate = _aggregate(topo)
    return aggregate.projection if aggregate is not None else topo.columns


class TransientJoin:
    """One push query's run: start() in a worker thread, then step() per poll, close() once at the end (never at
    the same time as step())."""

    def __init__(self, engine: Any, topo: JoinTopology | AggregateTopology, app_id: str, offset_reset: str) -> None:
        self.engine = engine
        self.topology = topo
        self.app_id = app_id
        self.offset_reset = offset_reset
        self.lock = threading.Lock()
        self.consumer: Any = None
        self.producer: Any = None
        self.stores = Stores(str(engine.config.get("ksql.streams.state.dir")), app_id)
        self.groups: PartitionGroups | None = None
        self.out: Collect | None = None
        self.repartitions = topo.plan.repartitions() if isinstance(topo, JoinTopology) else []
        aggregate = _aggregate(topo)
        if aggregate is not None and aggregate.repartition:
            self.repartitions.append(aggregate.repartition)
        self.closed = False  # the client went away before start() ran: it creates nothing then

    def start(self) -> None:
        from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, Producer, TopicPartition

        from brook.cli.clients import producer_config

        engine, topo = self.engine, self.topology
        with self.lock:
            if self.closed:
                return
            first = topo.topics()[0]
            have = engine._topic_partitions(first)
            for topic in self.repartitions:
                engine._changelog_topic(topic, have[0] if have else 1, "delete")
            self.producer = Producer(producer_config({**engine.config.client_props(), "client.id": self.app_id,
                                                      "linger.ms": "5"}))
            self.consumer = Consumer({**engine.config.consumer_props(), "group.id": self.app_id,
                                      "enable.auto.commit": False})
            topo.open(self.stores)
            for store in self.stores.stores.values():
                shutil.rmtree(store.path, ignore_errors=True)
                store.open()
            topo.restored()
            self.out = Collect(self.producer, [c[0] for c in output_columns(topo)], getattr(topo, "key_name", None))
            topics = topo.topics()
            md = self.consumer.list_topics(timeout=10).topics
            start_at = OFFSET_BEGINNING if self.offset_reset == "earliest" else OFFSET_END
            # its own repartition topics are read from their beginning: they were created for this query
            self.consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING if t in self.repartitions else start_at)
                                  for t in topics for p in (md[t].partitions if t in md else {})])
            if len(topics) > 1:
                if isinstance(topo, JoinTopology):
                    self.groups = PartitionGroups(topics, topo.in_flight, topo.pass_through, topo.merged)
                else:
                    self.groups = PartitionGroups(topics)

    def step(self) -> list[list]:
        """The joined rows of one poll."""
        with self.lock:
            if self.out is None:
                return []
            msgs: Any = self.consumer.consume(500, 0.2)
            if self.groups is not None:
                self.groups.add(msgs)
                msgs = self.groups.ready(self.consumer)
            processed = False
            for msg in msgs:
                if not msg.error():
                    self.topology.process(msg, self.out)
                    processed = True
            if processed:
                self.producer.poll(0)  # what went to a repartition topic leaves now
            rows, self.out.rows = self.out.rows, []
            return rows

    def close(self) -> None:
        with self.lock:
            self.closed = True
            if self.consumer is not None:
                self.consumer.close()
            if self.producer is not None:
                self.producer.flush(5)
            self.stores.close(None)
            shutil.rmtree(Path(self.stores.root), ignore_errors=True)
            if self.repartitions:
                futures = self.engine.admin.delete_topics(self.repartitions, operation_timeout=10)
                for fut in futures.values():
                    try:
                        fut.result(15)
                    except Exception:  # noqa: BLE001, S110 - a topic never created has nothing to delete
                        pass
