"""OffsetDelete (key 47), v0: delete committed offsets of topics the group no longer subscribes to."""

from __future__ import annotations

import datetime

from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

_ZERO = datetime.timedelta(0)


def handle(broker, ctx, request):  # type: ignore[no-untyped-def]
    cls = response_class(47, ctx.api_version)
    topic_cls = nested(cls, "OffsetDeleteResponseTopic")
    part_cls = nested(cls, "OffsetDeleteResponsePartition")
    tps = [(t.name, p.partition_index) for t in request.topics for p in t.partitions]
    error, per = broker.groups.coordinator.delete_offsets(request.group_id, tps)
    topics = tuple(topic_cls(name=t.name, partitions=tuple(
        part_cls(partition_index=p.partition_index, error_code=per.get((t.name, p.partition_index), error))
        for p in t.partitions)) for t in request.topics) if per else ()
    return make(cls, error_code=error, throttle_time=_ZERO, topics=topics)
