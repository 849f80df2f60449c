"""AdminUtils.assignReplicasToBrokers as Kafka 3.9's ZooKeeper-mode admin paths call it (CreateTopics,
CreatePartitions, kafka-reassign-partitions --generate): rack-unaware when no broker has a rack, rack-aware when
every broker has one, and Kafka's error when only some do."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from brook.errors import ErrorCode, KafkaError


def assign_replicas(partitions: int, replication_factor: int, brokers: Sequence[int] | Mapping[int, str | None],
                    first_partition: int = 0, rng: random.Random | None = None) -> list[list[int]]:
    """`brokers`: ids, or id -> broker.rack (None without one)."""
    racks = dict(brokers) if isinstance(brokers, Mapping) else dict.fromkeys(brokers)
    if replication_factor > len(racks):
        raise KafkaError(ErrorCode.invalid_replication_factor,
                         f"Replication factor: {replication_factor} larger than available brokers: {len(racks)}.")
    rng = rng or random.Random()
    with_rack = {b: r for b, r in racks.items() if r is not None}
    if not with_rack:
        return _rack_unaware(partitions, replication_factor, sorted(racks), first_partition, rng)
    if len(with_rack) < len(racks):
        raise KafkaError(ErrorCode.unknown_server_error,
                         "Not all brokers have rack information for replica rack aware assignment.")
    return _rack_aware(partitions, replication_factor, with_rack, first_partition, rng)


def _rack_unaware(partitions: int, replication_factor: int, ids: list[int], first_partition: int,
                  rng: random.Random) -> list[list[int]]:
    """Replicas round-robin from a random start, the followers shifted by a random amount that grows each time
    the partitions wrap around the brokers."""
    n = len(ids)
    start = rng.randrange(n)
    shift = rng.randrange(n)
    assignment = []
    for p in range(first_partition, first_partition + partitions):
        if p > 0 and p % n == 0:
            shift += 1
        first = (p + start) % n
        replicas = [ids[first]]
        replicas += [ids[_replica_index(first, shift, j, n)] for j in range(replication_factor - 1)]
        assignment.append(replicas)
    return assignment


def _replica_index(first: int, second_shift: int, index: int, n: int) -> int:
    return (first + 1 + (second_shift + index) % (n - 1)) % n


def rack_alternated(racks: Mapping[int, str]) -> list[int]:
    """AdminUtils.getRackAlternatedBrokerList: one broker of each rack in turn (racks and brokers sorted)."""
    by_rack: dict[str, list[int]] = {}
    for broker, rack in sorted(racks.items()):
        by_rack.setdefault(rack, []).append(broker)
    iters = [iter(by_rack[r]) for r in sorted(by_rack)]
    out: list[int] = []
    i = 0
    while len(out) < len(racks):
        b = next(iters[i], None)
        if b is not None:
            out.append(b)
        i = (i + 1) % len(iters)
    return out


def _rack_aware(partitions: int, replication_factor: int, racks: Mapping[int, str], first_partition: int,
                rng: random.Random) -> list[list[int]]:
    """assignReplicasToBrokersRackAware: the leaders over the rack-alternated list; each follower is the next
    broker (shifted as without racks) whose rack has no replica yet, until every rack has one, and that is not
    already a replica, until every broker is."""
    arranged = rack_alternated(racks)
    n, n_racks = len(arranged), len(set(racks.values()))
    start = rng.randrange(n)
    shift = rng.randrange(n)
    assignment = []
    for p in range(max(0, first_partition), max(0, first_partition) + partitions):
        if p > 0 and p % n == 0:
            shift += 1
        first = (p + start) % n
        leader = arranged[first]
        replicas, used_racks, used = [leader], {racks[leader]}, {leader}
        k = 0
        for _ in range(replication_factor - 1):
            while True:
                broker = arranged[_replica_index(first, shift * n_racks, k, n)]
                k += 1
                rack = racks[broker]
                if (rack not in used_racks or len(used_racks) == n_racks) and (broker not in used or len(used) == n):
                    replicas.append(broker)
                    used_racks.add(rack)
                    used.add(broker)
                    break
        assignment.append(replicas)
    return assignment
