"""ListPartitionReassignments (key 46), v0: the ongoing reassignments (replicas, adding, removing) from the topic
znodes, on the active controller. DESCRIBE on the cluster; NOT_CONTROLLER elsewhere."""

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
    cls = response_class(46, ctx.api_version)
    if not cluster_allowed(broker, ctx, AclOperation.DESCRIBE):
        return make(cls, throttle_time=_ZERO, error_code=ErrorCode.cluster_authorization_failed,
                    error_message=None, topics=())
    if broker.controller is None:  # a single broker never reassigns
        return make(cls, throttle_time=_ZERO, error_code=ErrorCode.none, error_message=None, topics=())
    if broker.reassignments is None or not broker.controller.is_active:
        return make(cls, throttle_time=_ZERO, error_code=ErrorCode.not_controller, error_message=None, topics=())
    wanted = None if request.topics is None else [(str(t.name), int(p)) for t in request.topics
                                                  for p in t.partition_indexes]
    return _list(cls, broker.reassignments, wanted)


async def _list(cls: type, reassignments: Reassignments, wanted: list[tuple[str, int]] | None) -> object:
    ongoing = await asyncio.get_running_loop().run_in_executor(None, reassignments.ongoing, wanted)
    by_topic: dict[str, list[object]] = {}
    partition_cls = nested(cls, "OngoingPartitionReassignment")
    for (topic, p), (replicas, adding, removing) in ongoing.items():
        by_topic.setdefault(topic, []).append(partition_cls(partition_index=p, replicas=tuple(replicas),
                                                            adding_replicas=tuple(adding),
                                                            removing_replicas=tuple(removing)))
    topic_cls = nested(cls, "OngoingTopicReassignment")
    return make(cls, throttle_time=_ZERO, error_code=ErrorCode.none, error_message=None,
                topics=tuple(topic_cls(name=t, partitions=tuple(ps)) for t, ps in by_topic.items()))
