"""AlterUserScramCredentials (key 51), v0: upsert and delete SCRAM credentials, user by user, with Kafka's
checks in Kafka's order (ZkAdminManager.alterUserScramCredentials): bad requests, duplicates, deletions of
credentials that do not exist; every other user's changes are written, one store write per user."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation
from brook.broker.scram import MAX_ITERATIONS, MECHANISMS, MIN_ITERATIONS, credential
from brook.errors import ErrorCode
from brook.metadata import ScramCredential
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import cluster_allowed
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)
UNKNOWN_MECHANISM, EMPTY_USER = "Unknown SCRAM mechanism", "Username must not be empty"


def _illegal(request: Request) -> dict[str, str]:
    """User -> message of the first problem found (deletions first, then upsertions, later ones winning)."""
    bad: dict[str, str] = {}
    for d in request.deletions:
        if d.name == "" or d.mechanism not in MECHANISMS:
            bad[d.name] = EMPTY_USER if d.name == "" else UNKNOWN_MECHANISM
    for u in request.upsertions:
        if u.name == "":
            bad[u.name] = EMPTY_USER
        elif u.mechanism not in MECHANISMS:
            bad[u.name] = UNKNOWN_MECHANISM
        elif u.iterations > MAX_ITERATIONS:
            bad[u.name] = "Too many iterations"
        elif u.iterations < MIN_ITERATIONS:
            bad[u.name] = "Too few iterations"
    return bad


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(51, ctx.api_version)
    result_cls = nested(cls, "AlterUserScramCredentialsResult")
    stored = broker.metadata.scram_credentials
    results = []
    if not cluster_allowed(broker, ctx, AclOperation.ALTER):
        users = dict.fromkeys(x.name for x in (*request.deletions, *request.upsertions))
        return make(cls, throttle_time=_ZERO, results=tuple(
            result_cls(user=u, error_code=ErrorCode.cluster_authorization_failed, error_message=None) for u in users))
    illegal = _illegal(request)
    for user, message in illegal.items():
        code = ErrorCode.unsupported_sasl_mechanism if message == UNKNOWN_MECHANISM else \
            ErrorCode.unacceptable_credential
        results.append(result_cls(user=user, error_code=code, error_message=message))
    pairs = [(x.name, x.mechanism) for x in (*request.upsertions, *request.deletions) if x.name not in illegal]
    duplicated = list(dict.fromkeys(user for user, mech in pairs if pairs.count((user, mech)) > 1))
    for user in duplicated:
        results.append(result_cls(user=user, error_code=ErrorCode.duplicate_resource,
                                  error_message="A user credential cannot be altered twice in the same request"))
    candidates = list(dict.fromkeys(user for user, _ in pairs if user not in duplicated))
    missing = list(dict.fromkeys(d.name for d in request.deletions if d.name in candidates
                                 and MECHANISMS[d.mechanism][0] not in stored.get(d.name, {})))
    for user in missing:
        results.append(result_cls(user=user, error_code=ErrorCode.resource_not_found,
                                  error_message="Attempt to delete a user credential that does not exist"))
    altered = [user for user in candidates if user not in missing]
    changes: dict[str, dict[str, ScramCredential]] = {user: dict(stored.get(user, {})) for user in altered}
    for d in request.deletions:
        if d.name in changes:
            changes[d.name].pop(MECHANISMS[d.mechanism][0], None)
    for u in request.upsertions:
        if u.name in changes:
            changes[u.name][MECHANISMS[u.mechanism][0]] = credential(u.mechanism, u.salt, u.salted_password,
                                                                     u.iterations)
    for user, credentials in changes.items():  # one write per user (Kafka: its /config/users/<user>)
        broker.metadata.set_scram_credentials(user, credentials)
        results.append(result_cls(user=user, error_code=ErrorCode.none, error_message=None))
    return make(cls, throttle_time=_ZERO, results=tuple(results))
