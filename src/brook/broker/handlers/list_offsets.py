"""ListOffsets (key 2), v1-v9: earliest (-2), latest (-1), max timestamp (-3, KIP-734), by timestamp."""

from __future__ import annotations

import datetime

from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

_ZERO = datetime.timedelta(0)
LATEST, EARLIEST, MAX_TIMESTAMP = -1, -2, -3
EARLIEST_LOCAL, LATEST_TIERED = -4, -5


def handle(broker, ctx, request):  # type: ignore[no-untyped-def]
    cls = response_class(2, ctx.api_version)
    topic_cls = nested(cls, "ListOffsetsTopicResponse")
    part_cls = nested(cls, "ListOffsetsPartitionResponse")
    epoch = broker.replicas.leader_epoch
    topics = []
    for t in request.topics:
        parts = []
        for p in t.partitions:
            lg = broker.log_manager.get(t.name, p.partition_index)
            if lg is None:
                parts.append(make(part_cls, partition_index=p.partition_index,
                                  error_code=ErrorCode.unknown_topic_or_partition, timestamp=-1, offset=-1))
                continue
            ts, offset = -1, -1
            if p.timestamp in (EARLIEST, EARLIEST_LOCAL):
                offset = lg.log_start_offset
            elif p.timestamp in (LATEST, LATEST_TIERED):
                offset = lg.last_stable_offset if getattr(request, "isolation_level", 0) == 1 else lg.high_watermark
            elif p.timestamp == MAX_TIMESTAMP:
                ts, offset = lg.max_timestamp()
            else:
                found = lg.offset_for_timestamp(p.timestamp)
                if found is not None:
                    offset, ts = found
            parts.append(make(part_cls, partition_index=p.partition_index, error_code=ErrorCode.none,
                              timestamp=ts, offset=offset, leader_epoch=epoch if offset >= 0 else -1))
        topics.append(topic_cls(name=t.name, partitions=tuple(parts)))
    return make(cls, throttle_time=_ZERO, topics=tuple(topics))
