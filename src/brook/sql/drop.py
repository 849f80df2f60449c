"""DROP STREAM | TABLE [IF EXISTS] name [DELETE TOPIC] and TERMINATE query_id | ALL, as ksqlDB's DropSourceFactory,
TopicDeleteInjector and TerminateQuery executor do them and answer (functions of the engine, recorded in its
command topic)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from brook.sql.expressions import SqlError
from brook.sql.parser import Drop, Statement, Terminate
from brook.sql.streams import SourceTableTopology

if TYPE_CHECKING:
    from brook.sql.engine import Engine


def drop(engine: Engine, stmt: Statement, node: Drop, record: bool, offset: int) -> dict:
    command_id = f"{node.kind.lower()}/{node.name}/drop"  # ksqlDB: the bare name here, `quoted` in CREATE
    source = engine.sources.get(node.name)
    if source is None:
        if node.if_exists:
            return engine._status(stmt, command_id, engine.sequence, f"Source `{node.name}` does not exist.")
        raise SqlError(f"{node.kind.capitalize()} {node.name} does not exist.")
    if source.kind != node.kind:
        raise SqlError(f"Incompatible data source type is {source.kind}, but statement was DROP {node.kind}")
    if node.delete_topic and source.is_source:  # ksqlDB's TopicDeleteInjector
        raise SqlError(f"Cannot delete topic for read-only source: {node.name}")
    # a source table's own materializing query (CST_...) goes with it
    own = [q.query_id for q in engine.queries.values() if isinstance(q.topology, SourceTableTopology)
           and q.sink.name == node.name]
    writers = [q.query_id for q in engine.queries.values() if q.sink.name == node.name and q.query_id not in own]
    readers = [q.query_id for q in engine.queries.values() if node.name in (q.inputs or [q.source.name])
               and q.query_id not in own]
    if record and (writers or readers):
        lines = [f"Cannot drop {node.name}."]
        if readers:
            lines.append(f"The following queries read from this source: [{', '.join(readers)}].")
        if writers:
            lines.append(f"The following queries write into this source: [{', '.join(writers)}].")
        lines.append("You need to terminate them before dropping " + node.name + ".")
        raise SqlError("\n".join(lines))
    if record and node.delete_topic:  # ksqlDB's TopicDeleteInjector, before the command is recorded
        using = sorted(n for n, s in engine.sources.items() if s.topic == source.topic and n != node.name)
        if using:
            raise SqlError(f"Refusing to delete topic. Found other data sources ({', '.join(using)}) using "
                           f"topic {source.topic}")
    if record:
        offset = engine._record(command_id, stmt, {})
        if node.delete_topic:
            from confluent_kafka import KafkaError, KafkaException
            try:
                engine.admin.delete_topics([source.topic])[source.topic].result(30)
            except KafkaException as e:  # already gone: nothing to delete (ksqlDB's topic client ignores it)
                if e.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                    raise
    for qid in own:
        engine.queries.pop(qid).stop()
    del engine.sources[node.name]
    return engine._status(stmt, command_id, offset, f"Source `{node.name}` (topic: {source.topic}) was dropped.")

def terminate(engine: Engine, stmt: Statement, node: Terminate, record: bool, offset: int) -> dict:
    ids = list(engine.queries) if node.query_id is None else [node.query_id]
    for qid in ids:
        if qid not in engine.queries:
            raise SqlError(f"Unknown queryId: {qid}")
    command_id = f"terminate/{node.query_id or 'ALL'}/execute"
    if record:
        offset = engine._record(command_id, stmt, {})
    for qid in ids:
        engine.queries.pop(qid).stop()
    return engine._status(stmt, command_id, offset, "Query terminated.")
