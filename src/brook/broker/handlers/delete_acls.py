"""DeleteAcls (key 31), v1-v3 (AclApis.handleDeleteAcls): per filter, the ACLs it deleted; needs CLUSTER ALTER;
SECURITY_DISABLED without an authorizer."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import cluster_allowed
from . import Request
from .acl_common import NO_AUTHORIZER, binding_filter

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(31, ctx.api_version)
    result_cls, acl_cls = nested(cls, "DeleteAclsFilterResult"), nested(cls, "DeleteAclsMatchingAcl")

    def all_failed(code: ErrorCode, message: str | None):
        return make(cls, throttle_time=_ZERO, filter_results=tuple(
            result_cls(error_code=code, error_message=message, matching_acls=()) for _ in request.filters))

    if broker.authorizer is None:
        return all_failed(ErrorCode.security_disabled, NO_AUTHORIZER)
    if not cluster_allowed(broker, ctx, AclOperation.ALTER):
        return all_failed(ErrorCode.cluster_authorization_failed, None)
    filters = [binding_filter(f) for f in request.filters]
    if any(f.is_unknown() for f in filters):  # DeleteAclsRequest.validate
        return all_failed(ErrorCode.invalid_request, "Filters contain UNKNOWN elements")
    deleted = broker.authorizer.delete_acls(filters)
    results = tuple(
        result_cls(error_code=ErrorCode.none, error_message=None, matching_acls=tuple(
            make(acl_cls, error_code=ErrorCode.none, error_message=None, resource_type=b.resource_type,
                 resource_name=b.name, pattern_type=b.pattern_type, principal=b.principal, host=b.host,
                 operation=b.operation, permission_type=b.permission) for b in bindings))
        for bindings in deleted)
    return make(cls, throttle_time=_ZERO, filter_results=results)
