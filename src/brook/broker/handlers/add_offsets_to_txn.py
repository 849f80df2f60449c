"""AddOffsetsToTxn (key 25), v0-v4: the group's __consumer_offsets partition joins the transaction."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.errors import ErrorCode
from brook.internal_topics import OFFSETS_TOPIC
from brook.protocol.build import make
from brook.protocol.versions import response_class

from ..authz import refused
from ..coordinators import txn_log_replicated
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    if broker.authorizer is not None:  # KafkaApis: WRITE on the transactional id, READ on the group
        error = ErrorCode.transactional_id_authorization_failed \
            if refused(broker, ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactional_id) \
            else ErrorCode.group_authorization_failed \
            if refused(broker, ctx, AclOperation.READ, ResourceType.GROUP, request.group_id) else None
        if error is not None:
            return make(response_class(25, ctx.api_version), throttle_time=_ZERO, error_code=error)
    broker.groups.ensure_topic()
    tp = (OFFSETS_TOPIC, broker.groups.partition_for(request.group_id))
    error = broker.txns.coordinator.add_partitions(request.transactional_id, request.producer_id,
                                                   request.producer_epoch, [tp])
    if error == ErrorCode.producer_fenced and ctx.api_version < 2:  # v0-v1 clients know INVALID_PRODUCER_EPOCH
        error = ErrorCode.invalid_producer_epoch
    if error == ErrorCode.none and broker.replication is not None:
        return _after_replication(broker, ctx, request.transactional_id)
    return make(response_class(25, ctx.api_version), throttle_time=_ZERO, error_code=error)


async def _after_replication(broker: Broker, ctx: RequestContext, txn_id: str) -> object:
    error = await txn_log_replicated(broker, txn_id)
    return make(response_class(25, ctx.api_version), throttle_time=_ZERO, error_code=error)
