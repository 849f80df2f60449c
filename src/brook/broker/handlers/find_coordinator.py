"""FindCoordinator (key 10), v0-v6; v4+ batches. A single broker coordinates every group and transactional id;
in a cluster a group's coordinator is the leader of its __consumer_offsets partition, a transactional id's the
leader of its __transaction_state partition (COORDINATOR_NOT_AVAILABLE while it has none, or while the topic
cannot be created: too few live brokers for its replication factor)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.errors import ErrorCode, KafkaError
from brook.internal_topics import OFFSETS_TOPIC, TRANSACTION_TOPIC
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import allowed
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)
GROUP, TRANSACTION = 0, 1


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(10, ctx.api_version)
    adv = broker.advertised_for(ctx.connection.listener)
    key_type = getattr(request, "key_type", GROUP)
    if key_type not in (GROUP, TRANSACTION):
        error, message = ErrorCode.invalid_request, f"Invalid coordinator key type {key_type}"
    else:
        error, message = ErrorCode.none, None
        try:
            (broker.groups if key_type == GROUP else broker.txns).ensure_topic()
        except KafkaError as e:  # too few brokers for the topic's replication factor
            error, message = ErrorCode.coordinator_not_available, e.message
    node, host, port = (broker.broker_id, adv.host, adv.port) if error == ErrorCode.none else (-1, "", -1)
    listener = ctx.connection.listener
    find = _group_leader if key_type == GROUP else _txn_leader
    locate = (lambda broker, key: find(broker, key, listener)) \
        if error == ErrorCode.none and broker.replication is not None \
        else lambda broker, key: (error, message, node, host, port)
    if ctx.api_version >= 4:
        coord_cls = nested(cls, "Coordinator")
        answers = [(k, *_authorized(broker, ctx, key_type, k, *locate(broker, k))) for k in request.coordinator_keys]
        return make(cls, throttle_time=_ZERO, coordinators=tuple(
            coord_cls(key=k, node_id=n, host=h, port=p, error_code=e, error_message=m) for k, e, m, n, h, p in answers))
    error, message, node, host, port = _authorized(broker, ctx, key_type, request.key, *locate(broker, request.key))
    return make(cls, throttle_time=_ZERO, error_code=error, error_message=message, node_id=node, host=host,
                port=port)


def _group_leader(broker: Broker, group_id: str, listener: str):
    return _leader(broker, OFFSETS_TOPIC, broker.groups.partition_for(group_id), listener)


def _txn_leader(broker: Broker, txn_id: str, listener: str):
    return _leader(broker, TRANSACTION_TOPIC, broker.txns.partition_for(txn_id), listener)


def _leader(broker: Broker, topic: str, partition: int, listener: str):
    """The live leader of the coordinator's partition, from the partition states, at its endpoint on the client's
    listener (MetadataCache.getAliveBrokerNode(id, listenerName): none there, no coordinator)."""
    assert broker.replication is not None and broker.cluster is not None
    state = broker.replication.states.get(topic, partition)
    live = broker.cluster.live.get(state.leader) if state is not None else None
    endpoint = live.on(listener) if live is not None else None
    if endpoint is None:
        return ErrorCode.coordinator_not_available, None, -1, "", -1
    return ErrorCode.none, None, endpoint.broker_id, endpoint.host, endpoint.port


def _authorized(broker: Broker, ctx: RequestContext, key_type, key, error, message, node, host, port):
    """KafkaApis: DESCRIBE on the group or transactional id, else its authorization error and no coordinator."""
    if error == ErrorCode.none and broker.authorizer is not None:
        rtype = ResourceType.GROUP if key_type == GROUP else ResourceType.TRANSACTIONAL_ID
        if not allowed(broker, ctx, AclOperation.DESCRIBE, rtype, key):
            code = ErrorCode.group_authorization_failed if key_type == GROUP else \
                ErrorCode.transactional_id_authorization_failed
            return code, None, -1, "", -1
    return error, message, node, host, port
