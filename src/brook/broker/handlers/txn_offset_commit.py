"""TxnOffsetCommit (key 28), v0-v4: offsets committed inside a transaction, visible once it commits. The producer id,
epoch and AddOffsetsToTxn are checked against the transaction coordinator when it is this broker (always on a
single broker; in a cluster only when the two coordinators share a broker: docs/cluster.md). In a cluster the
answer waits for the __consumer_offsets ISR."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.errors import ErrorCode
from brook.internal_topics import OFFSETS_TOPIC
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import denied, refused
from ..coordinators import offsets_replicated
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(28, ctx.api_version)
    coordinator = broker.txns.coordinator
    txn = coordinator.txns.get(request.transactional_id)
    checked = coordinator.owns(request.transactional_id)
    offsets_tp = (OFFSETS_TOPIC, broker.groups.partition_for(request.group_id))
    hidden = denied(broker, ctx, AclOperation.READ, ResourceType.TOPIC, (t.name for t in request.topics))
    if refused(broker, ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactional_id):
        error = ErrorCode.transactional_id_authorization_failed  # KafkaApis.handleTxnOffsetCommitRequest
    elif refused(broker, ctx, AclOperation.READ, ResourceType.GROUP, request.group_id):
        error = ErrorCode.group_authorization_failed
    elif hidden:
        error = ErrorCode.topic_authorization_failed  # Brook fails every partition (Kafka: only the refused ones)
    elif checked and (txn is None or txn.producer_id != request.producer_id):
        error = ErrorCode.invalid_producer_id_mapping
    elif checked and txn is not None and txn.producer_epoch != request.producer_epoch:
        error = ErrorCode.invalid_producer_epoch  # as Kafka: TxnOffsetCommit never answers PRODUCER_FENCED
    elif checked and txn is not None and offsets_tp not in txn.partitions:
        error = ErrorCode.invalid_txn_state  # AddOffsetsToTxn must come first
    else:
        offsets = {(t.name, p.partition_index): (p.committed_offset, getattr(p, "committed_leader_epoch", -1),
                                                 p.committed_metadata)
                   for t in request.topics for p in t.partitions}
        error = broker.groups.txn_commit_offsets(
            request.group_id, request.producer_id, request.producer_epoch, getattr(request, "generation_id", -1),
            getattr(request, "member_id", ""), getattr(request, "group_instance_id", None), offsets)
        if error == ErrorCode.none and broker.replication is not None:
            return _after_replication(broker, request, cls)
    return _answer(request, cls, error)


async def _after_replication(broker: Broker, request: Request, cls) -> object:  # noqa: ANN001
    return _answer(request, cls, await offsets_replicated(broker, request.group_id))


def _answer(request: Request, cls, error: ErrorCode) -> object:  # noqa: ANN001
    topic_cls = nested(cls, "TxnOffsetCommitResponseTopic")
    part_cls = nested(cls, "TxnOffsetCommitResponsePartition")
    return make(cls, throttle_time=_ZERO, topics=tuple(
        topic_cls(name=t.name, partitions=tuple(part_cls(partition_index=p.partition_index, error_code=error)
                                                for p in t.partitions)) for t in request.topics))
