"""DescribeCluster (key 60), v0-v1: this broker, the cluster id and the controller."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import CLUSTER_NAME, AclOperation, ResourceType
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import NOT_REQUESTED, authorized_operations, cluster_allowed
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)
BROKERS_ENDPOINT = 1
_ENDPOINT_TYPES = {1: "BROKER", 2: "CONTROLLER"}  # EndpointType; any other id is UNKNOWN


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(60, ctx.api_version)
    broker_cls = nested(cls, "DescribeClusterBroker")
    endpoint_type = int(getattr(request, "endpoint_type", BROKERS_ENDPOINT))
    if endpoint_type != BROKERS_ENDPOINT:  # AuthHelper.computeDescribeClusterResponse (v1: v0 has no such field)
        known = endpoint_type in _ENDPOINT_TYPES
        return make(cls, throttle_time=_ZERO, cluster_id="", controller_id=-1, brokers=(),
                    error_code=ErrorCode.mismatched_endpoint_type if known else ErrorCode.unsupported_endpoint_type,
                    error_message=f"The request was sent to an endpoint of type BROKER, but we wanted an endpoint of "
                    f"type {_ENDPOINT_TYPES[endpoint_type]}" if known else f"Unsupported endpoint type {endpoint_type}")
    ops = NOT_REQUESTED
    if request.include_cluster_authorized_operations:  # KafkaApis: 0 unless the client may DESCRIBE the cluster
        ops = authorized_operations(broker, ctx, ResourceType.CLUSTER, CLUSTER_NAME) \
            if cluster_allowed(broker, ctx, AclOperation.DESCRIBE) else 0
    return make(cls, throttle_time=_ZERO, error_code=ErrorCode.none, error_message=None,
                cluster_id=broker.cluster_id, controller_id=broker.controller_id,
                brokers=tuple(broker_cls(broker_id=b.broker_id, host=b.host, port=b.port, rack=b.rack)
                              for b in broker.live_brokers(ctx.connection.listener)),
                cluster_authorized_operations=ops)
