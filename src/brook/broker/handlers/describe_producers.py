"""DescribeProducers (key 61), v0 (KIP-664): the active producers of each partition."""

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
    cls = response_class(61, ctx.api_version)
    topic_cls = nested(cls, "TopicResponse")
    part_cls = nested(cls, "PartitionResponse")
    state_cls = nested(cls, "ProducerState")
    topics = []
    hidden = denied(broker, ctx, AclOperation.READ, ResourceType.TOPIC, (t.name for t in request.topics))
    for t in request.topics:
        parts = []
        for p in t.partition_indexes:
            if t.name in hidden:
                parts.append(part_cls(partition_index=p, error_code=ErrorCode.topic_authorization_failed,
                                      error_message=None, active_producers=()))
                continue
            part = broker.replicas.get_partition(t.name, p)
            if part is None or not part.is_leader:  # Kafka: only the leader describes its producers
                code = ErrorCode.unknown_topic_or_partition if part is None else ErrorCode.not_leader_or_follower
                parts.append(part_cls(partition_index=p, error_code=code, error_message=None, active_producers=()))
                continue
            lg = part.log
            producers = tuple(state_cls(producer_id=e.producer_id, producer_epoch=e.epoch, last_sequence=e.last_seq,
                                        last_timestamp=e.last_timestamp, coordinator_epoch=e.coordinator_epoch,
                                        current_txn_start_offset=e.current_txn_first_offset)
                              for e in lg.producer_state.producers.values())
            parts.append(part_cls(partition_index=p, error_code=ErrorCode.none, error_message=None,
                                  active_producers=producers))
        topics.append(topic_cls(name=t.name, partitions=tuple(parts)))
    return make(cls, throttle_time=_ZERO, topics=tuple(topics))
