"""WorkerSourceTask: poll the task, transform, convert and produce; commit source offsets that Kafka acknowledged.

An offset is committed only when its record and every earlier record of the same source partition were
acknowledged (Kafka's SubmittedRecords), at each offset.flush.interval.ms and when the task stops.
"""

from __future__ import annotations

import logging
from collections import deque

from brook.connect.data import ConnectError
from brook.connect.errors import FAILED, Stage
from brook.connect.task_base import WorkerTask
from brook.connect.topic_creation import TopicCreation

log = logging.getLogger("org.apache.kafka.connect.runtime.WorkerSourceTask")


class WorkerSourceTask(WorkerTask):
    def setup(self) -> None:
        from confluent_kafka import Producer

        self.producer = Producer(self.worker.producer_config(self.connector_props, self.client_id("producer")))
        self.submitted: dict[bytes, deque] = {}  # offset key -> deque of [offset, acked], in submission order
        self.send_error: Exception | None = None
        self.keys: dict[tuple, bytes] = {}
        self.topic_creation = TopicCreation.of(self.worker.config["topic.creation.enable"], self.connector_props)

    def execute(self) -> None:
        while not self.stopping.is_set():
            if self.paused():
                continue
            records = self.task.poll()
            if records:
                self.send(records)
            self.producer.poll(0)
            if self.send_error is not None:
                raise ConnectError("Unrecoverable exception from producer send callback") from self.send_error
            if self.commit_due():
                self.commit_offsets()

    def send(self, records) -> None:
        for record in records:
            entry = self._track(record)
            out = self.transform(record)
            if out is None or out is FAILED:
                if entry is not None:
                    entry[1] = True  # dropped or skipped records count as done (Kafka commits past them)
                continue
            key = self.errors.execute(Stage.KEY_CONVERTER, self.key_converter_class,
                                      lambda o=out: self.key_converter.from_connect_data(o.topic, o.key_schema, o.key))
            value = self.errors.execute(Stage.VALUE_CONVERTER, self.value_converter_class, lambda o=out:
                                        self.value_converter.from_connect_data(o.topic, o.value_schema, o.value))
            headers = self.errors.execute(Stage.HEADER_CONVERTER, self.header_converter_class,
                                          lambda o=out: self.convert_headers(o))
            if FAILED in (key, value, headers):
                if entry is not None:
                    entry[1] = True
                continue
            if self.topic_creation is not None:
                self.topic_creation.ensure(self.worker._admin(), out.topic)
            kwargs = {"key": key, "value": value, "headers": headers or None,
                      "on_delivery": self._delivered(entry, record)}
            if out.kafka_partition is not None:
                kwargs["partition"] = out.kafka_partition
            if out.timestamp is not None:
                kwargs["timestamp"] = out.timestamp
            while True:
                try:
                    self.producer.produce(out.topic, **kwargs)
                    break
                except BufferError:
                    self.producer.poll(0.1)  # the local queue is full: wait for deliveries

    def convert_headers(self, record) -> list[tuple[str, bytes | None]]:
        return [(h.key, self.header_converter.from_connect_header(record.topic, h.key, h.schema, h.value))
                for h in record.headers]

    def _track(self, record):
        if record.source_partition is None:
            return None
        entry = [record.source_offset, False]
        key = self._key(record.source_partition)
        self.submitted.setdefault(key, deque()).append(entry)
        return entry

    def _key(self, partition: dict) -> bytes:
        """The offset key of a source partition, cached: a task's records share a few partitions."""
        try:
            cache_key = tuple(partition.items())
            key = self.keys.get(cache_key)
        except TypeError:  # unhashable values: computed each time
            return self.offsets.key(self.connector, partition)
        if key is None:
            key = self.keys[cache_key] = self.offsets.key(self.connector, partition)
        return key

    def _delivered(self, entry, record):
        def cb(err, msg):
            if err is not None:
                error = ConnectError(f"Failed to send record to topic {msg.topic()}: {err.str()}")
                if not self.errors.tolerate_all:
                    self.send_error = error
                    return
                # KIP-779: with errors.tolerance=all a record Kafka refused is reported and skipped, its offset
                # committed as if it had been sent
                self.errors.report_failed(Stage.KAFKA_PRODUCE, "org.apache.kafka.connect.runtime.WorkerSourceTask",
                                          error, None)
            if entry is not None:
                entry[1] = True
            if err is None:
                self.worker.record_active_topic(self.connector, self.index, msg.topic())
            self.task.commit_record(record)
        return cb

    def committable(self) -> dict[bytes, dict | None]:
        out = {}
        for key, queue in self.submitted.items():
            while queue and queue[0][1]:
                out[key] = queue.popleft()[0]
        return out

    def commit_offsets(self) -> None:
        self.producer.poll(0)
        offsets = self.committable()
        if offsets:
            self.offsets.put(self.connector, offsets)
            log.debug("%s Finished committing %d offsets", self.label, len(offsets))
        self.task.commit()

    def close(self, failed: bool) -> None:
        timeout = self.worker.config["offset.flush.timeout.ms"] / 1000
        remaining = self.producer.flush(timeout)
        if remaining:
            log.error("%s Failed to flush, timed out while waiting for producer to flush outstanding %d messages",
                      self.label, remaining)
        self.commit_offsets()
