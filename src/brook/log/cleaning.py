"""The work of one compaction pass, free of scheduling: read batches, build the key -> latest offset map, filter
batches against it, write cleaned segments. Plain synchronous code on file descriptors it opens itself, so it can
run on a worker thread while the event loop appends to, reads and deletes the log's own segment objects."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from brook.protocol.records.batch import (
    COMPRESSION_MASK,
    HEADER_SIZE,
    LOG_OVERHEAD,
    BatchHeader,
    read_header,
)
from brook.protocol.records.compression import decompress
from brook.protocol.records.records import record_spans

from .clean_filter import FilterContext, filter_batch
from .index import OffsetIndex, TimeIndex
from .segment import LogSegment
from .swap import CLEANED, SEGMENT_SUFFIXES, segment_path
from .txn_index import AbortedTxn, TransactionIndex

# A Python dict entry holding a bytes key and an int offset costs about this much beyond the key's own bytes; the
# map is bounded by log.cleaner.dedupe.buffer.size in these real bytes (Kafka's 24-byte hash slots are smaller).
MAP_ENTRY_OVERHEAD = 110
_WRITE_CHUNK = 1 << 20


class CleanerAborted(Exception):
    """The broker is shutting down (or the job was dropped): stop at the next batch."""


class CorruptSegment(Exception):
    pass


@dataclass(slots=True)
class SourceSegment:
    """A non-active segment as the event loop saw it when the job was planned."""

    segment: LogSegment  # compared by identity when the result is swapped in
    base: int
    size: int
    next_base: int  # the next segment's base offset: this one's offsets end below it
    path: Path


@dataclass(slots=True)
class PassContext:
    """What every group of one pass is cleaned against."""

    filter: FilterContext  # the offset map, the clock, the producers' and transactions' state
    aborted: dict[int, list[tuple[int, int]]]  # producer id -> (first offset, marker offset) of aborted txns
    index_interval_bytes: int
    read_chunk: int
    throttle: Throttler
    cancelled: Callable[[], bool]

    def is_aborted(self, h: BatchHeader) -> bool:
        if not h.is_transactional or h.is_control:
            return False
        return any(first <= h.base_offset <= last for first, last in self.aborted.get(h.producer_id, ()))


class Throttler:
    """Paces the cleaner thread, called after every batch: log.cleaner.io.max.bytes.per.second (Kafka's
    Throttler), and a GIL hand-over to the event loop every millisecond or so of work. Without the latter, the
    event loop, which gives the GIL up at every socket and file call, waits out a whole switch interval (5 ms) to
    get it back from this thread each time; a short sleep lets it run its ready callbacks in one go."""

    SLICE_S = 0.001

    def __init__(self, max_bytes_per_second: float) -> None:
        self.rate = max_bytes_per_second
        self._start = self._slice = time.monotonic()
        self._bytes = 0

    def note(self, n: int) -> None:
        now = time.monotonic()
        if now - self._slice >= self.SLICE_S:
            time.sleep(0)
            self._slice = time.monotonic()
        if self.rate >= 1e300:
            return
        self._bytes += n
        elapsed = time.monotonic() - self._start
        wanted = self._bytes / self.rate
        if wanted > elapsed:
            time.sleep(wanted - elapsed)
        if elapsed > 1.0:  # a sliding-ish window: idle time does not bank unlimited credit
            self._start, self._bytes = time.monotonic(), 0


def read_batches(fd: int, size: int, chunk: int, cancelled: Callable[[], bool]
                 ) -> Iterator[tuple[int, BatchHeader, memoryview]]:
    """(position, header, bytes) of every batch of a segment file, reading chunk bytes at a time."""
    pos = 0
    while size - pos >= HEADER_SIZE:
        if cancelled():
            raise CleanerAborted
        buf = memoryview(os.pread(fd, min(chunk, size - pos), pos))
        off = 0
        while len(buf) - off >= HEADER_SIZE:
            h = read_header(buf, off)
            if h.batch_length < HEADER_SIZE - LOG_OVERHEAD or h.magic != 2:
                raise CorruptSegment(f"bad batch header at position {pos + off}")
            if h.size > len(buf) - off:
                break
            yield pos + off, h, buf[off : off + h.size]
            off += h.size
        if off == 0:  # one batch larger than the read buffer (Kafka grows its buffer the same way)
            h = read_header(buf, 0)
            if pos + h.size > size:
                raise CorruptSegment(f"batch at position {pos} runs past the end of the segment")
            yield pos, h, memoryview(os.pread(fd, h.size, pos))
            off = h.size
        pos += off


def _records(h: BatchHeader, batch: memoryview) -> tuple[bytes, list]:
    body = decompress(h.attributes & COMPRESSION_MASK, bytes(batch[HEADER_SIZE:]))
    return body, record_spans(body, h.records_count)


def add_to_map(ctx: PassContext, source: SourceSegment, start_offset: int, end_offset: int) -> int:
    """Record every keyed record's offset of one dirty segment in [start_offset, end_offset); returns the bytes
    the map grew by (estimated)."""
    grown = 0
    m = ctx.filter.offset_map
    fd = os.open(source.path, os.O_RDONLY)
    try:
        for _pos, h, batch in read_batches(fd, source.size, ctx.read_chunk, ctx.cancelled):
            ctx.throttle.note(h.size)
            if h.is_control or h.last_offset < start_offset or h.base_offset >= end_offset or ctx.is_aborted(h):
                continue
            base = h.base_offset
            for _s, _e, delta, _ts, key, _dead in _records(h, batch)[1]:
                offset = base + delta
                if key is None or not start_offset <= offset < end_offset:
                    continue
                if key not in m:
                    grown += len(key) + MAP_ENTRY_OVERHEAD
                m[key] = offset
    finally:
        os.close(fd)
    return grown


class CleanedSegment:
    """`<base>.log.cleaned` and its indexes, written the way LogSegment.append writes a segment."""

    def __init__(self, directory: Path, base: int, index_interval_bytes: int) -> None:
        self.directory = directory
        self.base = base
        self.interval = index_interval_bytes
        for suffix in SEGMENT_SUFFIXES:  # leftovers of an aborted earlier attempt
            segment_path(directory, base, suffix, CLEANED).unlink(missing_ok=True)
        self.fd = os.open(segment_path(directory, base, ".log", CLEANED), os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                          0o644)
        self.index = OffsetIndex(segment_path(directory, base, ".index", CLEANED), base)
        self.time_index = TimeIndex(segment_path(directory, base, ".timeindex", CLEANED), base)
        self.index.open()
        self.time_index.open()
        self.aborted: list[AbortedTxn] = []
        self.size = 0
        self.max_timestamp = -1
        self.offset_of_max_timestamp = -1
        self._since_index = 0
        self._buf = bytearray()

    def append(self, h: BatchHeader, data: bytes | memoryview) -> None:
        if self._since_index > self.interval:
            self.index.append(h.last_offset, self.size)
            self.time_index.maybe_append(max(self.max_timestamp, h.max_timestamp),
                                         h.last_offset if h.max_timestamp > self.max_timestamp
                                         else self.offset_of_max_timestamp)
            self._since_index = 0
        self._buf += data
        self.size += len(data)
        self._since_index += len(data)
        if h.max_timestamp > self.max_timestamp:
            self.max_timestamp = h.max_timestamp
            self.offset_of_max_timestamp = h.last_offset
        if len(self._buf) >= _WRITE_CHUNK:
            self._drain()

    def _drain(self) -> None:
        view = memoryview(self._buf)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
        self._buf = bytearray()

    def finish(self, mtime_ns: int) -> None:
        """Write out, close the time index as Kafka closes an inactive segment's, fsync, keep the sources' newest
        mtime (Kafka's cleaned.lastModified: the min.compaction.lag and retention clocks must not restart)."""
        self._drain()
        if self.offset_of_max_timestamp >= 0:
            self.time_index.maybe_append(self.max_timestamp, self.offset_of_max_timestamp)
        if self.aborted:
            txn = TransactionIndex(segment_path(self.directory, self.base, ".txnindex", CLEANED))
            for e in self.aborted:
                txn.append(e)
            fd = os.open(txn.path, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
        os.fsync(self.fd)
        self.index.flush()
        self.time_index.flush()
        self.close()
        os.utime(segment_path(self.directory, self.base, ".log", CLEANED), ns=(mtime_ns, mtime_ns))

    def close(self) -> None:
        self.index.close()
        self.time_index.close()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


@dataclass(slots=True)
class GroupResult:
    sources: list[SourceSegment]
    base: int
    changed: bool = False  # False: the group is one segment and nothing in it went; nothing to swap
    written: bool = False  # a .cleaned segment exists (False and changed: the group's records all went)
    keep_empty: bool = False
    tombstone_due_ms: int | None = None  # the earliest delete horizon a kept tombstone or marker waits for
    bytes_read: int = 0
    bytes_written: int = 0
    batches_changed: int = 0  # dropped or rebuilt
    aborted_txns: list[AbortedTxn] = field(default_factory=list)


def clean_group(ctx: PassContext, group: list[SourceSegment], keep_empty: bool, directory: Path) -> GroupResult:
    """Clean consecutive segments into one `<first base>.log.cleaned`. A single segment that loses nothing is left
    as it is (no write, no swap); keep_empty keeps an empty segment when everything goes (the log's first one, so
    the log start offset stays)."""
    res = GroupResult(group, group[0].base, keep_empty=keep_empty)
    out: CleanedSegment | None = None
    mtime_ns = 0
    due: int | None = None
    txns = ctx.filter.txns
    txns.index_out = []
    try:
        if len(group) > 1:
            out = CleanedSegment(directory, res.base, ctx.index_interval_bytes)
        for src in group:
            fd = os.open(src.path, os.O_RDONLY)
            try:
                mtime_ns = max(mtime_ns, os.fstat(fd).st_mtime_ns)
                for pos, h, batch in read_batches(fd, src.size, ctx.read_chunk, ctx.cancelled):
                    res.bytes_read += h.size
                    ctx.throttle.note(h.size)
                    data, horizon = filter_batch(ctx.filter, h, batch)
                    if horizon is not None:
                        due = horizon if due is None else min(due, horizon)
                    if data is not batch:
                        res.batches_changed += 1
                        if out is None:  # first change in a single-segment group: copy what came before it
                            out = CleanedSegment(directory, res.base, ctx.index_interval_bytes)
                            for _p, h0, b0 in read_batches(fd, pos, ctx.read_chunk, ctx.cancelled):
                                out.append(h0, b0)
                    if data is not None and out is not None:
                        out.append(read_header(data) if data is not batch else h, data)
            finally:
                os.close(fd)
        # Kafka's cleaned transaction index: the aborted transactions whose marker stays with batches to filter
        res.aborted_txns = txns.index_out
        if out is not None:
            res.changed = True
            if out.size == 0 and not keep_empty:
                out.close()
                _discard_files(directory, res.base)
                out = None
            else:
                out.aborted = res.aborted_txns
                out.finish(mtime_ns)
                res.written = True
                res.bytes_written = out.size
        res.tombstone_due_ms = due
        return res
    except BaseException:
        if out is not None:
            out.close()
        _discard_files(directory, res.base)
        raise


def _discard_files(directory: Path, base: int) -> None:
    for suffix in SEGMENT_SUFFIXES:
        segment_path(directory, base, suffix, CLEANED).unlink(missing_ok=True)
