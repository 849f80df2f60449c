"""FindCoordinator (key 10), v0-v6: this broker coordinates every group and transactional id; v4+ batches."""

from __future__ import annotations

import datetime

from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

_ZERO = datetime.timedelta(0)
GROUP, TRANSACTION = 0, 1


def handle(broker, ctx, request):  # type: ignore[no-untyped-def]
    cls = response_class(10, ctx.api_version)
    adv = broker.advertised
    key_type = getattr(request, "key_type", GROUP)
    if key_type not in (GROUP, TRANSACTION):
        error, message = ErrorCode.invalid_request, f"Invalid coordinator key type {key_type}"
    else:
        error, message = ErrorCode.none, None
        if key_type == GROUP:
            broker.groups.ensure_topic()
    node, host, port = (broker.broker_id, adv.host, adv.port) if error == ErrorCode.none else (-1, "", -1)
    if ctx.api_version >= 4:
        coord_cls = nested(cls, "Coordinator")
        return make(cls, throttle_time=_ZERO, coordinators=tuple(
            coord_cls(key=k, node_id=node, host=host, port=port, error_code=error, error_message=message)
            for k in request.coordinator_keys))
    return make(cls, throttle_time=_ZERO, error_code=error, error_message=message, node_id=node, host=host,
                port=port)
