"""OffsetFetch (key 9), v1-v9: committed offsets for some or all partitions, one group or (v8+) many."""

from __future__ import annotations

import datetime

from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

_ZERO = datetime.timedelta(0)


def _group_topics(broker, group_id, topics, topic_cls, part_cls):  # type: ignore[no-untyped-def]
    coordinator = broker.groups.coordinator
    if topics is None:
        found = coordinator.fetch_offsets(group_id, None)
    else:
        found = coordinator.fetch_offsets(group_id, [(t.name, p) for t in topics for p in t.partition_indexes])
    by_topic: dict[str, list] = {}
    for (topic, p), v in found.items():
        by_topic.setdefault(topic, []).append(make(
            part_cls, partition_index=p, committed_offset=v.offset if v else -1,
            committed_leader_epoch=v.leader_epoch if v else -1, metadata=v.metadata if v else "",
            error_code=ErrorCode.none))
    return tuple(topic_cls(name=n, partitions=tuple(ps)) for n, ps in by_topic.items())


def handle(broker, ctx, request):  # type: ignore[no-untyped-def]
    cls = response_class(9, ctx.api_version)
    if ctx.api_version >= 8:
        group_cls = nested(cls, "OffsetFetchResponseGroup")
        topic_cls = nested(cls, "OffsetFetchResponseTopics")
        part_cls = nested(cls, "OffsetFetchResponsePartitions")
        return make(cls, throttle_time=_ZERO, groups=tuple(
            group_cls(group_id=g.group_id, topics=_group_topics(broker, g.group_id, g.topics, topic_cls, part_cls),
                      error_code=ErrorCode.none) for g in request.groups))
    topic_cls = nested(cls, "OffsetFetchResponseTopic")
    part_cls = nested(cls, "OffsetFetchResponsePartition")
    return make(cls, throttle_time=_ZERO, error_code=ErrorCode.none,
                topics=_group_topics(broker, request.group_id, request.topics, topic_cls, part_cls))
