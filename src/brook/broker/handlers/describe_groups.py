"""DescribeGroups (key 15), v0-v5: state, protocol and members (with metadata and assignment when Stable)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.coordinator.group.group import GroupState
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import NOT_REQUESTED, authorized_operations, refused
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(15, ctx.api_version)
    group_cls = nested(cls, "DescribedGroup")
    member_cls = nested(cls, "DescribedGroupMember")
    groups = []
    want_ops = getattr(request, "include_authorized_operations", False)
    for gid in request.groups:
        if refused(broker, ctx, AclOperation.DESCRIBE, ResourceType.GROUP, gid):
            groups.append(make(group_cls, error_code=ErrorCode.group_authorization_failed, group_id=gid,
                               group_state="", protocol_type="", protocol_data="", members=(),
                               authorized_operations=NOT_REQUESTED))
            continue
        ops = authorized_operations(broker, ctx, ResourceType.GROUP, gid) if want_ops else NOT_REQUESTED
        error, g = broker.groups.describe(gid)
        if g is None:  # an unknown group is Dead (Kafka); NOT_COORDINATOR when its partition is not loaded here
            groups.append(make(group_cls, error_code=error, group_id=gid, group_state="" if error else "Dead",
                               protocol_type="", protocol_data="", members=(), authorized_operations=ops))
            continue
        stable = g.state is GroupState.STABLE
        members = tuple(make(member_cls, member_id=m.member_id, group_instance_id=m.group_instance_id,
                             client_id=m.client_id, client_host=m.client_host,
                             member_metadata=m.metadata_for(g.protocol_name) if stable else b"",
                             member_assignment=m.assignment if stable else b"") for m in g.members.values())
        groups.append(make(group_cls, error_code=ErrorCode.none, group_id=gid, group_state=g.state.value,
                           protocol_type=g.protocol_type or "", protocol_data=g.protocol_name or "",
                           members=members, authorized_operations=ops))
    return make(cls, throttle_time=_ZERO, groups=tuple(groups))
