"""JoinGroup (key 11), v0-v9: KIP-394 member ids (MEMBER_ID_REQUIRED from v4), KIP-345 static members."""

from __future__ import annotations

import dataclasses
import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.coordinator.group.membership import JoinResult
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import refused
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def _ms(value) -> int:
    return int(value.total_seconds() * 1000) if isinstance(value, datetime.timedelta) else int(value)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(11, ctx.api_version)
    member_cls = nested(cls, "JoinGroupResponseMember")
    session = _ms(request.session_timeout)
    rebalance = _ms(getattr(request, "rebalance_timeout", request.session_timeout))
    host = ctx.connection.peer.rsplit(":", 1)[0]
    if not request.group_id:
        return _response(cls, member_cls, _error(ErrorCode.invalid_group_id, request.member_id))
    if refused(broker, ctx, AclOperation.READ, ResourceType.GROUP, request.group_id):
        return _response(cls, member_cls, _error(ErrorCode.group_authorization_failed, request.member_id))
    result = broker.groups.join(
        request.group_id, request.member_id, getattr(request, "group_instance_id", None), request.protocol_type,
        [(p.name, p.metadata) for p in request.protocols], session, rebalance, ctx.client_id or "",
        f"/{host}", ctx.api_version >= 4)
    if hasattr(result, "__await__"):
        return _later(cls, member_cls, result, ctx.api_version)
    return _response(cls, member_cls, result, ctx.api_version)


def _error(code, member_id):
    return JoinResult(code, member_id=member_id)


async def _later(cls, member_cls, fut, version):
    return _response(cls, member_cls, await fut, version)


def _response(cls, member_cls, r, version=9):
    if r.skip_assignment and version < 9:
        # A replaced static leader on JoinGroup v0-v8 cannot be told to skip the assignment: like Kafka, answer
        # with the previous leader id and no members, so it acts as a follower and syncs its old assignment.
        r = dataclasses.replace(r, leader=r.previous_leader, members=(), skip_assignment=False)
    members = tuple(make(member_cls, member_id=m, group_instance_id=i, metadata=md) for m, i, md in r.members)
    return make(cls, throttle_time=_ZERO, error_code=r.error, generation_id=r.generation,
                protocol_type=r.protocol_type, protocol_name=r.protocol_name or ("" if r.error else None),
                leader=r.leader, skip_assignment=r.skip_assignment, member_id=r.member_id, members=members)
