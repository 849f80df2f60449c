"""Coordinator runtime: writes coordinator records to __consumer_offsets and replays them at start-up."""

from __future__ import annotations

import datetime
import io
import logging
import time
from typing import TYPE_CHECKING

from kio.records.schema import NewRecordBatch, Record
from kio.records.writers import write_new_batch

from brook.protocol.coordinator_records import (
    GroupMetadataKey,
    decode_group_value,
    decode_key,
    decode_offset_value,
    encode_group_value,
    encode_key,
    encode_offset_value,
)
from brook.protocol.records.batch import iter_batch_positions, read_header
from brook.protocol.records.records import iter_records

from .group.coordinator import GroupConfig, GroupCoordinator

if TYPE_CHECKING:
    from brook.broker.server import Broker

log = logging.getLogger("kafka.coordinator.group.GroupCoordinator")
OFFSETS_TOPIC = "__consumer_offsets"
# Kafka's offsets topic configs (GroupCoordinator.offsetsTopicConfigs).
OFFSETS_TOPIC_CONFIGS = {"cleanup.policy": "compact", "segment.bytes": "104857600", "compression.type": "producer"}


def java_string_hash(s: str) -> int:
    h = 0
    for ch in s.encode("utf-16-be").decode("utf-16-be"):
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


def encode_value(value: object) -> bytes | None:
    if value is None:
        return None
    if hasattr(value, "members"):
        return encode_group_value(value)  # type: ignore[arg-type]
    return encode_offset_value(value)  # type: ignore[arg-type]


class GroupCoordinatorRuntime:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        cfg = broker.config
        self.num_partitions = int(cfg.get("offsets.topic.num.partitions"))  # type: ignore[arg-type]
        def num(name: str) -> int:
            return int(cfg.get(name))  # type: ignore[arg-type]

        self.coordinator = GroupCoordinator(
            GroupConfig(min_session_timeout_ms=num("group.min.session.timeout.ms"),
                        max_session_timeout_ms=num("group.max.session.timeout.ms"),
                        initial_rebalance_delay_ms=num("group.initial.rebalance.delay.ms"),
                        max_size=num("group.max.size"),
                        offsets_retention_ms=num("offsets.retention.minutes") * 60000),
            self.persist)
        self.offsets_check_interval_s = num("offsets.retention.check.interval.ms") / 1000

    def partition_for(self, group_id: str) -> int:
        return (java_string_hash(group_id) & 0x7FFFFFFF) % self.num_partitions

    def ensure_topic(self) -> None:
        info = self.broker.topics.get(OFFSETS_TOPIC)
        if info is None:
            self.broker.create_topic(OFFSETS_TOPIC, self.num_partitions, 1, OFFSETS_TOPIC_CONFIGS)
        else:
            self.num_partitions = info.partitions

    def persist(self, group_id: str, records: list[tuple[object, object | None]]) -> None:
        """Append one batch of coordinator records, synchronously: in the kernel before the response."""
        self.ensure_topic()
        lg = self.broker.log_manager.get(OFFSETS_TOPIC, self.partition_for(group_id))
        now = datetime.datetime.now(datetime.UTC)
        batch = NewRecordBatch(producer_id=-1, producer_epoch=-1, base_sequence=-1, attributes=0, records=tuple(
            Record(attributes=0, timestamp=now, offset=i, key=encode_key(k), value=encode_value(v), headers=())
            for i, (k, v) in enumerate(records)))
        buf = io.BytesIO()
        write_new_batch(buf, batch)
        data = buf.getvalue()
        lg.append(data, read_header(data), self.broker.replicas.leader_epoch, int(time.time() * 1000))
        lg.high_watermark = lg.log_end_offset

    def load(self) -> None:
        t0 = time.monotonic()
        info = self.broker.topics.get(OFFSETS_TOPIC)
        if info is None:
            return
        self.num_partitions = info.partitions
        count = 0
        for p in range(info.partitions):
            lg = self.broker.log_manager.get(OFFSETS_TOPIC, p)
            if lg is None:
                continue
            offset = lg.log_start_offset
            while offset < lg.log_end_offset:
                data = lg.read(offset, 1 << 20, lg.log_end_offset)
                if not data:
                    break
                for pos, _base, _size in iter_batch_positions(data):
                    h = read_header(data, pos)
                    offset = h.next_offset
                    if h.is_control:
                        continue
                    for r in iter_records(data, pos):
                        try:
                            key = decode_key(r.key or b"")
                            value = None if r.value is None else (
                                decode_group_value(r.value) if isinstance(key, GroupMetadataKey)
                                else decode_offset_value(r.value))
                        except Exception as e:
                            log.warning("Skipping unreadable record in %s-%d: %s", OFFSETS_TOPIC, p, e)
                            continue
                        self.coordinator.replay(key, value)
                        count += 1
        log.info("Loaded %d records from %s in %d ms (%d groups)", count, OFFSETS_TOPIC,
                 (time.monotonic() - t0) * 1000, len(self.coordinator.groups))
