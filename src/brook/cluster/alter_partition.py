"""The controller's side of AlterPartition in ZooKeeper mode (Kafka 3.9's KafkaController.processAlterPartition):
a leader's proposed ISR is checked against the partition's state znode and written there conditionally on its
version (the partition epoch). As in Kafka 3.9 (AlterPartition replaced the old ISR propagation), no
/isr_change_notification znode is written: every broker's state watch sees the new ISR.

Per partition, in Kafka's order: no state, UNKNOWN_TOPIC_OR_PARTITION; a higher leader or partition epoch than
the znode's, NOT_CONTROLLER (the leader knows a newer controller); a lower leader epoch, FENCED_LEADER_EPOCH; the
same leader and ISR, the current state (an answer already given); a lower partition epoch, INVALID_UPDATE_VERSION;
an ISR member that is not a live replica, INELIGIBLE_REPLICA. Runs on a worker thread (kazoo's calls block)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NoNodeError

from brook.errors import ErrorCode

from .controller import partition_state_json
from .partition_states import PartitionState, parse_state


class IsrProposal(NamedTuple):
    topic: str
    partition: int
    leader_epoch: int
    new_isr: tuple[int, ...]
    partition_epoch: int


def alter_partitions(zk: KazooClient, broker_id: int, controller_epoch: int, live: set[int],
                     replicas: dict[tuple[str, int], tuple[int, ...]], proposals: Sequence[IsrProposal]
                     ) -> list[tuple[ErrorCode, PartitionState | None]]:
    results: list[tuple[ErrorCode, PartitionState | None]] = []
    for p in proposals:
        path = f"/brokers/topics/{p.topic}/partitions/{p.partition}/state"
        try:
            data, stat = zk.get(path)
        except NoNodeError:
            results.append((ErrorCode.unknown_topic_or_partition, None))
            continue
        cur = parse_state(data, stat.version)
        if p.partition_epoch > cur.partition_epoch or p.leader_epoch > cur.leader_epoch:
            results.append((ErrorCode.not_controller, None))
        elif p.leader_epoch < cur.leader_epoch:
            results.append((ErrorCode.fenced_leader_epoch, None))
        elif cur.leader == broker_id and sorted(cur.isr) == sorted(p.new_isr):
            results.append((ErrorCode.none, cur))
        elif p.partition_epoch < cur.partition_epoch:
            results.append((ErrorCode.invalid_update_version, None))
        elif cur.leader != broker_id or broker_id not in p.new_isr:
            results.append((ErrorCode.invalid_request, None))
        elif any(r not in live or r not in replicas.get((p.topic, p.partition), ()) for r in p.new_isr):
            results.append((ErrorCode.ineligible_replica, None))
        else:
            isr = tuple(sorted(p.new_isr))
            try:
                stat = zk.set(path, partition_state_json(cur.leader, cur.leader_epoch, isr, controller_epoch),
                              version=stat.version)
            except (BadVersionError, NoNodeError):
                results.append((ErrorCode.invalid_update_version, None))
                continue
            results.append((ErrorCode.none, PartitionState(cur.leader, cur.leader_epoch, isr, controller_epoch,
                                                           stat.version)))
    return results
