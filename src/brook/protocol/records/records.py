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
