"""Fetching from the closest replica (KIP-392), as Kafka's ReplicaManager.findPreferredReadReplica with
`replica.selector.class=org.apache.kafka.common.replica.RackAwareReplicaSelector`: a consumer that names its rack
(`client.rack`, Fetch v11+ rack_id) is sent by the leader to an in-sync replica in that rack that has the fetch
offset, the one furthest ahead (then the one caught up most recently); the leader itself wins when it is in the
rack. The answer carries that broker as the partition's preferred_read_replica and no records; the consumer then
fetches from the follower, which serves consumers up to its own high watermark."""

from __future__ import annotations

from typing import TYPE_CHECKING

from brook.config.broker import RACK_AWARE_SELECTOR

if TYPE_CHECKING:
    from brook.config.broker import BrokerConfig

    from .partition import Partition


def rack_aware(config: BrokerConfig) -> bool:
    return config.get_str("replica.selector.class") == RACK_AWARE_SELECTOR


def preferred_read_replica(part: Partition, fetch_offset: int, client_rack: str, racks: dict[int, str | None],
                           now_ms: int) -> int:
    """The broker to read from instead of this leader, or -1 (read here)."""
    if racks.get(part.broker_id) == client_rack:
        return -1
    best: tuple[int, int, int] | None = None  # (log end offset, -time since caught up, broker)
    for r in part.isr:
        if r == part.broker_id or racks.get(r) != client_rack:
            continue
        f = part.followers.get(r)
        if f is None or f.log_end_offset < fetch_offset:
            continue
        key = (f.log_end_offset, -(now_ms - f.last_caught_up_ms), r)
        if best is None or key > best:
            best = key
    return -1 if best is None else best[2]
