"""Local partitions: produce appends (acks, min.insync.replicas, flush policy) and fetch reads, plus the
wake-ups that complete delayed fetches when data arrives."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from brook.errors import ErrorCode, KafkaError
from brook.log.log import Log
from brook.protocol.records.batch import validate_produced
from brook.protocol.records.records import null_key_indexes

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
        self._watchers: dict[tuple[str, int], list[asyncio.Future]] = {}
        self.leader_epoch = 0

    def get_log(self, topic: str, partition: int) -> Log:
        lg = self.logs.get(topic, partition)
        if lg is None:
            raise KafkaError(ErrorCode.unknown_topic_or_partition,
                             "This server does not host this topic-partition.")
        return lg

    def append(self, topic: str, partition: int, records: bytes | None, acks: int) -> ProduceResult:
        if topic in INTERNAL_TOPICS:  # Kafka: only its coordinators write there (internalTopicsAllowed)
            e = KafkaError(ErrorCode.invalid_topic_exception, f"Cannot append to internal topic {topic}")
            self.broker.log_bad_produce(topic, partition, e)
            return ProduceResult(e.code, message=e.message)
        lg = self.logs.get(topic, partition)
        if lg is None:
            self.broker.log_bad_produce(topic, partition, KafkaError(
                ErrorCode.unknown_topic_or_partition, "This server does not host this topic-partition."))
            return ProduceResult(ErrorCode.unknown_topic_or_partition)
        if records is None:
            return ProduceResult(ErrorCode.corrupt_message, message="null records")
        try:
            if acks == -1 and lg.config.min_insync_replicas > 1:
                raise KafkaError(ErrorCode.not_enough_replicas,
                                 f"The size of the current ISR Set(0) is insufficient to satisfy the min.isr "
                                 f"requirement of {lg.config.min_insync_replicas} for partition "
                                 f"{topic}-{partition}")
            h = validate_produced(records, lg.config.max_message_bytes)
            if "compact" in lg.config.cleanup_policy:
                failed = _null_keys(records)
                if failed:
                    msg = f"Compacted topic cannot accept message without key in topic partition {topic}-{partition}."
                    self.broker.log_bad_produce(topic, partition, KafkaError(ErrorCode.invalid_record, msg))
                    return ProduceResult(ErrorCode.invalid_record, message=msg,
                                         record_errors=tuple((i, msg) for i in failed))
            info = lg.append(records, h, self.leader_epoch, int(time.time() * 1000))
            if info.duplicate:  # a retry: acknowledge with the original offset, write nothing
                return ProduceResult(ErrorCode.none, info.base_offset, info.log_append_time, lg.log_start_offset)
        except KafkaError as e:
            self.broker.log_bad_produce(topic, partition, e)
            return ProduceResult(e.code, message=e.message)
        except OSError as e:  # a full disk: the log took the batch back; the client may retry
            e = self.broker.log_dir_failures.failed(lg.directory.parent, f"appending records to {topic}-{partition}", e)
            return ProduceResult(e.code, message=e.message)
        if self.broker.log_dir_failures.failing:
            self.broker.log_dir_failures.succeeded(lg.directory.parent)
        lg.high_watermark = lg.log_end_offset  # a single replica is the whole ISR
        self.notify(topic, partition)
        return ProduceResult(ErrorCode.none, info.base_offset, info.log_append_time, lg.log_start_offset,
                             flush=lg if lg.needs_flush else None)

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
