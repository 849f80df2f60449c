"""DeleteGroups (key 42), v0-v2: only empty groups; their offsets and metadata get tombstones."""

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


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(42, ctx.api_version)
    result_cls = nested(cls, "DeletableGroupResult")
    coordinator = broker.groups
    return make(cls, throttle_time=_ZERO, results=tuple(
        result_cls(group_id=g, error_code=ErrorCode.group_authorization_failed
                   if refused(broker, ctx, AclOperation.DELETE, ResourceType.GROUP, g) else coordinator.delete_group(g))
        for g in request.groups_names))
