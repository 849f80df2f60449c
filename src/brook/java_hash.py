"""Java's String.hashCode, which Kafka uses where Brook must agree with it: the __consumer_offsets and
__transaction_state partition of a key (the coordinators) and the iteration order of Java's hash maps (the tools)."""

from __future__ import annotations


def string_hash(s: str) -> int:
    """java.lang.String.hashCode over UTF-16 code units, as a signed 32-bit int."""
    h = 0
    data = s.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + (data[i] << 8 | data[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h
