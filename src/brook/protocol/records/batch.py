"""RecordBatch v2 header view, validation and offset assignment, without decoding records.

Layout (Kafka's DefaultRecordBatch): baseOffset i64 @0, batchLength i32 @8, partitionLeaderEpoch i32 @12,
magic i8 @16, crc u32 @17 (CRC32C of bytes 21..end), attributes i16 @21, lastOffsetDelta i32 @23,
baseTimestamp i64 @27, maxTimestamp i64 @35, producerId i64 @43, producerEpoch i16 @51, baseSequence i32 @53,
recordsCount i32 @57, records @61.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from crc32c import crc32c

from brook.errors import ErrorCode, KafkaError

HEADER_SIZE = 61
LOG_OVERHEAD = 12  # baseOffset + batchLength: bytes not counted by batchLength
MAGIC_OFFSET = 16
CRC_OFFSET = 17
ATTRIBUTES_OFFSET = 21

COMPRESSION_MASK = 0x07
TIMESTAMP_TYPE_FLAG = 0x08
TRANSACTIONAL_FLAG = 0x10
CONTROL_FLAG = 0x20
DELETE_HORIZON_FLAG = 0x40  # KIP-534: the base timestamp field holds the cleaner's delete horizon
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")

_HEADER = struct.Struct(">qiibIhiqqqhii")
_OFFSET_LENGTH = struct.Struct(">qi")
_OFFSET_EPOCH = struct.Struct(">qii")  # baseOffset, batchLength, partitionLeaderEpoch
_new_header = tuple.__new__


class BatchHeader(NamedTuple):
    """A tuple: made from the header's unpacked fields without a Python-level __init__ (every batch makes one)."""

    base_offset: int
    batch_length: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    records_count: int

    @property
    def size(self) -> int:
        return self.batch_length + LOG_OVERHEAD

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta

    @property
    def next_offset(self) -> int:
        return self.base_offset + self.last_offset_delta + 1

    @property
    def compression(self) -> str:
        return CODECS[self.attributes & COMPRESSION_MASK]

    @property
    def is_transactional(self) -> bool:
        return bool(self.attributes & TRANSACTIONAL_FLAG)

    @property
    def is_control(self) -> bool:
        return bool(self.attributes & CONTROL_FLAG)

    @property
    def log_append_time(self) -> bool:
        return bool(self.attributes & TIMESTAMP_TYPE_FLAG)


def read_header(buf: bytes | memoryview, pos: int = 0) -> BatchHeader:
    return _new_header(BatchHeader, _HEADER.unpack_from(buf, pos))


def crc_ok(buf: bytes | memoryview, pos: int, size: int, crc: int) -> bool:
    return crc32c(memoryview(buf)[pos + ATTRIBUTES_OFFSET : pos + size]) == crc


def validate_produced(records: bytes | memoryview, max_message_bytes: int) -> BatchHeader:
    """Check a produced partition payload: exactly one v2 batch, whole, with a good CRC (Kafka's rules)."""
    n = len(records)
    if n < HEADER_SIZE:
        raise KafkaError(ErrorCode.corrupt_message, "record batch shorter than its header")
    h = read_header(records)
    if h.magic != 2:
        raise KafkaError(ErrorCode.invalid_record, f"produce v3+ requires magic v2 batches, got magic {h.magic}")
    if h.size != n:
        if h.size < n:
            raise KafkaError(ErrorCode.invalid_record, "produce requests must carry exactly one record batch")
        raise KafkaError(ErrorCode.corrupt_message, "record batch is truncated")
    if n > max_message_bytes:
        raise KafkaError(
            ErrorCode.message_too_large,
            f"the batch size {n} is larger than the max message size the server allows {max_message_bytes}",
        )
    if h.attributes & COMPRESSION_MASK > 4:
        raise KafkaError(ErrorCode.unsupported_compression_type, "unknown compression codec")
    if h.attributes & CONTROL_FLAG:
        raise KafkaError(ErrorCode.invalid_record, "control batches are written by the broker, not by clients")
    if h.records_count <= 0 or h.records_count != h.last_offset_delta + 1:
        raise KafkaError(ErrorCode.invalid_record, "record count does not match the batch's last offset delta")
    if crc32c(memoryview(records)[ATTRIBUTES_OFFSET:]) != h.crc:
        raise KafkaError(ErrorCode.corrupt_message, "record batch CRC mismatch")
    return h


def assigned_prefix(records: bytes | memoryview, base_offset: int, leader_epoch: int) -> bytes:
    """The first 17 bytes of the batch with the broker's base offset and leader epoch (outside the CRC)."""
    return _OFFSET_EPOCH.pack(base_offset, len(records) - LOG_OVERHEAD, leader_epoch) + records[16:17]


def iter_batch_positions(buf: bytes | memoryview, start: int = 0):
    """Yield (position, base_offset, size) for each whole batch in buf; stops at a partial one."""
    pos = start
    end = len(buf)
    while end - pos >= LOG_OVERHEAD:
        base, length = _OFFSET_LENGTH.unpack_from(buf, pos)
        size = length + LOG_OVERHEAD
        if length < 0 or end - pos < size:
            return
        yield pos, base, size
        pos += size


def pack_header(h: BatchHeader) -> bytes:
    """The 61 header bytes of h as stored (the CRC field as given: the caller computes it over bytes 21..end)."""
    return _HEADER.pack(h.base_offset, h.batch_length, h.partition_leader_epoch, h.magic, h.crc, h.attributes,
                        h.last_offset_delta, h.base_timestamp, h.max_timestamp, h.producer_id, h.producer_epoch,
                        h.base_sequence, h.records_count)
