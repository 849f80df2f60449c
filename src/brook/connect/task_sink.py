"""WorkerSinkTask: consume, convert, transform and put; commit consumer offsets only after put() succeeded.

The consumer group is `connect-<connector name>`, as Kafka's. Offsets are committed every
offset.flush.interval.ms, when partitions are revoked, and when the task stops, each time after the task's
pre_commit/flush. Records that fail a tolerated stage go to the dead letter queue as they were consumed.
"""

from __future__ import annotations

import logging

from brook.cli.clients import fetched_position
from brook.connect.api import ErrantRecordReporter, SinkRecord
from brook.connect.data import ConnectError, Headers, RetriableError
from brook.connect.errors import FAILED, Stage
from brook.connect.task_base import WorkerTask

log = logging.getLogger("org.apache.kafka.connect.runtime.WorkerSinkTask")
MAX_POLL_RECORDS = 500  # Kafka's max.poll.records default


class WorkerSinkTask(WorkerTask):
    stop_from_caller = False

    def setup(self) -> None:
        from confluent_kafka import Consumer

        self.consumer = Consumer(self.worker.consumer_config(self.connector, self.connector_props,
                                                             self.client_id("consumer")))
        self.current: dict[tuple[str, int], int] = {}  # next offset after what put() accepted
        self.committed: dict[tuple[str, int], int] = {}
        self._paused_parts = False
        dlq = (self.cfg.get("errors.deadletterqueue.topic.name") or "").strip()
        if dlq:
            self.dlq_producer = self.worker.dlq_producer(dlq, self.cfg, self.connector_props,
                                                         self.client_id("dlq-producer"))
            self.errors.dlq_send = lambda raw, headers: self.dlq_producer.produce(
                dlq, key=raw.key(), value=raw.value(), headers=(raw.headers() or []) + headers)
            self.errors.context_headers = self.cfg["errors.deadletterqueue.context.headers.enable"]
        topics = self.cfg.get("topics") or []
        if not topics:
            regex = self.cfg.get("topics.regex")
            assert regex is not None  # the sink's config was validated to name topics or a regex
            topics = ["^" + regex]
        self.consumer.subscribe(topics, on_revoke=self._on_revoke)

    def errant_record_reporter(self):
        """Kafka gives sink tasks a reporter when the connector has a dead letter queue or logs its errors."""
        if (self.cfg.get("errors.deadletterqueue.topic.name") or "").strip() or self.cfg["errors.log.enable"]:
            return WorkerErrantRecordReporter(self)
        return None

    def _on_revoke(self, consumer, partitions) -> None:
        self.commit_offsets()
        for p in partitions:
            self.current.pop((p.topic, p.partition), None)

    def on_paused(self) -> None:
        from confluent_kafka import TopicPartition

        # paused again each time: a rebalance may have assigned partitions since
        self.consumer.pause(self.consumer.assignment())
        self._paused_parts = True
        # consume() keeps the group membership alive; anything it still returns is rewound, not dropped
        first: dict[tuple[str, int], int] = {}
        for m in self.consumer.consume(num_messages=MAX_POLL_RECORDS, timeout=0):
            if m.error() is None:
                topic, partition, offset = fetched_position(m)
                first.setdefault((topic, partition), offset)
        for (topic, partition), offset in first.items():
            self.consumer.seek(TopicPartition(topic, partition, offset))

    def execute(self) -> None:
        while not self.stopping.is_set():
            if self.paused():
                continue
            if self._paused_parts:
                self.consumer.resume(self.consumer.assignment())
                self._paused_parts = False
            msgs = self.consumer.consume(num_messages=MAX_POLL_RECORDS, timeout=0.5)
            batch, last = [], {}
            self.consumed = {}  # the batch's messages as consumed, for the errant record reporter
            for m in msgs:
                err = m.error()
                if err is not None:
                    if err.code() != -191:  # _PARTITION_EOF is not an error
                        log.warning("%s %s", self.label, err.str())
                    continue
                topic, partition, offset = fetched_position(m)
                last[(topic, partition)] = offset + 1
                self.consumed[(m.topic(), m.partition(), m.offset())] = m
                self.worker.record_active_topic(self.connector, self.index, topic)
                record = self.convert(m)
                if record is not None:
                    batch.append(record)
            if batch:
                self.deliver(batch)
            self.current.update(last)
            if self.commit_due():
                self.commit_offsets()

    def convert(self, m):
        topic = m.topic()
        key = self.errors.execute(Stage.KEY_CONVERTER, self.key_converter_class,
                                  lambda: self.key_converter.to_connect_data(topic, m.key()), m)
        if key is FAILED:
            return None
        value = self.errors.execute(Stage.VALUE_CONVERTER, self.value_converter_class,
                                    lambda: self.value_converter.to_connect_data(topic, m.value()), m)
        if value is FAILED:
            return None
        headers = self.errors.execute(Stage.HEADER_CONVERTER, self.header_converter_class,
                                      lambda: self.convert_headers(topic, m.headers() or []), m)
        if headers is FAILED:
            return None
        ts_type, ts = m.timestamp()
        record = SinkRecord(topic, m.partition(), key[0], key[1], value[0], value[1],
                            ts if ts_type != 0 else None, headers, m.offset(),
                            "LogAppendTime" if ts_type == 2 else "CreateTime", topic, m.partition(), m.offset())
        out = self.transform(record, m)
        return None if out is FAILED else out

    def convert_headers(self, topic: str, raw) -> Headers:
        out = Headers()
        for k, v in raw:
            schema, value = self.header_converter.to_connect_header(topic, k, v)
            out.add(k, value, schema)
        return out

    def deliver(self, batch: list) -> None:
        """put() until it succeeds; a RetriableException retries the same batch (WorkerSinkTask.deliverMessages)."""
        delay = 0.1
        while True:
            try:
                self.task.put(batch)
                return
            except RetriableError as e:
                log.error("%s RetriableException from SinkTask: %s", self.label, e)
                # the task's context.timeout() if it set one, else a growing backoff
                wait, self.task.context.timeout_ms = self.task.context.timeout_ms, None
                if self.stopping.wait(delay if wait is None else wait / 1000):
                    raise ConnectError("Task stopped while retrying put") from e
                delay = min(delay * 2, 5.0)
            except Exception as e:
                raise ConnectError("Exiting WorkerSinkTask due to unrecoverable exception.") from e

    def commit_offsets(self) -> None:
        from confluent_kafka import TopicPartition

        if getattr(self, "dlq_producer", None) is not None:
            self.dlq_producer.flush(self.worker.config["offset.flush.timeout.ms"] / 1000)
        pending = {tp: o for tp, o in self.current.items() if self.committed.get(tp) != o}
        if not pending:
            return
        offsets = self.task.pre_commit(dict(pending))
        if not offsets:
            return
        self.consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()], asynchronous=False)
        self.committed.update(offsets)

    def close(self, failed: bool) -> None:
        try:
            if not failed:
                self.commit_offsets()
        finally:
            self.consumer.close()
            if getattr(self, "dlq_producer", None) is not None:
                self.dlq_producer.flush(self.worker.config["offset.flush.timeout.ms"] / 1000)


class Reconverted:
    """A record a task reports that is not one the worker consumed, converted back as a consumed message."""

    def __init__(self, task: WorkerSinkTask, record: SinkRecord) -> None:
        t = record.topic
        self._record = record
        self._key = task.key_converter.from_connect_data(t, record.key_schema, record.key)
        self._value = task.value_converter.from_connect_data(t, record.value_schema, record.value)
        self._headers = [(h.key, task.header_converter.from_connect_header(t, h.key, h.schema, h.value))
                         for h in record.headers]

    def topic(self) -> str:
        return self._record.topic

    def partition(self) -> int | None:
        return self._record.kafka_partition

    def offset(self) -> int:
        return self._record.kafka_offset

    def timestamp(self) -> tuple[int, int | None]:
        return 1, self._record.timestamp

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes | None:
        return self._value

    def headers(self) -> list:
        return self._headers


class WorkerErrantRecordReporter(ErrantRecordReporter):
    """Kafka's WorkerErrantRecordReporter: the record as it was consumed (or converted back) goes through the task's
    error handler as a failure of stage TASK_PUT of class SinkTask."""

    def __init__(self, task: WorkerSinkTask) -> None:
        self.task = task

    def report(self, record: SinkRecord, error: BaseException) -> None:
        consumed = getattr(self.task, "consumed", {})
        raw = consumed.get((record.original_topic, record.original_partition, record.original_offset)) \
            or Reconverted(self.task, record)
        self.task.errors.report_failed(Stage.TASK_PUT, "org.apache.kafka.connect.sink.SinkTask", error, raw)
