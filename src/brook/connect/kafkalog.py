"""KafkaBasedLog: a compacted topic read from the beginning by a background consumer and written by a producer,
the storage of a distributed worker's configs, offsets and statuses (Kafka's KafkaBasedLog)."""

from __future__ import annotations

import logging
import threading
import time

from brook.cli.clients import fetched_position
from brook.connect.data import ConnectError

log = logging.getLogger("org.apache.kafka.connect.util.KafkaBasedLog")


def ensure_topic(admin, topic: str, partitions: int, replication: int) -> None:
    """Create the topic compacted if it does not exist (TopicAdmin.createOrFindTopics)."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import NewTopic

    if topic in admin.list_topics(timeout=30).topics:
        return
    new = NewTopic(topic, partitions, replication, config={"cleanup.policy": "compact"})
    try:
        admin.create_topics([new])[topic].result(30)
        log.info("Created topic (name=%s, numPartitions=%d, replicationFactor=%d, replicasAssignments=null, "
                 "configs={cleanup.policy=compact}) on brokers at %s", topic, partitions, replication, "")
    except KafkaException as e:
        if e.args[0].code() != 36:  # TOPIC_ALREADY_EXISTS: another worker made it meanwhile
            raise ConnectError(f"Error while attempting to create/find topic '{topic}'") from e


class KafkaBasedLog:
    def __init__(self, bootstrap: str, topic: str, on_record, client_id: str) -> None:
        from confluent_kafka import Consumer, Producer
        from confluent_kafka.admin import AdminClient

        from brook.cli.clients import producer_config

        self.topic, self.on_record = topic, on_record
        self.admin = AdminClient({"bootstrap.servers": bootstrap, "client.id": f"{client_id}-{topic}-admin"})
        self.producer = Producer(producer_config({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": "0",
                                                  "client.id": f"{client_id}-{topic}-producer"}))
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{client_id}-{topic}-reader",
                                  "client.id": f"{client_id}-{topic}-reader", "enable.auto.commit": False,
                                  "auto.offset.reset": "earliest", "enable.partition.eof": False})
        self._lock = threading.Lock()
        self._position: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"KafkaBasedLog Work Thread - {topic}", daemon=True)

    def start(self) -> None:
        from confluent_kafka import TopicPartition

        meta = self.consumer.list_topics(self.topic, timeout=30).topics[self.topic]
        parts = sorted(meta.partitions)
        self.consumer.assign([TopicPartition(self.topic, p, 0) for p in parts])
        self.partitions = parts
        self._thread.start()
        self.read_to_end()

    def _run(self) -> None:
        while not self._stop.is_set():
            msgs = self.consumer.consume(500, 0.1)
            for m in msgs:
                if m.error() is not None:
                    continue
                try:
                    self.on_record(m.key(), m.value())
                except Exception:
                    log.exception("Unexpected exception in %s", self._thread.name)
                _, partition, offset = fetched_position(m)
                with self._lock:
                    self._position[partition] = offset + 1

    def read_to_end(self, timeout: float = 30) -> None:
        """Wait until every record written before this call has been applied."""
        from confluent_kafka import TopicPartition
        from confluent_kafka.admin import OffsetSpec

        # one ListOffsets for every partition, on the admin client's connection (the consumer's is busy with
        # its long-polling fetches)
        futures = self.admin.list_offsets({TopicPartition(self.topic, p): OffsetSpec.latest()
                                           for p in self.partitions}, request_timeout=timeout)
        ends = {tp.partition: f.result(timeout).offset for tp, f in futures.items()}
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if all(self._position.get(p, 0) >= end for p, end in ends.items() if end > 0):
                    return
            if time.monotonic() > deadline:
                raise ConnectError(f"Timed out while reading to the end of {self.topic}")
            time.sleep(0.01)

    def send(self, key: bytes, value: bytes | None, wait: bool = True) -> None:
        errors: list = []
        self.producer.produce(self.topic, key=key, value=value,
                              on_delivery=lambda err, _m: errors.append(err) if err is not None else None)
        if wait:
            if self.producer.flush(30) or errors:
                raise ConnectError(f"Failed to write to {self.topic}: {errors[0] if errors else 'timed out'}")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.producer.flush(10)
        self.consumer.close()
