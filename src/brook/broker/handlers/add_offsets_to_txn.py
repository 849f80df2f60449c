"""AddOffsetsToTxn (key 25), v0-v4: the group's __consumer_offsets partition joins the transaction."""

from __future__ import annotations

import datetime

from brook.coordinator.runtime import OFFSETS_TOPIC
from brook.errors import ErrorCode
from brook.protocol.build import make
from brook.protocol.versions import response_class

_ZERO = datetime.timedelta(0)


def handle(broker, ctx, request):  # type: ignore[no-untyped-def]
    broker.groups.ensure_topic()
    tp = (OFFSETS_TOPIC, broker.groups.partition_for(request.group_id))
    error = broker.txns.coordinator.add_partitions(request.transactional_id, request.producer_id,
                                                   request.producer_epoch, [tp])
    if error == ErrorCode.producer_fenced and ctx.api_version < 2:  # v0-v1 clients know INVALID_PRODUCER_EPOCH
        error = ErrorCode.invalid_producer_epoch
    return make(response_class(25, ctx.api_version), throttle_time=_ZERO, error_code=error)
