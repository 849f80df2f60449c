"""The statement executor: validates a statement, records it in the command topic (so that a restarted server
rebuilds its streams, tables and queries, as ksqlDB's), then applies it; answers in ksqlDB's entity shapes."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from typing import Any

from brook.sql import (
    alter,
    coercion,
    drop,
    format_checks,
    formats,
    insert_values,
    introspection,
    protobuf_nullable,
    serde_checks,
    srformats,
    timestamp_column,
    windows,
)
from brook.sql.aggregates import AggregateTopology
from brook.sql.commands import CommandRunner, StaleMetastore
from brook.sql.config import KsqlConfig
from brook.sql.expressions import SqlError, check_reserved
from brook.sql.joins import JoinTopology
from brook.sql.parser import (
    Alter,
    Create,
    Describe,
    Drop,
    Explain,
    InsertSelect,
    InsertValues,
    PrintTopic,
    Query,
    SetProperty,
    Show,
    Statement,
    Terminate,
    UnsetProperty,
    parse,
    position,
    type_str,
)
from brook.sql.queries import Plan, Source, is_header, partition_keys
from brook.sql.streams import ProjectTopology, SourceTableTopology, StreamsQuery

log = logging.getLogger("io.confluent.ksql.rest.server.computation.CommandRunner")


class StatementError(Exception):
    """ksqlDB's KsqlStatementErrorMessage: HTTP status error_code // 100."""

    def __init__(self, code: int, message: str, statement: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.statement = code, message, statement


class Engine:
    def __init__(self, config: KsqlConfig) -> None:
        from confluent_kafka import Producer
        from confluent_kafka.admin import AdminClient

        from brook.cli.clients import producer_config

        self.config = config
        self.admin = AdminClient({**config.client_props()})  # the stub's value type is wider than str
        self.producer = Producer(producer_config({**config.client_props(), "client.id": "ksql-command-producer"}))
        self.sources: dict[str, Source] = {}
        self.queries: dict[str, StreamsQuery] = {}
        self.lock = threading.RLock()  # ksqlDB runs commands one at a time
        self.sequence = -1
        self.cluster_id = ""
        self.statuses: dict[str, dict] = {}  # commandId -> its commandStatus, for /status
        self.commands = CommandRunner(self)

    # --- start-up: the command topic -------------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> None:
        metadata = self.admin.list_topics(timeout=timeout)
        self.cluster_id = metadata.cluster_id or ""
        self.commands.start(timeout)

    def _restore(self, offset: int, command: dict) -> None:
        """A command read from the command topic (at start, or written by another server sharing the service id)."""
        self.sequence = max(self.sequence, offset)
        try:
            for stmt in parse(command["statement"]):
                self._execute(stmt, dict(command.get("streamsProperties") or {}), record=False, offset=offset)
        except (SqlError, StatementError, ValueError) as e:
            log.warning("Skipped command %d (%s): %s", offset, command.get("statement"), e)

    def close(self) -> None:
        self.commands.stop()
        for q in list(self.queries.values()):
            q.stop()
        self.producer.flush(5)

    # --- statements ----------------------------------------------------------------------------------------------

    def execute(self, text: str, props: dict[str, Any]) -> list[dict]:
        statements = parse(text)
        entities: list[dict] = []
        props = dict(props)
        for stmt in statements:
            with self.lock:
                try:
                    entity = self._execute_latest(stmt, props)
                except SqlError as e:
                    raise StatementError(40001, str(e), stmt.text) from None
                except StatementError as e:
                    e.statement = e.statement or stmt.text
                    raise
            if entity is not None:
                entities.append(entity)
        return entities

    def _execute_latest(self, stmt: Statement, props: dict) -> dict | None:
        """Validate and run a statement against a metastore that has every command (again when another server
        wrote one meanwhile, as ksqlDB's DistributingExecutor)."""
        for _ in range(10):
            self.catch_up()
            try:
                return self._execute(stmt, props, record=True)
            except StaleMetastore:
                continue
        raise StatementError(50000, "Could not write the statement into the command topic: other servers kept "
                             "writing", stmt.text)

    def catch_up(self) -> None:
        """Apply what other servers wrote to the command topic before answering (ksqlDB waits likewise)."""
        self.commands.try_catch_up()

    def _execute(self, stmt: Statement, props: dict, record: bool, offset: int = -1) -> dict | None:
        node = stmt.node
        if isinstance(node, SetProperty):
            props[node.name] = node.value
            return None
        if isinstance(node, UnsetProperty):
            props.pop(node.name, None)
            return None
        if isinstance(node, (Query, PrintTopic)):
            raise StatementError(40002, "The following statement types should be issued to the websocket endpoint "
                                 "'/query':\n\t* PRINT\n\t* SELECT", stmt.text)
        if isinstance(node, Explain):
            return introspection.explain(self, stmt, node)
        if isinstance(node, Show):
            return introspection.show(self, stmt, node)
        if isinstance(node, Describe):
            return introspection.describe(self, stmt, node)
        if isinstance(node, InsertValues):
            insert_values.insert_values(self, node)
            return None
        if isinstance(node, Create):
            return self._create(stmt, node, props, record, offset)
        if isinstance(node, Drop):
            return drop.drop(self, stmt, node, record, offset)
        if isinstance(node, Alter):
            return alter.alter(self, stmt, node, record)
        if isinstance(node, Terminate):
            return drop.terminate(self, stmt, node, record, offset)
        if isinstance(node, InsertSelect):
            return self._insert_select(stmt, node, props, record, offset)
        raise SqlError(f"Unsupported statement: {type(node).__name__}")

    def _record(self, command_id: str, stmt: Statement, props: dict) -> int:
        """Write the statement to the command topic; its offset is ksqlDB's commandSequenceNumber."""
        from confluent_kafka import KafkaException

        value = json.dumps({"statement": stmt.text, "streamsProperties": props, "originalProperties": {}})
        try:
            offset = self.commands.write(command_id.encode(), value.encode())
        except (KafkaException, TimeoutError) as e:
            raise StatementError(50000, f"Could not write the statement '{stmt.text}' into the command topic: "
                                 f"{e}", stmt.text) from None
        self.sequence = max(self.sequence, offset)
        return offset

    def _status(self, stmt: Statement, command_id: str, seq: int, message: str, query_id: str | None = None) -> dict:
        status = self.statuses[command_id] = {"status": "SUCCESS", "message": message, "queryId": query_id}
        return {"@type": "currentStatus", "statementText": stmt.text, "commandId": command_id,
                "commandStatus": dict(status), "commandSequenceNumber": seq, "warnings": []}

    def _source(self, name: str) -> Source:
        source = self.sources.get(name)
        if source is None:
            raise SqlError(f"{name} does not exist.")
        return source

    def _topic_partitions(self, topic: str) -> tuple[int, int] | None:
        # all topics: a Metadata request naming the topic would auto-create it on a broker that allows that
        md = self.admin.list_topics(timeout=10).topics.get(topic)
        if md is None or md.error is not None or not md.partitions:
            return None
        return len(md.partitions), len(next(iter(md.partitions.values())).replicas)

    def _ensure_topic(self, topic: str, partitions: int | None, replicas: int | None, kind: str) -> tuple[int, int]:
        from confluent_kafka.admin import NewTopic

        have = self._topic_partitions(topic)
        if have is None:
            if partitions is None:
                raise SqlError(f"Topic '{topic}' does not exist. If you want to create a new topic for the "
                               f"{kind.lower()} please re-run the statement providing the required 'PARTITIONS' "
                               f"configuration in the WITH clause (and optionally 'REPLICAS'). For example: CREATE "
                               f"{kind} FOO (ID STRING, VAL STRING) WITH (KAFKA_TOPIC='{topic}', PARTITIONS=2, "
                               f"REPLICAS=1, FORMAT='JSON');")
            fut = self.admin.create_topics([NewTopic(topic, partitions, replicas or -1)])[topic]
            try:
                fut.result(30)
            except Exception as e:  # noqa: BLE001
                raise SqlError(f"Could not create topic '{topic}': {e}") from None
            return partitions, replicas or 1
        if partitions is not None and have[0] != partitions:
            raise SqlError(f"A Kafka topic with the name '{topic}' already exists, with different partition/replica "
                           f"configuration than required. KSQL expects {partitions} partitions (topic has "
                           f"{have[0]}), {replicas or have[1]} replication factor (topic has {have[1]}).")
        return have

    def _formats(self, props: dict, session: dict) -> tuple[str, str]:
        serde_checks.check_format_properties(props, (*formats.FORMATS, *srformats.SERDES, srformats.NOSR))
        fmt = str(props.get("FORMAT", "")).upper()
        key = str(props.get("KEY_FORMAT", fmt or self.config.get("ksql.persistence.default.format.key"))).upper()
        value = str(props.get("VALUE_FORMAT", fmt or session.get("ksql.persistence.default.format.value")
                              or self.config.get("ksql.persistence.default.format.value"))).upper()
        if not value:
            raise SqlError("Statement is missing the 'VALUE_FORMAT' property from the WITH clause. Either provide "
                           "one or set a default via the 'ksql.persistence.default.format.value' config.")
        for f in (key, value):
            if f not in formats.FORMATS and f not in srformats.SERDES and f != srformats.NOSR:
                raise SqlError(f"Unknown format: {f}")
        return key, value

    def _infer_columns(self, node: Create, topic: str, key_format: str, value_format: str,
                       names: dict[bool, str | None]) -> tuple[list, dict]:
        """ksqlDB's schema inference: the columns a CREATE leaves out, from the registry's schemas (the latest, or
        VALUE_SCHEMA_ID / KEY_SCHEMA_ID; for Protobuf, the message KEY/VALUE_SCHEMA_FULL_NAME names); and the
        schema id of each side (True: the key) whose columns were inferred. `names`: each side's schema full name,
        that of the schema VALUE_SCHEMA_ID / KEY_SCHEMA_ID gives when none was (ksqlDB's DefaultSchemaInjector)."""
        elements, inferred = list(node.elements), {}
        registry = self.config.schema_registry_settings()
        keys = [e for e in elements if e[2] in ("KEY", "PRIMARY KEY")]
        plain = [e for e in elements if not is_header(e[2])]  # header columns leave both sides to infer
        for is_key, fmt in ((False, value_format), (True, key_format)):
            if fmt not in srformats.SERDES or (keys if is_key else len(keys) != len(plain)):
                continue
            wanted = node.props.get("KEY_SCHEMA_ID" if is_key else "VALUE_SCHEMA_ID")
            given = node.props.get("KEY_SCHEMA_FULL_NAME") if is_key else node.props.get(
                "VALUE_SCHEMA_FULL_NAME", node.props.get("VALUE_AVRO_SCHEMA_FULL_NAME"))
            columns, inferred[is_key], name = srformats.infer(registry, fmt, topic, is_key,
                                                              int(wanted) if wanted is not None else None,
                                                              names[is_key] if given is not None else None)
            if given is None and wanted is not None:
                names[is_key] = name
            if not is_key and str(node.props.get("WRAP_SINGLE_VALUE")).lower() == "false" and \
                    [c[0] for c in columns] != ["ROWVAL"]:  # an unwrapped record: one STRUCT column, ROWVAL
                columns = [("ROWVAL", ("STRUCT", columns))]
            if is_key:
                ns = "PRIMARY KEY" if node.kind == "TABLE" else "KEY"
                elements = [(n, t, ns) for n, t in columns] + elements
            else:
                elements += [(n, t, None) for n, t in columns]
        return elements, inferred

    def _attach_serdes(self, source: Source, register: bool, only_if_absent: bool,
                       inferred: dict[bool, int] | None = None) -> None:
        """The schema-registry serdes of a source's key and value, their schemas registered when asked; a side
        whose columns came from the registry writes with the schema they came from, as ksqlDB does."""
        registry = self.config.schema_registry_settings()
        inferred = inferred or {}
        for is_key, fmt, cols in ((True, source.key_format, source.key_columns),
                                  (False, source.value_format, source.value_columns)):
            if fmt not in (*srformats.SERDES, srformats.NOSR) or not cols:
                continue
            if fmt != srformats.NOSR:
                srformats.require_registry(registry["schema.registry.url"], fmt, source.topic)
            serde = srformats.SrSerde(registry, fmt, source.topic, is_key, cols, not is_key and not source.wrap_single,
                                      schema_id=inferred.get(is_key),
                                      full_name=source.key_full_name if is_key else source.value_full_name,
                                      nullable=source.key_nullable if is_key else source.value_nullable)
            if register and is_key not in inferred:
                serde.register(only_if_absent)
            setattr(source, "key_serde" if is_key else "value_serde", serde)

    def _create(self, stmt: Statement, node: Create, session: dict, record: bool, offset: int) -> dict:
        kind_word = node.kind.capitalize()
        command_id = f"{node.kind.lower()}/`{node.name}`/create"
        if node.or_replace and (node.source or getattr(self.sources.get(node.name), "is_source", False)):
            kind = node.kind.lower()
            raise SqlError(f"Cannot add {kind} '{node.name}': CREATE OR REPLACE is not supported on source {kind}s.")
        if node.name in self.sources and not node.or_replace:
            if node.if_not_exists:
                return self._status(stmt, command_id, self.sequence, f"Cannot add {node.kind.lower()} "
                                    f"{node.name}: A {node.kind.lower()} with the same name already exists.")
            existing = self.sources[node.name]
            raise SqlError(f"Cannot add {node.kind.lower()} '{node.name}': A {existing.kind.lower()} with the same "
                           "name already exists")
        props = node.props
        partitions = int(props["PARTITIONS"]) if "PARTITIONS" in props else None
        replicas = int(props["REPLICAS"]) if "REPLICAS" in props else None
        if node.query is not None:
            return self._create_as(stmt, node, session, record, offset, partitions, replicas)
        key_format, value_format = self._formats(props, session)
        key_delimiter, value_delimiter = serde_checks.delimiters(props, key_format, value_format)
        nullable = protobuf_nullable.representations(props, key_format, value_format)
        key_name, value_name = srformats.full_names(props, key_format, value_format, node.name)
        for name, _, ns in node.elements:
            if node.kind == "STREAM" and ns == "PRIMARY KEY":
                raise SqlError(f"Column `{name}` is a 'PRIMARY KEY' column: please use 'KEY' for streams.\nTables "
                               "have PRIMARY KEYs, which are unique and NON NULL.\nStreams have KEYs, which have no "
                               "uniqueness or NON NULL constraints.")
            if node.kind == "TABLE" and ns == "KEY":
                raise SqlError(f"Column `{name}` is a 'KEY' column: please use 'PRIMARY KEY' for tables.\nTables "
                               "have PRIMARY KEYs, which are unique and NON NULL.\nStreams have KEYs, which have no "
                               "uniqueness or NON NULL constraints.")
        if node.kind == "TABLE" and key_format not in srformats.SERDES and \
                not any(ns == "PRIMARY KEY" for _, _, ns in node.elements):
            raise SqlError("Tables require a PRIMARY KEY. Please define the PRIMARY KEY.")
        for name, _, _ in node.elements or []:  # CreateSourceFactory: no system column names
            if name.upper() in ("ROWTIME", "ROWPARTITION", "ROWOFFSET", "WINDOWSTART", "WINDOWEND"):
                raise SqlError(f"'{name}' is a reserved column name. You cannot use it as a name for a column.")
        topic = str(props.get("KAFKA_TOPIC", node.name))
        names = {True: key_name, False: value_name}
        elements, inferred = self._infer_columns(node, topic, key_format, value_format, names)
        if not elements:
            raise SqlError("The statement does not define any columns.")
        try:
            window = windows.source_window(props)
        except ValueError as e:
            raise SqlError(str(e)) from None
        source = Source(node.name, node.kind, topic, key_format, value_format, elements, stmt.text,
                        is_source=node.source, window=window, timestamp=timestamp_column.column(props),
                        timestamp_format=timestamp_column.time_format(props),
                        wrap_single=str(props.get("WRAP_SINGLE_VALUE", "true")).lower() != "false",
                        key_full_name=names[True], value_full_name=names[False],
                        key_delimiter=key_delimiter or ",", value_delimiter=value_delimiter or ",",
                        key_nullable=nullable[True], value_nullable=nullable[False])
        timestamp_column.check(source)
        serde_checks.check_headers(source.columns)
        format_checks.check_wrapping(props, value_format, source.value_columns)
        for is_key, fmt, cols in ((True, key_format, source.key_columns), (False, value_format, source.value_columns)):
            serde_checks.check_schema(fmt, cols, is_key)  # the key's checks, then the value's, as ksqlDB's
            format_checks.check_registry_format(source, is_key, props.get("WRAP_SINGLE_VALUE"))
        self._attach_serdes(source, record, True, inferred)
        if record:
            source.partitions, source.replicas = self._ensure_topic(source.topic, partitions, replicas, node.kind)
            offset = self._record(command_id, stmt, {})
        self.sources[node.name] = source
        if node.source and node.kind == "TABLE":
            self._materialize_source_table(stmt, source, session, offset)
        return self._status(stmt, command_id, offset, f"{kind_word} created")

    def _materialize_source_table(self, stmt: Statement, source: Source, session: dict, offset: int) -> None:
        """ksqlDB 0.29 runs a query `CST_<name>_<n>` for a `CREATE SOURCE TABLE`: the table's rows, read from the
        beginning of its topic into `KsqlTopic-Reduce`, answer pull queries."""
        query = parse(f"SELECT * FROM `{source.name.replace('`', '``')}` EMIT CHANGES;")[0].node
        assert isinstance(query, Query)
        topology = SourceTableTopology(Plan(query, source), source, "TABLE")
        self._start_query(f"CST_{source.name}_{offset}", stmt, {**session, "auto.offset.reset": "earliest"},
                          topology, source, source)

    def _plan(self, query: Query, kind: str, props: dict, name: str,
              session: dict | None = None) -> tuple[Any, Source, Source]:
        """The topology of a persistent query and its sink (not yet in the metastore); `session`: the statement's
        properties (an aggregate's ksql.functions.* settings)."""
        source = self._source(query.source)
        if not query.joins:  # a join's criteria are checked first (JoinTopology checks its SELECT then)
            check_reserved(query)
        grouped = bool(query.group_by)
        serde_checks.check_format_properties(props, (*formats.FORMATS, *srformats.SERDES, srformats.NOSR))
        key_format = str(props.get("KEY_FORMAT", props.get("FORMAT", source.key_format))).upper()
        value_format = str(props.get("VALUE_FORMAT", props.get("FORMAT", source.value_format))).upper()
        if key_format == "NONE" and "KEY_FORMAT" not in props and "FORMAT" not in props and (
                grouped or (query.partition_by and partition_keys(query.partition_by))):
            # a keyless source's NONE is not inherited by a result that has a key (none.json "inherited in ...")
            key_format = str(self.config.get("ksql.persistence.default.format.key")).upper()
        if query.joins:
            sources = [source] + [self._source(j.source) for j in query.joins]
            if key_format == "NONE":  # the join's result has a key: the first source key format, else the default
                key_format = next((s.key_format for s in sources if s.key_format != "NONE"), "").upper() or str(
                    (session or {}).get("ksql.persistence.default.format.key") or
                    self.config.get("ksql.persistence.default.format.key")).upper()
            partitions = {s.topic: (self._topic_partitions(s.topic) or (1, 1))[0] for s in sources}
            app_id = f"_confluent-ksql-{self.config.service_id}query_"
            topology: Any = JoinTopology(query, sources, kind, app_id + "{query_id}", partitions, name, key_format)
            result = "TABLE" if grouped or topology.kind == "TT" else "STREAM"
        elif grouped:
            app_id = f"_confluent-ksql-{self.config.service_id}query_"
            settings = {k: v for k, v in self.config.props.items() if k.startswith("ksql.functions.")}
            topology = AggregateTopology(query, source, key_format, app_id + "{query_id}",
                                         properties={**settings, **(session or {})})
            result = "TABLE"
            if key_format == "KAFKA" and len(topology.key_columns) > 1:
                raise SqlError("Key format does not support schema.\nformat: KAFKA\nschema: Persistence{columns="
                               f"{[n for n, _ in topology.key_columns]}, features=[]}}\nreason: The 'KAFKA' format "
                               "only supports a single field.")
        else:
            plan = Plan(query, source, name)
            if query.emit == "FINAL":
                raise SqlError("EMIT FINAL is only supported for windowed aggregations.")
            if query.window is not None:
                raise SqlError("WINDOW clause requires a GROUP BY clause.")
            if query.partition_by and source.kind == "TABLE":
                raise SqlError("Invalid result type. Your SELECT query produces a TABLE. PARTITION BY is only "
                               "supported on streams.")
            topology = ProjectTopology(plan, source, kind)
            result = source.kind
        if result != kind:
            raise SqlError(f"Invalid result type. Your SELECT query produces a {result}. Please use CREATE {result} "
                           f"AS SELECT statement instead.")
        key_ns = "PRIMARY KEY" if kind == "TABLE" else "KEY"
        columns = [(n, t or ("STRING",), key_ns if k else None) for n, t, k in topology.columns
                   if n not in ("WINDOWSTART", "WINDOWEND") or not k]
        columns.sort(key=lambda c: c[2] is None)  # key columns first, as ksqlDB's schemas are
        if kind == "TABLE" and not any(k for _, _, k in topology.columns):
            keys = ", ".join(n for n, _ in source.key_columns)
            raise SqlError(f"Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query used "
                           f"to build `{name}` must include the key columns {keys} in its projection (eg, SELECT "
                           f"{keys}...).")
        if isinstance(topology, ProjectTopology):
            new_planner = str((session or {}).get("ksql.new.query.planner.enabled", "false")).lower() == "true"
            topology.plan.check_sink(source, name, bool(query.partition_by) or new_planner)
        prefix_key = "ksql.output.topic.name.prefix"
        prefix = (session or {}).get(prefix_key) or self.config.get(prefix_key)
        sink = Source(name, kind, str(props.get("KAFKA_TOPIC", prefix + name)), key_format, value_format, columns, "",
                      window=topology.window, timestamp=timestamp_column.column(props),
                      timestamp_format=timestamp_column.time_format(props),
                      wrap_single=str(props.get("WRAP_SINGLE_VALUE", "true")).lower() != "false")
        sink.key_delimiter, sink.value_delimiter = serde_checks.sink_delimiters(props, source, sink)
        if query.partition_by and not partition_keys(query.partition_by) and \
                str(props.get("KEY_FORMAT", props.get("FORMAT", "NONE"))).upper() != "NONE":
            raise SqlError("Key format specified for stream without key columns.")  # ksqlDB's Analyzer
        timestamp_column.check(sink)
        serde_checks.check_schema(key_format, sink.key_columns, True)
        serde_checks.check_schema(value_format, sink.value_columns, False)
        sink.columns = [c for c in columns if not (c[0] in ("WINDOWSTART", "WINDOWEND") and c[2])]
        return topology, source, sink

    def _start_query(self, query_id: str, stmt: Statement, session: dict, topology: Any, source: Source,
                     sink: Source) -> StreamsQuery:
        reset = str(session.get("auto.offset.reset") or session.get("ksql.streams.auto.offset.reset")
                    or self.config.get("ksql.streams.auto.offset.reset"))
        guarantee = str(session.get("processing.guarantee") or session.get("ksql.streams.processing.guarantee")
                        or self.config.get("ksql.streams.processing.guarantee"))
        group_id = f"_confluent-ksql-{self.config.service_id}query_{query_id}"
        pq = StreamsQuery(query_id, stmt.text, source, sink, topology, group_id, self.config.client_props(), reset,
                          guarantee)
        pq.topology = topology
        pq.state_dir = self.config.get("ksql.streams.state.dir")
        pq.commit_interval_ms = int(session.get("commit.interval.ms") or session.get("ksql.streams.commit.interval.ms")
                                    or self.config.get("ksql.streams.commit.interval.ms") or 2000)
        pq.consumer_props = self.config.consumer_props()
        have = self._topic_partitions(source.topic)
        aggregate = topology if isinstance(topology, AggregateTopology) else None
        if isinstance(topology, JoinTopology) and topology.merged:
            # a foreign-key join's right table keeps its own partitions: its store's changelog needs as many
            counts = [(self._topic_partitions(leaf.source.topic) or (1, 1))[0] for leaf in topology.leaves]
            have = (max(counts), have[1] if have else 1)
        if isinstance(topology, JoinTopology):
            pq.inputs = [leaf.source.name for leaf in topology.leaves]
            for leaf in topology.leaves:
                if leaf.repartition:
                    leaf.repartition = leaf.repartition.replace("{query_id}", query_id)
            for step in topology.steps:
                if step.left_repartition:
                    step.left_repartition = step.left_repartition.replace("{query_id}", query_id)
            for topic in topology.plan.repartitions():
                self._changelog_topic(topic, have[0] if have else 1, "delete")
            aggregate = topology.aggregate
        if aggregate is not None:
            aggregate.encode_key = sink.encode_key
        if aggregate is not None and aggregate.repartition:
            aggregate.repartition = aggregate.repartition.replace("{query_id}", query_id)
            self._changelog_topic(aggregate.repartition, have[0] if have else 1, "delete")
        for changelog in pq.changelogs():
            self._changelog_topic(changelog, have[0] if have else 1)
        self.queries[query_id] = pq
        pq.start()
        return pq

    def _create_as(self, stmt: Statement, node: Create, session: dict, record: bool, offset: int,
                   partitions: int | None, replicas: int | None) -> dict:
        assert node.query is not None
        windows.refuse_windowed_table(self.sources, node.query)
        topology, source, sink = self._plan(node.query, node.kind, node.props, node.name, session)
        sink.key_full_name, sink.value_full_name = srformats.full_names(node.props, sink.key_format, sink.value_format,
                                                                        node.name, inherit=source)
        nullable = protobuf_nullable.representations(node.props, sink.key_format, sink.value_format)
        sink.key_nullable, sink.value_nullable = nullable[True], nullable[False]
        sink.statement, sink.cas_target = stmt.text, True
        format_checks.check_wrapping(node.props, sink.value_format, sink.value_columns)
        for is_key in (True, False):  # the formats' checks serde_checks does not make (in _plan)
            format_checks.check_registry_format(sink, is_key, node.props.get("WRAP_SINGLE_VALUE"))
        command_id = f"{node.kind.lower()}/`{node.name}`/create"
        have = self._topic_partitions(source.topic)
        # KEY_SCHEMA_ID / VALUE_SCHEMA_ID: the sink writes with that registered schema (its defaults for NULLs and
        # for its fields the query leaves out; avro.json "VALUE_SCHEMA_ID with compound types and default value")
        ids = {is_key: int(node.props[p]) for is_key, p in ((True, "KEY_SCHEMA_ID"), (False, "VALUE_SCHEMA_ID"))
               if node.props.get(p) is not None}
        self._attach_serdes(sink, record, False, ids)
        if record:
            sink.partitions, sink.replicas = self._ensure_topic(
                sink.topic, partitions or (have[0] if have else 1),
                replicas or int(self.config.get("ksql.sink.replicas") or 0) or None, node.kind)
            offset = self._record(command_id, stmt, session)
        query_id = f"{'CTAS' if node.kind == 'TABLE' else 'CSAS'}_{node.name}_{offset}"
        self.sources[node.name] = sink
        self._start_query(query_id, stmt, session, topology, source, sink)
        return self._status(stmt, command_id, offset, f"Created query with ID {query_id}", query_id)

    def _insert_select(self, stmt: Statement, node: InsertSelect, session: dict, record: bool, offset: int) -> dict:
        if node.target not in self.sources:
            raise SqlError(f"{position(node.target)}Source `{node.target}` does not exist.")
        target = self._source(node.target)
        if target.kind != "STREAM":
            raise SqlError(f"INSERT INTO can only be used to insert into a stream. {target.name} is a table.")
        if target.is_source:
            raise SqlError(f"Cannot insert into read-only stream: {target.name}")
        if target.header_columns:
            raise SqlError(f"Cannot insert into {target.name} because it has header columns")
        props = {"KAFKA_TOPIC": target.topic, "KEY_FORMAT": target.key_format, "VALUE_FORMAT": target.value_format}
        windows.refuse_windowed_table(self.sources, node.query)
        query = dataclasses.replace(node.query, items=coercion.cast_literals_to(
            node.query.items, [t for _, t in target.key_columns + target.value_columns]))
        topology, source, sink = self._plan(query, "STREAM", props, target.name, session)
        if [(n, t, bool(k)) for n, t, k in sink.columns] != [(n, t, bool(k)) for n, t, k in target.columns
                                                             if k != "HEADERS"]:
            raise SqlError("Incompatible schema between results and sink.\nResult schema is "
                           + ", ".join(f"`{n}` {type_str(t)}{' KEY' if k else ''}" for n, t, k in sink.columns)
                           + "\nSink schema is " + ", ".join(f"`{n}` {type_str(t)}{' KEY' if k else ''}"
                                                             for n, t, k in target.columns))
        command_id = f"stream/`{target.name}`/create"
        if record:
            offset = self._record(command_id, stmt, session)
        query_id = f"INSERTQUERY_{offset}"
        self._start_query(query_id, stmt, session, topology, source, target)
        return self._status(stmt, command_id, offset, f"Created query with ID {query_id}", query_id)

    def _changelog_topic(self, topic: str, partitions: int, policy: str = "compact") -> None:
        from confluent_kafka.admin import NewTopic

        if self._topic_partitions(topic) is not None:
            return
        replicas = int(self.config.get("ksql.internal.topic.replicas") or 1)
        fut = self.admin.create_topics([NewTopic(topic, partitions, replicas,
                                                 config={"cleanup.policy": policy})])[topic]
        try:
            fut.result(30)
        except Exception as e:  # noqa: BLE001
            raise SqlError(f"Could not create the changelog topic '{topic}': {e}") from None

    def materialized(self, name: str) -> Any:
        """The aggregate query that materializes table `name` (pull queries read its store), or None."""
        return next((q for q in self.queries.values() if q.sink.name == name
                     and (isinstance(q.topology, AggregateTopology) or getattr(q.topology, "pullable", False))),
                    None)
