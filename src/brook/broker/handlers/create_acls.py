"""CreateAcls (key 30), v1-v3 (AclApis.handleCreateAcls): needs CLUSTER ALTER; SECURITY_DISABLED without an
authorizer; the CLUSTER resource must be `kafka-cluster` and names must not be empty."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import CLUSTER_NAME, AclOperation, ResourceType
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import cluster_allowed
from . import Request
from .acl_common import NO_AUTHORIZER, binding, binding_error

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(30, ctx.api_version)
    result_cls = nested(cls, "AclCreationResult")

    def respond(results):
        return make(cls, throttle_time=_ZERO, results=tuple(
            result_cls(error_code=code, error_message=message) for code, message in results))

    n = len(request.creations)
    if broker.authorizer is None:
        return respond([(ErrorCode.security_disabled, NO_AUTHORIZER)] * n)
    if not cluster_allowed(broker, ctx, AclOperation.ALTER):
        return respond([(ErrorCode.cluster_authorization_failed, None)] * n)
    results: list[tuple[ErrorCode, str | None] | None] = []
    valid = []
    for c in request.creations:
        b = binding(c)
        problem = binding_error(b)
        if problem is None and b.resource_type == ResourceType.CLUSTER and b.name != CLUSTER_NAME:
            problem = f"The only valid name for the CLUSTER resource is {CLUSTER_NAME}"
        elif problem is None and not b.name:
            problem = "Invalid empty resource name"
        if problem is not None:
            results.append((ErrorCode.invalid_request, problem))
        else:
            results.append(None)
            valid.append(b)
    created = iter(broker.authorizer.create_acls(valid))
    out = []
    for r in results:
        if r is None:
            message = next(created)
            r = (ErrorCode.none, None) if message is None else (ErrorCode.invalid_request, message)
        out.append(r)
    return respond(out)
