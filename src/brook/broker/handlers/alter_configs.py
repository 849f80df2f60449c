"""AlterConfigs (key 33), v0-v2: replace a topic's (or the broker's dynamic) config overrides as a whole."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation
from brook.errors import ErrorCode, KafkaError
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import config_refused
from . import Request
from .config_changes import apply_broker_configs, apply_topic_configs

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(33, ctx.api_version)
    resp_cls = nested(cls, "AlterConfigsResourceResponse")
    out = []
    for r in request.resources:
        refused = config_refused(broker, ctx, AclOperation.ALTER_CONFIGS, r.resource_type, r.resource_name)
        if refused is not None:
            out.append(resp_cls(error_code=refused, error_message=None, resource_type=r.resource_type,
                                resource_name=r.resource_name))
            continue
        new = {c.name: c.value for c in r.configs if c.value is not None}
        try:
            if r.resource_type == 2:
                apply_topic_configs(broker, r.resource_name, new, request.validate_only)
            elif r.resource_type == 4:
                apply_broker_configs(broker, r.resource_name, new, request.validate_only)
            else:
                raise KafkaError(ErrorCode.invalid_request, f"Unsupported resource type {r.resource_type}")
            out.append(resp_cls(error_code=ErrorCode.none, error_message=None, resource_type=r.resource_type,
                                resource_name=r.resource_name))
        except KafkaError as e:
            out.append(resp_cls(error_code=e.code, error_message=e.message, resource_type=r.resource_type,
                                resource_name=r.resource_name))
    return make(cls, throttle_time=_ZERO, responses=tuple(out))
