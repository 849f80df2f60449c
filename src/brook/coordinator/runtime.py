"""Coordinator runtimes: append coordinator records to their internal topic (__consumer_offsets,
__transaction_state) synchronously, before the response, and replay them at start-up."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from brook.errors import ErrorCode, KafkaError
from brook.protocol.coordinator_records import (
    GroupMetadataKey,
    OffsetCommitKey,
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

from .group.coordinator import GroupConfig, GroupCoordinator
from .txn.coordinator import TransactionCoordinator, TxnConfig

if TYPE_CHECKING:
    from brook.broker.server import Broker

log = logging.getLogger("kafka.coordinator.group.GroupCoordinator")
OFFSETS_TOPIC = "__consumer_offsets"
TRANSACTION_TOPIC = "__transaction_state"
# Kafka's internal topic configs (GroupCoordinator.offsetsTopicConfigs, TransactionLog's).
OFFSETS_TOPIC_CONFIGS = {"cleanup.policy": "compact", "segment.bytes": "104857600", "compression.type": "producer"}
TRANSACTION_TOPIC_CONFIGS = {"cleanup.policy": "compact", "segment.bytes": "104857600",
                             "compression.type": "uncompressed", "min.insync.replicas": "1"}


def java_string_hash(s: str) -> int:
    h = 0
    for unit in _utf16_units(s):  # Java hashes UTF-16 code units
        h = (31 * h + unit) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


def _utf16_units(s: str) -> Iterator[int]:
    data = s.encode("utf-16-be")
    for i in range(0, len(data), 2):
        yield (data[i] << 8) | data[i + 1]


class CoordinatorLog:
    """One internal topic: partition choice by Kafka's hash of the key, synchronous appends, replay."""

    def __init__(self, broker: Broker, topic: str, partitions: int, configs: dict[str, str]) -> None:
        self.broker = broker
        self.topic = topic
        self.num_partitions = partitions
        self.configs = configs
        # after replay: records of transactions with no marker yet, by producer id (in log order)
        self.open_txns: dict[int, list[tuple[bytes, bytes | None]]] = {}

    def partition_for(self, key: str) -> int:
        return (java_string_hash(key) & 0x7FFFFFFF) % self.num_partitions

    def ensure_topic(self) -> None:
        info = self.broker.topics.get(self.topic)
        if info is None:
            self.broker.create_topic(self.topic, self.num_partitions, 1, self.configs)
        else:
            self.num_partitions = info.partitions

    def append(self, key: str, records: list[tuple[bytes, bytes | None]], producer_id: int = -1,
               producer_epoch: int = -1) -> None:
        """With a producer id: a transactional batch, applied on replay only once its COMMIT marker follows."""
        self.ensure_topic()
        p = self.partition_for(key)
        data = build_batch(records, int(time.time() * 1000), TRANSACTIONAL_FLAG if producer_id >= 0 else 0,
                           producer_id, producer_epoch)
        try:
            self.broker.replicas.append_coordinator_records(self.topic, p, data)
        except KafkaError as e:
            if e.code != ErrorCode.kafka_storage_error:
                raise
            # a full disk: nothing was appended. GroupMetadataManager and TransactionStateManager answer
            # KAFKA_STORAGE_ERROR from their log as NOT_COORDINATOR (the client finds the coordinator again, retries)
            raise KafkaError(ErrorCode.not_coordinator, e.message) from None

    def replay(self, apply: Callable[[bytes, bytes | None], None]) -> int:
        info = self.broker.topics.get(self.topic)
        if info is None:
            return 0
        self.num_partitions = info.partitions
        count = 0
        self.open_txns = {}
        for p in range(info.partitions):
            lg = self.broker.log_manager.get(self.topic, p)
            if lg is None:
                continue
            pending: dict[int, list[tuple[bytes, bytes | None]]] = {}  # transactional records awaiting a marker
            offset = lg.log_start_offset
            while offset < lg.log_end_offset:
                data = lg.read(offset, 1 << 20, lg.log_end_offset)
                if not data:
                    break
                for pos, _base, _size in iter_batch_positions(data):
                    h = read_header(data, pos)
                    offset = h.next_offset
                    if h.is_control:
                        held = pending.pop(h.producer_id, [])
                        if held and any(marker_type(r.key or b"") == COMMIT for r in iter_records(data, pos)):
                            count += self._apply_all(apply, held, p)
                        continue
                    if h.is_transactional:
                        pending.setdefault(h.producer_id, []).extend(
                            (r.key or b"", r.value) for r in iter_records(data, pos))
                        continue
                    for r in iter_records(data, pos):
                        try:
                            apply(r.key or b"", r.value)
                            count += 1
                        except Exception as e:
                            log.warning("Skipping unreadable record in %s-%d: %s", self.topic, p, e)
            for pid, held in pending.items():
                self.open_txns.setdefault(pid, []).extend(held)
        return count

    def _apply_all(self, apply: Callable[[bytes, bytes | None], None], records: list[tuple[bytes, bytes | None]],
                   p: int) -> int:
        count = 0
        for key, value in records:
            try:
                apply(key, value)
                count += 1
            except Exception as e:
                log.warning("Skipping unreadable record in %s-%d: %s", self.topic, p, e)
        return count


class GroupCoordinatorRuntime:
    def __init__(self, broker: Broker) -> None:
        cfg = broker.config

        def num(name: str) -> int:
            return int(cfg.get(name))  # type: ignore[arg-type]

        self.log = CoordinatorLog(broker, OFFSETS_TOPIC, num("offsets.topic.num.partitions"), OFFSETS_TOPIC_CONFIGS)
        self.coordinator = GroupCoordinator(
            GroupConfig(min_session_timeout_ms=num("group.min.session.timeout.ms"),
                        max_session_timeout_ms=num("group.max.session.timeout.ms"),
                        initial_rebalance_delay_ms=num("group.initial.rebalance.delay.ms"),
                        max_size=num("group.max.size"),
                        offsets_retention_ms=num("offsets.retention.minutes") * 60000),
            self.persist)
        self.coordinator.persist_txn = self.persist_txn
        self.offsets_check_interval_s = num("offsets.retention.check.interval.ms") / 1000

    def ensure_topic(self) -> None:
        self.log.ensure_topic()

    def partition_for(self, group_id: str) -> int:
        return self.log.partition_for(group_id)

    def persist(self, group_id: str, records: list[tuple[object, object | None]]) -> None:
        def value(v: object | None) -> bytes | None:
            if v is None:
                return None
            return encode_group_value(v) if hasattr(v, "members") else encode_offset_value(v)  # type: ignore[arg-type]

        self.log.append(group_id, [(encode_key(k), value(v)) for k, v in records])  # type: ignore[arg-type]

    def persist_txn(self, group_id: str, producer_id: int, producer_epoch: int,
                    records: list[tuple[object, object]]) -> None:
        """TxnOffsetCommit: the offsets in a transactional batch of the producer (Kafka's layout)."""
        self.log.append(group_id, [(encode_key(k), encode_offset_value(v))  # type: ignore[arg-type]
                                   for k, v in records], producer_id, producer_epoch)

    def load(self) -> None:
        t0 = time.monotonic()

        def apply(key: bytes, value: bytes | None) -> None:
            k = decode_key(key)
            v = None if value is None else (
                decode_group_value(value) if isinstance(k, GroupMetadataKey) else decode_offset_value(value))
            self.coordinator.replay(k, v)

        count = self.log.replay(apply)
        for pid, records in self.log.open_txns.items():  # offsets of transactions still open: pending again
            for key, value in records:
                k = decode_key(key)
                if isinstance(k, OffsetCommitKey) and value is not None:
                    self.coordinator.pending_txn_offsets.setdefault(pid, {}).setdefault(k.group, {})[
                        (k.topic, k.partition)] = decode_offset_value(value)
        log.info("Loaded %d records from %s in %d ms (%d groups)", count, OFFSETS_TOPIC,
                 (time.monotonic() - t0) * 1000, len(self.coordinator.groups))


class TransactionCoordinatorRuntime:
    def __init__(self, broker: Broker) -> None:
        cfg = broker.config

        def num(name: str) -> int:
            return int(cfg.get(name))  # type: ignore[arg-type]

        self.broker = broker
        self.log = CoordinatorLog(broker, TRANSACTION_TOPIC, num("transaction.state.log.num.partitions"),
                                  TRANSACTION_TOPIC_CONFIGS)
        self.coordinator = TransactionCoordinator(
            TxnConfig(max_timeout_ms=num("transaction.max.timeout.ms"),
                      expiration_ms=num("transactional.id.expiration.ms")),
            self.persist, broker.write_txn_markers, broker.producer_ids.generate)
        self.abort_interval_s = num("transaction.abort.timed.out.transaction.cleanup.interval.ms") / 1000

    def persist(self, txn_id: str, key: TransactionLogKey, value: object | None) -> None:
        encoded = None if value is None else encode_txn_value(value)  # type: ignore[arg-type]
        self.log.append(txn_id, [(encode_txn_key(key), encoded)])

    def load(self) -> None:
        t0 = time.monotonic()
        count = self.log.replay(lambda k, v: self.coordinator.replay(
            decode_txn_key(k), None if v is None else decode_txn_value(v)))
        self.coordinator.recover()
        logging.getLogger("kafka.coordinator.transaction.TransactionCoordinator").info(
            "Loaded %d records from %s in %d ms (%d transactional ids)", count, TRANSACTION_TOPIC,
            (time.monotonic() - t0) * 1000, len(self.coordinator.txns))
