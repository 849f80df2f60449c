"""ListOffsets (key 2), v1-v9: earliest (-2), latest (-1), max timestamp (-3, KIP-734), earliest-local (-4, KIP-405)
and latest-tiered (-5, KIP-1005) as Kafka answers them without tiered storage, by timestamp."""

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
LATEST, EARLIEST, MAX_TIMESTAMP = -1, -2, -3
EARLIEST_LOCAL, LATEST_TIERED = -4, -5
DEBUGGING_REPLICA_ID = -2  # may read a follower's offsets


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(2, ctx.api_version)
    topic_cls = nested(cls, "ListOffsetsTopicResponse")
    part_cls = nested(cls, "ListOffsetsPartitionResponse")
    read_committed = getattr(request, "isolation_level", 0) == 1
    leader_only = request.replica_id != DEBUGGING_REPLICA_ID
    topics = []
    refused = denied(broker, ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, (t.name for t in request.topics))
    for t in request.topics:
        parts = []
        for p in t.partitions:
            if refused and t.name in refused:
                parts.append(make(part_cls, partition_index=p.partition_index,
                                  error_code=ErrorCode.topic_authorization_failed, timestamp=-1, offset=-1))
                continue
            part = broker.replicas.get_partition(t.name, p.partition_index)
            if part is None:
                parts.append(make(part_cls, partition_index=p.partition_index,
                                  error_code=broker.replicas.missing_error(t.name, p.partition_index), timestamp=-1,
                                  offset=-1))
                continue
            err = part.check_leader_epoch(getattr(p, "current_leader_epoch", -1))
            if err == ErrorCode.none and not part.is_leader and leader_only:  # only the leader answers (Kafka)
                err = ErrorCode.not_leader_or_follower
            if err != ErrorCode.none:
                parts.append(make(part_cls, partition_index=p.partition_index, error_code=err, timestamp=-1,
                                  offset=-1))
                continue
            lg = part.log
            fetchable = lg.last_stable_offset if read_committed else lg.high_watermark
            ts, offset, epoch = -1, -1, -1
            if p.timestamp in (EARLIEST, EARLIEST_LOCAL):
                # UnifiedLog.fetchOffsetByTimestamp: the local log is the whole log, so -4 is -2; the epoch is the
                # earliest cached one when it starts at or below the log start offset
                offset = lg.log_start_offset
                first = lg.leader_epochs.earliest
                epoch = first[0] if first is not None and first[1] <= offset else -1
            elif p.timestamp == LATEST:
                offset, epoch = fetchable, part.leader_epoch
            elif p.timestamp == LATEST_TIERED:
                pass  # nothing is tiered: Kafka answers offset -1, epoch -1
            else:
                if p.timestamp == MAX_TIMESTAMP:
                    ts, offset = lg.max_timestamp()
                else:
                    found = lg.offset_for_timestamp(p.timestamp)
                    if found is not None:
                        offset, ts = found
                if 0 <= offset < fetchable:
                    epoch = lg.leader_epochs.epoch_for_offset(offset)  # the epoch of the batch holding it
                else:  # ReplicaManager.fetchOffset: nothing at or past what the client may read
                    ts, offset = -1, -1
            parts.append(make(part_cls, partition_index=p.partition_index, error_code=ErrorCode.none,
                              timestamp=ts, offset=offset, leader_epoch=epoch if offset >= 0 else -1))
        topics.append(topic_cls(name=t.name, partitions=tuple(parts)))
    return make(cls, throttle_time=_ZERO, topics=tuple(topics))
