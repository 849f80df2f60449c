"""ListGroups (key 16), v0-v5: with the state filter (v4+) and type filter (v5+)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import cluster_allowed, refused
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(16, ctx.api_version)
    listed_cls = nested(cls, "ListedGroup")
    states = {s.lower() for s in getattr(request, "states_filter", ())}
    types = {t.lower() for t in getattr(request, "types_filter", ())}
    out = []
    # KafkaApis: CLUSTER DESCRIBE lists every group, otherwise those the client may DESCRIBE
    filtered = not cluster_allowed(broker, ctx, AclOperation.DESCRIBE)
    for g in broker.groups.groups():
        if filtered and refused(broker, ctx, AclOperation.DESCRIBE, ResourceType.GROUP, g.group_id):
            continue
        if states and g.state.value.lower() not in states:
            continue
        if types and "classic" not in types:
            continue
        out.append(make(listed_cls, group_id=g.group_id, protocol_type=g.protocol_type or "",
                        group_state=g.state.value, group_type="classic"))
    return make(cls, throttle_time=_ZERO, error_code=ErrorCode.none, groups=tuple(out))
