"""ControlledShutdown (key 7), v3: a broker about to stop asks the active controller to move its leadership away
(cluster/leadership.py); the answer names the partitions it still leads. CLUSTER_ACTION on the cluster, as
Kafka's inter-broker requests."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from brook.acl import AclOperation
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import cluster_allowed
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(7, ctx.api_version)
    if not cluster_allowed(broker, ctx, AclOperation.CLUSTER_ACTION):
        return make(cls, error_code=ErrorCode.cluster_authorization_failed, remaining_partitions=())
    controller = broker.controller
    if controller is None or not controller.is_active:
        return make(cls, error_code=ErrorCode.not_controller, remaining_partitions=())
    return _answer(broker, cls, int(request.broker_id), int(request.broker_epoch))


async def _answer(broker: Broker, cls: type, broker_id: int, broker_epoch: int) -> object:
    from brook.cluster import leadership  # a cluster's module (kazoo's): not loaded by a single broker

    assert broker.controller is not None
    code, remaining = await asyncio.get_running_loop().run_in_executor(
        None, leadership.controlled_shutdown, broker.controller, broker_id, broker_epoch)
    partition_cls = nested(cls, "RemainingPartition")
    return make(cls, error_code=code, remaining_partitions=tuple(
        partition_cls(topic_name=t, partition_index=p) for t, p in remaining))
