"""Local partitions (Partition objects, one per log): produce appends (acks, min.insync.replicas, flush policy),
coordinator appends and transaction markers, plus the wake-ups that complete delayed fetches when data arrives
and, in a cluster, delayed acks=all produces when the high watermark reaches them (Kafka's DelayedProduce)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from brook.errors import ErrorCode, KafkaError
from brook.log.log import Log
from brook.metadata import PartitionsAdded, ReplicasReassigned, TopicCreated, TopicDeleted, TopicInfo
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
    required_offset: int = -1  # acks=all in a cluster: the high watermark this answer waits for
    partition: Partition | None = None  # ... on this partition


def _null_keys(records: bytes | memoryview) -> list[int]:
    try:
        return null_key_indexes(bytes(records))
    except Exception:  # undecodable records inside a batch whose CRC was right
        raise KafkaError(ErrorCode.corrupt_message, "records inside the batch cannot be read") from None


class ReplicaManager:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.logs = broker.log_manager
        self.partitions: dict[tuple[str, int], Partition] = {}
        self._watchers: dict[tuple[str, int], list[asyncio.Future]] = {}
        # acks=all produces waiting for the ISR: (required offset, future of their error code)
        self._acks: dict[tuple[str, int], list[tuple[int, asyncio.Future]]] = {}
        self.cluster = broker.cluster is not None  # partitions wait for their state from the controller
        # Subscribed after the TopicAdmin, whose handlers create and delete the logs these partitions hold.
        store = broker.metadata
        store.subscribe(TopicCreated, lambda e: self._follow(e.info))
        store.subscribe(PartitionsAdded, lambda e: self._follow(e.info))
        store.subscribe(TopicDeleted, lambda e: self._forget(e.info))
        store.subscribe(ReplicasReassigned, self._reassigned)

    # -- partitions ----------------------------------------------------------------------------------------
    def load(self) -> None:
        """At start-up: a Partition for every loaded log, led by this broker (the cluster will ask its controller)."""
        for (topic, p), lg in self.logs.logs.items():
            if (topic, p) not in self.partitions:
                self._add(topic, p, lg)

    def _add(self, topic: str, index: int, lg: Log) -> None:
        self.partitions[(topic, index)] = Partition(topic, index, lg, self.broker.broker_id) if self.cluster \
            else Partition.lone_leader(topic, index, lg, self.broker.broker_id)

    def _follow(self, info: TopicInfo) -> None:
        for p in range(info.partitions):
            lg = self.logs.get(info.name, p)
            if lg is not None and (info.name, p) not in self.partitions:
                self._add(info.name, p, lg)

    def _reassigned(self, event: ReplicasReassigned) -> None:
        """A replica added here by a reassignment becomes a partition (its log exists by now), a removed one
        goes (Kafka's StopReplica with deletion)."""
        self._follow(event.info)
        me = self.broker.broker_id
        for p in range(event.info.partitions):
            if me not in event.info.replicas(p) and me in event.previous.replicas(p):
                part = self.partitions.pop((event.info.name, p), None)
                if part is not None:
                    self._answer_acks(part, ErrorCode.not_leader_or_follower)

    def _forget(self, info: TopicInfo) -> None:
        for p in range(info.partitions):
            part = self.partitions.pop((info.name, p), None)
            if part is not None:
                self._answer_acks(part, ErrorCode.not_leader_or_follower)

    def missing_error(self, topic: str, partition: int) -> ErrorCode:
        """Kafka's getPartitionOrError for a partition with no local replica: known to the cluster, this broker
        is neither its leader nor a follower."""
        info = self.broker.topics.get(topic)
        return ErrorCode.not_leader_or_follower if info is not None and partition < info.partitions \
            else ErrorCode.unknown_topic_or_partition

    def get_partition(self, topic: str, index: int) -> Partition | None:
        return self.partitions.get((topic, index))

    def leader_epoch(self, topic: str, index: int) -> int:
        part = self.partitions.get((topic, index))
        return part.leader_epoch if part is not None else -1

    # -- appends -------------------------------------------------------------------------------------------
    def append(self, topic: str, partition: int, records: bytes | memoryview | None, acks: int) -> ProduceResult:
        if topic in INTERNAL_TOPICS:  # Kafka: only its coordinators write there (internalTopicsAllowed)
            e = KafkaError(ErrorCode.invalid_topic_exception, f"Cannot append to internal topic {topic}")
            self.broker.log_bad_produce(topic, partition, e)
            return ProduceResult(e.code, message=e.message)
        part = self.partitions.get((topic, partition))
        if part is None:
            code = self.missing_error(topic, partition)
            self.broker.log_bad_produce(topic, partition, KafkaError(
                code, "This server does not host this topic-partition."))
            return ProduceResult(code)
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
                return self._awaiting_isr(ProduceResult(ErrorCode.none, info.base_offset, info.log_append_time,
                                                        lg.log_start_offset), acks, part, h.last_offset_delta)
        except KafkaError as e:
            self.broker.log_bad_produce(topic, partition, e)
            return ProduceResult(e.code, message=e.message)
        except OSError as os_error:  # a full disk: the log took the batch back; the client may retry
            failure = self.broker.log_dir_failures.failed(lg.directory.parent,
                                                          f"appending records to {topic}-{partition}", os_error)
            return ProduceResult(failure.code, message=failure.message)
        if self.broker.log_dir_failures.failing:
            self.broker.log_dir_failures.succeeded(lg.directory.parent)
        if self._watchers:
            self.notify(topic, partition)
        result = ProduceResult(ErrorCode.none, info.base_offset, info.log_append_time, lg.log_start_offset,
                               flush=lg if lg.needs_flush else None)
        return self._awaiting_isr(result, acks, part, h.last_offset_delta) if acks == -1 else result

    @staticmethod
    def _awaiting_isr(result: ProduceResult, acks: int, part: Partition, last_offset_delta: int) -> ProduceResult:
        """acks=all with the batch above the high watermark: the answer waits for the followers (a retried
        duplicate too, until the ISR has its original)."""
        end = result.base_offset + last_offset_delta + 1
        if acks == -1 and part.log.high_watermark < end:
            result.required_offset, result.partition = end, part
        return result

    # -- the cluster: acks=all, followers, leadership ------------------------------------------------------
    async def wait_for_acks(self, results: list[ProduceResult], timeout_s: float) -> None:
        """Delayed produce: each result waiting on its partition's high watermark gets its final error code, or
        REQUEST_TIMED_OUT after the request's timeout (Kafka's DelayedProduce.onExpire)."""
        waits: list[tuple[ProduceResult, asyncio.Future]] = []
        loop = asyncio.get_running_loop()
        for r in results:
            part = r.partition
            assert part is not None
            fut = loop.create_future()
            code = part.enough_replicas_reached(r.required_offset)
            if code is not None:
                fut.set_result(code)
            else:
                self._acks.setdefault((part.topic, part.index), []).append((r.required_offset, fut))
            waits.append((r, fut))
        done, _ = await asyncio.wait([f for _, f in waits], timeout=timeout_s)
        for r, fut in waits:
            if fut in done:
                code = fut.result()
            else:
                code = ErrorCode.request_timed_out
                fut.cancel()
                part = r.partition
                assert part is not None
                pending = self._acks.get((part.topic, part.index))
                if pending:
                    pending[:] = [w for w in pending if w[1] is not fut]
            if code != ErrorCode.none:
                r.error, r.base_offset, r.log_append_time, r.log_start_offset = code, -1, -1, -1
            r.partition = None

    def high_watermark_moved(self, part: Partition) -> None:
        """Wake the consumers' delayed fetches and answer the acks=all produces the high watermark now covers."""
        self.notify(part.topic, part.index)
        waiting = self._acks.get((part.topic, part.index))
        if not waiting:
            return
        keep = []
        for required, fut in waiting:
            code = part.enough_replicas_reached(required)
            if code is None:
                keep.append((required, fut))
            elif not fut.done():
                fut.set_result(code)
        if keep:
            waiting[:] = keep
        else:
            del self._acks[(part.topic, part.index)]

    def leadership_lost(self, part: Partition) -> None:
        self._answer_acks(part, ErrorCode.not_leader_or_follower)

    def _answer_acks(self, part: Partition, code: ErrorCode) -> None:
        for _, fut in self._acks.pop((part.topic, part.index), ()):
            if not fut.done():
                fut.set_result(code)

    def follower_fetched(self, part: Partition, replica_id: int, fetch_offset: int) -> None:
        """A follower's Fetch from fetch_offset (its log end offset): its position, the high watermark, and an
        ISR expansion once it caught up."""
        if part.update_follower_fetch_state(replica_id, fetch_offset, int(time.time() * 1000)):
            self.high_watermark_moved(part)
        replication = self.broker.replication
        if replication is not None and replica_id not in part.isr:
            replication.follower_fetched(part, replica_id)

    def append_coordinator_records(self, topic: str, partition: int, records: bytes) -> int:
        """A coordinator's batch (built by the broker itself) on its internal topic; returns its base offset. In a
        cluster it is an acks=-1 append (Kafka's coordinators'): min.insync.replicas is checked first."""
        part = self.partitions.get((topic, partition))
        if part is None:
            raise KafkaError(ErrorCode.not_leader_or_follower,
                             f"Leader not local for partition {topic}-{partition} on broker {self.broker.broker_id}")
        if self.cluster:
            part.check_min_isr(-1)
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
        if self.cluster:  # Kafka appends markers with acks=-1
            part.check_min_isr(-1)
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
