"""Record-level reading of a v2 batch (off the hot path: compacted-topic checks, tools), through kio's reader."""

from __future__ import annotations

from collections.abc import Iterator

from kio.records.readers import read_record
from kio.records.schema import Record

from .batch import COMPRESSION_MASK, HEADER_SIZE, read_header
from .compression import decompress


def iter_records(batch: bytes, pos: int = 0) -> Iterator[Record]:
    h = read_header(batch, pos)
    body = batch[pos + HEADER_SIZE : pos + h.size]
    data = decompress(h.attributes & COMPRESSION_MASK, body)
    off = 0
    for _ in range(h.records_count):
        record, size = read_record(data, h.base_timestamp, h.base_offset, off)
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
