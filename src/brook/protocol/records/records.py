"""Record-level reading of a v2 batch (off the hot path: compacted-topic checks, tools), through kio's reader."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

from kio.records.readers import read_record
from kio.records.schema import Record
from kio.static.primitive import i64

from .batch import COMPRESSION_MASK, HEADER_SIZE, read_header
from .compression import decompress


def iter_records(batch: bytes, pos: int = 0) -> Iterator[Record]:
    h = read_header(batch, pos)
    body = batch[pos + HEADER_SIZE : pos + h.size]
    data = decompress(h.attributes & COMPRESSION_MASK, body)
    off = 0
    # kio's reader takes its range-checked i64; a header's fields are in range by the batch format (once per batch)
    base_timestamp, base_offset = cast(i64, h.base_timestamp), cast(i64, h.base_offset)
    for _ in range(h.records_count):
        record, size = read_record(data, base_timestamp, base_offset, off)
        off += size
        yield record


def null_key_indexes(batch: bytes) -> list[int]:
    return [i for i, r in enumerate(iter_records(batch)) if r.key is None]


def _zigzag(buf: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return (result >> 1) ^ -(result & 1), pos
        shift += 7


def offsets_and_timestamps(batch: bytes, pos: int = 0) -> Iterator[tuple[int, int]]:
    """(offset, timestamp in ms) of each record; kio's reader drops the milliseconds. A LogAppendTime batch
    gives every record the batch's max timestamp, as Kafka's DefaultRecord does."""
    h = read_header(batch, pos)
    data = decompress(h.attributes & COMPRESSION_MASK, batch[pos + HEADER_SIZE : pos + h.size])
    off = 0
    for _ in range(h.records_count):
        length, off = _zigzag(data, off)
        end = off + length
        ts_delta, p = _zigzag(data, off + 1)  # after the attributes byte
        offset_delta, _ = _zigzag(data, p)
        yield h.base_offset + offset_delta, h.max_timestamp if h.log_append_time else h.base_timestamp + ts_delta
        off = end


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """A record's zigzag varint at pos: (value, position after it)."""
    b = buf[pos]
    if b < 0x80:  # one or two bytes: nearly every length and delta in a batch
        return (b >> 1) ^ -(b & 1), pos + 1
    b2 = buf[pos + 1]
    if b2 < 0x80:
        v = (b & 0x7F) | (b2 << 7)
        return (v >> 1) ^ -(v & 1), pos + 2
    return _zigzag(buf, pos)


def record_spans(data: bytes, count: int) -> list[tuple[int, int, int, int, bytes | None, bool]]:
    """The records of a decompressed batch body, for compaction: (start, end, offset delta, timestamp delta, key,
    is tombstone) each, where data[start:end] is the record exactly as stored (length prefix included), so a
    cleaned batch keeps its surviving records byte for byte. Reads only; headers are skipped by length."""
    out = []
    pos = 0
    for _ in range(count):
        start = pos
        length, pos = read_varint(data, pos)
        end = pos + length
        ts_delta, pos = read_varint(data, pos + 1)  # after the attributes byte
        offset_delta, pos = read_varint(data, pos)
        key_len, pos = read_varint(data, pos)
        key = None
        if key_len >= 0:
            key = data[pos : pos + key_len]
            pos += key_len
        value_len, _ = read_varint(data, pos)
        if end > len(data):
            raise ValueError("record extends past the end of its batch")
        out.append((start, end, offset_delta, ts_delta, key, value_len < 0))
        pos = end
    return out
