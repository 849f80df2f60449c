"""Local partitions (Partition objects, one per log): produce appends (acks, min.insync.replicas, flush policy),
coordinator appends and transaction markers, plus the wake-ups that complete delayed fetches when data arrives."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from brook.errors import ErrorCode, KafkaError
from brook.log.log import Log
from brook.metadata import PartitionsAdded, TopicCreated, TopicDeleted, TopicInfo
from brook.protocol.records.batch import read_header, validate_produced
from brook.protocol.records.records import null_key_indexes

from .partition import Partition
from .topics import INTERNAL_TOPICS

if TYPE_CHECKING:
    from .server import Broker


@dataclass(slots=True)
class ProduceResult:
    error: ErrorCode
    base_offset: int = -1
    log_append_time: int = -1
    log_start_offset: int = -1
    message: str | None = None
    flush: Log | None = None  # set when the ack must wait for an fsync
    record_errors: tuple[tuple[int, str], ...] = ()  # (batch index, message) of the records that failed


def _null_keys(records: bytes) -> list[int]:
    try:
        return null_key_indexes(records)
    except Exception:  # undecodable records inside a batch whose CRC was right
        raise KafkaError(ErrorCode.corrupt_message, "records inside the batch cannot be read") from None


class ReplicaManager:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.logs = broker.log_manager
        self.partitions: dict[tuple[str, int], Partition] = {}
        self._watchers: dict[tuple[str, int], list[asyncio.Future]] = {}
        # Subscribed after the TopicAdmin, whose handlers create and delete the logs these partitions hold.
        store = broker.metadata
        store.subscribe(TopicCreated, lambda e: self._follow(e.info))
        store.subscribe(PartitionsAdded, lambda e: self._follow(e.info))
        store.subscribe(TopicDeleted, lambda e: self._forget(e.info))

    # -- partitions ----------------------------------------------------------------------------------------
    def load(self) -> None:
        """At start-up: a Partition for every loaded log, led by this broker (the cluster will ask its controller)."""
        for (topic, p), lg in self.logs.logs.items():
            if (topic, p) not in self.partitions:
                self._add(topic, p, lg)

    def _add(self, topic: str, index: int, lg: Log) -> None:
        self.partitions[(topic, index)] = Partition.lone_leader(topic, index, lg, self.broker.broker_id)

    def _follow(self, info: TopicInfo) -> None:
        for p in range(info.partitions):
            lg = self.logs.get(info.name, p)
            if lg is not None and (info.name, p) not in self.partitions:
                self._add(info.name, p, lg)

    def _forget(self, info: TopicInfo) -> None:
        for p in range(info.partitions):
            self.partitions.pop((info.name, p), None)

    def get_partition(self, topic: str, index: int) -> Partition | None:
        return self.partitions.get((topic, index))

    def leader_epoch(self, topic: str, index: int) -> int:
        part = self.partitions.get((topic, index))
        return part.leader_epoch if part is not None else -1

    # -- appends -------------------------------------------------------------------------------------------
    def append(self, topic: str, partition: int, records: bytes | None, acks: int) -> ProduceResult:
        if topic in INTERNAL_TOPICS:  # Kafka: only its coordinators write there (internalTopicsAllowed)
            e = KafkaError(ErrorCode.invalid_topic_exception, f"Cannot append to internal topic {topic}")
            self.broker.log_bad_produce(topic, partition, e)
            return ProduceResult(e.code, message=e.message)
        part = self.partitions.get((topic, partition))
        if part is None:
            self.broker.log_bad_produce(topic, partition, KafkaError(
                ErrorCode.unknown_topic_or_partition, "This server does not host this topic-partition."))
            return ProduceResult(ErrorCode.unknown_topic_or_partition)
        if records is None:
            return ProduceResult(ErrorCode.corrupt_message, message="null records")
        lg = part.log
        try:
            if acks == -1:
                part.check_min_isr(acks)
            h = validate_produced(records, lg.config.max_message_bytes)
            if "compact" in lg.config.cleanup_policy:
                failed = _null_keys(records)
                if failed:
                    msg = f"Compacted topic cannot accept message without key in topic partition {topic}-{partition}."
                    self.broker.log_bad_produce(topic, partition, KafkaError(ErrorCode.invalid_record, msg))
                    return ProduceResult(ErrorCode.invalid_record, message=msg,
                                         record_errors=tuple((i, msg) for i in failed))
            info = part.append_records_to_leader(records, h, int(time.time() * 1000))
            if info.duplicate:  # a retry: acknowledge with the original offset, write nothing
                return ProduceResult(ErrorCode.none, info.base_offset, info.log_append_time, lg.log_start_offset)
        except KafkaError as e:
            self.broker.log_bad_produce(topic, partition, e)
            return ProduceResult(e.code, message=e.message)
        except OSError as os_error:  # a full disk: the log took the batch back; the client may retry
            failure = self.broker.log_dir_failures.failed(lg.directory.parent,
                                                          f"appending records to {topic}-{partition}", os_error)
            return ProduceResult(failure.code, message=failure.message)
        if self.broker.log_dir_failures.failing:
            self.broker.log_dir_failures.succeeded(lg.directory.parent)
        self.notify(topic, partition)
        return ProduceResult(ErrorCode.none, info.base_offset, info.log_append_time, lg.log_start_offset,
                             flush=lg if lg.needs_flush else None)

    def append_coordinator_records(self, topic: str, partition: int, records: bytes) -> int:
        """A coordinator's batch (built by the broker itself) on its internal topic; returns its base offset."""
        part = self.partitions.get((topic, partition))
        if part is None:
            raise KafkaError(ErrorCode.not_leader_or_follower,
                             f"Leader not local for partition {topic}-{partition} on broker {self.broker.broker_id}")
        try:
            info = part.append_records_to_leader(records, read_header(records), int(time.time() * 1000),
                                                 validate=False)
        except OSError as e:  # a full disk: nothing was appended
            raise self._failed(part, f"appending records to {topic}-{partition}", e) from None
        self._succeeded(part)
        self.notify(topic, partition)
        return info.base_offset

    def append_marker(self, topic: str, partition: int, producer_id: int, producer_epoch: int, commit: bool,
                      coordinator_epoch: int, now_ms: int) -> None:
        """A transaction marker (raises KafkaError per partition, as Kafka answers WriteTxnMarkers)."""
        part = self.partitions.get((topic, partition))
        if part is None:
            raise KafkaError(ErrorCode.unknown_topic_or_partition, "This server does not host this topic-partition.")
        try:
            part.append_marker(producer_id, producer_epoch, commit, coordinator_epoch, now_ms)
        except OSError as e:  # a full disk: KAFKA_STORAGE_ERROR, and the coordinator tries again
            raise self._failed(part, f"appending a marker to {topic}-{partition}", e) from None
        self._succeeded(part)
        self.notify(topic, partition)

    def _failed(self, part: Partition, what: str, e: OSError) -> KafkaError:
        return self.broker.log_dir_failures.failed(part.log.directory.parent, what, e)

    def _succeeded(self, part: Partition) -> None:
        if self.broker.log_dir_failures.failing:
            self.broker.log_dir_failures.succeeded(part.log.directory.parent)

    def notify(self, topic: str, partition: int) -> None:
        """Wake delayed fetches waiting on this partition."""
        watchers = self._watchers.pop((topic, partition), None)
        if watchers:
            for w in watchers:
                if not w.done():
                    w.set_result(None)

    def wait_for_data(self, partitions: list[tuple[str, int]]) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        for tp in partitions:
            self._watchers.setdefault(tp, []).append(fut)
        return fut

    def forget(self, partitions: list[tuple[str, int]], fut: asyncio.Future) -> None:
        for tp in partitions:
            lst = self._watchers.get(tp)
            if lst and fut in lst:
                lst.remove(fut)
                if not lst:
                    del self._watchers[tp]
