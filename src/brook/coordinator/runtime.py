"""Coordinator runtimes (Kafka's CoordinatorRuntime, synchronous): run an operation on the shard of its key, append
the records it produced to that shard's partition of the internal topic (__consumer_offsets, __transaction_state)
before the answer, load a partition by replaying it and unload it, and hand due deadlines to their shards. Partitions
are reached through the CoordinatorHost the broker passes in."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TypeVar

from brook.errors import ErrorCode, KafkaError
from brook.internal_topics import OFFSETS_TOPIC, TRANSACTION_TOPIC
from brook.java_hash import string_hash
from brook.protocol.coordinator_records import (
    GroupMetadataKey,
    GroupMetadataValue,
    OffsetCommitKey,
    OffsetCommitValue,
    TransactionLogKey,
    decode_group_value,
    decode_key,
    decode_offset_value,
    decode_txn_key,
    decode_txn_value,
    encode_group_value,
    encode_key,
    encode_offset_value,
    encode_txn_key,
    encode_txn_value,
)
from brook.protocol.records.batch import TRANSACTIONAL_FLAG, iter_batch_positions, read_header
from brook.protocol.records.builder import build_batch
from brook.protocol.records.control import COMMIT, marker_type
from brook.protocol.records.records import iter_records

from .group.config import GroupConfig
from .group.coordinator import GroupCoordinatorShard
from .group.group import Group
from .host import CoordinatorHost
from .output import Append, CoordinatorResult
from .timer import Timer
from .txn.coordinator import TransactionCoordinator, TxnConfig

log = logging.getLogger("kafka.coordinator.group.GroupCoordinator")
_txn_log = logging.getLogger("kafka.coordinator.transaction.TransactionCoordinator")
T = TypeVar("T")
RawRecord = tuple[bytes, bytes | None]
# Kafka's internal topic configs (GroupCoordinator.offsetsTopicConfigs, TransactionLog's).
OFFSETS_TOPIC_CONFIGS = {"cleanup.policy": "compact", "segment.bytes": "104857600", "compression.type": "producer"}
TRANSACTION_TOPIC_CONFIGS = {"cleanup.policy": "compact", "segment.bytes": "104857600",
                             "compression.type": "uncompressed", "min.insync.replicas": "1"}


class CoordinatorLog:
    """One internal topic: partition choice by Kafka's hash of the key, synchronous appends, replay."""

    def __init__(self, host: CoordinatorHost, topic: str, partitions: int, configs: dict[str, str]) -> None:
        self.host = host
        self.topic = topic
        self.num_partitions = partitions
        self.configs = configs

    def partition_for(self, key: str) -> int:
        return (string_hash(key) & 0x7FFFFFFF) % self.num_partitions

    def ensure_topic(self) -> None:
        count = self.host.partition_count(self.topic)
        if count is None:
            self.host.create_internal_topic(self.topic, self.num_partitions, self.configs)
        else:
            self.num_partitions = count

    def partitions(self) -> int:
        """How many partitions the topic has (or will have when created)."""
        count = self.host.partition_count(self.topic)
        if count is not None:
            self.num_partitions = count
        return self.num_partitions

    def append(self, partition: int, records: list[RawRecord], now_ms: int, producer_id: int = -1,
               producer_epoch: int = -1) -> int:
        """With a producer id: a transactional batch, applied on replay only once its COMMIT marker follows."""
        self.ensure_topic()
        data = build_batch(records, now_ms, TRANSACTIONAL_FLAG if producer_id >= 0 else 0, producer_id,
                           producer_epoch)
        return self.host.append(self.topic, partition, data, now_ms)

    def replay(self, partition: int, apply: Callable[[bytes, bytes | None], None]
               ) -> tuple[int, dict[int, list[RawRecord]]]:
        """Apply the partition's records in order (transactional ones once their COMMIT marker is read); return the
        count and the records of transactions with no marker yet, by producer id."""
        count = 0
        pending: dict[int, list[RawRecord]] = {}
        for data, pos in self._batches(partition):
            h = read_header(data, pos)
            if h.is_control:
                held = pending.pop(h.producer_id, [])
                if held and any(marker_type(r.key or b"") == COMMIT for r in iter_records(data, pos)):
                    count += self._apply_all(apply, held, partition)
            elif h.is_transactional:
                pending.setdefault(h.producer_id, []).extend((r.key or b"", r.value) for r in iter_records(data, pos))
            else:
                count += self._apply_all(apply, [(r.key or b"", r.value) for r in iter_records(data, pos)], partition)
        return count, pending

    def _batches(self, partition: int) -> Iterator[tuple[bytes, int]]:
        offset = 0
        while True:
            data = self.host.read(self.topic, partition, offset, 1 << 20)
            if not data:
                return
            for pos, _base, _size in iter_batch_positions(data):
                offset = read_header(data, pos).next_offset
                yield data, pos

    def _apply_all(self, apply: Callable[[bytes, bytes | None], None], records: list[RawRecord], p: int) -> int:
        count = 0
        for key, value in records:
            try:
                apply(key, value)
                count += 1
            except Exception as e:
                log.warning("Skipping unreadable record in %s-%d: %s", self.topic, p, e)
        return count


def _encode_group_record(key: object, value: object | None) -> RawRecord:
    if value is None:
        encoded = None
    elif isinstance(value, GroupMetadataValue):
        encoded = encode_group_value(value)
    else:
        assert isinstance(value, OffsetCommitValue)
        encoded = encode_offset_value(value)
    return encode_key(key), encoded  # type: ignore[arg-type]


def _decode_group_record(key: bytes, value: bytes | None) -> tuple[object, object | None]:
    k = decode_key(key)
    if value is None:
        return k, None
    return k, decode_group_value(value) if isinstance(k, GroupMetadataKey) else decode_offset_value(value)


class GroupCoordinatorRuntime:
    """The group coordinator: one shard per loaded partition of __consumer_offsets, one timer for all."""

    def __init__(self, host: CoordinatorHost, config: GroupConfig, clock: Callable[[], float]) -> None:
        """clock: the broker's wall clock in seconds, only to time the loading in the log."""
        self.config = config
        self.clock = clock
        self.log = CoordinatorLog(host, OFFSETS_TOPIC, config.num_partitions, OFFSETS_TOPIC_CONFIGS)
        self.timer = Timer()
        self.shards: dict[int, GroupCoordinatorShard] = {}

    def ensure_topic(self) -> None:
        self.log.ensure_topic()

    def partition_for(self, group_id: str) -> int:
        return self.log.partition_for(group_id)

    def shard(self, group_id: str) -> GroupCoordinatorShard | None:
        """The shard of the group's partition; None when this broker has not loaded it (NOT_COORDINATOR)."""
        return self.shards.get(self.log.partition_for(group_id))

    def groups(self) -> Iterator[Group]:
        for shard in self.shards.values():
            yield from shard.groups.values()

    # -- operations ----------------------------------------------------------------------------------------
    def write(self, group_id: str, op: Callable[[GroupCoordinatorShard], T], missing: T,
              now_ms: int) -> CoordinatorResult[T]:
        """Run op on the group's shard and append what it wrote; `missing` is the answer without a shard."""
        shard = self.shard(group_id)
        if shard is None:
            return CoordinatorResult(missing)
        return self._appended(shard, op(shard), now_ms)

    def _appended(self, shard: GroupCoordinatorShard, response: T, now_ms: int) -> CoordinatorResult[T]:
        result = shard.out.result(response)
        for a in result.appends:
            error = self._append(shard.partition, a, now_ms)
            if error is None:
                if a.apply is not None:
                    a.apply()
            elif a.refused is not None:
                result.response = a.refused(error)  # type: ignore[assignment]
        return result

    def _append(self, partition: int, a: Append, now_ms: int) -> ErrorCode | None:
        """The error when the log refused the records (a full disk, logged by the host: NOT_COORDINATOR; too small
        an ISR: COORDINATOR_NOT_AVAILABLE): Kafka's coordinators answer it and keep only what their log holds."""
        try:
            self.log.append(partition, [_encode_group_record(k, v) for k, v in a.records], now_ms, a.producer_id,
                            a.producer_epoch)
        except KafkaError as e:
            return e.code
        return None

    def _each_shard(self, op: Callable[[GroupCoordinatorShard], object], now_ms: int,
                    partitions: list[int] | None = None) -> CoordinatorResult[None]:
        total: CoordinatorResult[None] = CoordinatorResult(None)
        for p in list(self.shards) if partitions is None else partitions:
            shard = self.shards.get(p)
            if shard is None:
                continue
            op(shard)
            result = self._appended(shard, None, now_ms)
            total.appends.extend(result.appends)
            total.completions.extend(result.completions)
        return total

    def next_deadline(self) -> int | None:
        return self.timer.next_deadline()

    def poll(self, now_ms: int) -> CoordinatorResult[None]:
        """Run every deadline due at now_ms (rebalance timeouts, sessions, unclaimed member ids)."""
        due = self.timer.pop_due(now_ms)
        touched: list[int] = []
        for key in due:
            shard = self.shards.get(key[0])  # type: ignore[index]
            if shard is not None:
                shard.on_timer(key, now_ms)  # type: ignore[arg-type]
                touched.append(shard.partition)
        return self._each_shard(lambda s: None, now_ms, list(dict.fromkeys(touched)))

    def cleanup(self, now_ms: int) -> CoordinatorResult[None]:
        return self._each_shard(lambda s: s.cleanup(now_ms), now_ms)

    def complete_txn(self, producer_id: int, commit: bool, partitions: list[int],
                     now_ms: int) -> CoordinatorResult[None]:
        """The transaction's marker reached these partitions of __consumer_offsets."""
        return self._each_shard(lambda s: s.offsets.complete_txn(producer_id, commit), now_ms, partitions)

    # -- loading and unloading -----------------------------------------------------------------------------
    def load(self, now_ms: int) -> None:
        t0 = self.clock()
        count = sum(self.load_partition(p, now_ms) for p in range(self.log.partitions()))
        log.info("Loaded %d records from %s in %d ms (%d groups)", count, OFFSETS_TOPIC,
                 (self.clock() - t0) * 1000, sum(1 for _ in self.groups()))

    def load_partition(self, partition: int, now_ms: int) -> int:
        """Become the coordinator of the partition's groups: replay it into a new shard (the records of transactions
        still open are pending offsets again)."""
        if partition in self.shards:
            self.unload_partition(partition, now_ms)
        shard = GroupCoordinatorShard(partition, self.config, self.timer)
        count = 0
        self.log.partitions()  # the topic's own count, should this broker's offsets.topic.num.partitions differ
        if self.log.host.partition_count(OFFSETS_TOPIC) is not None:
            count, open_txns = self.log.replay(partition, lambda k, v: shard.replay(*_decode_group_record(k, v)))
            for pid, records in open_txns.items():
                for key, value in records:
                    k, v = _decode_group_record(key, value)
                    if isinstance(k, OffsetCommitKey) and isinstance(v, OffsetCommitValue):
                        shard.offsets.replay_pending(pid, k, v)
        shard.membership.loaded(now_ms)
        self.shards[partition] = shard
        return count

    def unload_partition(self, partition: int, now_ms: int) -> CoordinatorResult[None]:
        """Stop coordinating the partition's groups (leadership moved): they are dropped, their deadlines too, and
        requests that waited are answered NOT_COORDINATOR (in the result's completions)."""
        shard = self.shards.pop(partition, None)
        if shard is None:
            return CoordinatorResult(None)
        shard.unload(now_ms)
        return shard.out.result(None)


class TransactionCoordinatorRuntime:
    """The transaction coordinator over __transaction_state: a single broker loads every partition at start; in a
    cluster each partition loads when this broker becomes its leader and unloads when it stops being it."""

    def __init__(self, host: CoordinatorHost, config: TxnConfig, clock: Callable[[], float]) -> None:
        self.log = CoordinatorLog(host, TRANSACTION_TOPIC, config.num_partitions, TRANSACTION_TOPIC_CONFIGS)
        self.clock = clock
        self.abort_interval_s = config.abort_interval_ms / 1000
        self.coordinator = TransactionCoordinator(config, self.persist, host.write_txn_markers,
                                                  host.new_producer_id, clock, self.log.partition_for)

    def ensure_topic(self) -> None:
        self.log.ensure_topic()

    def partition_for(self, txn_id: str) -> int:
        return self.log.partition_for(txn_id)

    def persist(self, txn_id: str, key: TransactionLogKey, value: object | None) -> None:
        encoded = None if value is None else encode_txn_value(value)  # type: ignore[arg-type]
        self.log.append(self.log.partition_for(txn_id), [(encode_txn_key(key), encoded)], int(self.clock() * 1000))

    def expire(self) -> None:
        """One round of the timeout job: abort transactions past their timeout, forget idle transactional ids."""
        txn_log = logging.getLogger("kafka.server.KafkaServer")
        for txn_id in self.coordinator.abort_timed_out():
            txn_log.info("Aborted transaction of %s: it exceeded its timeout", txn_id)
        for txn_id in self.coordinator.expire_transactional_ids():
            txn_log.info("Expired transactional id %s", txn_id)

    def load(self) -> None:
        """A single broker: every partition, coordinator epoch 0."""
        t0 = self.clock()
        count = sum(self._replay(p, 0) for p in range(self.log.partitions()))
        self.coordinator.recover()
        _txn_log.info("Loaded %d records from %s in %d ms (%d transactional ids)", count, TRANSACTION_TOPIC,
                      (self.clock() - t0) * 1000, len(self.coordinator.txns))

    def load_partition(self, partition: int, coordinator_epoch: int) -> int:
        """Become the coordinator of the partition's transactional ids (Kafka's loadTransactionsForTxnTopicPartition):
        replay it, then finish the transactions it left in PrepareCommit / PrepareAbort. Loading runs to the end
        before any request sees the partition, so none is answered COORDINATOR_LOAD_IN_PROGRESS."""
        t0 = self.clock()
        count = self._replay(partition, coordinator_epoch)
        for m in self.coordinator.recover(partition):
            _txn_log.info("Completing the transaction of %s (producer %d, epoch %d) left in %s", m.transactional_id,
                          m.producer_id, m.producer_epoch, m.state.kafka_name)
        _txn_log.info("Finished loading %d transaction metadata records from %s-%d in %d ms (coordinator epoch %d)",
                      count, TRANSACTION_TOPIC, partition, (self.clock() - t0) * 1000, coordinator_epoch)
        return count

    def _replay(self, partition: int, coordinator_epoch: int) -> int:
        self.coordinator.loading(partition, coordinator_epoch)
        self.log.partitions()  # the topic's own count (Kafka's transactionTopicPartitionCount), not this config's
        if self.log.host.partition_count(TRANSACTION_TOPIC) is None:
            return 0
        return self.log.replay(partition, lambda k, v: self.coordinator.replay(
            decode_txn_key(k), None if v is None else decode_txn_value(v)))[0]

    def unload_partition(self, partition: int) -> None:
        gone = self.coordinator.unload_partition(partition)
        _txn_log.info("Unloaded %d transactional ids of %s-%d", len(gone), TRANSACTION_TOPIC, partition)

