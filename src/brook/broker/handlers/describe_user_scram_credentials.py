"""DescribeUserScramCredentials (key 50), v0: mechanisms and iterations of stored SCRAM credentials
(ZkAdminManager.describeUserScramCredentials: all users sorted by name, or the ones asked for, in order)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation
from brook.broker.scram import mechanism_id
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import cluster_allowed
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(50, ctx.api_version)
    result_cls, info_cls = nested(cls, "DescribeUserScramCredentialsResult"), nested(cls, "CredentialInfo")
    stored = broker.metadata.scram_credentials

    def result(user: str, error: ErrorCode = ErrorCode.none, message: str | None = None):
        creds = stored.get(user, {}) if error == ErrorCode.none else {}
        infos = tuple(info_cls(mechanism=mechanism_id(name), iterations=c.iterations)
                      for name, c in sorted(creds.items(), key=lambda kv: mechanism_id(kv[0])))
        return result_cls(user=user, error_code=error, error_message=message, credential_infos=infos)

    if not cluster_allowed(broker, ctx, AclOperation.DESCRIBE):
        return make(cls, throttle_time=_ZERO, error_code=ErrorCode.cluster_authorization_failed, error_message=None,
                    results=())
    names = [u.name for u in request.users or ()]
    if not names:
        results = [result(user) for user in sorted(u for u, creds in stored.items() if creds)]
    else:
        results = []
        for user in dict.fromkeys(names):  # each user once, in the order asked
            if user == "":
                results.append(result(user, ErrorCode.resource_not_found, "Username must not be empty"))
            elif names.count(user) > 1:
                results.append(result(user, ErrorCode.duplicate_resource, "Cannot describe SCRAM credentials for "
                                      f"the same user twice in a single request: {user}"))
            elif not stored.get(user):
                results.append(result(user, ErrorCode.resource_not_found, "Attempt to describe a user credential "
                                      f"that does not exist: {user}"))
            else:
                results.append(result(user))
    return make(cls, throttle_time=_ZERO, error_code=ErrorCode.none, error_message=None, results=tuple(results))
