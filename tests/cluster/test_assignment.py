"""AdminUtils.assignReplicasToBrokers without racks: Kafka's documented example (5 brokers, 10 partitions,
replication factor 3, start index and shift 0), spreading from a random start, and the error when replicas
outnumber brokers."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from brook.cluster.assignment import assign_replicas, rack_alternated
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


def test_kafkas_rack_aware_example():
    """AdminRackAwareTest.testGetRackAlternatedBrokerListAndAssignReplicasToBrokers (start index and shift 0)."""
    racks = {0: "rack1", 1: "rack3", 2: "rack3", 3: "rack2", 4: "rack2", 5: "rack1"}
    assert rack_alternated(racks) == [0, 3, 1, 5, 4, 2]
    assert rack_alternated({b: r for b, r in racks.items() if b != 5}) == [0, 3, 1, 4, 2]
    assert assign_replicas(7, 3, racks, rng=FixedStart()) == [[0, 3, 1], [3, 1, 5], [1, 5, 4], [5, 4, 2],
                                                              [4, 2, 0], [2, 0, 3], [0, 4, 2]]


def test_rack_aware_spreads_each_partition_over_the_racks():
    racks = {1: "a", 2: "a", 3: "b", 4: "b"}
    for seed in range(20):
        for replicas in assign_replicas(8, 2, racks, rng=random.Random(seed)):
            assert {racks[r] for r in replicas} == {"a", "b"}
    with pytest.raises(KafkaError, match="Not all brokers have rack information for replica rack aware assignment."):
        assign_replicas(1, 1, {1: "a", 2: None})
    assert assign_replicas(2, 1, {7: None}) == [[7], [7]]  # no rack anywhere: rack-unaware
