"""The `_schemas` topic as the registry's store (Confluent's KafkaStore): created compacted with one partition,
read to its end at start, then followed by a reader thread; a write returns once the reader has applied it
(Confluent's waitUntilOffset), so a successful answer means the record is in Kafka and in this process's state."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Sequence

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from brook.cli.clients import producer_config
from brook.registry.config import RegistryConfig
from brook.registry.errors import operation_timeout, store_error
from brook.registry.state import State

log = logging.getLogger("io.confluent.kafka.schemaregistry.storage.KafkaStore")


class StoreInitializationException(Exception):
    pass


class KafkaStore:
    def __init__(self, config: RegistryConfig, state: State) -> None:
        self.config = config
        self.state = state
        self.lock = threading.Lock()           # guards `state` between the reader thread and the handlers
        self.applied = threading.Condition(self.lock)
        self.offset = -1                       # the last offset applied to `state`
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.producer: Producer | None = None
        self.consumer: Consumer | None = None

    # --- start and stop

    def start(self) -> None:
        deadline = time.monotonic() + self.config.init_timeout_ms / 1000
        self._create_or_verify_topic(deadline)
        props = self.config.kafka_client_props()
        # as Confluent's KafkaStore: no retries, so a write that timed out is not delivered later behind the
        # caller's back; one request in flight keeps the records in order
        self.producer = Producer(producer_config({**props, "acks": "all", "linger.ms": "0", "retries": "0",
                                                  "max.in.flight.requests.per.connection": "1",
                                                  "message.timeout.ms": str(max(1, self.config.timeout_ms)),
                                                  "client.id": "producer-schema-registry"}))
        self.consumer = Consumer({**props, "group.id": f"schema-registry-{uuid.uuid4()}", "enable.auto.commit": False,
                                  "client.id": "KafkaStore-reader-" + self.config.topic,
                                  "fetch.wait.max.ms": 50, "enable.partition.eof": False})
        self.consumer.assign([TopicPartition(self.config.topic, 0, OFFSET_BEGINNING)])
        # end offsets are asked on a client of their own: the reader's consumer is busy polling in its thread
        self._watermarks = Consumer({**props, "group.id": f"schema-registry-{uuid.uuid4()}",
                                     "enable.auto.commit": False, "client.id": "KafkaStore-end-offsets"})
        self._watermarks_lock = threading.Lock()
        end = self._end_offset(deadline)
        while self.offset < end - 1:  # read to the end before answering anything
            if time.monotonic() > deadline:
                raise StoreInitializationException(
                    f"KafkaStoreReaderThread failed to reach target offset {end - 1} within the timeout interval")
            self._poll(0.2)
        log.info("Reached the end of the schemas topic %s at offset %d", self.config.topic, self.offset)
        self._thread = threading.Thread(target=self._run, name="KafkaStoreReaderThread-" + self.config.topic,
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self.consumer is not None:
            self.consumer.close()
            self._watermarks.close()
        if self.producer is not None:
            self.producer.flush(5)

    def _create_or_verify_topic(self, deadline: float) -> None:
        admin = AdminClient({**self.config.kafka_client_props()})  # the stub's value type is wider than str
        topic = self.config.topic
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StoreInitializationException(
                    f"Timed out trying to create or validate schema topic configuration ({topic})")
            try:
                md = admin.list_topics(timeout=min(remaining, 5))
                break
            except KafkaException as e:
                log.warn("Kafka is not reachable yet: %s", e)
        if topic in md.topics and md.topics[topic].error is None:
            return self._verify_topic(admin, md.topics[topic])
        brokers = len(md.brokers)
        if brokers <= 0:
            raise StoreInitializationException("No live Kafka brokers")
        rf = min(brokers, self.config.replication_factor)
        if rf < self.config.replication_factor:
            log.warning("Creating the schema topic %s using a replication factor of %d, which is less than the "
                        "desired one of %d. If this is a production environment, it's crucial to add more brokers "
                        "and increase the replication factor of the topic.", topic, rf,
                        self.config.replication_factor)
        log.info("Creating schemas topic %s", topic)
        futures = admin.create_topics([NewTopic(topic, 1, rf, config={"cleanup.policy": "compact"})],
                                      operation_timeout=max(1.0, deadline - time.monotonic()))
        try:
            futures[topic].result()
        except KafkaException as e:
            if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:  # another registry created it first
                raise StoreInitializationException(f"Failed trying to create or validate schema topic "
                                                   f"configuration: {e}") from e

    def _verify_topic(self, admin: AdminClient, topic_md: object) -> None:
        topic = self.config.topic
        if len(topic_md.partitions) != 1:  # type: ignore[attr-defined]
            raise StoreInitializationException(f"The schema topic {topic} should have only 1 partition but has "
                                               f"{len(topic_md.partitions)}.")  # type: ignore[attr-defined]
        res = ConfigResource(ConfigResource.Type.TOPIC, topic)
        configs = admin.describe_configs([res])[res].result()
        policy = configs.get("cleanup.policy")
        if policy is None or policy.value != "compact":
            raise StoreInitializationException(
                f"The retention policy of the schema topic {topic} is incorrect. You must configure the topic to "
                f"'compact' cleanup policy to avoid Kafka deleting your schemas after a week. Refer to Kafka "
                f"documentation for more details on cleanup policies")

    def _end_offset(self, deadline: float) -> int:
        while True:
            try:
                tp = TopicPartition(self.config.topic, 0)
                with self._watermarks_lock:
                    return self._watermarks.get_watermark_offsets(tp, timeout=5)[1]
            except KafkaException:
                if time.monotonic() > deadline:
                    raise

    # --- reading

    def _poll(self, timeout: float) -> None:
        # wait for one record at most `timeout`, then take whatever else is already fetched, without waiting
        # (consume(n, timeout) would hold every write's answer until n records or the timeout)
        first = self.consumer.poll(timeout)  # type: ignore[union-attr]
        if first is None:
            return
        msgs = [first, *self.consumer.consume(499, 0)]  # type: ignore[union-attr]
        with self.lock:
            for m in msgs:
                if m.error():
                    continue
                self.state.apply(m.key(), m.value())
                self.offset = m.offset()
            self.applied.notify_all()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._poll(0.1)
            except Exception:  # the reader must outlive a bad record or a broker that went away
                log.exception("KafkaStoreReaderThread failed to read a batch")

    def catch_up(self, timeout_s: float) -> None:
        """Waits until the reader has applied everything the topic holds now (a new primary does this before it
        allocates ids, as Confluent's leader waits for its reader to reach the last offset)."""
        deadline = time.monotonic() + timeout_s
        end = self._end_offset(deadline)
        with self.lock:
            if not self.applied.wait_for(lambda: self.offset >= end - 1, max(0.0, deadline - time.monotonic())):
                raise StoreInitializationException(f"KafkaStoreReaderThread failed to reach target offset {end - 1}")

    # --- writing

    def write(self, records: Sequence[tuple[bytes, bytes | None]]) -> None:
        """Produces `records` in order and returns once the reader has applied the last one."""
        timeout = self.config.timeout_ms / 1000
        results: list = []

        def delivered(err: KafkaError | None, msg: object) -> None:
            results.append((err, msg))

        try:
            for key, value in records:
                self.producer.produce(self.config.topic, value, key, partition=0,  # type: ignore[union-attr]
                                      on_delivery=delivered)
        except (KafkaException, BufferError) as e:
            raise store_error(f"Error while registering schema: {e}") from e
        deadline = time.monotonic() + timeout
        while len(results) < len(records):
            if time.monotonic() > deadline:
                raise operation_timeout("Write to the Kafka store timed out while waiting for an ack")
            self.producer.poll(0.01)  # type: ignore[union-attr]
        for err, _ in results:
            if err is not None:
                raise store_error(f"Error while storing to Kafka: {err.str()}")
        last = max(msg.offset() for _, msg in results)
        with self.lock:
            if not self.applied.wait_for(lambda: self.offset >= last, max(0.0, deadline - time.monotonic())):
                raise operation_timeout(f"KafkaStoreReaderThread failed to reach target offset {last} within the "
                                        f"timeout interval. targetOffset: {last}, offsetReached: {self.offset}")
