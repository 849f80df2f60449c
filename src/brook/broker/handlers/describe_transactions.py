"""DescribeTransactions (key 65), v0 (KIP-664)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import refused
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def _ms_time(ms: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC)  # -1 encodes back to -1


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(65, ctx.api_version)
    state_cls = nested(cls, "TransactionState")
    topic_cls = nested(cls, "TopicData")
    out = []
    for txn_id in request.transactional_ids:
        m = broker.txns.coordinator.txns.get(txn_id)
        if refused(broker, ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, txn_id):
            out.append(state_cls(error_code=ErrorCode.transactional_id_authorization_failed, transactional_id=txn_id,
                                 transaction_state="", transaction_timeout=_ZERO, transaction_start_time=_ms_time(-1),
                                 producer_id=-1, producer_epoch=-1, topics=()))
            continue
        if m is None:
            code = ErrorCode.transactional_id_not_found if broker.txns.coordinator.owns(txn_id) \
                else ErrorCode.not_coordinator  # the id's partition is led elsewhere (a cluster)
            out.append(state_cls(error_code=code, transactional_id=txn_id,
                                 transaction_state="", transaction_timeout=_ZERO, transaction_start_time=_ms_time(-1),
                                 producer_id=-1, producer_epoch=-1, topics=()))
            continue
        grouped: dict[str, list[int]] = {}
        for t, p in sorted(m.partitions):
            grouped.setdefault(t, []).append(p)
        out.append(state_cls(error_code=ErrorCode.none, transactional_id=txn_id, transaction_state=m.state.kafka_name,
                             transaction_timeout=datetime.timedelta(milliseconds=m.timeout_ms),
                             transaction_start_time=_ms_time(m.start_ms),
                             producer_id=m.producer_id, producer_epoch=m.producer_epoch,
                             topics=tuple(topic_cls(topic=t, partitions=tuple(ps)) for t, ps in grouped.items())))
    return make(cls, throttle_time=_ZERO, transaction_states=tuple(out))
