"""The aborted-transaction index (.txnindex): one 34-byte entry per aborted transaction, Kafka's format
(version i16 = 0, producer id i64, first offset i64, last offset i64, last stable offset i64)."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

_ENTRY = struct.Struct(">hqqqq")


@dataclass(frozen=True, slots=True)
class AbortedTxn:
    producer_id: int
    first_offset: int
    last_offset: int
    last_stable_offset: int


class TransactionIndex:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[AbortedTxn] = []
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = b""
        for i in range(len(data) // _ENTRY.size):
            version, pid, first, last, lso = _ENTRY.unpack_from(data, i * _ENTRY.size)
            if version != 0:
                break
            self.entries.append(AbortedTxn(pid, first, last, lso))

    def append(self, txn: AbortedTxn) -> None:
        self.entries.append(txn)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, _ENTRY.pack(0, txn.producer_id, txn.first_offset, txn.last_offset, txn.last_stable_offset))
        finally:
            os.close(fd)

    def truncate_to(self, offset: int) -> None:
        """Drop entries whose abort marker is at or after offset (a torn tail was cut off)."""
        kept = [e for e in self.entries if e.last_offset < offset]
        if len(kept) != len(self.entries):
            self.entries = kept
            data = b"".join(_ENTRY.pack(0, e.producer_id, e.first_offset, e.last_offset, e.last_stable_offset)
                            for e in kept)
            self.path.write_bytes(data)
