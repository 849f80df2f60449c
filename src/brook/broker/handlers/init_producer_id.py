"""InitProducerId (key 22), v0-v5: a new producer id and epoch 0 for idempotent producers.

Transactional ids need the transaction coordinator, which Brook does not have yet: they get INVALID_REQUEST,
so clients fail fast instead of retrying.
"""

from __future__ import annotations

import datetime

from brook.errors import ErrorCode
from brook.protocol.build import make
from brook.protocol.versions import response_class

_ZERO = datetime.timedelta(0)


def handle(broker, ctx, request):  # type: ignore[no-untyped-def]
    cls = response_class(22, ctx.api_version)
    if request.transactional_id is not None:
        return make(cls, throttle_time=_ZERO, error_code=ErrorCode.invalid_request, producer_id=-1,
                    producer_epoch=-1)
    return make(cls, throttle_time=_ZERO, error_code=ErrorCode.none, producer_id=broker.producer_ids.generate(),
                producer_epoch=0)
