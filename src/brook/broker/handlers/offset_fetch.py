"""OffsetFetch (key 9), v1-v9: committed offsets for some or all partitions, one group or (v8+) many;
require_stable (v7+, KIP-447): UNSTABLE_OFFSET_COMMIT for a partition whose offset a transaction still holds."""

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


def _group_topics(broker: Broker, ctx: RequestContext, group_id, topics, require_stable, topic_cls, part_cls):
    wanted = None if topics is None else [(t.name, p) for t in topics for p in t.partition_indexes]
    error, found = broker.groups.fetch_offsets(group_id, wanted, require_stable)
    # KafkaApis: topics the client may not DESCRIBE are left out of "all", and fail when named
    hidden = denied(broker, ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, (t for t, _ in found))
    by_topic: dict[str, list] = {}
    for (topic, p), v in found.items():
        if topic in hidden:
            if topics is not None:
                by_topic.setdefault(topic, []).append(make(
                    part_cls, partition_index=p, committed_offset=-1, committed_leader_epoch=-1, metadata="",
                    error_code=ErrorCode.topic_authorization_failed))
            continue
        if isinstance(v, ErrorCode):  # UNSTABLE_OFFSET_COMMIT
            by_topic.setdefault(topic, []).append(make(
                part_cls, partition_index=p, committed_offset=-1, committed_leader_epoch=-1, metadata="",
                error_code=v))
            continue
        by_topic.setdefault(topic, []).append(make(
            part_cls, partition_index=p, committed_offset=v.offset if v else -1,
            committed_leader_epoch=v.leader_epoch if v else -1, metadata=v.metadata if v else "",
            error_code=ErrorCode.none))
    return error, tuple(topic_cls(name=n, partitions=tuple(ps)) for n, ps in by_topic.items())


def _group_denied(broker: Broker, ctx: RequestContext, group_id) -> bool:
    return refused(broker, ctx, AclOperation.DESCRIBE, ResourceType.GROUP, group_id)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(9, ctx.api_version)
    require_stable = getattr(request, "require_stable", False)
    if ctx.api_version >= 8:
        group_cls = nested(cls, "OffsetFetchResponseGroup")
        topic_cls = nested(cls, "OffsetFetchResponseTopics")
        part_cls = nested(cls, "OffsetFetchResponsePartitions")
        groups = []
        for g in request.groups:
            if _group_denied(broker, ctx, g.group_id):
                groups.append(group_cls(group_id=g.group_id, topics=(),
                                        error_code=ErrorCode.group_authorization_failed))
                continue
            error, topics = _group_topics(broker, ctx, g.group_id, g.topics, require_stable, topic_cls, part_cls)
            groups.append(group_cls(group_id=g.group_id, topics=topics, error_code=error))
        return make(cls, throttle_time=_ZERO, groups=tuple(groups))
    topic_cls = nested(cls, "OffsetFetchResponseTopic")
    part_cls = nested(cls, "OffsetFetchResponsePartition")
    if _group_denied(broker, ctx, request.group_id):
        return make(cls, throttle_time=_ZERO, error_code=ErrorCode.group_authorization_failed, topics=())
    error, topics = _group_topics(broker, ctx, request.group_id, request.topics, require_stable, topic_cls, part_cls)
    return make(cls, throttle_time=_ZERO, error_code=error, topics=topics)
