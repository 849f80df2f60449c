"""JdbcSinkConnector and JdbcSinkTask (io.confluent.connect.jdbc): records written into tables.

Each put() is one database transaction (JdbcDbWriter.write): the records go in order, in runs of the same table,
schema and operation, each run one executemany statement per batch.size records — INSERT, upsert (INSERT ... ON
CONFLICT (pk) DO UPDATE on PostgreSQL and SQLite), UPDATE ... WHERE pk, or DELETE ... WHERE pk for tombstones
(delete.enabled). The worker commits the consumer offsets only after put() returned, so only after the database
committed. A database error rolls the transaction back and, while max.retries lasts, asks for the same records
again after retry.backoff.ms (RetriableException with context.timeout); then, if the worker gave the task an errant
record reporter (a dead letter queue or errors.log.enable), the records are written one by one and those refused
are reported; else the task fails with the cause.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from brook.connect.api import SinkConnector, SinkTask
from brook.connect.configdef import ConfigError, Parsed
from brook.connect.data import ConnectError, RetriableError, Schema, Struct
from brook.connect.jdbc import config as jc
from brook.connect.jdbc import dialect

log = logging.getLogger("io.confluent.connect.jdbc.sink.JdbcSinkTask")
KAFKA_PK_NAMES = ["__connect_topic", "__connect_partition", "__connect_offset"]
KAFKA_PK_SCHEMAS = [Schema("string"), Schema("int32"), Schema("int64")]


class SQLException(ConnectError):
    """The database's error as Confluent's connector reports it (java.sql.SQLException)."""

    java_class = "java.sql.SQLException"


class JdbcSinkConnector(SinkConnector):
    CONFIG_DEF = jc.SINK

    def validate(self, props):
        values = self.config().validate_all(props)
        if jc.validate_sink(values):
            err = dialect.check_connection({v.name: v.value for v in values})
            if err:
                next(v for v in values if v.name == "connection.url").errors.append(err)
        return values

    def start(self, props: dict[str, str]) -> None:
        super().start(props)
        parse(props)

    def task_class(self):
        return JdbcSinkTask

    def task_configs(self, max_tasks):
        return [dict(self.props) for _ in range(max_tasks)]


def parse(props: dict[str, str]) -> Parsed:
    try:
        cfg = jc.SINK.parse(props)
    except ConfigError as e:
        raise ConnectError(str(e)) from e
    cfg["insert.mode"], cfg["pk.mode"] = str(cfg.get_str("insert.mode")).lower(), str(cfg.get_str("pk.mode")).lower()
    if cfg.get_bool("delete.enabled") and cfg.get_str("pk.mode") != "record_key":
        raise ConnectError("Primary key mode must be 'record_key' when delete support is enabled")
    return cfg


def java_type(value: object) -> str:
    """StringUtils.valueTypeOrNull: the simple name of the value's Java class."""
    if value is None:
        return "null"
    names = {dict: "HashMap", list: "ArrayList", str: "String", bool: "Boolean", int: "Long", float: "Double",
             bytes: "byte[]"}
    return names.get(type(value), type(value).__name__)


def struct_pk(table: str, part: str, schema: Schema, pk_fields: list[str]) -> list[tuple[str, Schema]]:
    """The primary key columns taken from a key or value struct: pk.fields, or all of its fields."""
    out = []
    for n in pk_fields or [f.name for f in schema.fields]:
        f = schema.field(n)
        if f is None:
            raise ConnectError(f"PK mode for table '{table}' is RECORD_{part.upper()} with configured PK fields "
                               f"{pk_fields}, but record {part} schema does not contain field: {n}")
        out.append((n, f.schema))
    return out


class Fields:
    """FieldsMetadata: the key and value columns of records with one pair of schemas."""

    def __init__(self, cfg: Parsed, table: str, key_schema: Schema | None, value_schema: Schema | None) -> None:
        mode, pk_fields = cfg.get_str("pk.mode"), cfg.get_list("pk.fields")
        self.pk: list[tuple[str, Schema]] = []
        self.pk_source = mode
        if mode == "kafka":
            names = pk_fields or KAFKA_PK_NAMES
            if len(names) != 3:
                raise ConnectError("PK mode for table '" + table + "' is KAFKA so there should either be no field "
                                   "names defined for defaults " + str(KAFKA_PK_NAMES) + " to be applicable, or "
                                   "exactly 3, defined fields are: " + str(pk_fields))
            self.pk = list(zip(names, KAFKA_PK_SCHEMAS, strict=True))
        elif mode == "record_key":
            if key_schema is None:
                raise ConnectError(f"PK mode for table '{table}' is RECORD_KEY, but record key schema is missing")
            if key_schema.type == "struct":
                self.pk = struct_pk(table, "key", key_schema, pk_fields)
            else:
                if len(pk_fields) != 1:
                    raise ConnectError("Need exactly one PK column defined since the key schema for records is a "
                                       f"primitive type, defined columns are: {pk_fields}")
                self.pk = [(pk_fields[0], key_schema)]
        elif mode == "record_value":
            if value_schema is None or value_schema.type != "struct":
                raise ConnectError(f"PK mode for table '{table}' is RECORD_VALUE, but record value schema is "
                                   "missing")
            self.pk = struct_pk(table, "value", value_schema, pk_fields)
        pk_names = {n for n, _ in self.pk}
        white = set(cfg.get_list("fields.whitelist"))
        self.values: list[tuple[str, Schema]] = [
            (f.name, f.schema) for f in (value_schema.fields if value_schema is not None else ())
            if f.name not in pk_names and (not white or f.name in white)]
        self.all = self.pk + self.values

    def row(self, record) -> dict[str, object]:
        """The column values of one record (bind names prefixed: UPDATE's executemany needs them distinct)."""
        out: dict[str, object] = {}
        if self.pk_source == "kafka":
            coords = [record.topic, record.kafka_partition, record.kafka_offset]
            out.update({"p_" + n: v for (n, _), v in zip(self.pk, coords, strict=True)})
        elif self.pk_source == "record_key":
            key = record.key
            for n, s in self.pk:
                out["p_" + n] = dialect.to_db(s, key.get(n) if isinstance(key, Struct) else key)
        elif self.pk_source == "record_value":
            for n, s in self.pk:
                out["p_" + n] = dialect.to_db(s, record.value.get(n))
        value = record.value
        if isinstance(value, Struct):
            for n, s in self.values:
                out["p_" + n] = dialect.to_db(s, value.get(n))
        return out


class JdbcSinkTask(SinkTask):
    def start(self, props: dict[str, str]) -> None:
        self.name = props.get("name", "")
        self.cfg = parse(props)
        self.remaining_retries = self.cfg.get_int("max.retries")
        self.engine = dialect.create_engine(self.cfg)
        self.tables: dict[str, sa.Table] = {}

    def put(self, records):
        if not records:
            return
        try:
            self.write(records)
            log.info("Successfully wrote %d records.", len(records))
        except sa.exc.DBAPIError as e:
            log.warning("Write of %d records failed, remainingRetries=%d", len(records), self.remaining_retries,
                        exc_info=e)
            self.tables.clear()  # DDL may have been rolled back with the transaction
            self.engine.dispose()  # a fresh connection next time (initWriter)
            message = f"{type(e.orig).__name__}: {e.orig}".strip() if e.orig is not None else str(e)
            if self.remaining_retries > 0:
                self.remaining_retries -= 1
                self.context.timeout(self.cfg.get_int("retry.backoff.ms"))
                raise RetriableError(f"java.sql.SQLException: {message}") from e
            reporter = self.context.errant_record_reporter
            if reporter is None:
                log.error("Failing task after exhausting retries; encountered 1 exceptions on last write attempt.")
                raise ConnectError(f"java.sql.SQLException: {message}") from e
            self.unroll_and_retry(records, reporter)
        self.remaining_retries = self.cfg.get_int("max.retries")

    def unroll_and_retry(self, records, reporter) -> None:
        """Confluent's unrollAndRetry: each record on its own; those the database refuses go to the errant record
        reporter (the dead letter queue), the others are written."""
        for record in records:
            try:
                self.write([record])
            except sa.exc.DBAPIError as e:
                log.debug("Error writing a record: %s", e)
                self.tables.clear()
                reporter.report(record, SQLException(f"{type(e.orig).__name__}: {e.orig}".strip()
                                                     if e.orig is not None else str(e)))

    def write(self, records) -> None:
        """JdbcDbWriter.write: one transaction, runs of records with the same table, schemas and operation."""
        conn = dialect.connect(self.engine, self.cfg.get_int("connection.attempts"),
                               self.cfg.get_long("connection.backoff.ms"))
        try:
            with conn.begin():
                run: list = []
                run_id: tuple | None = None
                for r in records:
                    self.check(r)
                    delete = r.value is None
                    rid = (self.table_name(r.topic), r.key_schema, r.value_schema, delete)
                    if run and (rid != run_id or len(run) >= self.cfg.get_int("batch.size") > 0):
                        self.write_run(conn, run_id, run)  # type: ignore[arg-type]
                        run = []
                    run_id = rid
                    run.append(r)
                if run:
                    self.write_run(conn, run_id, run)  # type: ignore[arg-type]
        finally:
            conn.close()

    def check(self, record) -> None:
        """RecordValidator: a Struct value with its schema (a null one only as a delete); with record_key keys or
        deletes, a key with a Struct or primitive schema."""
        needs_key = self.cfg.get_str("pk.mode") == "record_key" or self.cfg.get_bool("delete.enabled")
        needs_value = self.cfg.get_str("pk.mode") in ("none", "record_value") or not self.cfg.get_bool("delete.enabled")
        if needs_key and (record.key is None or record.key_schema is None or record.key_schema.type in ("array",
                                                                                                        "map")):
            self._reject(record, "a non-null key and non-null Struct or primitive key schema", record.key,
                         record.key_schema, "key")
        if (needs_value or record.value is not None) and \
                (not isinstance(record.value, Struct) or record.value_schema is None):
            self._reject(record, "a non-null Struct value and non-null Struct schema", record.value,
                         record.value_schema, "value")

    def _reject(self, record, needs: str, value, schema: Schema | None, what: str) -> None:
        coords = f"topic='{record.topic}',partition={record.kafka_partition},offset={record.kafka_offset}," \
                 f"timestamp={record.timestamp}"
        deletes = str(self.cfg.get_bool("delete.enabled")).lower()
        raise ConnectError(
            f"Sink connector '{self.name}' is configured with 'delete.enabled={deletes}' and "
            f"'pk.mode={self.cfg.get_str('pk.mode')}' and therefore requires records with {needs}, but found record at "
            f"({coords}) with a {java_type(value)} {what} and "
            f"{'null' if schema is None else schema.type.upper()} {what} schema.")

    def table_name(self, topic: str) -> str:
        return (self.cfg.get_str("table.name.format") or "${topic}").replace("${topic}", topic)

    def write_run(self, conn: sa.Connection, run_id: tuple, records: list) -> None:
        name, key_schema, value_schema, delete = run_id
        fields = Fields(self.cfg, name, key_schema, None if delete else value_schema)
        table = self.table(conn, name, fields)
        rows = [fields.row(r) for r in records]
        pk = [table.c[n] for n, _ in fields.pk]
        where = sa.and_(*[c == sa.bindparam("p_" + c.name) for c in pk])
        mode = self.cfg.get_str("insert.mode")
        if delete:
            stmt: sa.Executable = sa.delete(table).where(where)
        elif mode == "update":
            stmt = sa.update(table).where(where).values(
                {n: sa.bindparam("p_" + n) for n, _ in fields.values})
        elif mode == "upsert":
            if not pk:
                raise ConnectError(f"Write to table '{name}' in UPSERT mode requires key field names to be known, "
                                   "check the primary key configuration")
            ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
            ins = ins.values({n: sa.bindparam("p_" + n) for n, _ in fields.all})
            updates = {n: ins.excluded[n] for n, _ in fields.values}
            stmt = ins.on_conflict_do_update(index_elements=pk, set_=updates) if updates else \
                ins.on_conflict_do_nothing(index_elements=pk)
        else:
            stmt = sa.insert(table).values({n: sa.bindparam("p_" + n) for n, _ in fields.all})
        conn.execute(stmt, rows)

    def table(self, conn: sa.Connection, name: str, fields: Fields) -> sa.Table:
        """DbStructure.createOrAmendIfNecessary: the table, created (auto.create) or given the record's missing
        columns (auto.evolve)."""
        table = self.tables.get(name)
        if table is not None and all(n in table.c for n, _ in fields.all):
            return table
        schema, _, short = name.rpartition(".")
        insp = sa.inspect(conn)
        if not insp.has_table(short, schema=schema or None):
            if not self.cfg.get_bool("auto.create"):
                raise ConnectError(f'Table "{name}" is missing and auto-creation is disabled')
            log.info("Creating table with sql: CREATE TABLE %s", name)
            pk_names = {n for n, _ in fields.pk}
            cols = [sa.Column(n, dialect.sql_type(s), primary_key=n in pk_names,
                              nullable=n not in pk_names and s.optional, autoincrement=False)
                    for n, s in fields.all]
            sa.Table(short, sa.MetaData(), *cols, schema=schema or None).create(conn)
        table = sa.Table(short, sa.MetaData(), schema=schema or None, autoload_with=conn)
        missing = [(n, s) for n, s in fields.all if n not in table.c]
        if missing:
            if not self.cfg.get_bool("auto.evolve"):
                raise ConnectError(f'Table "{name}" is missing fields ({[n for n, _ in missing]}) and '
                                   "auto-evolution is disabled")
            prep = conn.dialect.identifier_preparer
            for n, s in missing:
                if not s.optional and s.default is None:
                    raise ConnectError(f'Cannot ALTER TABLE "{name}" to add missing field {n}, as the field is '
                                       "not optional and does not have a default value")
                col_type = dialect.sql_type(s).compile(dialect=conn.dialect)
                sql = f"ALTER TABLE {prep.format_table(table)} ADD {prep.quote(n)} {col_type}"
                log.info("Amending table to add missing fields:1 maxRetries:%d with SQL: %s",
                         self.cfg.get_int("max.retries"), sql)
                conn.execute(sa.text(sql))
            table = sa.Table(short, sa.MetaData(), schema=schema or None, autoload_with=conn)
        self.tables[name] = table
        return table

    def stop(self):
        engine = getattr(self, "engine", None)
        if engine is not None:
            engine.dispose()
