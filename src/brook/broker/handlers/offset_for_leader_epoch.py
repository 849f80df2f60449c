"""OffsetForLeaderEpoch (key 23), v2-v4: the end offset of a leader epoch, from the partition's epoch cache
(leader-epoch-checkpoint), after the client's current leader epoch is checked against the partition's."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import denied
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(23, ctx.api_version)
    topic_cls = nested(cls, "OffsetForLeaderTopicResult")
    part_cls = nested(cls, "EpochEndOffset")
    topics = []
    hidden = denied(broker, ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, (t.topic for t in request.topics))
    for t in request.topics:
        parts = []
        for p in t.partitions:
            if t.topic in hidden:
                parts.append(part_cls(error_code=ErrorCode.topic_authorization_failed, partition=p.partition))
                continue
            part = broker.replicas.get_partition(t.topic, p.partition)
            if part is None:
                parts.append(part_cls(error_code=ErrorCode.unknown_topic_or_partition, partition=p.partition))
                continue
            err, epoch, end = part.last_offset_for_leader_epoch(p.current_leader_epoch, p.leader_epoch)
            parts.append(part_cls(error_code=err, partition=p.partition, leader_epoch=epoch, end_offset=end))
        topics.append(topic_cls(topic=t.topic, partitions=tuple(parts)))
    return make(cls, throttle_time=_ZERO, topics=tuple(topics))
