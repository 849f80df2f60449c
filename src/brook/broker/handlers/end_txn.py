"""EndTxn (key 26), v0-v4: commit or abort; markers are written to every partition of the transaction."""

from __future__ import annotations

import datetime

from brook.protocol.build import make
from brook.protocol.versions import response_class

_ZERO = datetime.timedelta(0)


def handle(broker, ctx, request):  # type: ignore[no-untyped-def]
    error = broker.txns.coordinator.end_txn(request.transactional_id, request.producer_id, request.producer_epoch,
                                            request.committed)
    return make(response_class(26, ctx.api_version), throttle_time=_ZERO, error_code=error)
