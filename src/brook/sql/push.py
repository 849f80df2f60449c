"""Push queries (SELECT ... EMIT CHANGES [LIMIT n]): a transient consumer over every partition of the source,
rows handed to the HTTP response as they are projected.  No group membership: nothing is committed."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from brook.sql import pull_filter, pullstream, pushjoin
from brook.sql.engine import Engine, StatementError
from brook.sql.expressions import SqlError, expr_text, unqualified
from brook.sql.parser import PrintTopic, Query, parse, type_str
from brook.sql.queries import Plan, Source, columns_schema
from brook.sql.windows import BOUNDS, text_bounds


@dataclass
class PushQuery:
    query_id: str
    source: Source
    plan: Any  # a Plan, or pushjoin.JoinColumns for a join or an aggregate
    offset_reset: str
    pull_rows: list | None = None  # a pull query's whole answer, read from the table's store
    join: Any = None  # a join's or an aggregate's transient query (pushjoin.TransientJoin)
    end_offsets: dict[int, int] | None = None  # a pull query on a stream: where its scan ends, per partition

    def schema(self) -> str:
        """/query's header schema: only a pull query on a table marks its key columns with ` KEY`; push queries
        and pull queries on streams give every column as a value column, as ksqlDB 0.29 does (its
        rest-query-validation-tests: push-queries.json, pull-queries-against-streams.json)."""
        if self.pull_rows is None:
            return columns_schema([(n, t, False) for n, t, _ in self.plan.columns])
        if self.source.window is not None:  # a windowed table's bounds are key columns wherever they are selected
            bounds = [("col", None, b) for b in BOUNDS]  # (pull-queries-against-materialized-aggregates.json)
            return columns_schema([(n, t, k or e in bounds)
                                   for (n, t, k), e in zip(self.plan.columns, self.plan.exprs, strict=True)])
        return str(self.plan.schema())

    def metadata(self) -> dict:
        return {"queryId": self.query_id, "columnNames": [n for n, _, _ in self.plan.columns],
                "columnTypes": [type_str(t) if t else "STRING" for _, t, _ in self.plan.columns]}


def prepare(engine: Engine, text: str, props: dict[str, Any]) -> PushQuery | PrintTopic:
    """Parse and plan a push query (or check a PRINT's topic); every problem is a StatementError before the
    response starts."""
    statements = parse(text)
    if len(statements) != 1:
        raise StatementError(40001, "Expected exactly one statement", text)
    engine.catch_up()  # sources another server created a moment ago
    stmt = statements[0]
    if isinstance(stmt.node, PrintTopic):
        if stmt.node.interval < 1:
            raise StatementError(40001, f"INTERVAL must be greater than one, but was: {stmt.node.interval}",
                                 stmt.text)
        if engine._topic_partitions(stmt.node.topic) is None:
            raise StatementError(40001, f"Could not find topic '{stmt.node.topic}', or the KSQL user does not have "
                                 "permissions to list the topic. Topic names are case-sensitive.", stmt.text)
        return stmt.node
    if not isinstance(stmt.node, Query):
        raise StatementError(40001, "The following statement types should be issued to the '/ksql' endpoint: "
                             + type(stmt.node).__name__.upper(), stmt.text)
    query = stmt.node
    try:
        source = engine.sources.get(query.source)
        if source is None:
            raise SqlError(f"{query.source} does not exist.")
        if query.emit == "FINAL" and not (query.group_by and query.window is not None):
            raise SqlError("EMIT FINAL is only supported for windowed aggregations.")
        if query.emit is None and source.kind == "TABLE" and source.window is not None:
            query = dataclasses.replace(query, where=text_bounds(query.where))
        if query.emit is None:
            pullstream.validate(engine, query, props)
        if query.joins or query.group_by:
            return _join(engine, query, source, props, stmt.text)
        plan = Plan(query, source)
        if query.emit is None and source.kind == "STREAM":
            return pullstream.prepare(engine, source, plan, query, props)
        if query.emit is None:  # QueryFilterNode's checks, then the filter's as it is interpreted
            windowed = source.window is not None
            pull_filter.check_like(unqualified(query.where), plan.compiler.columns, windowed)
            if not pullstream.setting(engine, props, "ksql.query.pull.table.scan.enabled"):
                pull_filter.check_key_lookup(query.where, source.key_columns, windowed)
            pull_filter.check_key_values(query.where, source.key_columns, windowed)
            pull_filter.check_between(unqualified(query.where), plan.compiler)
            return PushQuery(f"query_{random.getrandbits(62)}", source, plan, "", _pull(engine, source, plan))
    except SqlError as e:
        message = str(e)
        if query.emit is None and message.startswith("Error in WHERE expression: "):
            # a pull query's error carries the WHERE clause (ksqlDB's KsqlStatementException rethrown with it)
            message += f"\nStatement: {expr_text(unqualified(stmt.node.where))}"
        raise StatementError(40001, message, stmt.text) from None
    reset = _offset_reset(engine, props, stmt.text)
    return PushQuery(f"transient_{source.name}_{random.getrandbits(62)}", source, plan, reset)


def _offset_reset(engine: Engine, props: dict[str, Any], text: str) -> str:
    reset = str(props.get("auto.offset.reset") or props.get("ksql.streams.auto.offset.reset")
                or engine.config.get("ksql.streams.auto.offset.reset"))
    if reset not in ("earliest", "latest"):
        raise StatementError(40001, f"Invalid value {reset} for configuration auto.offset.reset: String must be one "
                             "of: latest, earliest, none", text)
    return reset


def _join(engine: Engine, query: Query, source: Source, props: dict[str, Any], text: str) -> PushQuery:
    """A push query over a join or an aggregate: a transient query running its topology (pushjoin.py)."""
    reset = _offset_reset(engine, props, text)
    query_id = f"transient_{source.name}_{random.getrandbits(62)}"
    app_id = f"_confluent-ksql-{engine.config.service_id}transient_{query_id}"
    topo = pushjoin.topology(engine, query, app_id)
    return PushQuery(query_id, source, pushjoin.JoinColumns(topo, query.limit), reset,
                     join=pushjoin.TransientJoin(engine, topo, app_id, reset))


def _pull(engine: Engine, source: Source, plan: Plan) -> list:
    """A pull query: the rows of a materialized table, filtered and projected (key lookups and scans alike)."""
    materialized = engine.materialized(source.name)
    if materialized is None:  # ksqlDB's PullQueryExecutionUtil message
        raise SqlError(f"The `{source.name}` table isn't queryable. To derive a queryable table, you can do "
                       f"'CREATE TABLE QUERYABLE_{source.name} AS SELECT * FROM {source.name}'. See "
                       "https://cnfl.io/queries for more info.\nAdd EMIT CHANGES if you intended to issue a push "
                       "query.")
    if not materialized.ready:
        raise SqlError(f"The state store of `{source.name}` is not ready yet; try again.")
    out: list[list] = []
    for row in materialized.rows():
        if plan.limit is not None and len(out) >= plan.limit:  # LIMIT 0 answers no row
            break
        values = plan.apply(row)
        if values is not None:
            out.append(values)
    return out


async def rows(engine: Engine, push: PushQuery) -> AsyncIterator[list]:
    """Rows until LIMIT (or forever, until the client goes away and the response task is cancelled)."""
    from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, TopicPartition

    conf = {**engine.config.client_props(), "enable.auto.commit": False,
            "group.id": f"_confluent-ksql-{engine.config.service_id}transient_{push.query_id}"}
    consumer = Consumer(conf)
    lock = threading.Lock()  # consume() and close() never run at once on the consumer

    def start() -> None:
        md = consumer.list_topics(timeout=10).topics.get(push.source.topic)
        start_at = OFFSET_BEGINNING if push.offset_reset == "earliest" else OFFSET_END
        consumer.assign([TopicPartition(push.source.topic, p, start_at) for p in (md.partitions if md else {})])

    def poll() -> list:
        with lock:
            return consumer.consume(500, 0.2)

    def close() -> None:
        with lock:
            consumer.close()

    if push.pull_rows is not None:
        for values in push.pull_rows:
            yield values
        return
    if push.end_offsets is not None:
        async for values in pullstream.rows(engine, push):
            yield values
        return
    if push.plan.limit is not None and push.plan.limit <= 0:
        return  # TransientQueryQueue: a limit of 0 or less is reached before the first row
    if push.join is not None:
        async for values in _join_rows(push):
            yield values
        return
    count = 0
    try:
        await asyncio.to_thread(start)
        while True:
            msgs = await asyncio.to_thread(poll)
            for _, values in push.plan.run_batch(push.source, msgs):
                yield values
                count += 1
                if push.plan.limit is not None and count >= push.plan.limit:
                    return
    finally:
        threading.Thread(target=close, daemon=True).start()


async def _join_rows(push: PushQuery) -> AsyncIterator[list]:
    """A join's rows until LIMIT or the client goes away; then its consumer, stores and topics go too."""
    join, count = push.join, 0
    try:
        await asyncio.to_thread(join.start)
        while True:
            for values in await asyncio.to_thread(join.step):
                yield values
                count += 1
                if push.plan.limit is not None and count >= push.plan.limit:
                    return
    finally:
        threading.Thread(target=join.close, daemon=True).start()
