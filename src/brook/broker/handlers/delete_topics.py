"""DeleteTopics (key 20), v1-v6: by name, or (v6) by topic id.

In a ZooKeeper cluster the broker marks /admin/delete_topics/<t> and the controller deletes the topic; the answer
waits (Kafka's DelayedDeleteTopics) until the topic znode is gone, or REQUEST_TIMED_OUT after the request's timeout."""

from __future__ import annotations

import asyncio
import datetime
import functools
import uuid
from typing import TYPE_CHECKING

from brook.acl import AclOperation, ResourceType
from brook.errors import ErrorCode, KafkaError
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import refused
from ..topics import INTERNAL_TOPICS
from . import Request

if TYPE_CHECKING:
    from brook.metadata.zookeeper import ZkMetadataStore

    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)
_NULL_ID = uuid.UUID(int=0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(20, ctx.api_version)
    result_cls = nested(cls, "DeletableTopicResult")
    if ctx.api_version >= 6:
        targets = [(t.name, t.topic_id) for t in request.topics]
    else:
        targets = [(n, None) for n in request.topic_names]
    results = []
    for name, tid in targets:
        if name is None and tid is not None:
            info = broker.topics.by_id.get(tid)
            if info is None:
                results.append(make(result_cls, name=None, topic_id=tid, error_code=ErrorCode.unknown_topic_id,
                                    error_message="This server does not host this topic ID."))
                continue
            name = info.name
        info = broker.topics.get(name)
        topic_id = info.topic_id if info else _NULL_ID
        if refused(broker, ctx, AclOperation.DELETE, ResourceType.TOPIC, name):
            results.append(make(result_cls, name=name, topic_id=topic_id,
                                error_code=ErrorCode.topic_authorization_failed, error_message=None))
            continue
        try:
            if name in INTERNAL_TOPICS:
                raise KafkaError(ErrorCode.invalid_request,
                                 f"Topic {name} is an internal topic and cannot be deleted")
            if not broker.config.get_bool("delete.topic.enable"):
                raise KafkaError(ErrorCode.topic_deletion_disabled, "Topic deletion is disabled.")
            broker.admin.delete_topic(name)
            results.append(make(result_cls, name=name, topic_id=topic_id, error_code=ErrorCode.none,
                                error_message=None))
        except KafkaError as e:
            results.append(make(result_cls, name=name, topic_id=topic_id, error_code=e.code,
                                error_message=e.message))
    deleted = [r.name for r in results if r.error_code == ErrorCode.none]
    if broker.zk_metadata is not None and deleted:
        return _after_deletion(broker.zk_metadata, cls, results, deleted, request.timeout)
    return make(cls, throttle_time=_ZERO, responses=tuple(results))


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _after_deletion(store: ZkMetadataStore, cls: type, results: list, names: list[str],
                          timeout: datetime.timedelta) -> object:
    loop = asyncio.get_running_loop()
    waits = {}
    for name in names:
        done = loop.create_future()
        store.when_deleted(name, functools.partial(_resolve, done))
        waits[name] = done
    await asyncio.wait(waits.values(), timeout=max(timeout.total_seconds(), 0))
    pending = {n for n, f in waits.items() if not f.done()}
    results = [make(type(r), name=r.name, topic_id=r.topic_id, error_code=ErrorCode.request_timed_out,
                    error_message=None) if r.name in pending else r for r in results]
    return make(cls, throttle_time=_ZERO, responses=tuple(results))
