"""OffsetCommit (key 8), v2-v9: committed offsets with metadata and leader epochs, into __consumer_offsets."""

from __future__ import annotations

import datetime

from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

_ZERO = datetime.timedelta(0)


def handle(broker, ctx, request):  # type: ignore[no-untyped-def]
    cls = response_class(8, ctx.api_version)
    topic_cls = nested(cls, "OffsetCommitResponseTopic")
    part_cls = nested(cls, "OffsetCommitResponsePartition")
    generation = getattr(request, "generation_id_or_member_epoch", getattr(request, "generation_id", -1))
    per_partition: dict[tuple[str, int], ErrorCode] = {}
    offsets = {}
    for t in request.topics:
        info = broker.topics.get(t.name)
        for p in t.partitions:
            tp = (t.name, p.partition_index)
            if info is None or p.partition_index >= info.partitions:
                per_partition[tp] = ErrorCode.unknown_topic_or_partition
            elif p.committed_metadata is not None and len(p.committed_metadata) > 4096:
                per_partition[tp] = ErrorCode.offset_metadata_too_large
            else:
                offsets[tp] = (p.committed_offset, getattr(p, "committed_leader_epoch", -1), p.committed_metadata)
    if not request.group_id:
        error = ErrorCode.invalid_group_id
    else:
        error = broker.groups.coordinator.commit_offsets(request.group_id, generation, request.member_id,
                                                         getattr(request, "group_instance_id", None), offsets)
    topics = []
    for t in request.topics:
        topics.append(topic_cls(name=t.name, partitions=tuple(
            part_cls(partition_index=p.partition_index,
                     error_code=per_partition.get((t.name, p.partition_index), error)) for p in t.partitions)))
    return make(cls, throttle_time=_ZERO, topics=tuple(topics))
