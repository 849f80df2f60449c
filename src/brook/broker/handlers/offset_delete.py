"""OffsetDelete (key 47), v0: delete committed offsets of topics the group no longer subscribes to."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import denied, refused
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(47, ctx.api_version)
    topic_cls = nested(cls, "OffsetDeleteResponseTopic")
    part_cls = nested(cls, "OffsetDeleteResponsePartition")
    if refused(broker, ctx, AclOperation.DELETE, ResourceType.GROUP, request.group_id):  # KafkaApis
        return make(cls, error_code=ErrorCode.group_authorization_failed, throttle_time=_ZERO, topics=())
    hidden = denied(broker, ctx, AclOperation.READ, ResourceType.TOPIC, (t.name for t in request.topics))
    tps = [(t.name, p.partition_index) for t in request.topics for p in t.partitions if t.name not in hidden]
    error, per = broker.groups.delete_offsets(request.group_id, tps)
    if hidden:
        per = {**per, **{(t.name, p.partition_index): ErrorCode.topic_authorization_failed
                         for t in request.topics if t.name in hidden for p in t.partitions}}
    topics = tuple(topic_cls(name=t.name, partitions=tuple(
        part_cls(partition_index=p.partition_index, error_code=per.get((t.name, p.partition_index), error))
        for p in t.partitions)) for t in request.topics) if per else ()
    return make(cls, error_code=error, throttle_time=_ZERO, topics=topics)
