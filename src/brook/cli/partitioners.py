"""Where a Brook producer puts a record, as Kafka's Java producer would (clients/.../producer, Kafka 3.9).

Keyed records: `toPositive(murmur2(key)) % numPartitions` (BuiltInPartitioner.partitionForKey), which is
librdkafka's `murmur2_random` partitioner bit for bit. Null keys: librdkafka's sticky partitioning (a partition
kept for `sticky.partitioning.linger.ms`), the nearest it has to Kafka's KIP-480/KIP-794 sticky partitioner.
`partitioner.class` takes Kafka's class names; the two librdkafka has no equivalent for (RoundRobinPartitioner,
and UniformStickyPartitioner or `partitioner.ignore.keys=true`, which ignore keys) choose an explicit partition
per record here, from the producer's own metadata.
"""

from __future__ import annotations

import random
import time
from typing import Any

PACKAGE = "org.apache.kafka.clients.producer."
DEFAULT = PACKAGE + "internals.DefaultPartitioner"
ROUND_ROBIN = PACKAGE + "RoundRobinPartitioner"
UNIFORM_STICKY = PACKAGE + "UniformStickyPartitioner"
CLASSES = (DEFAULT, ROUND_ROBIN, UNIFORM_STICKY)
LIBRDKAFKA = "murmur2_random"  # librdkafka's name for Kafka's default partitioning


def check_class(props: dict[str, str]) -> str | None:
    """The partitioner.class Kafka would load, or None for the built-in one; a class Kafka's client does not ship
    fails as ConfigDef.parseType does."""
    name = props.get("partitioner.class")
    if name is None or not name.strip():
        return None
    if name.strip() not in CLASSES:
        from brook.cli.clients import ToolError

        raise ToolError("org.apache.kafka.common.config.ConfigException",
                        f"Invalid value {name} for configuration partitioner.class: Class {name} could not be found.")
    return name.strip()


def explicit(props: dict[str, str]) -> Partitioning | None:
    """The in-tool partitioning a producer's Java properties ask for, or None when librdkafka's murmur2_random
    already does what Kafka does (the built-in partitioner and DefaultPartitioner)."""
    name = check_class(props)
    if name == ROUND_ROBIN:
        chooser: RoundRobin | Sticky = RoundRobin()
    elif name == UNIFORM_STICKY or (name is None and props.get("partitioner.ignore.keys", "").lower() == "true"):
        chooser = Sticky(int(props.get("batch.size", "16384")))
    else:
        return None
    return Partitioning(chooser, int(props.get("max.block.ms", "60000")),
                        int(props.get("metadata.max.age.ms", "300000")))


class RoundRobin:
    """RoundRobinPartitioner: a counter per topic over the partitions that have a leader, whatever the key."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}

    def choose(self, topic: str, available: list[int], count: int, size: int) -> int:
        n = self.counters.get(topic, 0)
        self.counters[topic] = (n + 1) & 0xFFFFFFFF
        n &= 0x7FFFFFFF  # Utils.toPositive of the Java int the counter wraps to
        return available[n % len(available)] if available else n % count


class Sticky:
    """UniformStickyPartitioner / partitioner.ignore.keys: one partition until a batch's worth (batch.size) of
    bytes has gone to it, then another picked at random among the others with a leader (StickyPartitionCache)."""

    def __init__(self, batch_size: int) -> None:
        self.batch_size = max(1, batch_size)
        self.current: dict[str, tuple[int, int]] = {}  # topic -> (partition, bytes sent to it)
        self.random = random.Random()

    def choose(self, topic: str, available: list[int], count: int, size: int) -> int:
        partition, filled = self.current.get(topic, (-1, 0))
        if partition < 0 or (filled > 0 and filled + size > self.batch_size):
            choices = [p for p in (available or range(count)) if p != partition] or [partition]
            partition, filled = self.random.choice(choices), 0
        self.current[topic] = (partition, filled + size)
        return partition


class Partitioning:
    """An explicit partitioner with the partition counts it needs, read from the producer's metadata (refreshed
    every metadata.max.age.ms); a topic that stays unknown fails as KafkaProducer.waitOnMetadata does."""

    def __init__(self, chooser: RoundRobin | Sticky, max_block_ms: int, max_age_ms: int) -> None:
        self.chooser = chooser
        self.max_block_ms, self.max_age_s = max_block_ms, max_age_ms / 1000
        self.topics: dict[str, tuple[float, list[int], int]] = {}  # topic -> (read at, available, count)

    def partition(self, producer: Any, topic: str, key: bytes | None, value: bytes | None) -> int:
        now = time.monotonic()
        known = self.topics.get(topic)
        if known is None or now - known[0] > self.max_age_s:
            available, count = self._metadata(producer, topic)
            known = self.topics[topic] = (now, available, count)
        size = len(key or b"") + len(value or b"")
        return self.chooser.choose(topic, known[1], known[2], size)

    def _metadata(self, producer: Any, topic: str) -> tuple[list[int], int]:
        deadline = time.monotonic() + self.max_block_ms / 1000
        while True:
            remaining = deadline - time.monotonic()
            try:
                meta = producer.list_topics(topic, timeout=max(0.1, min(remaining, 5.0))).topics.get(topic)
            except Exception:  # a metadata timeout: retried until max.block.ms, as Java's send waits
                meta = None
            if meta is not None and meta.error is None and meta.partitions:
                parts = meta.partitions
                return sorted(p for p, m in parts.items() if m.leader >= 0), len(parts)
            if remaining <= 0:
                from brook.cli.clients import ToolError

                raise ToolError("org.apache.kafka.common.errors.TimeoutException",
                                f"Topic {topic} not present in metadata after {self.max_block_ms} ms.")
            producer.poll(0.1)
