"""EndTxn (key 26), v0-v4: commit or abort; markers are written to every partition of the transaction (in a
cluster after the answer, which waits for the __transaction_state ISR to have PrepareCommit / PrepareAbort)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.errors import ErrorCode
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
    if refused(broker, ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactional_id):
        return make(response_class(26, ctx.api_version), throttle_time=_ZERO,
                    error_code=ErrorCode.transactional_id_authorization_failed)
    error = broker.txns.coordinator.end_txn(request.transactional_id, request.producer_id, request.producer_epoch,
                                            request.committed)
    if error == ErrorCode.producer_fenced and ctx.api_version < 2:  # v0-v1 clients know INVALID_PRODUCER_EPOCH
        error = ErrorCode.invalid_producer_epoch
    if error == ErrorCode.none and broker.replication is not None:
        return _after_replication(broker, ctx, request.transactional_id)
    return make(response_class(26, ctx.api_version), throttle_time=_ZERO, error_code=error)


async def _after_replication(broker: Broker, ctx: RequestContext, txn_id: str) -> object:
    error = await txn_log_replicated(broker, txn_id)
    return make(response_class(26, ctx.api_version), throttle_time=_ZERO, error_code=error)
