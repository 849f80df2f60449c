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
from ..coordinators import txn_log_replicated
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def _results(broker: Broker, ctx: RequestContext, txn_id, pid, epoch, topics, verify_only, topic_cls, part_cls,
             stored: list[str], old_epoch_error=False):
    """The per-partition results; stored gets the ids whose new partitions a cluster must see replicated first."""
    coordinator = broker.txns.coordinator
    wanted = [(t.name, p) for t in topics for p in t.partitions]
    unknown = {tp for tp in wanted if (info := broker.topics.get(tp[0])) is None or tp[1] >= info.partitions}
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
        if verify_only and not coordinator.owns(txn_id):
            codes = dict.fromkeys(wanted, ErrorCode.not_coordinator)
        elif verify_only:
            m = coordinator.txns.get(txn_id)
            ok = m is not None and m.producer_id == pid and m.producer_epoch == epoch
            code = ErrorCode.none if ok else ErrorCode.invalid_txn_state
            codes = {tp: (code if tp in (m.partitions if m else ()) else ErrorCode.invalid_txn_state) for tp in wanted}
        else:
            code = coordinator.add_partitions(txn_id, pid, epoch, wanted)
            if code == ErrorCode.producer_fenced and old_epoch_error:  # v0-v1 clients know INVALID_PRODUCER_EPOCH
                code = ErrorCode.invalid_producer_epoch
            codes = dict.fromkeys(wanted, code)
            if code == ErrorCode.none and broker.replication is not None:
                stored.append(txn_id)
    return tuple(topic_cls(name=t.name, results_by_partition=tuple(
        part_cls(partition_index=p, partition_error_code=codes[(t.name, p)]) for p in t.partitions)) for t in topics)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(24, ctx.api_version)
    topic_cls = nested(cls, "AddPartitionsToTxnTopicResult")
    part_cls = nested(cls, "AddPartitionsToTxnPartitionResult")
    stored: list[str] = []
    if ctx.api_version <= 3:
        results = _results(broker, ctx, request.v3_and_below_transactional_id, request.v3_and_below_producer_id,
                           request.v3_and_below_producer_epoch, request.v3_and_below_topics, False, topic_cls,
                           part_cls, stored, ctx.api_version < 2)
        if stored:
            return _after_replication(broker, stored, lambda e: make(
                cls, throttle_time=_ZERO, results_by_topic_v3_and_below=_failed(results, e, topic_cls, part_cls)))
        return make(cls, throttle_time=_ZERO, results_by_topic_v3_and_below=results)
    txn_cls = nested(cls, "AddPartitionsToTxnResult")
    by_txn = [(t.transactional_id, _results(broker, ctx, t.transactional_id, t.producer_id, t.producer_epoch, t.topics,
                                            t.verify_only, topic_cls, part_cls, stored)) for t in request.transactions]
    if stored:  # several transactions (a broker's batch): each waits; Brook answers them all after the last
        return _after_replication(broker, stored, lambda e: make(
            cls, throttle_time=_ZERO, error_code=ErrorCode.none, results_by_transaction=tuple(
                txn_cls(transactional_id=t, topic_results=_failed(r, e, topic_cls, part_cls)) for t, r in by_txn)))
    return make(cls, throttle_time=_ZERO, error_code=ErrorCode.none, results_by_transaction=tuple(
        txn_cls(transactional_id=t, topic_results=r) for t, r in by_txn))


async def _after_replication(broker: Broker, txn_ids: list[str], answer) -> object:  # noqa: ANN001
    """A cluster answers once the __transaction_state ISR has the added partitions (the first error, if any, for
    every partition that had none)."""
    errors = [await txn_log_replicated(broker, t) for t in dict.fromkeys(txn_ids)]
    return answer(next((e for e in errors if e != ErrorCode.none), ErrorCode.none))


def _failed(results, error: ErrorCode, topic_cls, part_cls):  # noqa: ANN001, ANN202
    if error == ErrorCode.none:
        return results
    return tuple(topic_cls(name=t.name, results_by_partition=tuple(
        part_cls(partition_index=p.partition_index,
                 partition_error_code=error if p.partition_error_code == ErrorCode.none else p.partition_error_code)
        for p in t.results_by_partition)) for t in results)
