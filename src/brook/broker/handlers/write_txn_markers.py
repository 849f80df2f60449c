"""WriteTxnMarkers (key 27), v1 (KIP-896's floor): COMMIT/ABORT markers for a producer's transaction.

Kafka's transaction coordinator sends this to partition leaders, and so does a Brook cluster's
(broker/txn_marker_channel.py); a single broker's coordinator writes its markers directly, so there the requests
come from admin clients (`kafka-transactions abort`). All use the same path, `TxnMarkerWriter.write`: LSO,
aborted-transaction index and producer state move exactly alike. In a cluster the answer waits for the ISR.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from brook.acl import AclOperation
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import cluster_allowed
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    may_write = cluster_allowed(broker, ctx, AclOperation.CLUSTER_ACTION)  # only brokers send these
    written = []
    for marker in request.markers:
        partitions = {(t.name, p) for t in marker.topics for p in t.partition_indexes}
        errors = broker.txn_markers.write(marker.producer_id, marker.producer_epoch, marker.transaction_result,
                                          partitions, marker.coordinator_epoch) if may_write else \
            dict.fromkeys(partitions, ErrorCode.cluster_authorization_failed)
        written.append(errors)
    if broker.replication is not None:
        return _after_replication(broker, ctx, request, written)
    return _answer(ctx, request, written)


async def _after_replication(broker: Broker, ctx: RequestContext, request: Request,
                             written: list[dict[tuple[str, int], ErrorCode]]) -> object:
    return _answer(ctx, request, [await broker.txn_markers.replicated(errors) for errors in written])


def _answer(ctx: RequestContext, request: Request, written: list[dict[tuple[str, int], ErrorCode]]) -> object:
    cls = response_class(27, ctx.api_version)
    marker_cls = nested(cls, "WritableTxnMarkerResult")
    topic_cls = nested(cls, "WritableTxnMarkerTopicResult")
    part_cls = nested(cls, "WritableTxnMarkerPartitionResult")
    # Kafka answers with one result per producer id (a map), each partition's error merged into it
    by_producer: dict[int, dict[str, dict[int, int]]] = {}
    for marker, errors in zip(request.markers, written, strict=True):
        result = by_producer.setdefault(marker.producer_id, {})
        for t in marker.topics:
            for p in t.partition_indexes:
                result.setdefault(t.name, {})[p] = errors[(t.name, p)]
    markers = tuple(
        marker_cls(producer_id=pid, topics=tuple(
            topic_cls(name=name, partitions=tuple(part_cls(partition_index=p, error_code=e) for p, e in parts.items()))
            for name, parts in topics.items()))
        for pid, topics in by_producer.items())
    return make(cls, markers=markers)
