"""The controller's side of AlterPartition against a real ZooKeeper: Kafka's checks in Kafka's order, and the
state znode written conditionally on its version (the partition epoch)."""

from __future__ import annotations

import json
import uuid

import pytest
from kazoo.client import KazooClient

from brook.cluster.alter_partition import IsrProposal, alter_partitions
from brook.cluster.controller import partition_state_json
from brook.cluster.partition_states import PartitionState
from brook.errors import ErrorCode
from brook.metadata.zookeeper import connect_client

PATH = "/brokers/topics/t/partitions/0/state"
REPLICAS = {("t", 0): (1, 2, 3)}


@pytest.fixture
def zk(zookeeper):
    client = connect_client(f"{zookeeper.connect}/alter-{uuid.uuid4().hex[:8]}", 15)  # the chroot created first
    client.create(PATH, partition_state_json(1, 4, [1, 2], 7), makepath=True)  # version 0
    yield client
    client.stop()
    client.close()


def alter(zk: KazooClient, *proposals: IsrProposal, broker: int = 1, live: tuple[int, ...] = (1, 2, 3)):  # noqa: ANN201
    return alter_partitions(zk, broker, 8, set(live), REPLICAS, proposals)


def test_an_isr_expansion_is_written_with_the_next_partition_epoch(zk: KazooClient) -> None:
    ((err, state),) = alter(zk, IsrProposal("t", 0, 4, (3, 1, 2), 0))
    assert err == ErrorCode.none and state == PartitionState(1, 4, (1, 2, 3), 8, 1)
    data, stat = zk.get(PATH)
    assert json.loads(data) == {"controller_epoch": 8, "leader": 1, "version": 1, "leader_epoch": 4, "isr": [1, 2, 3]}
    assert stat.version == 1
    # the same proposal again (an answer lost on the way): the current state, nothing written
    assert alter(zk, IsrProposal("t", 0, 4, (1, 2, 3), 0)) == [(ErrorCode.none, state)]
    assert zk.get(PATH)[1].version == 1


def test_stale_and_invalid_proposals_get_kafkas_errors(zk: KazooClient) -> None:
    results = alter(zk, IsrProposal("t", 0, 3, (1, 2, 3), 0),  # an older leader epoch
                    IsrProposal("t", 0, 5, (1, 2, 3), 0),  # a newer one than ZooKeeper's: another controller
                    IsrProposal("t", 0, 4, (1, 2, 3), 1),  # a newer partition epoch, likewise
                    IsrProposal("t", 1, 4, (1, 2, 3), 0))  # no such partition
    assert [e for e, _ in results] == [ErrorCode.fenced_leader_epoch, ErrorCode.not_controller,
                                       ErrorCode.not_controller, ErrorCode.unknown_topic_or_partition]
    assert alter(zk, IsrProposal("t", 0, 4, (1, 2, 3), 0), live=(1, 2)) == [(ErrorCode.ineligible_replica, None)]
    assert alter(zk, IsrProposal("t", 0, 4, (1, 2, 3), 0), broker=2) == [(ErrorCode.invalid_request, None)]
    alter(zk, IsrProposal("t", 0, 4, (1,), 0))  # partition epoch 1 now
    assert alter(zk, IsrProposal("t", 0, 4, (1, 2, 3), 0)) == [(ErrorCode.invalid_update_version, None)]
    assert zk.get(PATH)[1].version == 1
