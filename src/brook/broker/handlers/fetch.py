"""Fetch (key 1), v4-v17: byte ranges of segment files, min/max bytes, max wait, per-partition limits,
isolation level, topic ids (v13+), fetch sessions (v7+, KIP-227), the client's leader epoch (v9+, KIP-320:
FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH) and a follower's last fetched epoch (v12+: the diverging epoch).

A fetch with a replica id (v15+: in ReplicaState) is a follower's: it reads up to the leader's log end, and its
fetch offset is the follower's log end offset (ReplicaManager.follower_fetched: the high watermark, the ISR);
consumers read below the high watermark (the last stable offset for read_committed), from the leader only."""

from __future__ import annotations

import asyncio
import datetime
import time
import uuid
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.errors import ErrorCode, KafkaError
from brook.protocol.build import make, nested
from brook.protocol.header import encode_response
from brook.protocol.versions import response_class

from ..authz import cluster_allowed, denied
from ..fetch_sessions import FINAL_EPOCH, INITIAL_EPOCH, FetchSession, SessionPartition
from ..fetch_templates import templated
from ..quotas import FETCH
from ..replica_selector import preferred_read_replica, rack_aware
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)
READ_COMMITTED = 1
_NULL_ID = uuid.UUID(int=0)
_DIVERGING, _LEADER, _PREFERRED = 0, 1, 2  # what a result's extra part holds
# Kafka's Request.DebuggingConsumerId (kafka-replica-verification): a consumer that may read a follower's replica
DEBUGGING_CONSUMER_ID = -2
# error, high watermark, last stable offset, log start offset, records, aborted transactions (producer id, first
# offset) or None, extra part ((_DIVERGING, epoch, end offset) or (_LEADER, leader id, leader epoch)) or None
_Result = tuple[ErrorCode, int, int, int, bytes, tuple[tuple[int, int], ...] | None, tuple[int, ...] | None]
# a partition of the response: topic, partition, then its _Result
Row = tuple[str, int, ErrorCode, int, int, int, bytes, tuple[tuple[int, int], ...] | None, tuple[int, ...] | None]


class _Plan:
    """The partitions one fetch reads, in order, with their offsets and limits."""

    __slots__ = ("items", "ids", "session", "incremental", "denied", "replica_id", "from_any_replica", "rack")

    def __init__(self) -> None:
        # topic, partition, fetch offset, max bytes, current leader epoch, last fetched epoch
        self.items: list[tuple[str, int, int, int, int, int]] = []
        self.ids: dict[str, uuid.UUID] = {}
        self.session: FetchSession | None = None
        self.incremental = False
        self.denied: frozenset[str] = frozenset()  # topics this client may not READ (authorizer only)
        self.replica_id = -1  # a follower's broker id
        self.from_any_replica = False  # a consumer's v11+ fetch (ClientMetadata): a follower may answer it
        self.rack = ""  # that consumer's client.rack, when the leader picks replicas by rack (KIP-392)


def _topic_name(broker: Broker, ctx: RequestContext, t) -> str | None:
    if ctx.api_version >= 13:
        info = broker.topics.by_id.get(t.topic_id)
        return info.name if info else None
    return t.topic


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(1, ctx.api_version)
    plan = _Plan()
    unknown_ids: list[tuple[uuid.UUID, int]] = []
    session_id = getattr(request, "session_id", 0)
    epoch = getattr(request, "session_epoch", FINAL_EPOCH)
    sessions = broker.fetch_sessions
    requested: list[tuple[str, int, int, int, int, int]] = []
    epochs = ctx.api_version >= 9
    for t in request.topics:
        name = _topic_name(broker, ctx, t)
        if name is None:
            unknown_ids.extend((t.topic_id, p.partition) for p in t.partitions)
            continue
        if ctx.api_version >= 13:
            plan.ids[name] = t.topic_id
        for p in t.partitions:
            requested.append((name, p.partition, p.fetch_offset, p.partition_max_bytes,
                              p.current_leader_epoch if epochs else -1, getattr(p, "last_fetched_epoch", -1)))

    if epoch == FINAL_EPOCH or ctx.api_version < 7:
        if session_id:
            sessions.remove(session_id)
        plan.items = requested
    elif epoch == INITIAL_EPOCH:
        if session_id:
            sessions.remove(session_id)
        plan.session = sessions.create()
        for name, p, off, mb, cur, last in requested:
            plan.session.partitions[(name, p)] = SessionPartition(off, mb, cur, last)
        plan.items = requested
    else:
        session = sessions.get(session_id)
        if session is None:
            return _top_error(cls, ErrorCode.fetch_session_id_not_found, 0)
        if session.epoch != epoch:
            return _top_error(cls, ErrorCode.invalid_fetch_session_epoch, 0)
        for name, p, off, mb, cur, last in requested:
            sp = session.partitions.get((name, p))
            if sp is None:
                session.partitions[(name, p)] = SessionPartition(off, mb, cur, last)
            else:
                sp.fetch_offset, sp.max_bytes, sp.current_leader_epoch, sp.last_fetched_epoch = off, mb, cur, last
        for ft in request.forgotten_topics_data or ():
            fname = ft.topic if ctx.api_version < 13 else getattr(broker.topics.by_id.get(ft.topic_id), "name", None)
            if fname is None:  # a topic id no longer known: nothing of it is in the session
                continue
            for p in ft.partitions:
                session.partitions.pop((fname, p), None)
        session.epoch += 1
        plan.session = session
        plan.incremental = True
        plan.items = [(n, p, sp.fetch_offset, sp.max_bytes, sp.current_leader_epoch, sp.last_fetched_epoch)
                      for (n, p), sp in session.partitions.items()]
        for name in {item[0] for item in plan.items}:
            info = broker.topics.get(name)
            if info is not None:
                plan.ids.setdefault(name, info.topic_id)

    plan.replica_id = request.replica_state.replica_id if ctx.api_version >= 15 else request.replica_id
    if ctx.api_version >= 11 and plan.replica_id == -1:
        plan.from_any_replica = True
        if request.rack_id and rack_aware(broker.config):
            plan.rack = request.rack_id
    if broker.authorizer is not None:
        if plan.replica_id >= 0:  # KafkaApis: a follower needs CLUSTER_ACTION, else every partition is refused
            if not cluster_allowed(broker, ctx, AclOperation.CLUSTER_ACTION):
                plan.denied = frozenset(n for n, *_ in plan.items)
        else:
            plan.denied = frozenset(denied(broker, ctx, AclOperation.READ, ResourceType.TOPIC,
                                           (n for n, *_ in plan.items)))
    results, total, errors = _read(broker, plan, request.max_bytes, request.isolation_level)
    wait_ms = request.max_wait.total_seconds() * 1000
    if total >= request.min_bytes or wait_ms <= 0 or errors or not plan.items:
        return _response(broker, ctx, cls, plan, results, unknown_ids)
    return _delayed(broker, ctx, cls, plan, request, wait_ms / 1000, unknown_ids)


async def _delayed(broker: Broker, ctx: RequestContext, cls, plan, request: Request, timeout, unknown_ids):
    tps = [(item[0], item[1]) for item in plan.items]
    fut = broker.replicas.wait_for_data(tps)
    # a timer that ends the wait, not asyncio.wait_for (a waiter future and a task step more per delayed fetch)
    timer = asyncio.get_running_loop().call_later(timeout, _end_wait, fut)
    try:
        await fut
    finally:
        timer.cancel()
        broker.replicas.forget(tps, fut)
    results, _, _ = _read(broker, plan, request.max_bytes, request.isolation_level)
    return _response(broker, ctx, cls, plan, results, unknown_ids)


def _end_wait(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(None)


def _read(broker: Broker, plan, max_bytes, isolation_level):
    """Read every planned partition; returns (per-partition results, bytes read, whether to answer at once: an
    error, or a preferred read replica)."""
    results: list[_Result] = []
    total = 0
    errors = False
    partitions = broker.replicas.partitions
    denied = plan.denied
    replica_id = plan.replica_id
    any_replica = plan.from_any_replica or replica_id == DEBUGGING_CONSUMER_ID
    racks = {b.broker_id: b.rack for b in broker.live_brokers()} if plan.rack else None
    for name, p, offset, part_max, current_epoch, last_epoch in plan.items:
        if denied and name in denied:
            results.append((ErrorCode.topic_authorization_failed, -1, -1, -1, b"", None, None))
            errors = True
            continue
        part = partitions.get((name, p))
        if part is None:
            results.append((broker.replicas.missing_error(name, p), -1, -1, -1, b"", None, None))
            errors = True
            continue
        if current_epoch >= 0 and current_epoch != part.leader_epoch:  # Kafka: -1 for every offset then
            err = part.check_leader_epoch(current_epoch)
            results.append((err, -1, -1, -1, b"", None, (_LEADER, part.leader_id, part.leader_epoch)
                            if err == ErrorCode.fenced_leader_epoch else None))
            errors = True
            continue
        if part.leader_id != part.broker_id and not (any_replica and part.leader_id >= 0):
            results.append((ErrorCode.not_leader_or_follower, -1, -1, -1, b"", None, None))
            errors = True
            continue
        lg = part.log
        if racks is not None and part.leader_id == part.broker_id:
            preferred = preferred_read_replica(part, offset, plan.rack, racks, int(time.time() * 1000))
            if preferred >= 0:  # no records: the consumer reads from the replica in its rack
                results.append((ErrorCode.none, lg.high_watermark, lg.last_stable_offset, lg.log_start_offset, b"",
                                None, (_PREFERRED, preferred, 0)))
                errors = True  # answered at once, as Kafka's hasPreferredReadReplica
                continue
        try:
            if last_epoch >= 0:
                diverging = part.diverging_epoch(current_epoch, last_epoch, offset)
                if diverging is not None:
                    results.append((ErrorCode.none, lg.high_watermark, lg.last_stable_offset, lg.log_start_offset,
                                    b"", None, (_DIVERGING, *diverging)))
                    continue
            throttled = False
            if replica_id >= 0:  # after the divergence and range checks: only a log end that matches is a position
                lg.check_offset(offset)
                broker.replicas.follower_fetched(part, replica_id, offset)
                # ReplicaManager.shouldLeaderThrottle: an out-of-sync follower of a throttled partition
                throttled = replica_id not in part.isr and broker.replication_quotas.leader.is_throttled(name, p)
            hw = lg.high_watermark
            lso = lg.last_stable_offset
            limit = lg.log_end_offset if replica_id >= 0 else lso if isolation_level == READ_COMMITTED else hw
            budget = min(part_max, max_bytes - total)
            if throttled and broker.replication_quotas.leader.exceeded(int(time.time() * 1000)):
                data = b""  # over the throttle: an empty answer for this partition, the follower asks again
            else:
                data = lg.read(offset, budget if total else part_max, limit) if budget > 0 or not total else b""
                if throttled:
                    broker.replication_quotas.leader.record(len(data), int(time.time() * 1000))
        except KafkaError as e:
            results.append((e.code, lg.high_watermark, lg.last_stable_offset, lg.log_start_offset, b"", None, None))
            errors = True
            continue
        total += len(data)
        aborted = None
        if isolation_level == READ_COMMITTED:
            aborted = tuple((a.producer_id, a.first_offset) for a in lg.aborted_transactions(offset, limit)) \
                if data else ()
        results.append((ErrorCode.none, hw, lso, lg.log_start_offset, data, aborted, None))
    return results, total, errors


def _response(broker: Broker, ctx: RequestContext, cls, plan, results, unknown_ids):
    if FETCH in broker.quotas.enabled:
        # Kafka counts the response's size; here its records, the bulk of it. Over the quota, the answer is
        # empty (getThrottledResponse) and its bytes are not counted.
        size, now_ms = sum(len(r[4]) for r in results), int(time.time() * 1000)
        throttle_ms = broker.quotas.record(FETCH, ctx.connection.principal, ctx.client_id, size, now_ms)
        if throttle_ms:
            broker.quotas.unrecord(FETCH, ctx.connection.principal, ctx.client_id, size, now_ms)
            ctx.connection.throttle(throttle_ms)
            return make(cls, throttle_time=datetime.timedelta(milliseconds=throttle_ms), error_code=ErrorCode.none,
                        session_id=plan.session.session_id if plan.session else 0, responses=())
    rows = _rows(plan, results)
    session_id = plan.session.session_id if plan.session else 0
    if not unknown_ids and ctx.api_version >= 5 and all(r[2] == ErrorCode.none and r[8] is None and not r[7]
                                                        for r in rows):
        out = templated(broker.templates, ctx, plan, rows, session_id,
                        lambda rs, sid: encode_response(ctx.header, _kio_response(broker, ctx, cls, plan, rs, (), sid)))
        if out is not None:
            return out
    return _kio_response(broker, ctx, cls, plan, rows, unknown_ids, session_id)


def _rows(plan, results) -> list[Row]:
    """The partitions the response holds, with their results: all of them, or in an incremental fetch session
    those with news (records, an error, a moved high watermark or log start), as KIP-227 has it."""
    session = plan.session
    rows = []
    for item, (err, hw, lso, start, data, aborted, extra) in zip(plan.items, results, strict=True):
        name, p = item[0], item[1]
        if session is not None:
            sp = session.partitions.get((name, p))
            if sp is not None:
                news = data or err != ErrorCode.none or sp.high_watermark != hw or sp.log_start_offset != start
                sp.high_watermark, sp.log_start_offset = hw, start
                if plan.incremental and not news:
                    continue
        rows.append((name, p, err, hw, lso, start, data, aborted, extra))
    return rows


def _kio_response(broker: Broker, ctx: RequestContext, cls, plan, rows: list[Row], unknown_ids, session_id: int):
    topic_cls = nested(cls, "FetchableTopicResponse")
    part_cls = nested(cls, "PartitionData")
    by_topic: dict[str, list] = {}
    aborted_cls = nested(cls, "AbortedTransaction")
    endpoints: dict = {}
    for name, p, err, hw, lso, start, data, aborted, extra in rows:
        txns = None if aborted is None else tuple(aborted_cls(producer_id=pid, first_offset=first)
                                                  for pid, first in aborted)
        by_topic.setdefault(name, []).append(
            part_cls(partition_index=p, error_code=err, high_watermark=hw, last_stable_offset=lso,
                     log_start_offset=start, aborted_transactions=txns, records=data,
                     **_extra_fields(broker, ctx, cls, extra, endpoints))
            if extra is not None else
            part_cls(partition_index=p, error_code=err, high_watermark=hw, last_stable_offset=lso,
                     log_start_offset=start, aborted_transactions=txns, records=data)
            if ctx.api_version >= 5 else
            make(part_cls, partition_index=p, error_code=err, high_watermark=hw, last_stable_offset=lso,
                 aborted_transactions=txns, records=data))
    topics = []
    for name, parts in by_topic.items():
        if ctx.api_version >= 13:
            topics.append(topic_cls(topic_id=plan.ids.get(name, _NULL_ID), partitions=tuple(parts)))
        else:
            topics.append(topic_cls(topic=name, partitions=tuple(parts)))
    if unknown_ids:
        grouped: dict[uuid.UUID, list] = {}
        for tid, p in unknown_ids:
            grouped.setdefault(tid, []).append(
                make(part_cls, partition_index=p, error_code=ErrorCode.unknown_topic_id, high_watermark=-1,
                     last_stable_offset=-1, log_start_offset=-1, aborted_transactions=None, records=None))
        topics.extend(topic_cls(topic_id=tid, partitions=tuple(ps)) for tid, ps in grouped.items())
    fields = {"node_endpoints": tuple(endpoints.values())} if endpoints else {}
    return make(cls, throttle_time=_ZERO, error_code=ErrorCode.none, session_id=session_id,
                responses=tuple(topics), **fields)


def _extra_fields(broker: Broker, ctx: RequestContext, cls, extra, endpoints) -> dict:
    """A diverging epoch (v12+), a preferred read replica (v11+, KIP-392), or the current leader on
    FENCED_LEADER_EPOCH with its endpoint (v16+, KIP-951)."""
    kind, a, b = extra
    if kind == _DIVERGING:
        return {"diverging_epoch": nested(cls, "EpochEndOffset")(epoch=a, end_offset=b)}
    if kind == _PREFERRED:
        return {"preferred_read_replica": a}
    if ctx.api_version < 16:
        return {}
    node = next((n for n in broker.live_brokers(ctx.connection.listener) if n.broker_id == a), None)
    if node is not None:
        endpoints[a] = nested(cls, "NodeEndpoint")(node_id=a, host=node.host, port=node.port, rack=node.rack)
    return {"current_leader": nested(cls, "LeaderIdAndEpoch")(leader_id=a, leader_epoch=b)}


def _top_error(cls, code, session_id):
    return make(cls, throttle_time=_ZERO, error_code=code, session_id=session_id, responses=())
