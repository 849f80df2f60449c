"""A partition's log: ordered segments, log start offset, log end offset, high watermark, flush state.

The high watermark lives here (reads stop at it) but only the broker's Partition moves it, as Kafka's Partition
drives UnifiedLog's; the leader epoch cache is kept consistent with the segments at load and at every truncation."""

from __future__ import annotations

import bisect
import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from crc32c import crc32c

from brook.errors import ErrorCode, KafkaError
from brook.protocol.records.batch import (
    ATTRIBUTES_OFFSET,
    HEADER_SIZE,
    TIMESTAMP_TYPE_FLAG,
    BatchHeader,
    assigned_prefix,
    crc_ok,
    iter_batch_positions,
    read_header,
)
from brook.protocol.records.control import COMMIT, marker_batch, marker_type
from brook.protocol.records.records import iter_records

from . import swap
from .config import LogConfig
from .leader_epoch import UNDEFINED_EPOCH, LeaderEpochCache
from .producer_state import ProducerStateManager
from .segment import DELETED_SUFFIX, LogSegment
from .txn_index import AbortedTxn

_ATTR = struct.Struct(">h")
_TS = struct.Struct(">q")
_CRC = struct.Struct(">I")
_UNSET = 2**63 - 1  # a timestamp bound that is not set


@dataclass(slots=True)
class AppendInfo:
    base_offset: int
    log_append_time: int  # -1 unless the topic uses LogAppendTime
    position: int
    duplicate: bool = False  # an idempotent producer's retry of a batch already in the log


def apply_log_append_time(records: bytes | memoryview, now_ms: int) -> bytes:
    """Set the batch's timestamp type to LogAppendTime and its max timestamp to now; recompute the CRC."""
    buf = bytearray(records)
    (attrs,) = _ATTR.unpack_from(buf, ATTRIBUTES_OFFSET)
    _ATTR.pack_into(buf, ATTRIBUTES_OFFSET, attrs | TIMESTAMP_TYPE_FLAG)
    _TS.pack_into(buf, 35, now_ms)
    _CRC.pack_into(buf, 17, crc32c(memoryview(buf)[ATTRIBUTES_OFFSET:]))
    return bytes(buf)


class Log:
    def __init__(self, directory: Path, topic: str, partition: int, config: LogConfig,
                 clean_shutdown: bool = True, recovery_point: int = 0, log_start_offset: int = 0,
                 high_watermark: int | None = None) -> None:
        self.directory = directory
        self.topic = topic
        self.partition = partition
        self.config = config
        directory.mkdir(parents=True, exist_ok=True)
        self.leader_epochs = LeaderEpochCache(directory)
        self.segments: list[LogSegment] = []
        self._bases: list[int] = []
        self.recovered_bytes = 0
        self._load(clean_shutdown, recovery_point)
        self.log_start_offset = max(log_start_offset, self.segments[0].base_offset)
        # Kafka's LogLoader: epochs past the recovered end (a torn tail) or before the start are gone. Unlike
        # Kafka, an epoch starting exactly at the end stays: without a controller to hand it back, it is what
        # keeps a lone broker's leader epoch from going backwards over a restart (docs/differences.md).
        self.leader_epochs.truncate_from_end(self.log_end_offset + 1)
        self.leader_epochs.truncate_from_start(self.log_start_offset)
        self._high_watermark = self.log_start_offset
        # the checkpointed value; without one the whole log (a lone replica's, the default for tools and tests)
        self.update_high_watermark(self.log_end_offset if high_watermark is None else high_watermark)
        self.recovery_point = self.log_end_offset if clean_shutdown else min(recovery_point, self.log_end_offset)
        self.unflushed_messages = 0
        self.last_flush_ms = 0
        self.pending_deletes: list[tuple[float, Path]] = []  # (due ms, file) retired by retention
        for leftover in directory.glob(f"*{DELETED_SUFFIX}"):  # retired before a restart: gone now, as Kafka
            leftover.unlink(missing_ok=True)
        self.producer_state = ProducerStateManager(directory)
        self._load_producer_state()
        end = self.log_end_offset
        for seg in self.segments:
            seg.txn_index.truncate_to(end)

    # -- loading -------------------------------------------------------------------------------------------
    def _load(self, clean: bool, recovery_point: int) -> None:
        swap.recover(self.directory)  # finish or roll back a compaction swap a crash interrupted
        bases = sorted(int(p.stem) for p in self.directory.glob("*.log") if p.stem.isdigit())
        for i, base in enumerate(bases):
            seg = LogSegment(self.directory, base, self.config.index_interval_bytes)
            nxt = bases[i + 1] if i + 1 < len(bases) else None
            if clean or nxt is not None and nxt <= recovery_point:
                self.recovered_bytes += seg.load(nxt) or 0
            else:
                self.recovered_bytes += seg.recover()
            self._add(seg)
        if not self.segments:
            seg = LogSegment(self.directory, 0, self.config.index_interval_bytes)
            seg.index.open()
            seg.time_index.open()
            self._add(seg)
        # Drop empty trailing segments a crash left behind, but keep at least one.
        while len(self.segments) > 1 and self.segments[-1].size == 0 and \
                self.segments[-2].next_offset >= self.segments[-1].base_offset:
            self.segments.pop().delete()
            self._bases.pop()

    def _load_producer_state(self) -> None:
        """The newest snapshot, then every idempotent batch after it (batch headers only)."""
        start = self.producer_state.load_snapshot(self.log_end_offset)
        start = max(start, self.log_start_offset)
        if start >= self.log_end_offset:
            return
        for seg in self.segments[self._segment_index(start):]:
            found = seg.find_position(start)
            if found is None:
                continue
            for _pos, h in seg.iter_headers(found[0]):
                if h.producer_id < 0:
                    continue
                if h.is_control:
                    self.producer_state.complete_txn(h.producer_id, h.producer_epoch)
                else:
                    self.producer_state.update(h, h.base_offset)

    def _add(self, seg: LogSegment) -> None:
        self.segments.append(seg)
        self._bases.append(seg.base_offset)

    def replace_segments(self, start: int, count: int, new: list[LogSegment]) -> None:
        """segments[start:start + count] -> new: the cleaner's swap, in one synchronous step on the event loop."""
        self.segments[start : start + count] = new
        self._bases[start : start + count] = [s.base_offset for s in new]

    # -- state ---------------------------------------------------------------------------------------------
    @property
    def active(self) -> LogSegment:
        return self.segments[-1]

    @property
    def log_end_offset(self) -> int:
        seg = self.segments[-1]
        return max(seg.next_offset, seg.base_offset)

    @property
    def size(self) -> int:
        return sum(s.size for s in self.segments)

    @property
    def high_watermark(self) -> int:
        return self._high_watermark

    def update_high_watermark(self, offset: int) -> int:
        """Kafka's updateHighWatermark: set it, bounded by the log start and end offsets."""
        self._high_watermark = min(max(offset, self.log_start_offset), self.log_end_offset)
        return self._high_watermark

    def maybe_increment_high_watermark(self, offset: int) -> bool:
        """Move the high watermark forward to offset, never back; True if it moved. The caller's offset is a log
        end offset (ours or a follower's no larger), so it is not checked again on this per-batch path."""
        if offset <= self._high_watermark:
            return False
        self._high_watermark = offset
        return True

    def maybe_assign_epoch_start_offset(self, leader_epoch: int, start_offset: int) -> None:
        """A leader taking leader_epoch: the epoch starts at start_offset even before it writes anything, so that
        a follower asking for a later epoch's end is answered (Kafka's makeLeader). A new partition's epoch 0 is
        written without an fsync: lost in a crash, it is what the partition starts with again anyway."""
        self.leader_epochs.assign(leader_epoch, start_offset, fsync=leader_epoch > 0 or self.log_end_offset > 0)

    # -- writing -------------------------------------------------------------------------------------------
    def append(self, records: bytes | memoryview, h: BatchHeader, leader_epoch: int, now_ms: int,
               validate: bool = True) -> AppendInfo:
        """Append one validated batch, assigning its offsets. Bytes reach the kernel before this returns.
        validate=False: a coordinator's own write (Kafka's AppendOrigin.COORDINATOR), no sequence checks."""
        cfg = self.config
        seg = self.segments[-1]
        if seg.size and (seg.size + len(records) > cfg.segment_bytes or now_ms - seg.created_ms >= cfg.segment_ms):
            seg = self.roll()
        base = seg.next_offset if seg.next_offset > seg.base_offset else seg.base_offset  # the log end offset
        append_time = -1
        if cfg.message_timestamp_type == "CreateTime":
            if (cfg.message_timestamp_before_max_ms != _UNSET or cfg.message_timestamp_after_max_ms != _UNSET
                    or cfg.message_timestamp_difference_max_ms != _UNSET):  # a bound is set: check (else skip)
                self._check_timestamps(h, now_ms)
        elif cfg.message_timestamp_type == "LogAppendTime":
            records = apply_log_append_time(records, now_ms)
            append_time = now_ms
            h = BatchHeader(h.base_offset, h.batch_length, h.partition_leader_epoch, h.magic, h.crc,
                            h.attributes | TIMESTAMP_TYPE_FLAG, h.last_offset_delta, h.base_timestamp,
                            now_ms, h.producer_id, h.producer_epoch, h.base_sequence, h.records_count)
        idempotent = h.producer_id >= 0
        if idempotent and validate:
            original = self.producer_state.check(h)
            if original is not None:
                return AppendInfo(original, append_time, -1, duplicate=True)
        epochs = self.leader_epochs
        if leader_epoch > (epochs.entries[-1][0] if epochs.entries else UNDEFINED_EPOCH):  # a new epoch's first write
            epochs.assign(leader_epoch, base)
        pos = seg.append(assigned_prefix(records, base, leader_epoch), records, h, base)
        if idempotent:
            self.producer_state.update(h, base)
        self.unflushed_messages += h.records_count
        return AppendInfo(base, append_time, pos)

    def append_as_follower(self, records: bytes, now_ms: int) -> int:
        """A follower's append of the batches its leader sent, as they are (offsets, leader epochs, compression
        kept; Kafka's appendAsFollower): per batch its header and CRC are checked, the producer state and the epoch
        cache follow. A batch that does not continue this log ends the append. Returns the new log end offset."""
        pos, end = 0, len(records)
        while end - pos >= HEADER_SIZE:
            h = read_header(records, pos)
            if h.size > end - pos:
                break  # a partial batch at the end of a fetch: the next fetch starts with it
            if h.base_offset < self.log_end_offset or not crc_ok(records, pos, h.size, h.crc):
                raise KafkaError(ErrorCode.corrupt_message, f"batch at offset {h.base_offset} does not continue "
                                                            f"{self.topic}-{self.partition} at {self.log_end_offset}")
            batch = records[pos:pos + h.size]
            seg = self.active
            if seg.size and (seg.size + h.size > self.config.segment_bytes
                             or now_ms - seg.created_ms >= self.config.segment_ms):  # LocalLog.maybeRoll, as the leader
                seg = self.roll_at(h.base_offset)
            if h.partition_leader_epoch > self.leader_epochs.latest_epoch:
                self.leader_epochs.assign(h.partition_leader_epoch, h.base_offset)
            if h.producer_id >= 0:
                if h.is_control:
                    lso = self.last_stable_offset
                    first = self.producer_state.complete_txn(h.producer_id, h.producer_epoch)
                    if first >= 0 and not _is_commit(batch):
                        seg.txn_index.append(AbortedTxn(h.producer_id, first, h.base_offset, lso))
                else:
                    self.producer_state.update(h, h.base_offset)
            seg.append(b"", batch, h, h.base_offset)
            self.unflushed_messages += h.records_count
            pos += h.size
        return self.log_end_offset

    def truncate_to(self, offset: int) -> None:
        """Drop everything at or after offset (a follower's divergent tail; Kafka's UnifiedLog.truncateTo): the
        segments, the epoch cache, the producer state (rebuilt from the snapshots below offset), the high
        watermark and the recovery point follow."""
        if offset >= self.log_end_offset:
            return
        if offset <= self.log_start_offset:
            self.truncate_fully_and_start_at(max(offset, self.log_start_offset))
            return
        while len(self.segments) > 1 and self.segments[-1].base_offset >= offset:
            self._bases.pop()
            self.segments.pop().delete()
        self.active.truncate_to(offset)
        for seg in self.segments:
            seg.txn_index.truncate_to(offset)
        self._truncated(offset)

    def truncate_fully_and_start_at(self, offset: int) -> None:
        """Kafka's truncateFullyAndStartAt: every segment goes, the log starts empty at offset."""
        for seg in self.segments:
            seg.delete()
        self.segments.clear()
        self._bases.clear()
        seg = LogSegment(self.directory, offset, self.config.index_interval_bytes)
        seg.index.open()
        seg.time_index.open()
        seg.next_offset = offset
        self._add(seg)
        self.log_start_offset = self._high_watermark = self.recovery_point = offset
        self.leader_epochs.truncate_from_end(0)  # cleared, as Kafka's: the next fetched batch names its epoch
        self._truncated(offset)

    def _truncated(self, offset: int) -> None:
        self.leader_epochs.truncate_from_end(offset)
        self._high_watermark = min(self._high_watermark, self.log_end_offset)
        self.recovery_point = min(self.recovery_point, self.log_end_offset)
        self._load_producer_state()  # the snapshots past the end go first

    def _check_timestamps(self, h: BatchHeader, now_ms: int) -> None:
        """KIP-937's bounds (message.timestamp.before/after.max.ms; the deprecated difference.max.ms stands in for
        both when they are unset), checked on the batch's first and largest timestamps, not per record."""
        cfg = self.config
        unset = _UNSET
        before, after = cfg.message_timestamp_before_max_ms, cfg.message_timestamp_after_max_ms
        if before == unset and after == unset and cfg.message_timestamp_difference_max_ms != unset:
            before = after = cfg.message_timestamp_difference_max_ms
        if before == unset and after == unset:
            return
        low, high = now_ms - before, now_ms + after
        for ts in (h.base_timestamp, h.max_timestamp):
            if ts < low or ts > high:
                raise KafkaError(ErrorCode.invalid_timestamp,
                                 f"Timestamp {ts} of message with offset {self.log_end_offset} is out of range. "
                                 f"The timestamp should be within [{max(low, 0)}, {min(high, unset)}]")

    def append_marker(self, producer_id: int, producer_epoch: int, commit: bool, coordinator_epoch: int,
                      leader_epoch: int, now_ms: int) -> int:
        """Write a COMMIT or ABORT marker ending the producer's transaction here; returns its offset.
        An abort is recorded in the aborted-transaction index so read_committed fetches can skip its data."""
        self.producer_state.check_marker(producer_id, producer_epoch, coordinator_epoch, self.log_end_offset,
                                         f"{self.topic}-{self.partition}")
        lso_before = self.last_stable_offset
        data = marker_batch(producer_id, producer_epoch, commit, coordinator_epoch)
        h = read_header(data)
        seg = self.active
        if seg.size and (seg.size + len(data) > self.config.segment_bytes
                         or now_ms - seg.created_ms >= self.config.segment_ms):
            seg = self.roll()
        offset = self.log_end_offset
        if leader_epoch > self.leader_epochs.latest_epoch:
            self.leader_epochs.assign(leader_epoch, offset)
        seg.append(assigned_prefix(data, offset, leader_epoch), data, h, offset)
        first = self.producer_state.complete_txn(producer_id, producer_epoch, coordinator_epoch)
        if not commit and first >= 0:
            seg.txn_index.append(AbortedTxn(producer_id, first, offset, lso_before))
        return offset

    @property
    def last_stable_offset(self) -> int:
        first = self.producer_state.first_unstable_offset()
        return self.high_watermark if first is None else min(first, self.high_watermark)

    def aborted_transactions(self, start: int, upper: int) -> list[AbortedTxn]:
        """Aborted transactions overlapping [start, upper): what a read_committed fetch must skip."""
        out = []
        for seg in self.segments:
            for e in seg.txn_index.entries:
                if e.last_offset >= start and e.first_offset < upper:
                    out.append(e)
        return out

    def roll(self) -> LogSegment:
        return self.roll_at(self.log_end_offset)

    def roll_at(self, base: int) -> LogSegment:
        old = self.active
        if old.size == 0 and old.base_offset == base:
            return old
        # Kafka's onBecomeInactiveSegment: the time index ends with the segment's largest timestamp, so a
        # reload knows it (retention.ms, min.compaction.lag.ms) without scanning the segment.
        if old.max_timestamp >= 0:
            old.time_index.maybe_append(old.max_timestamp, old.offset_of_max_timestamp)
        seg = LogSegment(self.directory, base, self.config.index_interval_bytes)
        seg.index.open()
        seg.time_index.open()
        seg.next_offset = base
        self._add(seg)
        if self.producer_state.producers:
            self.producer_state.take_snapshot(base)  # as Kafka: a snapshot at every roll bounds recovery
        return seg

    @property
    def needs_flush(self) -> bool:
        return self.unflushed_messages >= self.config.flush_messages

    def flush(self) -> int:
        """fsync every segment written since the recovery point; returns the new recovery point."""
        end = self.log_end_offset
        for seg in self.segments:
            if seg.next_offset > self.recovery_point or seg is self.active:
                seg.flush()
        self.unflushed_messages = 0
        self.recovery_point = max(self.recovery_point, end)
        return self.recovery_point

    # -- reading -------------------------------------------------------------------------------------------
    def _segment_index(self, offset: int) -> int:
        return max(0, bisect.bisect_right(self._bases, offset) - 1)

    def check_offset(self, offset: int) -> None:
        if offset < self.log_start_offset or offset > self.log_end_offset:
            raise KafkaError(ErrorCode.offset_out_of_range,
                             f"offset {offset} is out of range [{self.log_start_offset}, {self.log_end_offset}]")

    def read(self, offset: int, max_bytes: int, max_offset: int | None = None) -> bytes:
        """Whole batches from the one containing offset, up to max_bytes (at least one batch, as Kafka)."""
        self.check_offset(offset)
        limit = self.high_watermark if max_offset is None else max_offset
        if offset >= limit:
            return b""
        for seg in self.segments[self._segment_index(offset):]:
            found = seg.find_position(offset)
            if found is None:
                continue
            pos, h = found
            if h.base_offset >= limit:
                return b""
            data = seg.read(pos, max(max_bytes, h.size))
            # the whole batches below limit within max_bytes: walked from the last index entry that is sure to
            # be inside both (at most an index interval of headers, not every batch of a large read)
            end = seg.walk_start(pos, min(len(data), max_bytes), limit) - pos
            last = -1
            for p, base, size in iter_batch_positions(data, end):
                if base >= limit or (p and p + size > max_bytes):
                    break
                end, last = p + size, p
            if last >= 0:
                seg.next_read = (read_header(data, last).next_offset, pos + end)
            return data if end == len(data) else data[:end]
        return b""

    def offset_for_timestamp(self, timestamp: int) -> tuple[int, int] | None:
        for seg in self.segments:
            found = seg.find_timestamp(timestamp, self.log_start_offset)
            if found is not None:
                return max(found[0], self.log_start_offset), found[1]
        return None

    def max_timestamp(self) -> tuple[int, int]:
        best, where = (-1, -1), None
        for seg in self.segments:
            if seg.max_timestamp > best[0]:
                best, where = (seg.max_timestamp, seg.offset_of_max_timestamp), seg
        if where is not None and best[1] >= 0:
            best = (best[0], where.offset_of_timestamp_in_batch(best[1], best[0]))
        return best

    # -- truncation and deletion ---------------------------------------------------------------------------
    def advance_log_start_offset(self, offset: int) -> None:
        """DeleteRecords: move the start offset; whole segments below it go."""
        if offset <= self.log_start_offset:
            return
        self.log_start_offset = offset
        while len(self.segments) > 1 and self.segments[1].base_offset <= offset:
            self._retire(self.segments.pop(0))
            self._bases.pop(0)
        self._start_moved()

    def _start_moved(self) -> None:
        """Kafka's updateLogStartOffset: the high watermark and the epoch cache follow the log start offset."""
        if self._high_watermark < self.log_start_offset:
            self._high_watermark = self.log_start_offset
        self.leader_epochs.truncate_from_start(self.log_start_offset)

    def delete_oldest_segment(self) -> LogSegment:
        seg = self.segments.pop(0)
        self._bases.pop(0)
        self._retire(seg)
        self.log_start_offset = max(self.log_start_offset, self.segments[0].base_offset)
        self._start_moved()
        return seg

    def _retire(self, seg: LogSegment) -> None:
        due = time.time() * 1000 + self.config.file_delete_delay_ms
        self.pending_deletes.extend((due, p) for p in seg.retire())

    def purge_deleted(self, now_ms: float) -> int:
        """Unlink retired segment files whose file.delete.delay.ms has passed; returns how many."""
        due = [p for t, p in self.pending_deletes if t <= now_ms]
        self.pending_deletes = [(t, p) for t, p in self.pending_deletes if t > now_ms]
        for p in due:
            p.unlink(missing_ok=True)
        return len(due)

    def close(self, snapshot: bool = False) -> None:
        if snapshot and self.producer_state.producers:
            self.producer_state.take_snapshot(self.log_end_offset)
        for seg in self.segments:
            seg.close()

    def delete_files(self) -> None:
        self.close()
        for p in self.directory.iterdir():
            p.unlink()
        os.rmdir(self.directory)


def _is_commit(control_batch: bytes) -> bool:
    """A control batch's one record says COMMIT or ABORT (markers only: read once per transaction)."""
    return any(marker_type(r.key or b"") == COMMIT for r in iter_records(control_batch))
