"""DescribeTopicPartitions (key 75), v0 (KIP-966): topics by name (or all), at most ResponsePartitionLimit
partitions per response, in topic-name order, continued from a cursor (topic name, partition index).

Kafka 3.9's DescribeTopicPartitionsRequestHandler and KRaftMetadataCache.getTopicMetadataForDescribeTopicResponse:
the limit is also capped by max.request.partition.size.limit; a topic that does not fit whole ends the response
with NextCursor at its first missing partition, one that does not fit at all with NextCursor at its partition 0.
Eligible leader replicas are always empty here (a KRaft broker without ELR answers empty lists, not null)."""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.errors import ErrorCode, KafkaError
from brook.protocol.build import nested
from brook.protocol.versions import response_class

from ..authz import authorized_operations, denied
from ..topics import INTERNAL_TOPICS, validate_topic_name
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)
_NULL_ID = uuid.UUID(int=0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(75, ctx.api_version)
    topic_cls = nested(cls, "DescribeTopicPartitionsResponseTopic")
    part_cls = nested(cls, "DescribeTopicPartitionsResponsePartition")
    cursor_cls = nested(cls, "Cursor")
    fetch_all = not request.topics
    cursor = request.cursor
    after = cursor.topic_name if cursor is not None else ""
    if fetch_all:
        names = {n for n in broker.topics if n >= after}
    else:
        names = {t.name for t in request.topics if t.name >= after}
        if cursor is not None and cursor.topic_name not in names:
            # InvalidRequestException, answered by DescribeTopicPartitionsRequest.getErrorResponse
            return cls(throttle_time=_ZERO, next_cursor=None, topics=tuple(
                topic_cls(error_code=ErrorCode.invalid_request, name=t.name, topic_id=_NULL_ID, is_internal=False,
                          partitions=()) for t in request.topics))
    # Topics the client may not DESCRIBE are not looked up: listed as refused when named, left out otherwise.
    refused = denied(broker, ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, names)
    start = cursor.partition_index if cursor is not None and after not in refused else 0
    remaining = min(broker.config.get_int("max.request.partition.size.limit"), request.response_partition_limit)
    view = broker.partition_viewer()
    topics = []
    next_cursor = None
    for name in sorted(names - refused):
        if remaining == 0:  # the previous topic filled the response: the next one starts from its beginning
            next_cursor = cursor_cls(topic_name=name, partition_index=0)
            break
        if remaining < 0:
            break
        ops = authorized_operations(broker, ctx, ResourceType.TOPIC, name)
        info = broker.topics.get(name)
        if info is None:
            if not fetch_all:
                topics.append(topic_cls(error_code=_unknown_topic_error(name), name=name, topic_id=_NULL_ID,
                                        is_internal=name in INTERNAL_TOPICS, partitions=(),
                                        topic_authorized_operations=ops))
            continue
        first = start if name == after else 0
        upper = min(info.partitions, first + remaining)
        # as Metadata: the assignment's replicas with the partition's leader, epoch, ISR and offline replicas
        parts = tuple(part_cls(error_code=err, partition_index=p, leader_id=leader, leader_epoch=epoch,
                               replica_nodes=info.replicas(p), isr_nodes=isr, eligible_leader_replicas=(),
                               last_known_elr=(), offline_replicas=offline)
                      for p in range(max(first, 0), upper)
                      for err, leader, epoch, isr, offline in (view(name, p, info.replicas(p)),))
        topics.append(topic_cls(error_code=ErrorCode.none, name=name, topic_id=info.topic_id,
                                is_internal=info.internal, partitions=parts, topic_authorized_operations=ops))
        if upper < info.partitions:
            next_cursor = cursor_cls(topic_name=name, partition_index=upper)
            break
        remaining -= len(parts)
    if not fetch_all:
        topics.extend(topic_cls(error_code=ErrorCode.topic_authorization_failed, name=name, topic_id=_NULL_ID,
                                is_internal=False, partitions=()) for name in sorted(refused))
    return cls(throttle_time=_ZERO, topics=tuple(topics), next_cursor=next_cursor)


def _unknown_topic_error(name: str) -> ErrorCode:
    try:
        validate_topic_name(name)
    except KafkaError:
        return ErrorCode.invalid_topic_exception
    return ErrorCode.unknown_topic_or_partition
