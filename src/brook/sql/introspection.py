"""SHOW, DESCRIBE and EXPLAIN: what the engine knows of its sources, queries, topics and functions, as ksqlDB's
REST entities (streams, tables, source descriptions, query descriptions)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brook.sql.expressions import SqlError
from brook.sql.functions import AGGREGATES, SCALARS, TABLE_FUNCTIONS
from brook.sql.parser import Describe, Explain, Show, Statement, type_str
from brook.sql.queries import Plan, Source, header_key, is_header

if TYPE_CHECKING:
    from brook.sql.engine import Engine


def _schema(t: tuple) -> dict:
    """A column type as ksqlDB's SchemaInfo JSON (DESCRIBE's fields)."""
    kind = t[0]
    out: dict[str, Any] = {"type": kind, "fields": None, "memberSchema": None}
    if kind == "ARRAY":
        out["memberSchema"] = _schema(t[1])
    elif kind == "MAP":
        out["memberSchema"] = _schema(t[2])
    elif kind == "STRUCT":
        out["fields"] = [{"name": n, "schema": _schema(ft)} for n, ft in t[1]]
    elif kind == "DECIMAL":
        out["parameters"] = {"precision": t[1], "scale": t[2]}
    return out


def source_info(s: Source) -> dict:
    return {"type": s.kind, "name": s.name, "topic": s.topic, "keyFormat": s.key_format,
            "valueFormat": s.value_format, "isWindowed": s.window is not None}


def show(engine: Engine, stmt: Statement, node: Show) -> dict:
    base = {"statementText": stmt.text, "warnings": []}
    if node.what in ("STREAMS", "TABLES"):
        kind = node.what[:-1]
        if node.extended:
            return {"@type": "source_descriptions", **base, "sourceDescriptions": [
                description(engine, s, True) for s in sorted(engine.sources.values(), key=lambda s: s.name)
                if s.kind == kind]}
        items = [source_info(s) for s in sorted(engine.sources.values(), key=lambda s: s.name)
                 if s.kind == kind]
        return {"@type": node.what.lower(), **base, node.what.lower(): items}
    if node.what == "TOPICS":
        md = engine.admin.list_topics(timeout=10)
        topics = [{"name": name, "replicaInfo": [len(p.replicas) for _, p in sorted(t.partitions.items())]}
                  for name, t in sorted(md.topics.items()) if not name.startswith("_")]
        return {"@type": "kafka_topics", **base, "topics": topics}
    if node.what == "QUERIES":
        return {"@type": "queries", **base, "queries": [q.describe() for q in engine.queries.values()]}
    if node.what == "PROPERTIES":
        props = [{"name": k, "scope": "KSQL", "value": v}
                 for k, v in sorted(engine.config.props.items())]
        return {"@type": "properties", **base, "properties": props, "overwrittenProperties": [],
                "defaultProperties": []}
    functions = [{"name": n, "type": "TABLE" if n in TABLE_FUNCTIONS else "SCALAR", "category": f.category}
                 for n, f in SCALARS.items()] + [
        {"name": n, "type": "AGGREGATE", "category": "AGGREGATE"} for n in AGGREGATES]
    return {"@type": "function_names", **base, "functions": sorted(functions, key=lambda f: f["name"])}


def description(engine: Engine, s: Source, extended: bool) -> dict:
    fields = []
    for name, t, ns in s.columns:
        f: dict[str, Any] = {"name": name, "schema": _schema(t)}
        if ns in ("KEY", "PRIMARY KEY"):
            f["type"] = "KEY"
        elif is_header(ns):  # ksqlDB's FieldInfo: HEADER, with its key
            f["type"] = "HEADER"
            if header_key(ns) is not None:
                f["headerKey"] = header_key(ns)
        fields.append(f)
    reads = [q.describe() for q in engine.queries.values() if q.source.name == s.name]
    writes = [q.describe() for q in engine.queries.values() if q.sink.name == s.name]
    return {"name": s.name, "windowType": s.window.kind if s.window else None, "readQueries": reads,
            "writeQueries": writes, "fields": fields,
            "type": s.kind, "timestamp": "", "statistics": "", "errorStats": "", "extended": extended,
            "keyFormat": s.key_format, "valueFormat": s.value_format, "topic": s.topic,
            "partitions": s.partitions if extended else 0, "replication": s.replicas if extended else 0,
            "statement": s.statement, "queryOffsetSummaries": [], "sourceConstraints": [],
            "clusterErrorStats": [], "clusterStatistics": []}


def explain(engine: Engine, stmt: Statement, node: Explain) -> dict:
    """EXPLAIN <query id> | <SELECT ...>: ksqlDB's queryDescription with its execution plan's shape."""
    if node.query_id is not None:
        pq = engine.queries.get(node.query_id)
        if pq is None:
            raise SqlError(f"Query with id:{node.query_id} does not exist, use SHOW QUERIES to view the full set "
                           "of queries.")
        source, sink, plan, text, qid = pq.source, pq.sink, pq.plan, pq.statement, pq.query_id
        kind, state, errors = "PERSISTENT", pq.state, pq.errors
    else:
        source = engine._source(node.query.source)
        plan, sink, text, qid, kind, state = Plan(node.query, source), None, stmt.text, "", "PUSH", None
        errors = []
    columns = [(n, t or ("STRING",), k) for n, t, k in plan.columns]
    out_schema = ", ".join(f"{n} {type_str(t)}{' KEY' if k else ''}" for n, t, k in columns)
    in_schema = ", ".join(f"{n} {type_str(t)}{' KEY' if ns in ('KEY', 'PRIMARY KEY') else ''}"
                          for n, t, ns in source.columns)
    logger = qid or "query"
    steps = [("SINK", out_schema, f"{logger}.{sink.name}")] if sink is not None else []
    steps.append(("PROJECT", out_schema, f"{logger}.Project"))
    if getattr(plan, "where", None) is not None:
        steps.append(("FILTER", in_schema, f"{logger}.WhereFilter"))
    steps.append(("SOURCE", in_schema, f"{logger}.KsqlTopic.Source"))
    execution = "".join("\t" * (2 * i) + f" > [ {step} ] | Schema: {schema} | Logger: {name}\n"
                        for i, (step, schema, name) in enumerate(steps))
    fields = [{"name": n, "schema": _schema(t), **({"type": "KEY"} if k else {})} for n, t, k in columns]
    description: dict[str, Any] = {"id": qid, "statementText": text, "windowType": None, "fields": fields,
                   "sources": [source.name], "sinks": [sink.name] if sink is not None else [],
                   "topology": "", "executionPlan": execution, "overriddenProperties": {},
                   "ksqlHostQueryStatus": {}, "queryType": kind, "queryErrors": errors, "tasksMetadata": [],
                   "state": state, "sinkKafkaTopics": [sink.topic] if sink is not None else []}
    return {"@type": "queryDescription", "statementText": stmt.text, "queryDescription": description,
            "warnings": []}


def describe(engine: Engine, stmt: Statement, node: Describe) -> dict:
    source = engine.sources.get(node.name)
    if source is None:
        raise SqlError(f"Could not find STREAM/TABLE '{node.name}' in the Metastore")
    return {"@type": "sourceDescription", "statementText": stmt.text,
            "sourceDescription": description(engine, source, node.extended), "warnings": []}
