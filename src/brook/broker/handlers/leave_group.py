"""LeaveGroup (key 13), v0-v5: one member (v0-v2) or a batch identified by member or instance id (v3+)."""

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
    cls = response_class(13, ctx.api_version)
    coordinator = broker.groups
    if refused(broker, ctx, AclOperation.READ, ResourceType.GROUP, request.group_id):
        return make(cls, throttle_time=_ZERO, error_code=ErrorCode.group_authorization_failed, members=())
    if ctx.api_version < 3:
        top, errors = coordinator.leave(request.group_id, [(request.member_id, None)])
        return make(cls, throttle_time=_ZERO, error_code=errors[0])
    members = [(m.member_id, m.group_instance_id) for m in request.members]
    top, errors = coordinator.leave(request.group_id, members)
    member_cls = nested(cls, "MemberResponse")
    return make(cls, throttle_time=_ZERO, error_code=top, members=tuple(
        member_cls(member_id=m, group_instance_id=i, error_code=e) for (m, i), e in zip(members, errors, strict=True)))
