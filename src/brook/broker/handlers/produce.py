"""Produce (key 0), v3-v11: one v2 batch per partition, validated by header and CRC, stored as received.

acks=0 sends no response; acks=1 and acks=-1 answer once the bytes are in the kernel (a single broker is
its own ISR), or, when the topic's flush.messages is reached, after a shared fsync (group commit)."""

from __future__ import annotations

import asyncio
import datetime

from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

_ZERO = datetime.timedelta(0)
_UTC = datetime.UTC


def _append_time(ms: int):  # type: ignore[no-untyped-def]
    return None if ms < 0 else datetime.datetime.fromtimestamp(ms / 1000, _UTC)


def _direct(cls, **fields):  # type: ignore[no-untyped-def]
    return cls(**fields)


def handle(broker, ctx, request):  # type: ignore[no-untyped-def]
    cls = response_class(0, ctx.api_version)
    topic_cls = nested(cls, "TopicProduceResponse")
    part_cls = nested(cls, "PartitionProduceResponse")
    err_cls = nested(cls, "BatchIndexAndErrorMessage")
    build = _direct if ctx.api_version >= 8 else make  # v8+ has every field: skip the filtering
    append = broker.replicas.append
    acks = request.acks
    flushes = []
    topics = []
    for t in request.topic_data:
        parts = []
        for p in t.partition_data:
            r = append(t.name, p.index, p.records, acks)
            if r.flush is not None:
                flushes.append(r.flush)
            parts.append(build(part_cls, index=p.index, error_code=r.error, base_offset=r.base_offset,
                               log_append_time=_append_time(r.log_append_time),
                               log_start_offset=r.log_start_offset,
                               record_errors=tuple(err_cls(batch_index=i, batch_index_error_message=m)
                                                   for i, m in r.record_errors) if err_cls else (),
                               error_message=r.message))
        topics.append(topic_cls(name=t.name, partition_responses=tuple(parts)))
    if acks == 0:
        return None
    response = make(cls, responses=tuple(topics), throttle_time=_ZERO)
    if flushes:
        return _after_flush(broker, flushes, response)
    return response


async def _after_flush(broker, logs, response):  # type: ignore[no-untyped-def]
    await asyncio.gather(*(broker.flusher.request(lg) for lg in logs))
    return response


__all__ = ["handle", "ErrorCode"]
