"""Replication throttles, as Kafka's ReplicationQuotaManager applies them (KIP-73): what `kafka-reassign-partitions
--throttle` sets. A leader throttles the partitions its topics list in `leader.replication.throttled.replicas` for
this broker ("partition:broker" entries, or `*`) at `leader.replication.throttled.rate` bytes/s; a follower the
ones in `follower.replication.throttled.replicas` at `follower.replication.throttled.rate`. A replica in the ISR is
never throttled; an out-of-sync one gets no data (leader) or is not fetched (follower) while the rate of the
throttled partitions' bytes, over `replication.quota.window.num` windows of
`replication.quota.window.size.seconds`, is above the bound. Without a rate (Kafka's default Long.MAX_VALUE)
nothing is counted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .quotas import Rate

if TYPE_CHECKING:
    from brook.config.broker import BrokerConfig
    from brook.metadata import MetadataStore
    from brook.metadata.records import TopicInfo

ALL = None  # `*`: every partition of the topic
UNLIMITED = 2**63 - 1


def throttled_partitions(value: str, broker_id: int) -> frozenset[int] | None:
    """TopicConfigHandler.parseThrottledPartitions: the partitions whose entry names this broker; None for `*`."""
    value = value.strip()
    if value == "*":
        return ALL
    out = set()
    for entry in value.split(","):
        p, _, b = entry.strip().partition(":")
        if b and b.strip().isdigit() and int(b) == broker_id and p.strip().isdigit():
            out.add(int(p))
    return frozenset(out)


class ReplicationQuota:
    """One side's throttle (leader or follower): which partitions, and whether their rate is over the bound."""

    def __init__(self, side: str, config: BrokerConfig, store: MetadataStore, broker_id: int) -> None:
        self.rate_name = f"{side}.replication.throttled.rate"
        self.replicas_name = f"{side}.replication.throttled.replicas"
        self.config = config
        self.store = store
        self.broker_id = broker_id
        self._parsed: dict[str, tuple[TopicInfo, frozenset[int] | None]] = {}
        self._rate: Rate | None = None

    def bound(self) -> int:
        raw = self.config.raw.get(self.rate_name)
        try:
            return int(raw) if raw is not None else UNLIMITED
        except ValueError:
            return UNLIMITED

    def is_throttled(self, topic: str, partition: int) -> bool:
        info = self.store.topics.get(topic)
        if info is None:
            return False
        cached = self._parsed.get(topic)
        if cached is None or cached[0] is not info:  # a config change replaces the TopicInfo
            value = info.configs.get(self.replicas_name, "")
            cached = self._parsed[topic] = (info, throttled_partitions(value, self.broker_id) if value else
                                            frozenset())
        parts = cached[1]
        return parts is None or partition in parts

    def _window(self) -> Rate:
        if self._rate is None:
            self._rate = Rate(self.config.get_int("replication.quota.window.num"),
                              self.config.get_int("replication.quota.window.size.seconds") * 1000)
        return self._rate

    def exceeded(self, now_ms: int) -> bool:
        bound = self.bound()
        return bound < UNLIMITED and self._window().per_second(now_ms) > bound

    def record(self, size: int, now_ms: int) -> None:
        if size and self.bound() < UNLIMITED:
            self._window().record(size, now_ms)


class ReplicationQuotas:
    def __init__(self, config: BrokerConfig, store: MetadataStore, broker_id: int) -> None:
        self.leader = ReplicationQuota("leader", config, store, broker_id)
        self.follower = ReplicationQuota("follower", config, store, broker_id)
