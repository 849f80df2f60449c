"""AdminUtils.assignReplicasToBrokers without racks: Kafka's documented example (5 brokers, 10 partitions,
replication factor 3, start index and shift 0), spreading from a random start, and the error when replicas
outnumber brokers."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from brook.cluster.controller import assign_replicas
from brook.errors import ErrorCode, KafkaError


class FixedStart(random.Random):
    """Kafka's fixedStartIndex = 0: the start index and the first shift are 0."""

    def randrange(self, *args, **kwargs) -> int:  # type: ignore[no-untyped-def, override]
        return 0


def test_kafkas_example():
    a = assign_replicas(10, 3, [4, 3, 2, 1, 0], rng=FixedStart())
    assert a[:5] == [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 0], [4, 0, 1]]
    assert a[5:] == [[0, 2, 3], [1, 3, 4], [2, 4, 0], [3, 0, 1], [4, 1, 2]]


def test_random_start_spreads_leaders_and_replicas():
    for seed in range(20):
        a = assign_replicas(6, 2, [1, 2, 3], rng=random.Random(seed))
        assert all(len(set(r)) == 2 for r in a)
        assert Counter(r[0] for r in a) == {1: 2, 2: 2, 3: 2}
    assert assign_replicas(2, 1, [7], first_partition=3) == [[7], [7]]


def test_more_replicas_than_brokers():
    with pytest.raises(KafkaError) as e:
        assign_replicas(1, 3, [1, 2])
    assert e.value.code == ErrorCode.invalid_replication_factor
    assert e.value.message == "Replication factor: 3 larger than available brokers: 2."
