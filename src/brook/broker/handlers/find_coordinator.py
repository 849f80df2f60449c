"""FindCoordinator (key 10), v0-v6: this broker coordinates every group and transactional id; v4+ batches."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import allowed
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)
GROUP, TRANSACTION = 0, 1


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(10, ctx.api_version)
    adv = broker.advertised_for(ctx.connection.listener)
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
        answers = [(k, *_authorized(broker, ctx, key_type, k, error, message, node, host, port))
                   for k in request.coordinator_keys]
        return make(cls, throttle_time=_ZERO, coordinators=tuple(
            coord_cls(key=k, node_id=n, host=h, port=p, error_code=e, error_message=m) for k, e, m, n, h, p in answers))
    error, message, node, host, port = _authorized(broker, ctx, key_type, request.key, error, message, node, host,
                                                   port)
    return make(cls, throttle_time=_ZERO, error_code=error, error_message=message, node_id=node, host=host,
                port=port)


def _authorized(broker: Broker, ctx: RequestContext, key_type, key, error, message, node, host, port):
    """KafkaApis: DESCRIBE on the group or transactional id, else its authorization error and no coordinator."""
    if error == ErrorCode.none and broker.authorizer is not None:
        rtype = ResourceType.GROUP if key_type == GROUP else ResourceType.TRANSACTIONAL_ID
        if not allowed(broker, ctx, AclOperation.DESCRIBE, rtype, key):
            code = ErrorCode.group_authorization_failed if key_type == GROUP else \
                ErrorCode.transactional_id_authorization_failed
            return code, None, -1, "", -1
    return error, message, node, host, port
