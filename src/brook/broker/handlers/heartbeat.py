"""Heartbeat (key 12), v0-v4."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.errors import ErrorCode
from brook.protocol.build import make
from brook.protocol.versions import response_class

from ..authz import refused
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    if refused(broker, ctx, AclOperation.READ, ResourceType.GROUP, request.group_id):
        return make(response_class(12, ctx.api_version), throttle_time=_ZERO,
                    error_code=ErrorCode.group_authorization_failed)
    error = broker.groups.heartbeat(request.group_id, request.generation_id, request.member_id,
                                                getattr(request, "group_instance_id", None))
    return make(response_class(12, ctx.api_version), throttle_time=_ZERO, error_code=error)
