"""DeleteRecords (key 21), v0-v2: advance log start offsets (-1 means the high watermark)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.errors import ErrorCode, KafkaError
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import denied
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(21, ctx.api_version)
    topic_cls = nested(cls, "DeleteRecordsTopicResult")
    part_cls = nested(cls, "DeleteRecordsPartitionResult")
    topics = []
    hidden = denied(broker, ctx, AclOperation.DELETE, ResourceType.TOPIC, (t.name for t in request.topics))
    for t in request.topics:
        parts = []
        for p in t.partitions:
            if hidden and t.name in hidden:
                parts.append(part_cls(partition_index=p.partition_index, low_watermark=-1,
                                      error_code=ErrorCode.topic_authorization_failed))
                continue
            part = broker.replicas.get_partition(t.name, p.partition_index)
            if part is None:
                parts.append(part_cls(partition_index=p.partition_index, low_watermark=-1,
                                      error_code=ErrorCode.unknown_topic_or_partition))
                continue
            try:
                low = part.delete_records_on_leader(p.offset)
            except KafkaError as e:
                parts.append(part_cls(partition_index=p.partition_index, low_watermark=-1, error_code=e.code))
                continue
            parts.append(part_cls(partition_index=p.partition_index, low_watermark=low, error_code=ErrorCode.none))
        topics.append(topic_cls(name=t.name, partitions=tuple(parts)))
    broker.log_manager.checkpoint()
    return make(cls, throttle_time=_ZERO, topics=tuple(topics))
