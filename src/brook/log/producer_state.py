"""Idempotent producers: per-partition state of each producer id (epoch, the last five batches' sequences),
Kafka's duplicate and sequence checks, and `<offset>.snapshot` files (Kafka's ProducerSnapshot v1 format)."""

from __future__ import annotations

import os
import struct
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from crc32c import crc32c

from brook.errors import ErrorCode, KafkaError
from brook.protocol.records.batch import BatchHeader

NO_PRODUCER_EPOCH = -1
NO_SEQUENCE = -1
MAX_CACHED_BATCHES = 5  # the producer's max.in.flight.requests.per.connection for idempotence
SNAPSHOT_VERSION = 1
_SNAP_HEAD = struct.Struct(">hIi")  # version, crc (of everything after it), entry count
_SNAP_ENTRY = struct.Struct(">qhiqiqiq")


@dataclass(slots=True)
class BatchMetadata:
    first_seq: int
    last_seq: int
    last_offset: int
    offset_delta: int
    timestamp: int

    @property
    def first_offset(self) -> int:
        return self.last_offset - self.offset_delta


@dataclass(slots=True)
class ProducerEntry:
    producer_id: int
    epoch: int = NO_PRODUCER_EPOCH
    batches: deque[BatchMetadata] = field(default_factory=lambda: deque(maxlen=MAX_CACHED_BATCHES))
    coordinator_epoch: int = -1
    current_txn_first_offset: int = -1

    @property
    def last_seq(self) -> int:
        return self.batches[-1].last_seq if self.batches else NO_SEQUENCE

    @property
    def last_timestamp(self) -> int:
        return self.batches[-1].timestamp if self.batches else -1


def _in_sequence(last_seq: int, next_seq: int) -> bool:
    return next_seq == last_seq + 1 or (next_seq == 0 and last_seq == 2**31 - 1)


def _last_seq_of(h: BatchHeader) -> int:
    s = h.base_sequence + h.last_offset_delta
    return s - 2**31 if s > 2**31 - 1 else s  # sequences wrap at Int.MAX_VALUE


class ProducerStateManager:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.producers: dict[int, ProducerEntry] = {}

    def check(self, h: BatchHeader) -> int | None:
        """Validate an idempotent batch before it is appended. Returns the first offset of the original
        batch when this one is a retried duplicate (to be acknowledged, not written); raises KafkaError."""
        entry = self.producers.get(h.producer_id)
        if entry is None:
            return None  # unknown producer (new, or its state expired): Kafka accepts any sequence
        if h.producer_epoch < entry.epoch:
            raise KafkaError(ErrorCode.invalid_producer_epoch,
                             f"Epoch of producer {h.producer_id} is {h.producer_epoch}, which is smaller than "
                             f"the last seen epoch {entry.epoch}")
        if h.producer_epoch > entry.epoch:
            if h.base_sequence != 0 and entry.epoch != NO_PRODUCER_EPOCH:
                raise KafkaError(ErrorCode.out_of_order_sequence_number,
                                 f"Invalid sequence number for new epoch of producer {h.producer_id}: "
                                 f"{h.producer_epoch} (request epoch), {h.base_sequence} (seq. number)")
            return None
        last = _last_seq_of(h)
        for b in entry.batches:
            if b.first_seq == h.base_sequence and b.last_seq == last:
                return b.first_offset
        if entry.batches and not _in_sequence(entry.last_seq, h.base_sequence):
            raise KafkaError(ErrorCode.out_of_order_sequence_number,
                             f"Out of order sequence number for producer {h.producer_id}: {h.base_sequence} "
                             f"(incoming seq. number), {entry.last_seq} (current end sequence number)")
        return None

    def update(self, h: BatchHeader, first_offset: int) -> None:
        entry = self.producers.get(h.producer_id)
        if entry is None:
            entry = self.producers[h.producer_id] = ProducerEntry(h.producer_id)
        if h.producer_epoch != entry.epoch:
            entry.epoch = h.producer_epoch
            entry.batches.clear()
        entry.batches.append(BatchMetadata(h.base_sequence, _last_seq_of(h), first_offset + h.last_offset_delta,
                                           h.last_offset_delta, h.max_timestamp))
        if h.is_transactional and entry.current_txn_first_offset < 0:
            entry.current_txn_first_offset = first_offset

    def check_marker(self, producer_id: int, producer_epoch: int, coordinator_epoch: int, offset: int,
                     partition: str) -> None:
        """Kafka's ProducerAppendInfo.appendEndTxnMarker checks: a stale producer epoch, a zombie coordinator."""
        entry = self.producers.get(producer_id)
        if entry is None:
            return
        if producer_epoch < entry.epoch:
            raise KafkaError(ErrorCode.invalid_producer_epoch,
                             f"Epoch of producer {producer_id} at offset {offset} in {partition} is {producer_epoch}, "
                             f"which is smaller than the last seen epoch {entry.epoch}")
        if entry.coordinator_epoch > coordinator_epoch:
            raise KafkaError(ErrorCode.transaction_coordinator_fenced,
                             f"Invalid coordinator epoch for producerId {producer_id} at offset {offset} in partition "
                             f"{partition}: {coordinator_epoch} (zombie), {entry.coordinator_epoch} (current)")

    def complete_txn(self, producer_id: int, producer_epoch: int, coordinator_epoch: int = -1) -> int:
        """A marker ended the producer's transaction; returns the transaction's first offset (-1 if none)."""
        entry = self.producers.get(producer_id)
        if entry is None:
            entry = self.producers[producer_id] = ProducerEntry(producer_id, producer_epoch)
        if producer_epoch > entry.epoch:
            entry.epoch = producer_epoch
            entry.batches.clear()
        entry.coordinator_epoch = max(entry.coordinator_epoch, coordinator_epoch)
        first, entry.current_txn_first_offset = entry.current_txn_first_offset, -1
        return first

    def first_unstable_offset(self) -> int | None:
        firsts = [e.current_txn_first_offset for e in self.producers.values() if e.current_txn_first_offset >= 0]
        return min(firsts) if firsts else None

    def expire(self, now_ms: int, expiration_ms: int) -> None:
        """producer.id.expiration.ms: forget producers idle for longer (with no open transaction)."""
        for pid in [p for p, e in self.producers.items()
                    if e.current_txn_first_offset < 0 and now_ms - e.last_timestamp >= expiration_ms]:
            del self.producers[pid]

    # -- snapshots -----------------------------------------------------------------------------------------
    def snapshot_path(self, offset: int) -> Path:
        return self.directory / f"{offset:020d}.snapshot"

    def take_snapshot(self, offset: int) -> None:
        body = bytearray(struct.pack(">i", len(self.producers)))
        for e in self.producers.values():
            b = e.batches[-1] if e.batches else BatchMetadata(NO_SEQUENCE, NO_SEQUENCE, -1, 0, -1)
            body += _SNAP_ENTRY.pack(e.producer_id, e.epoch, b.last_seq, b.last_offset, b.offset_delta, b.timestamp,
                                     e.coordinator_epoch, e.current_txn_first_offset)
        data = struct.pack(">hI", SNAPSHOT_VERSION, crc32c(bytes(body))) + body
        path = self.snapshot_path(offset)
        tmp = path.with_suffix(".snapshot.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        for old in self.snapshot_offsets()[:-2]:  # keep the newest two, as Kafka keeps a few
            self.snapshot_path(old).unlink(missing_ok=True)

    def snapshot_offsets(self) -> list[int]:
        return sorted(int(p.stem) for p in self.directory.glob("*.snapshot") if p.stem.isdigit())

    def load_snapshot(self, max_offset: int) -> int:
        """Load the newest readable snapshot at or below max_offset; returns its offset (0 if none)."""
        for offset in reversed(self.snapshot_offsets()):
            if offset > max_offset:
                self.snapshot_path(offset).unlink(missing_ok=True)
                continue
            try:
                self.producers = _read_snapshot(self.snapshot_path(offset).read_bytes())
                return offset
            except (ValueError, struct.error):
                self.snapshot_path(offset).unlink(missing_ok=True)
        self.producers = {}
        return 0


def _read_snapshot(data: bytes) -> dict[int, ProducerEntry]:
    version, crc, count = _SNAP_HEAD.unpack_from(data, 0)
    if version != SNAPSHOT_VERSION or crc32c(data[6:]) != crc:
        raise ValueError("corrupt producer snapshot")
    out: dict[int, ProducerEntry] = {}
    for i in range(count):
        pid, epoch, last_seq, last_offset, delta, ts, coord_epoch, txn_first = _SNAP_ENTRY.unpack_from(
            data, _SNAP_HEAD.size + i * _SNAP_ENTRY.size)
        e = ProducerEntry(pid, epoch, coordinator_epoch=coord_epoch, current_txn_first_offset=txn_first)
        if last_seq != NO_SEQUENCE:
            e.batches.append(BatchMetadata(last_seq - delta, last_seq, last_offset, delta, ts))
        out[pid] = e
    return out
