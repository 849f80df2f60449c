"""SyncGroup (key 14), v0-v5: the leader's assignments reach every member."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.errors import ErrorCode
from brook.protocol.build import make
from brook.protocol.versions import response_class

from ..authz import refused
from ..coordinators import offsets_replicated
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(14, ctx.api_version)
    coordinator = broker.groups
    if refused(broker, ctx, AclOperation.READ, ResourceType.GROUP, request.group_id):
        return _response(cls, (ErrorCode.group_authorization_failed, b""), None, None)
    result = coordinator.sync(request.group_id, request.generation_id, request.member_id,
                              getattr(request, "group_instance_id", None), getattr(request, "protocol_type", None),
                              getattr(request, "protocol_name", None),
                              {a.member_id: a.assignment for a in request.assignments})
    group = coordinator.group(request.group_id)
    ptype = group.protocol_type if group else None
    pname = group.protocol_name if group else None
    if hasattr(result, "__await__") or broker.replication is not None:
        return _later(broker, request.group_id, cls, result, ptype, pname)
    return _response(cls, result, ptype, pname)


async def _later(broker: Broker, group_id: str, cls, result, ptype, pname):
    """The leader's assignment answered (to every member) once stored; in a cluster once the __consumer_offsets
    ISR has the group metadata (Kafka's storeGroup appends it with acks=-1)."""
    if hasattr(result, "__await__"):
        result = await result
    if broker.replication is not None and result[0] == ErrorCode.none:
        error = await offsets_replicated(broker, group_id)
        if error != ErrorCode.none:
            result = (error, b"")
    return _response(cls, result, ptype, pname)


def _response(cls, result, ptype, pname):
    error, assignment = result
    return make(cls, throttle_time=_ZERO, error_code=error, protocol_type=ptype, protocol_name=pname,
                assignment=assignment)
