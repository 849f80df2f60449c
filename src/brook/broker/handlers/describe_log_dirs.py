"""DescribeLogDirs (key 35), v1-v4: each log dir with its partitions' sizes, and (v4) disk space."""

from __future__ import annotations

import datetime
import shutil
from typing import TYPE_CHECKING

from brook.acl import AclOperation
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import cluster_allowed
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(35, ctx.api_version)
    result_cls = nested(cls, "DescribeLogDirsResult")
    topic_cls = nested(cls, "DescribeLogDirsTopic")
    part_cls = nested(cls, "DescribeLogDirsPartition")
    lm = broker.log_manager
    if not cluster_allowed(broker, ctx, AclOperation.DESCRIBE):
        return make(cls, throttle_time=_ZERO, error_code=ErrorCode.cluster_authorization_failed, results=())
    if request.topics is None:
        wanted = None
    else:
        wanted = {(t.topic, p) for t in request.topics for p in t.partitions}
    results = []
    for d in lm.dirs:
        by_topic: dict[str, list] = {}
        for (topic, p), lg in sorted(lm.logs.items()):
            if lm.dir_of(topic, p) != d or (wanted is not None and (topic, p) not in wanted):
                continue
            by_topic.setdefault(topic, []).append(part_cls(partition_index=p, partition_size=lg.size,
                                                           offset_lag=0, is_future_key=False))
        usage = shutil.disk_usage(d)
        results.append(make(result_cls, error_code=ErrorCode.none, log_dir=str(d),
                            topics=tuple(topic_cls(name=n, partitions=tuple(ps)) for n, ps in by_topic.items()),
                            total_bytes=usage.total, usable_bytes=usage.free))
    return make(cls, throttle_time=_ZERO, error_code=ErrorCode.none, results=tuple(results))
