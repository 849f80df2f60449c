"""AlterClientQuotas (key 49), v0-v1: set or remove quota values of user, client-id, (user, client-id) and IP
entities, each entry on its own, with Kafka's checks and messages (ZkAdminManager.alterClientQuotas)."""

from __future__ import annotations

import datetime
import ipaddress
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from brook.acl import AclOperation
from brook.config.quota import CLIENT_ID, IP, IP_QUOTAS, USER, USER_CLIENT_QUOTAS
from brook.errors import ErrorCode, KafkaError
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import cluster_allowed
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)
_EPSILON = 1e-6


def quota_entity(entity) -> tuple[tuple[str, str | None], ...]:
    """The stored key of a request's entity, after Kafka's checks (parseAndSanitizeQuotaEntity)."""
    if not entity:
        raise KafkaError(ErrorCode.invalid_request, "Invalid empty client quota entity")
    names: dict[str, str | None] = {}
    for e in entity:
        if e.entity_type not in (USER, CLIENT_ID, IP):
            raise KafkaError(ErrorCode.invalid_request, f"Unhandled client quota entity type: {e.entity_type}")
        if e.entity_name == "":
            raise KafkaError(ErrorCode.invalid_request, f"Empty {e.entity_type} not supported")
        names[e.entity_type] = e.entity_name
    if IP in names:
        if len(names) > 1:
            raise KafkaError(ErrorCode.invalid_request, "Invalid quota entity combination, IP entity should not be "
                             "used with user/client ID entity.")
        ip = names[IP]
        if ip is not None:
            try:  # Kafka also accepts a resolvable host name; the broker resolves no names on its event loop
                ipaddress.ip_address(ip)
            except ValueError:
                raise KafkaError(ErrorCode.invalid_request, f"{ip} is not a valid IP or resolvable host.") from None
    return tuple(sorted(names.items()))


def apply_ops(current: Mapping[str, float], ops, table) -> dict[str, float]:
    new = dict(current)
    for op in ops:
        if op.remove:
            new.pop(op.key, None)
            continue
        key = table.keys.get(op.key)
        if key is None:
            raise KafkaError(ErrorCode.invalid_request, f"Invalid configuration key {op.key}")
        value = float(op.value)
        if key.type in ("long", "int"):  # whole numbers only, within Kafka's epsilon
            if not math.isfinite(value):
                raise KafkaError(ErrorCode.invalid_request, f"Configuration {op.key} must be a "
                                 f"{key.type.upper()} value")
            whole = int(value + _EPSILON)
            if abs(whole - value) > _EPSILON:
                raise KafkaError(ErrorCode.invalid_request, f"Configuration {op.key} must be a {key.type.upper()} "
                                 "value")
            value = float(whole)
        if key.validator is not None:
            key.parse(str(int(value)) if key.type in ("long", "int") else str(value))
        new[op.key] = value
    return new


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(49, ctx.api_version)
    entry_cls, entity_cls = nested(cls, "EntryData"), nested(cls, "EntityData")
    quotas = broker.metadata.client_quotas
    results = []
    may_alter = cluster_allowed(broker, ctx, AclOperation.ALTER_CONFIGS)
    for entry in request.entries:
        error, message = ErrorCode.none, None
        try:
            if not may_alter:
                raise KafkaError(ErrorCode.cluster_authorization_failed)
            key = quota_entity(entry.entity)
            table = IP_QUOTAS if key[0][0] == IP else USER_CLIENT_QUOTAS
            new = apply_ops(quotas.get(key, {}), entry.ops, table)
            if not request.validate_only:  # one write per entity (Kafka: its /config/<type>/<name> znode)
                broker.metadata.set_client_quota(key, new)
        except KafkaError as e:
            error, message = e.code, e.message
        except ValueError as e:  # a validator's ConfigError
            error, message = ErrorCode.invalid_config, str(e)
        results.append(entry_cls(error_code=error, error_message=message,
                                 entity=tuple(entity_cls(entity_type=e.entity_type, entity_name=e.entity_name)
                                              for e in entry.entity)))
    return make(cls, throttle_time=_ZERO, entries=tuple(results))
