"""OffsetCommit (key 8), v2-v9: committed offsets with metadata and leader epochs, into __consumer_offsets."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.header import encode_response
from brook.protocol.versions import response_class

from ..authz import denied, refused
from ..coordinators import offsets_replicated
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    generation = getattr(request, "generation_id_or_member_epoch", getattr(request, "generation_id", -1))
    per_partition: dict[tuple[str, int], ErrorCode] = {}
    offsets = {}
    group_refused = False
    if broker.authorizer is not None:  # KafkaApis: READ on the group (else every partition fails), READ per topic
        group_refused = refused(broker, ctx, AclOperation.READ, ResourceType.GROUP, request.group_id)
        if group_refused:
            per_partition = {(t.name, p.partition_index): ErrorCode.group_authorization_failed
                             for t in request.topics for p in t.partitions}
        hidden = denied(broker, ctx, AclOperation.READ, ResourceType.TOPIC, (t.name for t in request.topics))
        per_partition.update({(t.name, p.partition_index): ErrorCode.topic_authorization_failed
                              for t in request.topics if t.name in hidden for p in t.partitions})
    for t in request.topics:
        info = broker.topics.get(t.name)
        for p in t.partitions:
            tp = (t.name, p.partition_index)
            if tp in per_partition:
                continue
            if info is None or p.partition_index >= info.partitions:
                per_partition[tp] = ErrorCode.unknown_topic_or_partition
            elif p.committed_metadata is not None and len(p.committed_metadata) > 4096:
                per_partition[tp] = ErrorCode.offset_metadata_too_large
            else:
                offsets[tp] = (p.committed_offset, getattr(p, "committed_leader_epoch", -1), p.committed_metadata)
    if group_refused:
        error = ErrorCode.group_authorization_failed
    elif not request.group_id:
        error = ErrorCode.invalid_group_id
    else:
        error = broker.groups.commit_offsets(request.group_id, generation, request.member_id,
                                                         getattr(request, "group_instance_id", None), offsets)
        if error == ErrorCode.group_id_not_found and ctx.api_version < 9:
            error = ErrorCode.illegal_generation  # no such group: GROUP_ID_NOT_FOUND only from v9 (Kafka)
    if error == ErrorCode.none and offsets and broker.replication is not None:
        return _after_replication(broker, ctx, request, per_partition)
    return _answer(broker, ctx, request, per_partition, error)


async def _after_replication(broker: Broker, ctx: RequestContext, request: Request, per_partition):
    error = await offsets_replicated(broker, request.group_id)
    return _answer(broker, ctx, request, per_partition, error)


def _answer(broker: Broker, ctx: RequestContext, request: Request, per_partition, error):
    cls = response_class(8, ctx.api_version)
    topic_cls = nested(cls, "OffsetCommitResponseTopic")
    part_cls = nested(cls, "OffsetCommitResponsePartition")
    codes = tuple((t.name, tuple((p.partition_index, per_partition.get((t.name, p.partition_index), error))
                                 for p in t.partitions)) for t in request.topics)

    def encode(_values):
        topics = tuple(topic_cls(name=name, partitions=tuple(part_cls(partition_index=i, error_code=code)
                                                             for i, code in parts)) for name, parts in codes)
        return encode_response(ctx.header, make(cls, throttle_time=_ZERO, topics=topics))

    # The answer depends only on the request's partitions and their codes: encode each shape once (kio).
    return broker.templates.render((8, ctx.api_version, codes), encode, ctx.correlation_id, ()) or \
        encode(())
