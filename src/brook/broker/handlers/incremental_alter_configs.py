"""IncrementalAlterConfigs (key 44), v0-v1: SET (0), DELETE (1), APPEND (2), SUBTRACT (3) per config."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING

from brook.acl import AclOperation
from brook.config.broker import BROKER_CONFIGS
from brook.config.topic import TOPIC_CONFIGS
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
SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3


def _apply_ops(current: Mapping[str, str], ops, table) -> dict[str, str]:
    new = dict(current)
    for op in ops:
        key = table.keys.get(op.name)
        if op.config_operation == SET:
            new[op.name] = op.value
        elif op.config_operation == DELETE:
            new.pop(op.name, None)
        elif op.config_operation in (APPEND, SUBTRACT):
            if key is None or key.type != "list":
                raise KafkaError(ErrorCode.invalid_config,
                                 f"Config value append is not allowed for config key: {op.name}")
            items = [x for x in (new.get(op.name) or ",".join(map(str, key.default or []))).split(",") if x]
            values = [x.strip() for x in (op.value or "").split(",") if x.strip()]
            if op.config_operation == APPEND:
                items += [v for v in values if v not in items]
            else:
                items = [i for i in items if i not in values]
            new[op.name] = ",".join(items)
        else:
            raise KafkaError(ErrorCode.invalid_request, f"Unknown operation type {op.config_operation}")
    return new


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(44, ctx.api_version)
    resp_cls = nested(cls, "AlterConfigsResourceResponse")
    out = []
    for r in request.resources:
        refused = config_refused(broker, ctx, AclOperation.ALTER_CONFIGS, r.resource_type, r.resource_name)
        if refused is not None:
            out.append(resp_cls(error_code=refused, error_message=None, resource_type=r.resource_type,
                                resource_name=r.resource_name))
            continue
        try:
            if r.resource_type == 2:
                info = broker.topics.get(r.resource_name)
                if info is None:
                    raise KafkaError(ErrorCode.unknown_topic_or_partition,
                                     f"Topic '{r.resource_name}' does not exist.")
                new = _apply_ops(info.configs, r.configs, TOPIC_CONFIGS)
                apply_topic_configs(broker, r.resource_name, new, request.validate_only)
            elif r.resource_type == 4:
                current = broker.metadata.broker_configs(int(r.resource_name) if r.resource_name else None) \
                    if r.resource_name in ("", str(broker.broker_id)) else {}
                new = _apply_ops(current, r.configs, BROKER_CONFIGS)
                apply_broker_configs(broker, r.resource_name, new, request.validate_only)
            elif r.resource_type == 8:  # ConfigAdminManager.preprocess: validated first, then applied
                ops = [(op.name, op.config_operation, op.value) for op in r.configs]
                broker.loggers.check_resource_name(r.resource_name, for_describe=False)
                broker.loggers.validate(ops)
                if not request.validate_only:
                    broker.loggers.apply(ops)
            else:
                raise KafkaError(ErrorCode.invalid_request, f"Unsupported resource type {r.resource_type}")
            out.append(resp_cls(error_code=ErrorCode.none, error_message=None, resource_type=r.resource_type,
                                resource_name=r.resource_name))
        except KafkaError as e:
            out.append(resp_cls(error_code=e.code, error_message=e.message, resource_type=r.resource_type,
                                resource_name=r.resource_name))
    return make(cls, throttle_time=_ZERO, responses=tuple(out))
