"""The broker's side of authorization: the configured Authorizer (or None) and the checks handlers make.

Handlers test `broker.authorizer is not None` once per request before calling these, so a broker without
an authorizer pays one attribute check per request."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from brook.acl import CLUSTER_NAME, SUPPORTED_OPERATIONS, AclOperation, ResourceType, bitfield
from brook.errors import ErrorCode
from brook.protocol.versions import api_name

from .authorizer import Authorizer, parse_super_users

if TYPE_CHECKING:
    from brook.config.broker import BrokerConfig
    from brook.metadata import MetadataStore

    from .dispatch import RequestContext
    from .server import Broker

NOT_REQUESTED = -2147483648  # authorized operations a client did not ask for (Int.MinValue)
audit = logging.getLogger("kafka.authorizer.logger")


def authorizer_from_config(config: BrokerConfig, store: MetadataStore) -> Authorizer | None:
    if not config.get_str("authorizer.class.name"):
        return None
    return Authorizer(parse_super_users(config.get_str("super.users")),
                      config.get_bool("allow.everyone.if.no.acl.found"), store=store)


def allowed(broker: Broker, ctx: RequestContext, operation: AclOperation, resource_type: ResourceType,
            name: str) -> bool:
    """Whether this request's principal (its SASL user or certificate DN; User:ANONYMOUS otherwise) may do
    `operation`. Denials are audited at INFO, grants at DEBUG, in AclAuthorizer.logAuditMessage's words."""
    authorizer = broker.authorizer
    if authorizer is None:
        return True
    conn = ctx.connection
    ok = authorizer.authorize(conn.principal, conn.host, operation, resource_type, name)
    if audit.isEnabledFor(logging.DEBUG if ok else logging.INFO):
        audit.log(logging.DEBUG if ok else logging.INFO, "Principal = %s is %s Operation = %s from host = %s on "
                  "resource = %s:LITERAL:%s for request = %s with resourceRefCount = 1", conn.principal,
                  "Allowed" if ok else "Denied", _camel(operation.name), conn.host, _camel(resource_type.name), name,
                  _camel(api_name(ctx.api_key)))
    return ok


def _camel(name: str) -> str:
    """TRANSACTIONAL_ID / describe_configs -> TransactionalId / DescribeConfigs (SecurityUtils' names)."""
    return "".join(w.capitalize() for w in name.lower().split("_"))


def cluster_allowed(broker: Broker, ctx: RequestContext, operation: AclOperation) -> bool:
    return broker.authorizer is None or allowed(broker, ctx, operation, ResourceType.CLUSTER, CLUSTER_NAME)


def authorized_operations(broker: Broker, ctx: RequestContext, resource_type: ResourceType, name: str) -> int:
    """AuthHelper.authorizedOperations: without an authorizer, every operation the resource type supports."""
    supported = SUPPORTED_OPERATIONS[resource_type]
    authorizer = broker.authorizer
    if authorizer is None:
        return bitfield(list(supported))
    return bitfield(authorizer.authorized_operations(ctx.connection.principal, ctx.connection.host, resource_type,
                                                     name, supported))


def denied(broker: Broker, ctx: RequestContext, operation: AclOperation, resource_type: ResourceType,
           names: Iterable[str | None]) -> set[str]:
    """The names among `names` this request may not `operation` on (empty without an authorizer)."""
    if broker.authorizer is None:
        return set()
    return {n for n in set(names) if n is not None and not allowed(broker, ctx, operation, resource_type, n)}


def refused(broker: Broker, ctx: RequestContext, operation: AclOperation, resource_type: ResourceType,
            name: str) -> bool:
    """True when an authorizer is configured and does not allow this request `operation` on the resource."""
    return broker.authorizer is not None and not allowed(broker, ctx, operation, resource_type, name)


def config_refused(broker: Broker, ctx: RequestContext, operation: AclOperation, config_resource_type: int,
                   name: str) -> ErrorCode | None:
    """For the config APIs: topics (2) need `operation` on the topic, brokers (4) and broker loggers (8) on the
    cluster; the authorization error to answer, or None."""
    if broker.authorizer is None:
        return None
    if config_resource_type == 2:
        return ErrorCode.topic_authorization_failed \
            if not allowed(broker, ctx, operation, ResourceType.TOPIC, name) else None
    if config_resource_type in (4, 8):
        return ErrorCode.cluster_authorization_failed \
            if not allowed(broker, ctx, operation, ResourceType.CLUSTER, CLUSTER_NAME) else None
    return None
