"""Pull queries on streams (ksqlDB 0.23+, KLIP-53) and the checks every pull query passes first.

`SELECT ... FROM stream [WHERE ...] [LIMIT n];` (no EMIT) reads the stream's topic from the beginning up to the end
offsets taken when the query starts (KsqlEngine.createStreamPullQuery), filters and projects each record, then
ends: records written meanwhile are not waited for.  A transient consumer (no group membership, nothing
committed) reads uncommitted records, as ksqlDB's at-least-once stream pull query does."""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from brook.sql.expressions import SqlError, column_refs
from brook.sql.parser import Query
from brook.sql.queries import Plan, Source, _is_aggregate

if TYPE_CHECKING:
    from brook.sql.engine import Engine
    from brook.sql.push import PushQuery

# PullQueryValidator.PULL_QUERY_SYNTAX_HELP, appended to every rule's message
PULL_QUERY_SYNTAX_HELP = " See https://cnfl.io/queries for more info.\nAdd EMIT CHANGES if you intended to issue a " \
                         "push query."
DISALLOWED = ("ROWPARTITION", "ROWOFFSET")  # SystemColumns.isDisallowedInPullOrScalablePushQueries
log = logging.getLogger("io.confluent.ksql.engine.KsqlEngine")


def setting(engine: Engine, props: dict[str, Any], name: str) -> bool:
    """A boolean of the request's properties, else the server's (ksqlDB's SessionConfig), true by default."""
    value = props.get(name, engine.config.get(name) or "true")
    return str(value).strip().lower() == "true"


def _disallowed(exprs: list) -> str:
    names: list[str] = []
    for e in exprs:
        for ref in column_refs(e):
            if ref[2] in DISALLOWED and f"`{ref[2]}`" not in names:
                names.append(f"`{ref[2]}`")
    return ", ".join(names)


def validate(engine: Engine, query: Query, props: dict[str, Any]) -> None:
    """PullQueryValidator's rules, in its order (an aggregate without GROUP BY gets ksqlDB's implicit one), then
    ksql.pull.queries.enable (QueryExecutor)."""
    aggregates = any(i[0] == "expr" and _is_aggregate(i[1]) for i in query.items)
    select = _disallowed([i[1] for i in query.items if i[0] == "expr"])
    where = _disallowed([query.where]) if query.where is not None else ""
    rules = [
        (bool(query.joins), "Pull queries don't support JOIN clauses."),
        (query.window is not None, "Pull queries don't support WINDOW clauses."),
        (bool(query.group_by) or aggregates, "Pull queries don't support GROUP BY clauses."),
        (bool(query.partition_by), "Pull queries don't support PARTITION BY clauses."),
        (query.having is not None, "Pull queries don't support HAVING clauses."),
        (query.limit is not None and not setting(engine, props, "ksql.query.pull.limit.clause.enabled"),
         "LIMIT clause in pull queries is currently disabled. You can enable them by setting "
         "ksql.query.pull.limit.clause.enabled=true."),
        (query.limit is not None and query.limit < 0,
         "Pull queries don't support negative integers in the LIMIT clause."),
        (bool(select), f"Pull queries don't support the following columns in SELECT clauses: {select}\n"),
        (bool(where), f"Pull queries don't support the following columns in WHERE clauses: {where}\n"),
    ]
    for broken, message in rules:
        if broken:
            raise SqlError(message + PULL_QUERY_SYNTAX_HELP)
    if not setting(engine, {}, "ksql.pull.queries.enable"):
        raise SqlError(f"Pull queries are disabled.{PULL_QUERY_SYNTAX_HELP}\nPlease set ksql.pull.queries.enable=true "
                       "to enable this feature.\n")


def end_offsets(engine: Engine, topic: str) -> dict[int, int]:
    """The partitions with records to read and their end offsets (read_uncommitted, as ksqlDB lists them); a
    partition that never had a record, or whose records were all deleted, is left out: nothing to wait for.  A topic
    that cannot be described or listed gets ksqlDB's answer: 400 `Internal Server Error` (its cause logged)."""
    from confluent_kafka import IsolationLevel, KafkaException, TopicPartition
    from confluent_kafka.admin import OffsetSpec

    from brook.sql.engine import StatementError

    def offsets(partitions: list[int], spec: OffsetSpec) -> dict[int, int]:
        futures = engine.admin.list_offsets({TopicPartition(topic, p): spec for p in partitions},
                                            isolation_level=IsolationLevel.READ_UNCOMMITTED, request_timeout=10)
        return {tp.partition: f.result(10).offset for tp, f in futures.items()}

    try:
        md = engine.admin.list_topics(timeout=10).topics.get(topic)
        if md is None or md.error is not None:
            raise KafkaException(md.error if md is not None else f"no topic {topic}")
        start, end = offsets(list(md.partitions), OffsetSpec.earliest()), offsets(list(md.partitions),
                                                                                   OffsetSpec.latest())
    except KafkaException as e:
        log.error("Error listing the offsets of %s: %s", topic, e)
        raise StatementError(40000, "Internal Server Error") from None
    return {p: e for p, e in end.items() if e > 0 and e > start[p]}


def prepare(engine: Engine, source: Source, plan: Plan, query: Query, props: dict[str, Any]) -> PushQuery:
    from brook.sql.push import PushQuery

    if not setting(engine, props, "ksql.query.pull.stream.enabled"):
        raise SqlError("Pull queries on streams are disabled. To create a push query on the stream, add EMIT CHANGES "
                       "to the end. To enable pull queries on streams, set the ksql.query.pull.stream.enabled config "
                       "to 'true'.")
    # QueryIdUtil: a transient query is named after its source's alias
    query_id = f"transient_{query.alias or source.name}_{random.getrandbits(62)}"
    return PushQuery(query_id, source, plan, "earliest", end_offsets=end_offsets(engine, source.topic))


async def rows(engine: Engine, push: PushQuery) -> AsyncIterator[list]:
    """The rows of every record below the end offsets, until each partition reaches its end or LIMIT."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

    ends = dict(push.end_offsets or {})
    limit = push.plan.limit
    if not ends or limit == 0:
        return
    consumer = Consumer({**engine.config.client_props(), "enable.auto.commit": False, "enable.partition.eof": True,
                         "isolation.level": "read_uncommitted",
                         "group.id": f"_confluent-ksql-{engine.config.service_id}transient_{push.query_id}"})
    lock = threading.Lock()  # consume() and close() never run at once on the consumer

    def step() -> list:
        """One poll's records below their partition's end; partitions at their end are done."""
        with lock:
            msgs = consumer.consume(500, 0.2)
        keep = []
        for m in msgs:
            p, offset, error = m.partition(), m.offset() or 0, m.error()
            if p not in ends:
                continue
            if error is not None:
                # an end of partition past the end offset: also past a transaction marker that was the last offset
                if error.code() == KafkaError._PARTITION_EOF and offset >= ends[p]:
                    del ends[p]
                continue
            if offset < ends[p]:
                keep.append(m)
            if offset >= ends[p] - 1:
                del ends[p]
        return keep

    def close() -> None:
        with lock:
            consumer.close()

    count = 0
    try:
        consumer.assign([TopicPartition(push.source.topic, p, OFFSET_BEGINNING) for p in ends])
        while ends:
            msgs = await asyncio.to_thread(step)
            for _, values in push.plan.run_batch(push.source, msgs):
                yield values
                count += 1
                if limit is not None and count >= limit:
                    return
    finally:
        threading.Thread(target=close, daemon=True).start()


def final_message(push: PushQuery, count: int) -> str:
    """QueryStreamWriter's last line: LIMIT's, else the end of the scan's."""
    limit = push.plan.limit
    return "Limit Reached" if push.end_offsets is None or (limit is not None and count >= limit) \
        else "Query Completed"
