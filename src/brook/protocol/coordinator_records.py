"""__consumer_offsets record formats (OffsetCommitKey/Value, GroupMetadataKey/Value), Kafka's own schemas
(group-coordinator's *.json), written with kio's primitive writers and read with its native readers.

Keys start with their int16 version: 0/1 = offset commit, 2 = group metadata. Brook writes the versions
Kafka 3.9 writes: OffsetCommitValue v3 and GroupMetadataValue v3 (non-flexible); it reads v0-v3.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, cast

from kio._kio_native import (
    read_int8,
    read_int16,
    read_int32,
    read_int64,
    read_legacy_array_length,
    read_legacy_bytes,
    read_legacy_string,
    read_nullable_legacy_string,
)
from kio.serial import writers
from kio.serial.writers import write_legacy_bytes, write_legacy_string, write_nullable_legacy_string

# kio's integer writers take its range-checked phantom types (i8 ... i64); these records' fields are plain ints,
# whose ranges the coordinators guarantee, and the writers reject an out-of-range value anyway (struct.error)
_IntWriter = Callable[[IO[bytes], int], None]
write_int8 = cast(_IntWriter, writers.write_int8)
write_int16 = cast(_IntWriter, writers.write_int16)
write_int32 = cast(_IntWriter, writers.write_int32)
write_int64 = cast(_IntWriter, writers.write_int64)
write_legacy_array_length = cast(_IntWriter, writers.write_legacy_array_length)

OFFSET_COMMIT_KEY_VERSION = 1
GROUP_METADATA_KEY_VERSION = 2
OFFSET_COMMIT_VALUE_VERSION = 3
GROUP_METADATA_VALUE_VERSION = 3


@dataclass(frozen=True, slots=True)
class OffsetCommitKey:
    group: str
    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class OffsetCommitValue:
    offset: int
    leader_epoch: int
    metadata: str
    commit_timestamp: int
    expire_timestamp: int = -1


@dataclass(frozen=True, slots=True)
class GroupMetadataKey:
    group: str


@dataclass(frozen=True, slots=True)
class MemberMetadata:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout: int
    session_timeout: int
    subscription: bytes
    assignment: bytes


@dataclass(frozen=True, slots=True)
class GroupMetadataValue:
    protocol_type: str
    generation: int
    protocol: str | None
    leader: str | None
    current_state_timestamp: int
    members: tuple[MemberMetadata, ...] = field(default_factory=tuple)


def encode_key(key: OffsetCommitKey | GroupMetadataKey) -> bytes:
    buf = io.BytesIO()
    if isinstance(key, OffsetCommitKey):
        write_int16(buf, OFFSET_COMMIT_KEY_VERSION)
        write_legacy_string(buf, key.group)
        write_legacy_string(buf, key.topic)
        write_int32(buf, key.partition)
    else:
        write_int16(buf, GROUP_METADATA_KEY_VERSION)
        write_legacy_string(buf, key.group)
    return buf.getvalue()


def encode_offset_value(v: OffsetCommitValue) -> bytes:
    buf = io.BytesIO()
    write_int16(buf, OFFSET_COMMIT_VALUE_VERSION)
    write_int64(buf, v.offset)
    write_int32(buf, v.leader_epoch)
    write_legacy_string(buf, v.metadata)
    write_int64(buf, v.commit_timestamp)
    return buf.getvalue()


def encode_group_value(v: GroupMetadataValue) -> bytes:
    buf = io.BytesIO()
    write_int16(buf, GROUP_METADATA_VALUE_VERSION)
    write_legacy_string(buf, v.protocol_type)
    write_int32(buf, v.generation)
    write_nullable_legacy_string(buf, v.protocol)
    write_nullable_legacy_string(buf, v.leader)
    write_int64(buf, v.current_state_timestamp)
    write_legacy_array_length(buf, len(v.members))
    for m in v.members:
        write_legacy_string(buf, m.member_id)
        write_nullable_legacy_string(buf, m.group_instance_id)
        write_legacy_string(buf, m.client_id)
        write_legacy_string(buf, m.client_host)
        write_int32(buf, m.rebalance_timeout)
        write_int32(buf, m.session_timeout)
        write_legacy_bytes(buf, m.subscription)
        write_legacy_bytes(buf, m.assignment)
    return buf.getvalue()


class _Cursor:
    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def read(self, reader):
        value, size = reader(self.buf, self.pos)
        self.pos += size
        return value


def decode_key(data: bytes) -> OffsetCommitKey | GroupMetadataKey:
    c = _Cursor(data)
    version = c.read(read_int16)
    if version in (0, 1):
        return OffsetCommitKey(c.read(read_legacy_string), c.read(read_legacy_string), c.read(read_int32))
    if version == 2:
        return GroupMetadataKey(c.read(read_legacy_string))
    raise ValueError(f"unknown __consumer_offsets key version {version}")


def decode_offset_value(data: bytes) -> OffsetCommitValue:
    c = _Cursor(data)
    version = c.read(read_int16)
    if not 0 <= version <= 3:
        raise ValueError(f"unsupported OffsetCommitValue version {version}")
    offset = c.read(read_int64)
    epoch = c.read(read_int32) if version >= 3 else -1
    metadata = c.read(read_legacy_string)
    ts = c.read(read_int64)
    expire = c.read(read_int64) if version == 1 else -1
    return OffsetCommitValue(offset, epoch, metadata, ts, expire)


def decode_group_value(data: bytes) -> GroupMetadataValue:
    c = _Cursor(data)
    version = c.read(read_int16)
    if not 0 <= version <= 3:
        raise ValueError(f"unsupported GroupMetadataValue version {version}")
    protocol_type = c.read(read_legacy_string)
    generation = c.read(read_int32)
    protocol = c.read(read_nullable_legacy_string)
    leader = c.read(read_nullable_legacy_string)
    state_ts = c.read(read_int64) if version >= 2 else -1
    members = []
    for _ in range(c.read(read_legacy_array_length)):
        member_id = c.read(read_legacy_string)
        instance = c.read(read_nullable_legacy_string) if version >= 3 else None
        client_id = c.read(read_legacy_string)
        host = c.read(read_legacy_string)
        rebalance = c.read(read_int32) if version >= 1 else -1
        session = c.read(read_int32)
        members.append(MemberMetadata(member_id, instance, client_id, host, rebalance, session,
                                      c.read(read_legacy_bytes), c.read(read_legacy_bytes)))
    return GroupMetadataValue(protocol_type, generation, protocol, leader, state_ts, tuple(members))


# -- __transaction_state (TransactionLogKey v0, TransactionLogValue v0: what Kafka 3.9 writes) ---------------
TXN_KEY_VERSION = 0
TXN_VALUE_VERSION = 0


@dataclass(frozen=True, slots=True)
class TransactionLogKey:
    transactional_id: str


@dataclass(frozen=True, slots=True)
class TransactionLogValue:
    producer_id: int
    producer_epoch: int
    transaction_timeout_ms: int
    transaction_status: int
    transaction_partitions: tuple[tuple[str, tuple[int, ...]], ...] | None
    transaction_last_update_timestamp_ms: int
    transaction_start_timestamp_ms: int


def encode_txn_key(key: TransactionLogKey) -> bytes:
    buf = io.BytesIO()
    write_int16(buf, TXN_KEY_VERSION)
    write_legacy_string(buf, key.transactional_id)
    return buf.getvalue()


def encode_txn_value(v: TransactionLogValue) -> bytes:
    buf = io.BytesIO()
    write_int16(buf, TXN_VALUE_VERSION)
    write_int64(buf, v.producer_id)
    write_int16(buf, v.producer_epoch)
    write_int32(buf, v.transaction_timeout_ms)
    write_int8(buf, v.transaction_status)
    if v.transaction_partitions is None:
        write_legacy_array_length(buf, -1)
    else:
        write_legacy_array_length(buf, len(v.transaction_partitions))
        for topic, partitions in v.transaction_partitions:
            write_legacy_string(buf, topic)
            write_legacy_array_length(buf, len(partitions))
            for p in partitions:
                write_int32(buf, p)
    write_int64(buf, v.transaction_last_update_timestamp_ms)
    write_int64(buf, v.transaction_start_timestamp_ms)
    return buf.getvalue()


def decode_txn_key(data: bytes) -> TransactionLogKey:
    c = _Cursor(data)
    version = c.read(read_int16)
    if version != TXN_KEY_VERSION:
        raise ValueError(f"unknown __transaction_state key version {version}")
    return TransactionLogKey(c.read(read_legacy_string))


def decode_txn_value(data: bytes) -> TransactionLogValue:
    c = _Cursor(data)
    version = c.read(read_int16)
    if version != TXN_VALUE_VERSION:
        raise ValueError(f"unsupported TransactionLogValue version {version}")
    pid, epoch, timeout, status = c.read(read_int64), c.read(read_int16), c.read(read_int32), c.read(read_int8)
    n = c.read(read_legacy_array_length)
    partitions = None
    if n >= 0:
        items = []
        for _ in range(n):
            topic = c.read(read_legacy_string)
            items.append((topic, tuple(c.read(read_int32) for _ in range(c.read(read_legacy_array_length)))))
        partitions = tuple(items)
    return TransactionLogValue(pid, epoch, timeout, status, partitions, c.read(read_int64), c.read(read_int64))
