"""Produce requests of a known shape, read without decoding.

A producer writing one partition per request (a synchronous producer, or one whose partitioner sticks to a
partition) sends the same request again and again but for its correlation id and its record batch: the same
client id, transactional id, acks, timeout, topic and partition. Once kio has decoded one such request, the bytes
around its records are its shape. A later frame that holds exactly those bytes, then a records length, then that
many bytes and the same trailing tagged fields, is that request with other records: kio would read every field
but the correlation id and the records as it read them the first time. So the frame is compared, not decoded:
nothing but the records length is read from it (with kio's readers), and a frame that differs in any other byte
is decoded as usual.
"""

from __future__ import annotations

import struct
from typing import Any

from kio.serial.readers import read_int32, read_unsigned_varint

_TAGS = b"\0\0\0"  # flexible versions: no tagged fields on the partition, the topic and the request
_OFFSETS = struct.Struct(">q8sq")  # a partition's base offset, log append time, log start offset


class ProduceShape:
    __slots__ = ("key", "prefix", "flexible", "topic", "partition", "acks", "_head", "_middle", "_append_time",
                 "_tail")

    def __init__(self, key: bytes, prefix: bytes, flexible: bool, topic: str, partition: int, acks: int) -> None:
        self.key = key  # the frame's first four bytes: api key and version
        self.prefix = prefix  # the bytes from the request header's client id to the records length
        self.flexible = flexible
        self.topic = topic
        self.partition = partition
        self.acks = acks
        # the response, around its correlation id and offsets (answer_from)
        self._head = self._middle = self._append_time = self._tail = b""

    @classmethod
    def learn(cls, frame: bytes, request: Any) -> ProduceShape | None:
        """The shape of a decoded request of one partition (kio's `request` of `frame`), or None if it has
        several partitions, no records, or tagged fields."""
        if len(request.topic_data) != 1 or len(request.topic_data[0].partition_data) != 1:
            return None
        topic = request.topic_data[0]
        part = topic.partition_data[0]
        records = part.records
        if not records:
            return None
        flexible: bool = type(request).__flexible__
        end = len(frame) - (len(_TAGS) if flexible else 0)
        start = end - len(records)
        if flexible and frame[end:] != _TAGS or frame[start:end] != records:
            return None
        width = _varint_width(len(records) + 1) if flexible else 4
        shape = cls(frame[:4], frame[8:start - width], flexible, topic.name, part.index, request.acks)
        return shape if shape.records(frame) == records else None

    def answer_from(self, template: bytes, index_at: int, base_at: int, start_at: int) -> bool:
        """Learn the response to this shape from a framed response template (protocol/templates.py) and the
        positions of its partition index, base offset and log start offset; False if the layout is not the one
        of produce v5 and later (the log append time between the offsets)."""
        if start_at != base_at + 16 or index_at + 4 > base_at:
            return False
        out = bytearray(template)
        out[index_at:index_at + 4] = self.partition.to_bytes(4, "big", signed=True)
        self._head, self._middle = bytes(out[:4]), bytes(out[8:base_at])
        self._append_time, self._tail = bytes(out[base_at + 8:start_at]), bytes(out[start_at + 8:])
        return True

    def answer(self, frame: bytes, base_offset: int, log_start_offset: int) -> bytes:
        """The framed response to a frame of this shape (answer_from learnt it)."""
        return b"".join((self._head, frame[4:8], self._middle,
                         _OFFSETS.pack(base_offset, self._append_time, log_start_offset), self._tail))

    def records(self, frame: bytes) -> memoryview | None:
        """The record batch of a frame of this shape (a view of the frame's bytes: a large batch is not copied),
        or None if the frame has another shape."""
        if not frame.startswith(self.key) or not frame.startswith(self.prefix, 8):
            return None
        at = 8 + len(self.prefix)
        try:
            if self.flexible:
                length, width = read_unsigned_varint(frame, at)  # kio's readers: (value, bytes read)
                at += width
                end = len(frame) - 3
                if at + length - 1 != end or not frame.endswith(_TAGS):
                    return None
            else:
                size, _ = read_int32(frame, at)
                at += 4
                end = len(frame)
                if at + size != end:
                    return None
        except Exception:  # the frame ends inside the length: not this shape (kio raises several types)
            return None
        return memoryview(frame)[at:end] if end > at else None


def _varint_width(value: int) -> int:
    return (value.bit_length() + 6) // 7 or 1
