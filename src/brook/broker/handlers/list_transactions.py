"""ListTransactions (key 66), v0-v1 (KIP-664): filters by state, producer id and (v1) duration."""

from __future__ import annotations

import datetime
import time
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.coordinator.txn.coordinator import TxnState
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import refused
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)
_NAMES = {s.kafka_name: s for s in TxnState}


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(66, ctx.api_version)
    state_cls = nested(cls, "TransactionState")
    states = set(request.state_filters)
    unknown = tuple(s for s in states if s not in _NAMES)
    pids = set(request.producer_id_filters)
    min_duration = getattr(request, "duration_filter", -1)
    now = int(time.time() * 1000)
    out = []
    for m in broker.txns.coordinator.txns.values():
        if m.state is TxnState.DEAD:  # TransactionStateManager.listTransactionStates: a transient state
            continue
        if refused(broker, ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, m.transactional_id):
            continue  # KafkaApis lists only the transactional ids the client may DESCRIBE
        if states and m.state.kafka_name not in states:
            continue
        if pids and m.producer_id not in pids:
            continue
        if min_duration >= 0 and now - m.start_ms <= min_duration:  # any state, by its last transaction's start
            continue
        out.append(state_cls(transactional_id=m.transactional_id, producer_id=m.producer_id,
                             transaction_state=m.state.kafka_name))
    return make(cls, throttle_time=_ZERO, error_code=ErrorCode.none, unknown_state_filters=unknown,
                transaction_states=tuple(out))
