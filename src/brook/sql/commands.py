"""ksqlDB's command topic and CommandRunner: `_confluent-ksql-<service id>_command_topic` (one partition, kept
forever) holds every statement that changes the metastore.  A server replays it at start, then keeps following it,
so that servers sharing a `ksql.service.id` all know every stream and table and all run every persistent query
(the query's consumer group splits its partitions between them).  Commands apply once each, in the topic's order;
a server's own statements are applied as it writes them and skipped when read back.

Writers are serialized as ksqlDB's: the command producer is transactional with the service id as its
transactional id, so a server's write commits only if no other server wrote since it caught up (a server that
initializes the producer fences the others; a fenced or outdated server catches up and validates again)."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from brook.sql.engine import Engine

log = logging.getLogger("io.confluent.ksql.rest.server.computation.CommandRunner")


class StaleMetastore(Exception):
    """Another server wrote a command since this one validated its statement: catch up and validate again."""


class CommandRunner:
    POLL_S = 0.5  # how often a server looks for statements another server wrote

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.topic = engine.config.command_topic
        self.consumer: Any = None
        self.own: set[int] = set()  # offsets this server wrote (and applied); skipped when read back
        self.position = 0  # the next offset to read
        self.applied = 0  # commands replayed or followed (statements of this server not counted)
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.producer: Any = None  # transactional, created on the first write

    def _ensure_topic(self, timeout: float) -> None:
        from confluent_kafka.admin import NewTopic

        if self.topic in self.engine.admin.list_topics(timeout=timeout).topics:
            return
        replicas = int(self.engine.config.get("ksql.internal.topic.replicas") or 1)
        fut = self.engine.admin.create_topics([NewTopic(self.topic, 1, replicas, config={
            "retention.ms": "-1", "cleanup.policy": "delete", "min.insync.replicas": "1"})])[self.topic]
        try:
            fut.result(timeout)
        except Exception as e:  # noqa: BLE001 - another server created it first
            if "already exists" not in str(e).lower() and "TOPIC_ALREADY_EXISTS" not in str(e):
                raise

    def start(self, timeout: float) -> None:
        """Create the topic if needed, replay it to its end, then follow it in the background."""
        from confluent_kafka import Consumer, TopicPartition

        self._ensure_topic(timeout)
        config = self.engine.config
        self.consumer = Consumer({**config.client_props(), "group.id": f"_confluent-ksql-{config.service_id}"
                                  "command_restore", "enable.auto.commit": False,
                                  "isolation.level": "read_committed"})
        self.consumer.assign([TopicPartition(self.topic, 0, 0)])
        with self.engine.lock:
            self.catch_up(timeout, strict=True)
        log.info("Restored %d command(s) from %s", self.applied, self.topic)
        self.thread = threading.Thread(target=self._follow, name="CommandRunner", daemon=True)
        self.thread.start()

    def catch_up(self, timeout: float = 10.0, strict: bool = False) -> None:
        """Apply every command up to the topic's current end; the caller holds the engine's lock (ksqlDB runs
        commands one at a time, and a statement is validated against a metastore that has seen them all)."""
        from confluent_kafka import IsolationLevel, TopicPartition
        from confluent_kafka.admin import OffsetSpec

        tp = TopicPartition(self.topic, 0)
        # the admin client's own connection: the consumer's waits behind its long-polling fetch
        high = self.engine.admin.list_offsets({tp: OffsetSpec.latest()}, request_timeout=timeout,
                                              isolation_level=IsolationLevel.READ_COMMITTED)[tp].result().offset
        deadline = time.monotonic() + timeout
        # the consumer's position too, not only the last record's offset: transaction markers take offsets
        while (position := max(self.position, self.consumer.position([tp])[0].offset)) < high:
            if time.monotonic() > deadline:
                if strict:
                    raise TimeoutError(f"Timed out reading {self.topic} to offset {high}")
                return
            # as many as are missing: consume() returns as soon as it has them, not after its timeout
            for msg in self.consumer.consume(min(high - position, 500), 0.2):
                if msg.error():
                    continue
                offset, value = msg.offset(), msg.value()
                self.position = offset + 1
                if offset in self.own:
                    self.own.discard(offset)
                elif value is not None:  # ksqlDB writes no tombstones here
                    self.applied += 1
                    self.engine._restore(offset, json.loads(value))

    def try_catch_up(self) -> None:
        """catch_up before answering a request; with Kafka away the request goes on (and meets the error itself)."""
        if self.consumer is None:
            return
        with self.engine.lock:
            try:
                self.catch_up(5.0)
            except Exception as e:  # noqa: BLE001
                log.warning("Could not read %s: %s", self.topic, e)

    def _producer(self) -> Any:
        from confluent_kafka import Producer

        from brook.cli.clients import producer_config

        if self.producer is None:
            config = self.engine.config
            self.producer = Producer(producer_config({
                **config.client_props(), "client.id": "ksql-command-producer",
                "transactional.id": config.service_id, "transaction.timeout.ms": "60000"}))
            self.producer.init_transactions(30)  # fences the producers of the other servers
        return self.producer

    def write(self, key: bytes, value: bytes) -> int:
        """Append a command (the caller holds the engine's lock and has validated against the caught-up
        metastore); its offset.  StaleMetastore when another server wrote first."""
        from confluent_kafka import KafkaException

        producer = self._producer()
        done: dict[str, Any] = {}
        try:
            producer.begin_transaction()
            before = self.applied
            self.catch_up(10.0, strict=True)
            if self.applied != before:
                producer.abort_transaction(30)
                raise StaleMetastore()
            # the report only: a fenced producer raises from flush() while the callback runs
            producer.produce(self.topic, key=key, value=value, on_delivery=lambda err, msg: done.update(
                err=err, msg=msg))
            producer.flush(30)
            if done.get("err") is None and "msg" in done:
                done["offset"] = done["msg"].offset()
            else:
                producer.abort_transaction(30)
                raise KafkaException(done.get("err") or "timed out")
            producer.commit_transaction(30)
        except StaleMetastore:
            raise
        except (KafkaException, SystemError) as e:
            self._close_producer()  # the next write starts a new producer (init aborts what this one left open)
            err = e.args[0] if e.args else None
            if isinstance(e, SystemError) or getattr(err, "fatal", lambda: False)() or \
                    getattr(err, "txn_requires_abort", lambda: False)() or getattr(err, "retriable", lambda: False)():
                # fenced by another server's producer, or its transaction still open (CONCURRENT_TRANSACTIONS):
                # start again with a new producer, fencing it
                raise StaleMetastore() from None
            raise
        except BaseException:
            self._close_producer()
            raise
        self.own.add(done["offset"])  # applied here: skipped when read back
        return int(done["offset"])

    def _close_producer(self) -> None:
        if self.producer is not None:
            self.producer.flush(1)
            self.producer = None

    def _follow(self) -> None:
        while not self.stop_event.wait(self.POLL_S):
            try:
                with self.engine.lock:
                    self.catch_up(5.0)
            except Exception as e:  # noqa: BLE001 - Kafka away for a while: try again at the next poll
                log.warning("Could not read %s: %s", self.topic, e)

    def stop(self) -> None:
        self.stop_event.set()
        self._close_producer()
        if self.thread is not None:
            self.thread.join(10)
        if self.consumer is not None:
            self.consumer.close()
            self.consumer = None
