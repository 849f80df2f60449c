"""ElectLeaders (key 43), v0-v2: PREFERRED or UNCLEAN elections on the active controller (cluster/leadership.py),
one result per partition; all partitions when the request names none. ALTER on the cluster. A single broker
(no ZooKeeper) leads every partition as its only replica: no election is ever needed."""

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
    from brook.cluster.controller import Controller

    from ..dispatch import RequestContext
    from ..server import Broker

_ZERO = datetime.timedelta(0)
Results = dict[tuple[str, int], tuple[ErrorCode, str | None]]


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    from brook.cluster import leadership  # a cluster's module (kazoo's): not loaded by a single broker

    cls = response_class(43, ctx.api_version)
    wanted = None if request.topic_partitions is None else [
        (str(t.topic), int(p)) for t in request.topic_partitions for p in t.partitions]
    election_type = int(getattr(request, "election_type", leadership.PREFERRED))
    if not cluster_allowed(broker, ctx, AclOperation.ALTER):
        error = ErrorCode.cluster_authorization_failed
        return _response(cls, error, dict.fromkeys(wanted or [], (error, None)))
    controller = broker.controller
    if controller is None:
        known = [(t.name, p) for t in broker.topics.values() for p in range(t.partitions)]
        targets = known if wanted is None else wanted
        return _response(cls, ErrorCode.none, {
            tp: (ErrorCode.election_not_needed, None) if tp in set(known)
            else (ErrorCode.unknown_topic_or_partition, "The partition does not exist.") for tp in targets})
    return _elect(cls, controller, election_type, wanted)


async def _elect(cls: type, controller: Controller, election_type: int, wanted: list[tuple[str, int]] | None
                 ) -> object:
    from brook.cluster import leadership

    results = await asyncio.get_running_loop().run_in_executor(
        None, leadership.elect_leaders, controller, election_type, wanted)
    return _response(cls, ErrorCode.none, results)


def _response(cls: type, error: ErrorCode, results: Results) -> object:
    by_topic: dict[str, list[object]] = {}
    partition_cls = nested(cls, "PartitionResult")
    for (topic, p), (code, message) in results.items():
        by_topic.setdefault(topic, []).append(partition_cls(partition_id=p, error_code=code, error_message=message))
    result_cls = nested(cls, "ReplicaElectionResult")
    return make(cls, throttle_time=_ZERO, error_code=error, replica_election_results=tuple(
        result_cls(topic=t, partition_result=tuple(ps)) for t, ps in by_topic.items()))
