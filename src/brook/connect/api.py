"""The plugin interfaces (org.apache.kafka.connect.connector/source/sink): what a Brook connector implements.

A plugin is a Python class found through an entry point (see plugins.py). Connectors and tasks are driven by the
worker from their own threads, as Kafka's WorkerConnector and WorkerTask drive them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from brook.connect.configdef import ConfigDef
from brook.connect.data import Headers, Schema

VERSION = "3.9.0"  # the Kafka Connect release whose interface Brook serves


@dataclass
class ConnectRecord:
    topic: str
    kafka_partition: int | None
    key_schema: Schema | None
    key: Any
    value_schema: Schema | None
    value: Any
    timestamp: int | None = None
    headers: Headers = field(default_factory=Headers)

    def new_record(self, topic: str, kafka_partition: int | None, key_schema: Schema | None, key: Any,
                   value_schema: Schema | None, value: Any, timestamp: int | None,
                   headers: Headers | None = None) -> ConnectRecord:
        """ConnectRecord.newRecord: a copy with these parts replaced (source/sink specifics kept)."""
        return replace(self, topic=topic, kafka_partition=kafka_partition, key_schema=key_schema, key=key,
                       value_schema=value_schema, value=value, timestamp=timestamp,
                       headers=self.headers.copy() if headers is None else headers)


@dataclass
class SourceRecord(ConnectRecord):
    source_partition: dict | None = None
    source_offset: dict | None = None


@dataclass
class SinkRecord(ConnectRecord):
    kafka_offset: int = -1
    timestamp_type: str = "CreateTime"
    original_topic: str = ""
    original_partition: int = 0
    original_offset: int = -1


class Connector:
    """org.apache.kafka.connect.connector.Connector."""

    kind = "source"  # or "sink"
    CONFIG_DEF = ConfigDef()

    def version(self) -> str:
        return VERSION

    def start(self, props: dict[str, str]) -> None:
        self.props = dict(props)

    def task_class(self) -> type:
        raise NotImplementedError

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]

    def stop(self) -> None:
        pass

    def config(self) -> ConfigDef:
        return self.CONFIG_DEF

    def validate(self, props: dict[str, str]) -> list:
        """Connector.validate: ConfigValues for the connector's own ConfigDef."""
        return self.config().validate_all(props)


class SourceConnector(Connector):
    kind = "source"


class SinkConnector(Connector):
    kind = "sink"


class OffsetStorageReader:
    """What a source task sees of its committed offsets (keyed by its source partitions)."""

    def __init__(self, store, namespace: str) -> None:
        self._store, self._namespace = store, namespace

    def offset(self, partition: dict) -> dict | None:
        return self._store.get(self._namespace, partition)


class ErrantRecordReporter:
    """SinkTaskContext.errantRecordReporter (KIP-610): a sink task reports a record its put() cannot write; the
    worker handles it as the convert and transform stages' errors (stage TASK_PUT): logged, sent to the dead letter
    queue, or the task fails with "Tolerance exceeded in error handler" under errors.tolerance=none."""

    def report(self, record: SinkRecord, error: BaseException) -> None:
        raise NotImplementedError


@dataclass
class TaskContext:
    offset_storage_reader: OffsetStorageReader | None = None
    assignment: set = field(default_factory=set)
    timeout_ms: int | None = None
    # set for sink tasks whose connector has a dead letter queue or errors.log.enable, as Kafka provides it
    errant_record_reporter: ErrantRecordReporter | None = None

    def timeout(self, timeout_ms: int) -> None:
        """SinkTaskContext.timeout: how long to wait before the records of a RetriableException come again."""
        self.timeout_ms = timeout_ms


class Task:
    def __init__(self) -> None:
        self.context = TaskContext()

    def initialize(self, context: TaskContext) -> None:
        self.context = context

    def version(self) -> str:
        return VERSION

    def start(self, props: dict[str, str]) -> None:
        pass

    def stop(self) -> None:
        pass


class SourceTask(Task):
    def poll(self) -> list[SourceRecord] | None:
        raise NotImplementedError

    def commit(self) -> None:
        """Called after offsets were committed (SourceTask.commit)."""

    def commit_record(self, record: SourceRecord) -> None:
        """Called once the record was acknowledged by Kafka (SourceTask.commitRecord)."""


class SinkTask(Task):
    def put(self, records: list[SinkRecord]) -> None:
        raise NotImplementedError

    def flush(self, offsets: dict) -> None:
        pass

    def pre_commit(self, offsets: dict) -> dict:
        self.flush(offsets)
        return offsets
