"""ListOffsets (key 2), v1-v9: earliest (-2), latest (-1), max timestamp (-3, KIP-734), earliest-local (-4, KIP-405)
and latest-tiered (-5, KIP-1005) as Kafka answers them without tiered storage, by timestamp."""

from __future__ import annotations

import datetime

from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..acls import AclOperation, ResourceType
from ..authz import denied

_ZERO = datetime.timedelta(0)
LATEST, EARLIEST, MAX_TIMESTAMP = -1, -2, -3
EARLIEST_LOCAL, LATEST_TIERED = -4, -5


def handle(broker, ctx, request):  # type: ignore[no-untyped-def]
    cls = response_class(2, ctx.api_version)
    topic_cls = nested(cls, "ListOffsetsTopicResponse")
    part_cls = nested(cls, "ListOffsetsPartitionResponse")
    epoch = broker.replicas.leader_epoch
    topics = []
    refused = denied(broker, ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, (t.name for t in request.topics))
    for t in request.topics:
        parts = []
        for p in t.partitions:
            if refused and t.name in refused:
                parts.append(make(part_cls, partition_index=p.partition_index,
                                  error_code=ErrorCode.topic_authorization_failed, timestamp=-1, offset=-1))
                continue
            lg = broker.log_manager.get(t.name, p.partition_index)
            if lg is None:
                parts.append(make(part_cls, partition_index=p.partition_index,
                                  error_code=ErrorCode.unknown_topic_or_partition, timestamp=-1, offset=-1))
                continue
            ts, offset = -1, -1
            answer_epoch = epoch
            if p.timestamp in (EARLIEST, EARLIEST_LOCAL):
                # UnifiedLog.fetchOffsetByTimestamp: the local log is the whole log, so -4 is -2; the epoch is the
                # earliest cached one when it starts at or below the log start offset
                offset = lg.log_start_offset
                first = lg.leader_epochs.entries[0] if lg.leader_epochs.entries else None
                answer_epoch = first[0] if first is not None and first[1] <= offset else -1
            elif p.timestamp == LATEST:
                offset = lg.last_stable_offset if getattr(request, "isolation_level", 0) == 1 else lg.high_watermark
            elif p.timestamp == LATEST_TIERED:
                answer_epoch = -1  # nothing is tiered: Kafka answers offset -1, epoch -1
            elif p.timestamp == MAX_TIMESTAMP:
                ts, offset = lg.max_timestamp()
            else:
                found = lg.offset_for_timestamp(p.timestamp)
                if found is not None:
                    offset, ts = found
            parts.append(make(part_cls, partition_index=p.partition_index, error_code=ErrorCode.none,
                              timestamp=ts, offset=offset, leader_epoch=answer_epoch if offset >= 0 else -1))
        topics.append(topic_cls(name=t.name, partitions=tuple(parts)))
    return make(cls, throttle_time=_ZERO, topics=tuple(topics))
