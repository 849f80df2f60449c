"""DescribeAcls (key 29), v1-v3 (AclApis.handleDescribeAcls): the ACLs a filter matches, grouped by resource
pattern; needs CLUSTER DESCRIBE; SECURITY_DISABLED without an authorizer."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import cluster_allowed
from . import Request
from .acl_common import binding_filter

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(29, ctx.api_version)
    resource_cls, acl_cls = nested(cls, "DescribeAclsResource"), nested(cls, "AclDescription")

    def error(code: ErrorCode, message: str | None):
        return make(cls, throttle_time=_ZERO, error_code=code, error_message=message, resources=())

    if broker.authorizer is None:
        return error(ErrorCode.security_disabled, "No Authorizer is configured on the broker")
    if not cluster_allowed(broker, ctx, AclOperation.DESCRIBE):
        return error(ErrorCode.cluster_authorization_failed, None)
    flt = binding_filter(request)
    if flt.is_unknown():  # DescribeAclsRequest.validate (Kafka cannot parse the request and drops the connection)
        return error(ErrorCode.invalid_request, "Filter contain UNKNOWN elements")
    grouped: dict[tuple, list] = {}
    for b in broker.authorizer.acls(flt):
        grouped.setdefault(b.pattern, []).append(b)
    resources = tuple(
        make(resource_cls, resource_type=rtype, resource_name=name, pattern_type=ptype,
             acls=tuple(acl_cls(principal=b.principal, host=b.host, operation=b.operation,
                                permission_type=b.permission) for b in acls))
        for (rtype, name, ptype), acls in grouped.items())
    return make(cls, throttle_time=_ZERO, error_code=ErrorCode.none, error_message=None, resources=resources)
