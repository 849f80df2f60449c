"""AddPartitionsToTxn (key 24), v0-v5: a producer adds partitions to its transaction (v0-v3, one
transaction), or a broker batches several (v4+, KIP-890; verify_only answers without adding)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import denied, refused
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def _results(broker: Broker, ctx: RequestContext, txn_id, pid, epoch, topics, verify_only, topic_cls, part_cls,
             old_epoch_error=False):
    coordinator = broker.txns.coordinator
    wanted = [(t.name, p) for t in topics for p in t.partitions]
    unknown = {tp for tp in wanted if broker.log_manager.get(*tp) is None}
    hidden = denied(broker, ctx, AclOperation.WRITE, ResourceType.TOPIC, (t.name for t in topics))
    if refused(broker, ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, txn_id):
        codes = dict.fromkeys(wanted, ErrorCode.transactional_id_authorization_failed)
    elif hidden:  # KafkaApis: WRITE on every topic, else nothing is added
        codes = {tp: ErrorCode.topic_authorization_failed if tp[0] in hidden else ErrorCode.operation_not_attempted
                 for tp in wanted}
    elif unknown:
        codes = {tp: ErrorCode.unknown_topic_or_partition if tp in unknown else ErrorCode.operation_not_attempted
                 for tp in wanted}
    else:
        if verify_only:
            m = coordinator.txns.get(txn_id)
            ok = m is not None and m.producer_id == pid and m.producer_epoch == epoch
            code = ErrorCode.none if ok else ErrorCode.invalid_txn_state
            codes = {tp: (code if tp in (m.partitions if m else ()) else ErrorCode.invalid_txn_state) for tp in wanted}
        else:
            code = coordinator.add_partitions(txn_id, pid, epoch, wanted)
            if code == ErrorCode.producer_fenced and old_epoch_error:  # v0-v1 clients know INVALID_PRODUCER_EPOCH
                code = ErrorCode.invalid_producer_epoch
            codes = dict.fromkeys(wanted, code)
    return tuple(topic_cls(name=t.name, results_by_partition=tuple(
        part_cls(partition_index=p, partition_error_code=codes[(t.name, p)]) for p in t.partitions)) for t in topics)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(24, ctx.api_version)
    topic_cls = nested(cls, "AddPartitionsToTxnTopicResult")
    part_cls = nested(cls, "AddPartitionsToTxnPartitionResult")
    if ctx.api_version <= 3:
        results = _results(broker, ctx, request.v3_and_below_transactional_id, request.v3_and_below_producer_id,
                           request.v3_and_below_producer_epoch, request.v3_and_below_topics, False, topic_cls,
                           part_cls, ctx.api_version < 2)
        return make(cls, throttle_time=_ZERO, results_by_topic_v3_and_below=results)
    txn_cls = nested(cls, "AddPartitionsToTxnResult")
    return make(cls, throttle_time=_ZERO, error_code=ErrorCode.none, results_by_transaction=tuple(
        txn_cls(transactional_id=t.transactional_id,
                topic_results=_results(broker, ctx, t.transactional_id, t.producer_id, t.producer_epoch, t.topics,
                                       t.verify_only, topic_cls, part_cls))
        for t in request.transactions))
