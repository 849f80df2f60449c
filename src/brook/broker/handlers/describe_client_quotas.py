"""DescribeClientQuotas (key 48), v0-v1: the stored quotas of the entities a filter selects (Kafka's
ZkAdminManager.describeClientQuotas: user / client-id entities and their pairs, or IP entities, never both)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING

from brook.acl import AclOperation
from brook.config.quota import CLIENT_ID, IP, USER
from brook.errors import ErrorCode, KafkaError
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import cluster_allowed
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)
EXACT, DEFAULT, ANY = 0, 1, 2  # ComponentData.match_type
_UNSET = object()  # a component the filter does not have


def _components(request: Request) -> dict[str, object]:
    """Entity type -> wanted name (None: the default entity, ANY: any named or default entity)."""
    wanted: dict[str, object] = {}
    for c in request.components:
        if c.entity_type in wanted:
            what = "client" if c.entity_type == CLIENT_ID else c.entity_type
            raise KafkaError(ErrorCode.invalid_request, f"Duplicate {what} filter component entity type")
        if c.entity_type == "":
            raise KafkaError(ErrorCode.invalid_request, "Unexpected empty filter component entity type")
        if c.entity_type not in (USER, CLIENT_ID, IP):
            raise KafkaError(ErrorCode.unsupported_version, f"Custom entity type '{c.entity_type}' not supported")
        if c.match_type == EXACT:
            wanted[c.entity_type] = c.match
        elif c.match_type == DEFAULT:
            wanted[c.entity_type] = None
        elif c.match_type == ANY:
            wanted[c.entity_type] = ANY
        else:
            raise KafkaError(ErrorCode.invalid_request, f"Unexpected match type {c.match_type}")
    if IP in wanted and (USER in wanted or CLIENT_ID in wanted):
        raise KafkaError(ErrorCode.invalid_request, "Invalid entity filter component combination, IP filter "
                         "component should not be used with user or clientId filter component.")
    return wanted


def matching(quotas: Mapping, wanted: dict[str, object], strict: bool) -> list:
    """The stored (entity, values) pairs the filter selects."""
    out = []
    for entity, values in quotas.items():
        names = dict(entity)
        if not values:
            continue
        if IP in names and not (IP in wanted or (not wanted and not strict)):
            continue  # IP entities only for an IP component, or for an empty lenient filter
        if IP not in names and IP in wanted:
            continue
        ok = True
        for entity_type in (USER, CLIENT_ID, IP):
            want, have = wanted.get(entity_type, _UNSET), names.get(entity_type, _UNSET)
            if want is _UNSET:
                ok = ok and (have is _UNSET or not strict)
            elif want is ANY:
                ok = ok and have is not _UNSET
            else:
                ok = ok and have is not _UNSET and have == want
        if ok:
            out.append((entity, values))
    return out


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(48, ctx.api_version)
    entry_cls, entity_cls, value_cls = (nested(cls, n) for n in ("EntryData", "EntityData", "ValueData"))
    if not cluster_allowed(broker, ctx, AclOperation.DESCRIBE_CONFIGS):
        return make(cls, throttle_time=_ZERO, error_code=ErrorCode.cluster_authorization_failed, error_message=None,
                    entries=None)
    try:
        selected = matching(broker.metadata.client_quotas, _components(request), request.strict)
    except KafkaError as e:
        return make(cls, throttle_time=_ZERO, error_code=e.code, error_message=e.message, entries=None)
    entries = tuple(entry_cls(entity=tuple(entity_cls(entity_type=t, entity_name=n) for t, n in entity),
                              values=tuple(value_cls(key=k, value=float(v)) for k, v in values.items()))
                    for entity, values in selected)
    return make(cls, throttle_time=_ZERO, error_code=ErrorCode.none, error_message=None, entries=entries)
