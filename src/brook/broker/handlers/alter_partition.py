"""AlterPartition (key 56), v2-v3: a partition leader's ISR change, answered by the controller's broker
(cluster/alter_partition.py checks and writes the state znode). Kafka's ZooKeeper-mode top-level errors: another
broker is the controller (or this is a single broker), NOT_CONTROLLER; the caller may not CLUSTER_ACTION,
CLUSTER_AUTHORIZATION_FAILED; a broker epoch other than the czxid of the caller's /brokers/ids/<id> znode (a
broker that is not registered, or a request from before it registered again), STALE_BROKER_EPOCH; a topic id
the controller does not know, UNKNOWN_TOPIC_ID per partition."""

from __future__ import annotations

import asyncio
import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import cluster_allowed
from . import Request

if TYPE_CHECKING:
    from brook.cluster.alter_partition import IsrProposal

    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(56, ctx.api_version)
    controller = broker.controller
    if not cluster_allowed(broker, ctx, AclOperation.CLUSTER_ACTION):
        return make(cls, throttle_time=_ZERO, error_code=ErrorCode.cluster_authorization_failed, topics=())
    if controller is None or not controller.is_active or broker.replication is None:
        return make(cls, throttle_time=_ZERO, error_code=ErrorCode.not_controller, topics=())
    from brook.cluster.alter_partition import IsrProposal  # a cluster's module (kazoo's): not loaded by a single broker

    proposals: list[IsrProposal] = []
    unknown: list[tuple[object, int]] = []
    for t in request.topics:
        info = broker.topics.by_id.get(t.topic_id)
        for p in t.partitions:
            if info is None:
                unknown.append((t.topic_id, p.partition_index))
                continue
            isr = p.new_isr if ctx.api_version < 3 else tuple(b.broker_id for b in p.new_isr_with_epochs)
            proposals.append(IsrProposal(info.name, p.partition_index, p.leader_epoch, tuple(isr),
                                         p.partition_epoch))
    replicas = {(x.topic, x.partition): broker.topics[x.topic].replicas(x.partition) for x in proposals}
    return _answer(broker, cls, request.broker_id, int(request.broker_epoch), controller.epoch, proposals, replicas,
                   unknown)


async def _answer(broker: Broker, cls, broker_id, broker_epoch, controller_epoch, proposals, replicas, unknown):
    from brook.cluster.alter_partition import alter_partitions

    assert broker.replication is not None
    zk = broker.replication.states.zk
    registered = await asyncio.to_thread(zk.exists, f"/brokers/ids/{broker_id}")
    if registered is None or registered.czxid != broker_epoch:  # KafkaController.processAlterPartition
        return make(cls, throttle_time=_ZERO, error_code=ErrorCode.stale_broker_epoch, topics=())
    live = broker.replication.live_ids()
    results = await asyncio.to_thread(alter_partitions, zk, broker_id, controller_epoch,
                                      live, replicas, proposals)
    topic_cls = nested(cls, "TopicData")
    part_cls = nested(cls, "PartitionData")
    by_topic: dict[object, list] = {}
    for p, (error, state) in zip(proposals, results, strict=True):
        topic_id = broker.topics[p.topic].topic_id if p.topic in broker.topics else None
        if state is None:
            part = make(part_cls, partition_index=p.partition, error_code=error, leader_id=-1, leader_epoch=-1,
                        isr=(), leader_recovery_state=0, partition_epoch=-1)
        else:
            part = make(part_cls, partition_index=p.partition, error_code=error, leader_id=state.leader,
                        leader_epoch=state.leader_epoch, isr=state.isr, leader_recovery_state=0,
                        partition_epoch=state.partition_epoch)
        by_topic.setdefault(topic_id, []).append(part)
    for topic_id, index in unknown:
        by_topic.setdefault(topic_id, []).append(make(
            part_cls, partition_index=index, error_code=ErrorCode.unknown_topic_id, leader_id=-1, leader_epoch=-1,
            isr=(), leader_recovery_state=0, partition_epoch=-1))
    return make(cls, throttle_time=_ZERO, error_code=ErrorCode.none, topics=tuple(
        topic_cls(topic_id=tid, partitions=tuple(ps)) for tid, ps in by_topic.items()))
