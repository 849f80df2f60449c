"""CreateTopics (key 19), v2-v7: partitions, replication factor, configs, validate-only; v5+ returns the
topic's partitions, replication factor and configs."""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.config.definition import render
from brook.config.topic import TOPIC_CONFIGS, effective_topic_config
from brook.errors import ErrorCode, KafkaError
from brook.protocol.build import make, nested, nested_if_any
from brook.protocol.versions import response_class

from ..authz import cluster_allowed, refused
from . import Request
from .create_partitions import explicit_assignment
from .describe_configs import SOURCE_DEFAULT, SOURCE_DYNAMIC_TOPIC, SOURCE_STATIC_BROKER

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)
_NULL_ID = uuid.UUID(int=0)


def _source(broker: Broker, configs: dict[str, str], name: str) -> int:
    if name in configs:
        return SOURCE_DYNAMIC_TOPIC
    return SOURCE_STATIC_BROKER if broker.config.topic_default(name)[1] is not None else SOURCE_DEFAULT


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(19, ctx.api_version)
    result_cls = nested(cls, "CreatableTopicResult")
    config_cls = nested_if_any(cls, "CreatableTopicConfigs")
    results = []
    seen: dict[str, int] = {}
    for t in request.topics:
        seen[t.name] = seen.get(t.name, 0) + 1
    # KafkaApis: CREATE on the cluster, or else on each topic
    check = broker.authorizer is not None and not cluster_allowed(broker, ctx, AclOperation.CREATE)
    for t in request.topics:
        if check and refused(broker, ctx, AclOperation.CREATE, ResourceType.TOPIC, t.name):
            results.append(make(result_cls, name=t.name, topic_id=_NULL_ID,
                                error_code=ErrorCode.topic_authorization_failed, error_message="Authorization failed.",
                                num_partitions=-1, replication_factor=-1, configs=None))
            continue
        configs = {c.name: c.value for c in t.configs}
        partitions, rf = t.num_partitions, t.replication_factor
        try:
            if seen[t.name] > 1:
                raise KafkaError(ErrorCode.invalid_request, f"Create topics request from client contains "
                                 f"multiple topics with the same name: {t.name}")
            if t.assignments:
                if partitions != -1 or rf != -1:
                    raise KafkaError(ErrorCode.invalid_request, "Both numPartitions or replicationFactor and "
                                     "replicasAssignments were set. Both cannot be used at the same time.")
                partitions = len(t.assignments)
                rf = len(t.assignments[0].broker_ids)
            explicit = explicit_assignment(broker, t.assignments)
            info = broker.admin.create_topic(t.name, partitions, rf, configs, request.validate_only, explicit)
        except KafkaError as e:
            results.append(make(result_cls, name=t.name, topic_id=_NULL_ID, error_code=e.code,
                                error_message=e.message, num_partitions=-1, replication_factor=-1,
                                configs=None))
            continue
        if info is None:  # validate only
            partitions = partitions if partitions != -1 else broker.config.get_int("num.partitions")
            rf = rf if rf != -1 else broker.config.get_int("default.replication.factor")
            topic_id = _NULL_ID
        else:
            partitions, rf, topic_id = info.partitions, info.replication_factor, info.topic_id
        values = effective_topic_config(broker.config, configs)
        cfgs = [] if config_cls is None else [
            config_cls(name=key.name, value=render(values[key.name]), read_only=False,
                       config_source=_source(broker, configs, key.name), is_sensitive=key.sensitive)
            for key in TOPIC_CONFIGS]
        results.append(make(result_cls, name=t.name, topic_id=topic_id, error_code=ErrorCode.none,
                            error_message=None, num_partitions=partitions, replication_factor=rf,
                            configs=tuple(cfgs)))
    return make(cls, throttle_time=_ZERO, topics=tuple(results))
