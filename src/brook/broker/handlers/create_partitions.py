"""CreatePartitions (key 37), v0-v3: grow a topic's partition count (never shrink)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from brook.acl import AclOperation, ResourceType
from brook.errors import ErrorCode, KafkaError
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import refused
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(37, ctx.api_version)
    result_cls = nested(cls, "CreatePartitionsTopicResult")
    results = []
    for t in request.topics:
        if refused(broker, ctx, AclOperation.ALTER, ResourceType.TOPIC, t.name):
            results.append(result_cls(name=t.name, error_code=ErrorCode.topic_authorization_failed,
                                      error_message="The topic authorization is failed."))
            continue
        try:
            explicit = explicit_assignment(broker, t.assignments)
            broker.admin.add_partitions(t.name, t.count, request.validate_only, explicit)
            results.append(result_cls(name=t.name, error_code=ErrorCode.none, error_message=None))
        except KafkaError as e:
            results.append(result_cls(name=t.name, error_code=e.code, error_message=e.message))
    return make(cls, throttle_time=_ZERO, results=tuple(results))


def explicit_assignment(broker: Broker, assignments: Sequence[Any]) -> list[list[int]] | None:
    """A request's replica assignment (None without one), its brokers checked against the live ones."""
    if not assignments:
        return None
    live = {b.broker_id for b in broker.live_brokers()}
    out = [list(a.broker_ids) for a in assignments]
    for replicas in out:
        if any(b not in live for b in replicas):
            raise KafkaError(ErrorCode.invalid_replica_assignment,
                             f"Unknown broker(s) in replica assignment: {replicas}.")
    return out
