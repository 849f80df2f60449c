"""Building a RecordBatch v2 for the broker's own writes (coordinator records, transaction markers): kio writes
each record; the 61-byte header is packed here and the CRC32C computed over bytes 21..end."""

from __future__ import annotations

import datetime
import io
from collections.abc import Sequence
from typing import cast

from crc32c import crc32c
from kio.records.schema import Record
from kio.records.writers import write_record
from kio.static.primitive import TZAwareMicros, i8, i64

from .batch import ATTRIBUTES_OFFSET, HEADER_SIZE, LOG_OVERHEAD, BatchHeader, pack_header


def build_batch(records: Sequence[tuple[bytes | None, bytes | None]], timestamp_ms: int, attributes: int = 0,
                producer_id: int = -1, producer_epoch: int = -1) -> bytes:
    """One uncompressed batch at base offset 0 (the log assigns the real one), every record at timestamp_ms."""
    # kio's record takes its range-checked phantom types; these values are in range by construction
    when = cast(TZAwareMicros, datetime.datetime.fromtimestamp(timestamp_ms / 1000, datetime.UTC))
    base_timestamp, base_offset, no_attributes = cast(i64, timestamp_ms), cast(i64, 0), cast(i8, 0)
    body = io.BytesIO()
    for i, (key, value) in enumerate(records):
        write_record(body, Record(attributes=no_attributes, timestamp=when, offset=cast(i64, i), key=key, value=value,
                                  headers=()), base_timestamp, base_offset)
    data = body.getvalue()
    size = HEADER_SIZE + len(data)
    header = BatchHeader(0, size - LOG_OVERHEAD, -1, 2, 0, attributes, len(records) - 1, timestamp_ms, timestamp_ms,
                         producer_id, producer_epoch, -1, len(records))
    out = bytearray(pack_header(header))
    out += data
    out[17:21] = crc32c(memoryview(out)[ATTRIBUTES_OFFSET:]).to_bytes(4, "big")
    return bytes(out)
