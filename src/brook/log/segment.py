"""One log segment: <base offset>.log holding RecordBatches exactly as stored, with its sparse indexes."""

from __future__ import annotations

import bisect
import os
import time
from pathlib import Path

from crc32c import crc32c

from brook.protocol.records.batch import (
    ATTRIBUTES_OFFSET,
    HEADER_SIZE,
    LOG_OVERHEAD,
    BatchHeader,
    read_header,
)
from brook.protocol.records.records import offsets_and_timestamps

from .index import OffsetIndex, TimeIndex
from .txn_index import TransactionIndex

_SCAN_CHUNK = 1 << 20
DELETED_SUFFIX = ".deleted"
_FIND_CHUNK = 16 << 10


def segment_name(base_offset: int, suffix: str) -> str:
    return f"{base_offset:020d}{suffix}"


class LogSegment:
    def __init__(self, directory: Path, base_offset: int, index_interval_bytes: int = 4096) -> None:
        self.directory = directory
        self.base_offset = base_offset
        self.log_path = directory / segment_name(base_offset, ".log")
        self.index = OffsetIndex(directory / segment_name(base_offset, ".index"), base_offset)
        self.time_index = TimeIndex(directory / segment_name(base_offset, ".timeindex"), base_offset)
        self.txn_index = TransactionIndex(directory / segment_name(base_offset, ".txnindex"))
        self.index_interval_bytes = index_interval_bytes
        self.fd = os.open(self.log_path, os.O_RDWR | os.O_CREAT, 0o644)
        self.size = os.fstat(self.fd).st_size
        self.next_offset = base_offset
        self.max_timestamp = -1
        self.offset_of_max_timestamp = -1
        self.created_ms = int(time.time() * 1000)
        self._bytes_since_index = 0
        self.next_read: tuple[int, int] | None = None  # (offset, position) where the last read ended

    # -- writing -------------------------------------------------------------------------------------------
    def append(self, prefix: bytes, batch: bytes | memoryview, h: BatchHeader, base_offset: int) -> int:
        """Write a batch (its first bytes replaced by prefix); returns its file position. An OSError (a full disk)
        leaves the segment as it was: the part written is cut off and the index entries taken back, so nothing
        torn stays in the file and the next append starts at the same position."""
        pos = self.size
        last_offset = base_offset + h.last_offset_delta
        indexed = self._bytes_since_index > self.index_interval_bytes
        entries = (len(self.index), len(self.time_index)) if indexed else None  # what a failed write takes back
        total = len(batch)
        try:
            if indexed:
                self.index.append(last_offset, pos)
                self.time_index.maybe_append(max(self.max_timestamp, h.max_timestamp),
                                             last_offset if h.max_timestamp > self.max_timestamp
                                             else self.offset_of_max_timestamp)
            view = memoryview(batch)[len(prefix):]
            n = os.pwritev(self.fd, [prefix, view], pos)
            while n < total:  # a short write: the rest, which raises ENOSPC if the disk is full
                n += os.pwrite(self.fd, (prefix + bytes(view))[n:], pos + n)
        except OSError:
            os.ftruncate(self.fd, pos)
            if entries is not None:
                self.index.truncate_entries(entries[0])
                self.time_index.truncate_entries(entries[1])
            raise
        if indexed:
            self._bytes_since_index = 0
        self.size = pos + total
        self._bytes_since_index += total
        self.next_offset = last_offset + 1
        if h.max_timestamp > self.max_timestamp:
            self.max_timestamp = h.max_timestamp
            self.offset_of_max_timestamp = last_offset
        return pos

    def flush(self) -> None:
        os.fsync(self.fd)
        self.index.flush()
        self.time_index.flush()

    # -- reading -------------------------------------------------------------------------------------------
    def read(self, position: int, max_bytes: int) -> bytes:
        return os.pread(self.fd, max(0, min(max_bytes, self.size - position)), position)

    def iter_headers(self, position: int = 0, end: int | None = None, chunk_size: int = _SCAN_CHUNK):
        """Yield (position, BatchHeader) for whole batches from position; reads the file in chunks."""
        end = self.size if end is None else end
        pos = position
        while end - pos >= HEADER_SIZE:
            chunk = os.pread(self.fd, min(chunk_size, end - pos), pos)
            off = 0
            while len(chunk) - off >= HEADER_SIZE:
                h = read_header(chunk, off)
                if h.batch_length < HEADER_SIZE - LOG_OVERHEAD or pos + off + h.size > end:
                    return
                yield pos + off, h
                off += h.size
            if off == 0:
                return
            pos += off

    def find_position(self, offset: int) -> tuple[int, BatchHeader] | None:
        """The first batch whose last offset is >= offset (and its position), or None."""
        hint = self.next_read
        if hint is not None and hint[0] == offset and hint[1] + HEADER_SIZE <= self.size:
            h = read_header(os.pread(self.fd, HEADER_SIZE, hint[1]))  # a consumer continuing where it stopped
            if h.base_offset <= offset <= h.last_offset:
                return hint[1], h
        _, start = self.index.lookup(offset)
        # The index is sparse (an entry every index.interval.bytes): small reads find the batch.
        for pos, h in self.iter_headers(start, chunk_size=_FIND_CHUNK):
            if h.last_offset >= offset:
                return pos, h
        return None

    def walk_start(self, position: int, size: int, limit: int) -> int:
        """The last batch start in (position, position + size] known from the offset index to follow only whole
        batches (within size of position) whose offsets are all below limit, or position: where a read of size
        bytes at position, cut to whole batches below limit, has to start walking batch headers. Index entries
        are batch starts (keyed by their last offset) every index.interval.bytes."""
        index = self.index
        i = min(bisect.bisect_right(index.positions, position + size), bisect.bisect_left(index.offsets, limit)) - 1
        return index.positions[i] if i >= 0 and index.positions[i] > position else position

    def find_timestamp(self, timestamp: int, starting_offset: int = 0) -> tuple[int, int] | None:
        """(offset, timestamp) of the first record at or after starting_offset whose timestamp is >= timestamp
        (Kafka's LogSegment.findOffsetByTimestamp: records, not batches)."""
        if self.max_timestamp < timestamp:
            return None
        found = self.find_position(max(self.time_index.lookup(timestamp), starting_offset))
        start = found[0] if found else 0
        for pos, h in self.iter_headers(start):
            if h.max_timestamp >= timestamp and h.last_offset >= starting_offset:
                for offset, ts in offsets_and_timestamps(self.read(pos, h.size)):
                    if ts >= timestamp and offset >= starting_offset:
                        return offset, ts
        return None

    def offset_of_timestamp_in_batch(self, batch_offset: int, timestamp: int) -> int:
        """The offset of the first record carrying timestamp in the batch holding batch_offset (KAFKA-16310)."""
        found = self.find_position(batch_offset)
        if found is not None:
            pos, h = found
            for offset, ts in offsets_and_timestamps(self.read(pos, h.size)):
                if ts == timestamp:
                    return offset
        return batch_offset

    # -- loading and recovery -----------------------------------------------------------------------------
    def load(self, next_segment_base: int | None) -> int | None:
        """Open after a clean shutdown: trust the indexes, read the tail for the next offset. A missing or
        unreadable index means a full recovery: returns the bytes it truncated then."""
        if not (self.index.load() and self.time_index.load()):
            return self.recover()
        self.index.open()
        self.time_index.open()
        if next_segment_base is not None and self.index.offsets:
            self.next_offset = next_segment_base
            self.max_timestamp = self.time_index.last_timestamp
            self.offset_of_max_timestamp = self.time_index.offsets[-1] if self.time_index.offsets else -1
            return None
        start = self.index.positions[-1] if self.index.positions else 0
        self._bytes_since_index = 0
        self.max_timestamp = self.time_index.last_timestamp
        self.offset_of_max_timestamp = self.time_index.offsets[-1] if self.time_index.offsets else -1
        for pos, h in self.iter_headers(start):
            self._note_batch(h, pos)
        if next_segment_base is not None and self.next_offset == self.base_offset:
            self.next_offset = next_segment_base
        return None

    def recover(self) -> int:
        """Scan every batch (CRC included), truncate a torn or corrupt tail, rebuild both indexes.

        Returns the number of bytes truncated.
        """
        self.index.reset()
        self.time_index.reset()
        self.index.open()
        self.time_index.open()
        self.next_offset = self.base_offset
        self.max_timestamp = -1
        self.offset_of_max_timestamp = -1
        self._bytes_since_index = 0
        valid = 0
        for pos, h in self.iter_headers(0):
            if h.magic != 2 or h.base_offset < self.next_offset and pos:
                break
            body = os.pread(self.fd, h.size - ATTRIBUTES_OFFSET, pos + ATTRIBUTES_OFFSET)
            if crc32c(body) != h.crc:
                break
            if self._bytes_since_index > self.index_interval_bytes:
                self.index.append(h.last_offset, pos)
                # (max timestamp so far, offset of that max), as append() and Kafka's recover() write it
                self.time_index.maybe_append(max(self.max_timestamp, h.max_timestamp),
                                             h.last_offset if h.max_timestamp > self.max_timestamp
                                             else self.offset_of_max_timestamp)
                self._bytes_since_index = 0
            self._note_batch(h, pos)
            valid = pos + h.size
        truncated = self.size - valid
        if truncated:
            os.ftruncate(self.fd, valid)
            self.size = valid
        return truncated

    def _note_batch(self, h: BatchHeader, pos: int) -> None:
        self._bytes_since_index += h.size
        self.next_offset = h.last_offset + 1
        if h.max_timestamp > self.max_timestamp:
            self.max_timestamp = h.max_timestamp
            self.offset_of_max_timestamp = h.last_offset

    def truncate_to(self, offset: int) -> None:
        """Drop every batch at or after offset (used by replication and recovery)."""
        found = self.find_position(offset)
        if found is None:
            return
        pos, _ = found
        self.next_read = None
        os.ftruncate(self.fd, pos)
        self.size = pos
        self.index.truncate_to_position(pos)
        self.time_index.truncate_to_offset(offset)
        self.next_offset = self.base_offset
        for p, h in self.iter_headers(self.index.positions[-1] if self.index.positions else 0):
            self._note_batch(h, p)

    def close(self) -> None:
        self.index.close()
        self.time_index.close()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def delete(self) -> None:
        self.close()
        for p in (self.log_path, self.index.path, self.time_index.path, self.txn_index.path):
            p.unlink(missing_ok=True)

    def retire(self) -> list[Path]:
        """Kafka's asynchronous delete: rename the files to *.deleted (they no longer load) and return them,
        to be unlinked after file.delete.delay.ms."""
        self.close()
        out = []
        for p in (self.log_path, self.index.path, self.time_index.path, self.txn_index.path):
            if p.exists():
                target = p.with_name(p.name + DELETED_SUFFIX)
                p.rename(target)
                out.append(target)
        return out
