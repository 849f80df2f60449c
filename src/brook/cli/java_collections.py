"""Iteration order of Java's HashMap and HashSet, for output Kafka's tools build from them (JSON objects, lists of
brokers): the order a user sees from Kafka is the order of the hash buckets, not the order of insertion."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TypeVar

from brook.java_hash import string_hash

T = TypeVar("T")


def _int32(n: int) -> int:
    n &= 0xFFFFFFFF
    return n - (1 << 32) if n & 0x80000000 else n


def long_hash(v: int) -> int:
    """java.lang.Long.hashCode: the two halves XORed."""
    u = v & 0xFFFFFFFFFFFFFFFF
    return _int32(u ^ (u >> 32))


def topic_partition_hash(topic: str, partition: int) -> int:
    """org.apache.kafka.common.TopicPartition.hashCode."""
    return _int32(31 * (31 + partition) + string_hash(topic))


def hash_order(items: Iterable[T], java_hash: Callable[[T], int], initial_capacity: int = 16) -> list[T]:
    """Items in the order a java.util.HashMap filled with them (in this order, load factor 0.75, `new
    HashMap<>(initial_capacity)`) iterates: by bucket of the spread hash, insertion order within a bucket."""
    items = list(items)
    capacity = 1
    while capacity < initial_capacity:  # HashMap.tableSizeFor
        capacity *= 2
    while len(items) > capacity * 3 // 4:
        capacity *= 2

    def bucket(item: T) -> int:
        h = java_hash(item) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & (capacity - 1)

    return sorted(items, key=bucket)  # sorted() is stable: insertion order within a bucket


def string_key_order(keys: Iterable[str]) -> list[str]:
    return hash_order(keys, string_hash)


def int_order(values: Iterable[int]) -> list[int]:
    """A HashSet<Integer> / HashMap<Integer, ?> (Integer.hashCode is the value)."""
    return hash_order(values, lambda v: v)


def _table_size_for(capacity: int) -> int:
    """scala.collection.mutable.HashSet.tableSizeFor."""
    return min(1 << (max(capacity - 1, 4).bit_length()), 1 << 30)


def scala_hash_set_order(groups: Iterable[Iterable[T]], java_hash: Callable[[T], int]) -> list[T]:
    """Items in the order a Scala 2.13 mutable.HashSet iterates after `set ++= group` for each group in turn (e.g.
    TransactionMetadata.addPartitions, once per topic): by bucket of the improved hash, then by that hash (signed)
    within a bucket. ++= first sizes the table for the group; a group of more than four (an immutable.HashSet) is
    then added without further growth checks, a smaller one element by element (growing at 75% full)."""
    capacity = 16
    items: list[T] = []
    for group in groups:
        new = [x for x in dict.fromkeys(group) if x not in items]
        capacity = max(capacity, _table_size_for(int((len(new) + 1) / 0.75)))
        for item in new:
            if len(new) <= 4 and len(items) + 1 >= int(capacity * 0.75):
                capacity *= 2
            items.append(item)

    def improved(item: T) -> int:
        h = java_hash(item) & 0xFFFFFFFF
        return _int32(h ^ (h >> 16))

    return sorted(items, key=lambda x: (improved(x) & (capacity - 1), improved(x)))


def map_hash(entries: dict[str, str | None]) -> int:
    """java.util.AbstractMap.hashCode of a Map<String, String> (a null value hashes to 0)."""
    return _int32(sum(string_hash(k) ^ (string_hash(v) if v is not None else 0) for k, v in entries.items()))


def double_str(value: float) -> str:
    """java.lang.Double.toString: plain between 10^-3 and 10^7, else computerized scientific notation."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        text = repr(float(value))
        return text
    shortest = Decimal(repr(abs(value))).normalize()  # repr: the shortest digits that read back the same
    digits = "".join(map(str, shortest.as_tuple().digits))
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{shortest.adjusted()}"
