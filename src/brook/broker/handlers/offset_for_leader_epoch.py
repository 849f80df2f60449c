"""OffsetForLeaderEpoch (key 23), v2-v4: the end offset of a leader epoch, from leader-epoch-checkpoint."""

from __future__ import annotations

import datetime

from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..acls import AclOperation, ResourceType
from ..authz import denied

_ZERO = datetime.timedelta(0)


def handle(broker, ctx, request):  # type: ignore[no-untyped-def]
    cls = response_class(23, ctx.api_version)
    topic_cls = nested(cls, "OffsetForLeaderTopicResult")
    part_cls = nested(cls, "EpochEndOffset")
    current = broker.replicas.leader_epoch
    topics = []
    hidden = denied(broker, ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, (t.topic for t in request.topics))
    for t in request.topics:
        parts = []
        for p in t.partitions:
            if t.topic in hidden:
                parts.append(part_cls(error_code=ErrorCode.topic_authorization_failed, partition=p.partition))
                continue
            lg = broker.log_manager.get(t.topic, p.partition)
            if lg is None:
                parts.append(part_cls(error_code=ErrorCode.unknown_topic_or_partition, partition=p.partition))
                continue
            if p.current_leader_epoch > current:
                parts.append(part_cls(error_code=ErrorCode.unknown_leader_epoch, partition=p.partition))
                continue
            if 0 <= p.current_leader_epoch < current:
                parts.append(part_cls(error_code=ErrorCode.fenced_leader_epoch, partition=p.partition))
                continue
            epoch, end = lg.leader_epochs.end_offset_for(p.leader_epoch, lg.log_end_offset)
            if epoch == -1 and not lg.leader_epochs.entries:
                epoch, end = (current, lg.log_end_offset) if p.leader_epoch >= current else (-1, -1)
            parts.append(part_cls(error_code=ErrorCode.none, partition=p.partition, leader_epoch=epoch,
                                  end_offset=end))
        topics.append(topic_cls(topic=t.topic, partitions=tuple(parts)))
    return make(cls, throttle_time=_ZERO, topics=tuple(topics))
