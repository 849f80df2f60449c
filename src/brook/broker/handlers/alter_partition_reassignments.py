"""AlterPartitionReassignments (key 45), v0: start or cancel (no replicas) partition reassignments on the active
controller (cluster/reassignment.py). ALTER on the cluster; NOT_CONTROLLER elsewhere."""

from __future__ import annotations

import asyncio
import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import cluster_allowed
from . import Request

if TYPE_CHECKING:
    from brook.cluster.reassignment import Reassignments

    from ..dispatch import RequestContext
    from ..server import Broker

_ZERO = datetime.timedelta(0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(45, ctx.api_version)
    if not cluster_allowed(broker, ctx, AclOperation.ALTER):
        return make(cls, throttle_time=_ZERO, error_code=ErrorCode.cluster_authorization_failed,
                    error_message=None, responses=())
    if broker.reassignments is None or broker.controller is None or not broker.controller.is_active:
        return make(cls, throttle_time=_ZERO, error_code=ErrorCode.not_controller, error_message=None, responses=())
    wanted = {(str(t.name), int(p.partition_index)): None if p.replicas is None else [int(r) for r in p.replicas]
              for t in request.topics for p in t.partitions}
    return _alter(cls, broker.reassignments, wanted)


async def _alter(cls: type, reassignments: Reassignments, wanted: dict[tuple[str, int], list[int] | None]) -> object:
    results = await asyncio.get_running_loop().run_in_executor(None, reassignments.alter, wanted)
    by_topic: dict[str, list[object]] = {}
    partition_cls = nested(cls, "ReassignablePartitionResponse")
    for (topic, p), (code, message) in results.items():
        by_topic.setdefault(topic, []).append(partition_cls(partition_index=p, error_code=code, error_message=message))
    topic_cls = nested(cls, "ReassignableTopicResponse")
    return make(cls, throttle_time=_ZERO, error_code=ErrorCode.none, error_message=None,
                responses=tuple(topic_cls(name=t, partitions=tuple(ps)) for t, ps in by_topic.items()))
