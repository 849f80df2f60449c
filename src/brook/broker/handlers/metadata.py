"""Metadata (key 3), v0-v12: brokers, cluster id, controller, topics by name or (v10+) id, auto-creation."""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING

from brook.acl import CLUSTER_NAME, AclOperation, ResourceType
from brook.errors import ErrorCode, KafkaError
from brook.protocol.build import has_field, make, nested
from brook.protocol.versions import response_class

from ..authz import NOT_REQUESTED, allowed, authorized_operations, cluster_allowed, denied
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)
_NULL_ID = uuid.UUID(int=0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(3, ctx.api_version)
    topic_cls = nested(cls, "MetadataResponseTopic")
    part_cls = nested(cls, "MetadataResponsePartition")
    broker_cls = nested(cls, "MetadataResponseBroker")
    # v0: an empty list means all topics; v1+: null means all, empty means none.
    all_topics = request.topics is None or (ctx.api_version == 0 and not request.topics)
    auto_create = getattr(request, "allow_auto_topic_creation", True)
    if not all_topics and ctx.api_version < 12 and any(t.name is None for t in request.topics):
        # Kafka: "Topic name can not be null for version N" (InvalidRequestException), answered by
        # MetadataRequest.getErrorResponse: every topic INVALID_REQUEST, a null name as "", no brokers.
        return make(cls, throttle_time=_ZERO, brokers=(), cluster_id=None, controller_id=-1,
                    topics=tuple(make(topic_cls, error_code=ErrorCode.invalid_request, name=t.name or "",
                                      topic_id=getattr(t, "topic_id", None) or _NULL_ID, is_internal=False,
                                      partitions=()) for t in request.topics))
    topics = []
    if all_topics:
        wanted = [(info.name, None) for info in broker.topics.values()]
    else:
        wanted = []
        for t in request.topics:
            tid = getattr(t, "topic_id", None)
            if t.name is None and tid is not None and tid != _NULL_ID:
                info = broker.topics.by_id.get(tid)
                if info is None:
                    topics.append(make(topic_cls, error_code=ErrorCode.unknown_topic_id, name=None, topic_id=tid,
                                       is_internal=False, partitions=()))
                    continue
                wanted.append((info.name, tid))
            else:
                wanted.append((t.name, None))
    auth = broker.authorizer is not None
    if auth:  # KafkaApis: every topic needs DESCRIBE; "all topics" lists only those, named ones fail
        refused = denied(broker, ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, (n for n, _ in wanted))
        if all_topics:
            wanted = [w for w in wanted if w[0] not in refused]
        may_create = cluster_allowed(broker, ctx, AclOperation.CREATE)
    want_ops = getattr(request, "include_topic_authorized_operations", False)
    view = broker.partition_viewer()
    for name, tid in wanted:
        info = broker.topics.get(name)
        error = ErrorCode.none
        if auth and name in refused:  # asked by id: the id is not secret, the name is (KafkaApis)
            topics.append(make(topic_cls, error_code=ErrorCode.topic_authorization_failed,
                               name=None if tid else name, topic_id=tid or _NULL_ID, is_internal=False,
                               partitions=()))
            continue
        ops = authorized_operations(broker, ctx, ResourceType.TOPIC, name) if want_ops else NOT_REQUESTED
        if info is None and not all_topics:
            if auto_create and auth and broker.config.get_bool("auto.create.topics.enable") and not may_create \
                    and not allowed(broker, ctx, AclOperation.CREATE, ResourceType.TOPIC, name):
                error = ErrorCode.topic_authorization_failed  # auto-creation needs CREATE (cluster or topic)
            elif auto_create:
                try:
                    info = broker.admin.maybe_auto_create(name)
                except KafkaError as e:
                    error = e.code
            if info is None and error == ErrorCode.none:
                error = ErrorCode.unknown_topic_or_partition
        if info is None:
            topics.append(make(topic_cls, error_code=error, name=name, topic_id=_NULL_ID, is_internal=False,
                               partitions=(), topic_authorized_operations=ops))
            continue
        # the store's replica assignment with each partition's leader, epoch, ISR and offline replicas
        parts = tuple(make(part_cls, error_code=err, partition_index=p, leader_id=leader, leader_epoch=epoch,
                           replica_nodes=replicas, isr_nodes=isr, offline_replicas=offline)
                      for p, replicas in enumerate(info.assignment)
                      for err, leader, epoch, isr, offline in (view(info.name, p, replicas),))
        topics.append(make(topic_cls, error_code=ErrorCode.none, name=info.name, topic_id=info.topic_id,
                           is_internal=info.internal, partitions=parts, topic_authorized_operations=ops))
    brokers = tuple(make(broker_cls, node_id=b.broker_id, host=b.host, port=b.port, rack=b.rack)
                    for b in broker.live_brokers(ctx.connection.listener))
    fields = dict(throttle_time=_ZERO, brokers=brokers, cluster_id=broker.cluster_id,
                  controller_id=broker.controller_id, topics=tuple(topics))
    if has_field(cls, "cluster_authorized_operations"):
        fields["cluster_authorized_operations"] = NOT_REQUESTED
        if getattr(request, "include_cluster_authorized_operations", False):
            fields["cluster_authorized_operations"] = authorized_operations(
                broker, ctx, ResourceType.CLUSTER, CLUSTER_NAME) \
                if cluster_allowed(broker, ctx, AclOperation.DESCRIBE) \
                else 0
    return make(cls, **fields)
