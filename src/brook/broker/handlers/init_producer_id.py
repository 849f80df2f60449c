"""InitProducerId (key 22), v0-v5: a new producer id for idempotent producers; for transactional ids, the
transaction coordinator's id and a bumped epoch (fencing older instances; KIP-360 epoch bumps from v3)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.errors import ErrorCode
from brook.protocol.build import make
from brook.protocol.versions import response_class

from ..authz import cluster_allowed, refused
from ..coordinators import txn_log_replicated
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(22, ctx.api_version)
    if broker.authorizer is not None:
        error = _refused(broker, ctx, request.transactional_id)
        if error is not None:
            return make(cls, throttle_time=_ZERO, error_code=error, producer_id=-1, producer_epoch=-1)
    if request.transactional_id is None:
        return make(cls, throttle_time=_ZERO, error_code=ErrorCode.none,
                    producer_id=broker.producer_ids.generate(), producer_epoch=0)
    timeout = request.transaction_timeout
    timeout_ms = int(timeout.total_seconds() * 1000) if isinstance(timeout, datetime.timedelta) else int(timeout)
    error, pid, epoch = broker.txns.coordinator.init_producer_id(
        request.transactional_id, timeout_ms, getattr(request, "producer_id", -1),
        getattr(request, "producer_epoch", -1))
    if error == ErrorCode.producer_fenced and ctx.api_version < 4:  # v0-v3 clients know INVALID_PRODUCER_EPOCH
        error = ErrorCode.invalid_producer_epoch
    if error == ErrorCode.none and broker.replication is not None:
        return _after_replication(broker, cls, request.transactional_id, pid, epoch)
    return make(cls, throttle_time=_ZERO, error_code=error, producer_id=pid, producer_epoch=epoch)


async def _after_replication(broker: Broker, cls, txn_id: str, pid: int, epoch: int) -> object:  # noqa: ANN001
    """A cluster answers once the __transaction_state ISR has the new epoch."""
    error = await txn_log_replicated(broker, txn_id)
    if error != ErrorCode.none:
        pid, epoch = -1, -1
    return make(cls, throttle_time=_ZERO, error_code=error, producer_id=pid, producer_epoch=epoch)


def _refused(broker: Broker, ctx: RequestContext, transactional_id):
    """KafkaApis: WRITE on the transactional id; an idempotent producer needs IDEMPOTENT_WRITE on the cluster or
    WRITE on some topic (authorizeByResourceType)."""
    if transactional_id is not None:
        return ErrorCode.transactional_id_authorization_failed \
            if refused(broker, ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactional_id) else None
    authorizer = broker.authorizer
    if authorizer is None or cluster_allowed(broker, ctx, AclOperation.IDEMPOTENT_WRITE) or \
            authorizer.authorize_by_resource_type(ctx.connection.principal, ctx.connection.host, AclOperation.WRITE,
                                                  ResourceType.TOPIC):
        return None
    return ErrorCode.cluster_authorization_failed
