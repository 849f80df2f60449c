"""Produce (key 0), v3-v11: one v2 batch per partition, validated by header and CRC, stored as received.

acks=0 sends no response; acks=1 and acks=-1 answer once the bytes are in the kernel (a single broker is
its own ISR), or, when the topic's flush.messages is reached, after a shared fsync (group commit). In a cluster,
acks=-1 answers once the ISR has the batch (the high watermark passed it), within the request's timeout."""

from __future__ import annotations

import asyncio
import datetime
import time
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.errors import ErrorCode
from brook.protocol.build import make, nested, nested_if_any
from brook.protocol.header import encode_response
from brook.protocol.produce_shape import ProduceShape
from brook.protocol.templates import I32, I64, TemplateCache
from brook.protocol.versions import response_class

from ..authz import allowed, denied
from ..dispatch import Decode, RequestContext, encoded
from ..quotas import PRODUCE
from ..replica_manager import ProduceResult
from . import UNHANDLED, Request

if TYPE_CHECKING:
    from ..connection import KafkaConnection
    from ..server import Broker


_ZERO = datetime.timedelta(0)
_SLOTS = (I32, I64, I64)  # a partition's index, base offset and log start offset
_UTC = datetime.UTC
_SHAPES = 8  # request shapes a connection remembers (handle_frame)
_RELEARN_AFTER = 16  # requests of other shapes before a connection with all its shapes learns another


def _append_time(ms: int):
    return None if ms < 0 else datetime.datetime.fromtimestamp(ms / 1000, _UTC)


def _direct(cls, **fields):
    return cls(**fields)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    append = broker.replicas.append
    if broker.authorizer is not None:
        append = _authorized_append(broker, ctx, request, append)
    acks = request.acks
    # one pass over the partitions (plain loops: this runs for every produce request, often of one partition):
    # the results, and whether the answer can come from a template, waits for an fsync or for the ISR
    results = []
    for t in request.topic_data:
        name = t.name
        parts = []
        for p in t.partition_data:
            parts.append((p.index, append(name, p.index, p.records, acks)))
        results.append((name, parts))
    throttle_ms = broker.quotas.record(PRODUCE, ctx.connection.principal, ctx.client_id, ctx.size,
                                       int(time.time() * 1000)) if PRODUCE in broker.quotas.enabled else 0
    if throttle_ms:  # the response goes out now; the connection is muted afterwards (even with acks=0)
        ctx.connection.throttle(throttle_ms)
    out = _respond(broker, ctx, acks, request.timeout.total_seconds(), results, throttle_ms)
    if len(results) == 1 and len(results[0][1]) == 1 and (out.__class__ is bytes or acks == 0):
        _learn(broker, ctx, request, results)
    return out


def handle_frame(broker: Broker, conn: KafkaConnection, frame: bytes, decode: Decode) -> object:
    """A produce request of a shape this connection sent before (protocol/produce_shape.py): appended without
    decoding, answered from the shape's template. UNHANDLED for any other frame, and while ACLs or produce
    quotas apply (they need the decoded request); an answer other than a plain acknowledgement (an error, a log
    append time, an fsync or the ISR to wait for) is built from the decoded request, as `handle` builds it."""
    for shape in conn.produce_shapes:
        records = shape.records(frame)
        if records is not None:
            break
    else:
        conn.produce_misses += 1
        return UNHANDLED
    if broker.authorizer is not None or PRODUCE in broker.quotas.enabled:
        return UNHANDLED
    acks = shape.acks
    r = broker.replicas.append(shape.topic, shape.partition, records, acks)
    if acks == 0:
        return None
    if r.error or r.log_append_time >= 0 or r.flush is not None or r.required_offset >= 0:
        header, request = decode(frame)
        ctx = RequestContext(header.api_key, header.api_version, header.correlation_id, header.client_id, conn,
                             header, len(frame), frame)
        results = [(shape.topic, [(shape.partition, r)])]
        return encoded(conn, header, _respond(broker, ctx, acks, request.timeout.total_seconds(), results, 0))
    return shape.answer(frame, r.base_offset, r.log_start_offset)


def _respond(broker: Broker, ctx: RequestContext, acks: int, timeout_s: float, results, throttle_ms: int) -> object:
    """The answer to appended results: none (acks=0), at once (from a template if it can), after the ISR or
    after an fsync."""
    if acks == 0:
        return None
    flushes = []
    waits = []
    replicated = acks == -1 and broker.replication is not None
    simple = True
    for _, parts in results:
        for _, r in parts:
            if r.error or r.log_append_time >= 0:
                simple = False
            if r.flush is not None:
                flushes.append(r.flush)
            if replicated and r.required_offset >= 0:
                waits.append(r)
    if waits:
        return _after_isr(broker, ctx, timeout_s, results, waits, throttle_ms)
    if simple and not throttle_ms:  # the common case: answer from a template of this response's shape
        out = templated(broker.templates, ctx, results)
        if out is not None:
            return _after_flush(broker, ctx, results, flushes, out) if flushes else out
    response = _response(ctx, results, None, throttle_ms)
    return _after_flush(broker, ctx, results, flushes, response) if flushes else response


def _learn(broker: Broker, ctx: RequestContext, request: Request, results) -> None:
    """Remember the shape of a request of one partition answered at once, so that the next of that shape takes
    handle_frame. A connection keeps a few; once it has them all, it learns again only after some misses (a
    producer that moved on to other partitions), so that one writing to many in turn does not learn each time."""
    conn = ctx.connection
    shapes = conn.produce_shapes
    if len(shapes) >= _SHAPES:
        if conn.produce_misses < _RELEARN_AFTER:
            return
        del shapes[0]
    conn.produce_misses = 0
    shape = ProduceShape.learn(ctx.frame, request)
    if shape is None:
        return
    if request.acks != 0:
        entry = broker.templates.entry((ctx.api_version, ((shape.topic, 1),)), lambda vs: _encode(ctx, results, vs),
                                       3, _SLOTS)
        if entry is None:
            return
        template, ((_, index_at), (_, base_at), (_, start_at)) = entry
        if not shape.answer_from(template, index_at, base_at, start_at):
            return
    shapes.append(shape)


def templated(templates: TemplateCache, ctx: RequestContext, results) -> bytes | None:
    """The framed response of error-free results from a template, or None if their shape cannot have one. The
    shape counts partitions without naming them (their indexes are slots too), so that producers writing to
    changing subsets of many partitions reuse a few templates instead of learning one per request."""
    if len(results) == 1 and len(results[0][1]) == 1:  # one partition: no comprehensions to run
        name, ((index, r),) = results[0]
        shape: tuple = (ctx.api_version, ((name, 1),))
        values = [index, r.base_offset, r.log_start_offset]
    else:
        shape = (ctx.api_version, tuple([(name, len(parts)) for name, parts in results]))
        values = [v for _, parts in results for i, r in parts for v in (i, r.base_offset, r.log_start_offset)]
    return templates.render(shape, lambda vs: _encode(ctx, results, vs), ctx.correlation_id, values, _SLOTS)


def _authorized_append(broker: Broker, ctx: RequestContext, request: Request, append):
    """KafkaApis.handleProduceRequest: transactional records need WRITE on the transactional id (else every
    partition fails), each topic needs WRITE."""
    tid = getattr(request, "transactional_id", None)
    if tid is not None and not allowed(broker, ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, tid):
        return lambda *_: ProduceResult(ErrorCode.transactional_id_authorization_failed)
    refused = denied(broker, ctx, AclOperation.WRITE, ResourceType.TOPIC, (t.name for t in request.topic_data))
    if not refused:
        return append
    return lambda topic, *args: ProduceResult(ErrorCode.topic_authorization_failed) if topic in refused \
        else append(topic, *args)


def _encode(ctx: RequestContext, results, values):
    return encode_response(ctx.header, _response(ctx, results, values))


def _response(ctx: RequestContext, results, values, throttle_ms: int = 0):
    """The kio response; values (partition index, base offset, log start offset per partition) replace the
    results' own if given."""
    cls = response_class(0, ctx.api_version)
    topic_cls = nested(cls, "TopicProduceResponse")
    part_cls = nested(cls, "PartitionProduceResponse")
    err_cls = nested_if_any(cls, "BatchIndexAndErrorMessage")
    build = _direct if ctx.api_version >= 8 else make  # v8+ has every field: skip the filtering
    it = iter(values) if values is not None else None
    topics = []
    for name, parts in results:
        out = []
        for index, r in parts:
            base, start = r.base_offset, r.log_start_offset
            if it is not None:
                index, base, start = next(it), next(it), next(it)
            out.append(build(part_cls, index=index, error_code=r.error, base_offset=base,
                             log_append_time=_append_time(r.log_append_time), log_start_offset=start,
                             record_errors=tuple(err_cls(batch_index=i, batch_index_error_message=m)
                                                 for i, m in r.record_errors) if err_cls else (),
                             error_message=r.message))
        topics.append(topic_cls(name=name, partition_responses=tuple(out)))
    throttle = datetime.timedelta(milliseconds=throttle_ms) if throttle_ms else _ZERO
    return make(cls, responses=tuple(topics), throttle_time=throttle)


async def _after_isr(broker: Broker, ctx: RequestContext, timeout_s: float, results, waits, throttle_ms: int):
    """acks=all in a cluster: the answer waits for the ISR (and for the fsync the flush policy asks)."""
    await broker.replicas.wait_for_acks(waits, timeout_s)
    flushes = [r.flush for _, parts in results for _, r in parts if r.flush is not None and r.error == ErrorCode.none]
    response = _response(ctx, results, None, throttle_ms)
    return await _after_flush(broker, ctx, results, flushes, response) if flushes else response


async def _after_flush(broker: Broker, ctx: RequestContext, results, logs, response):
    try:
        await asyncio.gather(*(broker.flusher.request(lg) for lg in logs))
    except OSError as e:  # not on disk: not acknowledged (the flusher has logged it)
        error = broker.log_dir_failures.failed(logs[0].directory.parent, "flushing records", e)
        failed = ProduceResult(error.code, message=error.message)
        return _response(ctx, [(name, [(i, failed if r.flush is not None else r) for i, r in parts])
                               for name, parts in results], None)
    return response
