"""JdbcSourceConnector and JdbcSourceTask (io.confluent.connect.jdbc): tables (or one query) polled into topics.

The connector lists the tables once at start (table.whitelist / table.blacklist, table.types) and splits them
across tasks.max tasks (ConnectorUtils.groupPartitions). Each task keeps one querier per table in a queue, the
next due one at the head: it runs the mode's query (WHERE ... ORDER BY the offset columns), hands out at most
batch.max.rows rows per poll as Structs named after the table, and once the result is exhausted goes to the tail
to run again poll.interval.ms later. Source partitions and offsets are Confluent's: {"protocol":"1","table":
"<db.schema.table>"} (or {"query":"query"}) and {"incrementing":N,"timestamp":ms,"timestamp_nanos":ns}.
A failed query is retried (query.retry.attempts, -1 for ever) after poll.interval.ms on a new connection; a
connection that cannot be had after connection.attempts fails the task.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import sqlalchemy as sa

from brook.connect.api import SourceConnector, SourceRecord, SourceTask
from brook.connect.configdef import ConfigError
from brook.connect.data import ConnectError, Schema, Struct, struct_schema
from brook.connect.jdbc import config as jc
from brook.connect.jdbc import dialect

log = logging.getLogger("io.confluent.connect.jdbc.source.JdbcSourceTask")
SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "pg_toast"}
# the driver's type codes of a query's columns (psycopg: PostgreSQL's type OIDs), for query mode's schema
PG_OIDS: dict[int, sa.types.TypeEngine] = {
    16: sa.Boolean(), 20: sa.BigInteger(), 21: sa.SmallInteger(), 23: sa.Integer(), 700: sa.REAL(),
    701: sa.Double(), 1700: sa.Numeric(), 1082: sa.Date(), 1083: sa.Time(), 1114: sa.DateTime(),
    1184: sa.DateTime(timezone=True), 17: sa.LargeBinary()}


def group_partitions(items: list, groups: int) -> list[list]:
    """ConnectorUtils.groupPartitions: contiguous, as even as possible, the first ones one longer."""
    per, extra = divmod(len(items), groups)
    out, i = [], 0
    for g in range(groups):
        n = per + (1 if g < extra else 0)
        out.append(items[i:i + n])
        i += n
    return out


def list_tables(engine: sa.Engine, types: list[str]) -> list[tuple[str | None, str | None, str]]:
    """(catalog, schema, table) of every user table (and view, if table.types says so)."""
    insp = sa.inspect(engine)
    catalog = engine.url.database if engine.dialect.name == "postgresql" else None
    schemas: list[str | None] = [None]
    if engine.dialect.name == "postgresql":
        schemas = [s for s in insp.get_schema_names() if s not in SYSTEM_SCHEMAS]
    out: list[tuple[str | None, str | None, str]] = []
    for s in schemas:
        names = insp.get_table_names(schema=s) if "TABLE" in types else []
        names += insp.get_view_names(schema=s) if "VIEW" in types else []
        out += [(catalog, s, t) for t in sorted(names)]
    return out


def fqn(table: tuple[str | None, str | None, str]) -> str:
    """TableId with QuoteMethod.NEVER: catalog.schema.table, the parts that exist."""
    return ".".join(p for p in table if p)


class JdbcSourceConnector(SourceConnector):
    CONFIG_DEF = jc.SOURCE

    def validate(self, props):
        values = self.config().validate_all(props)
        if jc.validate_source(values):
            cfg = {v.name: v.value for v in values}
            err = dialect.check_connection(cfg)
            if err:
                next(v for v in values if v.name == "connection.url").errors.append(err)
        return values

    def start(self, props: dict[str, str]) -> None:
        super().start(props)
        try:
            self.cfg = jc.SOURCE.parse(props)
        except ConfigError as e:
            raise ConnectError(f"Couldn't start JdbcSourceConnector due to configuration error: {e}") from e
        self.tables: list[str] = []
        if self.cfg.get_str("query"):
            return
        engine = dialect.create_engine(self.cfg)
        try:
            conn = dialect.connect(engine, self.cfg.get_int("connection.attempts"),
                                   self.cfg.get_long("connection.backoff.ms"))
            conn.close()
            found = list_tables(engine, [t.upper() for t in self.cfg.get_list("table.types")])
        finally:
            engine.dispose()
        white, black = set(self.cfg.get_list("table.whitelist")), set(self.cfg.get_list("table.blacklist"))

        def names(t):
            return {fqn(t), t[2], fqn((None, t[1], t[2]))}
        self.tables = [fqn(t) for t in found if (not white or names(t) & white) and not names(t) & black]

    def task_class(self):
        return JdbcSourceTask

    def task_configs(self, max_tasks):
        if self.cfg.get_str("query"):
            return [dict(self.props)]
        if not self.tables:
            logging.getLogger("io.confluent.connect.jdbc.JdbcSourceConnector").warning(
                "No tasks will be run because no tables were found")
            return []
        groups = group_partitions(self.tables, min(len(self.tables), max_tasks))
        return [{**self.props, "tables": ",".join(g)} for g in groups]


def to_millis_nanos(ts: dt.datetime) -> tuple[int, int]:
    """java.sql.Timestamp's getTime() and getNanos() of a UTC instant."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=dt.UTC)
    delta = ts - dialect.EPOCH
    seconds = delta.days * 86400 + delta.seconds
    return seconds * 1000 + delta.microseconds // 1000, delta.microseconds * 1000


def from_millis_nanos(millis: int, nanos: int | None) -> dt.datetime:
    seconds = millis // 1000
    micros = (nanos // 1000) if nanos is not None else (millis % 1000) * 1000
    return dialect.EPOCH + dt.timedelta(seconds=seconds, microseconds=micros)


class Querier:
    """One table (or the query) of a task: TableQuerier with TimestampIncrementingCriteria."""

    def __init__(self, task: JdbcSourceTask, name: str | None, partition: dict, topic: str) -> None:
        self.task, self.name, self.partition, self.topic = task, name, partition, topic
        cfg = task.cfg
        self.mode = cfg.get_str("mode")
        self.inc_col: str | None = cfg.get_str("incrementing.column.name") or None
        self.ts_cols: list[str] = list(cfg.get_list("timestamp.column.name"))
        self.next_update = 0.0
        self.retries = 0
        self.result: sa.CursorResult | None = None
        self.table: sa.Table | None = None
        self.schema: Schema | None = None
        self.ts_tz = False
        offset = task.context.offset_storage_reader.offset(partition) \
            if task.context.offset_storage_reader and self.mode != jc.MODE_BULK else None
        offset = offset or {}
        self.last_inc: int = offset.get("incrementing", -1)
        millis = offset.get("timestamp")
        initial = cfg["timestamp.initial"]  # a LONG without default: None when unset
        if millis is not None:
            self.last_ts = from_millis_nanos(millis, offset.get("timestamp_nanos"))
        elif isinstance(initial, int) and initial >= 0:
            self.last_ts = from_millis_nanos(initial, None)
        elif initial == -1:
            self.last_ts = dt.datetime.now(dt.UTC)
        else:
            self.last_ts = dialect.EPOCH

    def __str__(self) -> str:
        return self.name or "query"

    # the table's shape, once per task start
    def describe(self, conn: sa.Connection) -> None:
        if self.name is None:
            return
        parts = self.name.split(".")
        schema, table = (parts[-2], parts[-1]) if len(parts) >= 2 else (None, parts[-1])
        self.table = sa.Table(table, sa.MetaData(), schema=schema, autoload_with=conn)
        cols = self.table.columns
        if self.mode in (jc.MODE_INCREMENTING, jc.MODE_TIMESTAMP_INCREMENTING) and self.inc_col is None:
            auto = [c.name for c in cols if c.primary_key and isinstance(c.type, sa.Integer)]
            if len(auto) != 1:
                raise ConnectError(f"Cannot find an auto-incrementing column on {self.name} to use as the "
                                   "incrementing column; set incrementing.column.name")
            self.inc_col = auto[0]
        for c in ([self.inc_col] if self.inc_col else []) + self.ts_cols:
            if c not in cols:
                raise ConnectError(f"Column {c} does not exist in table {self.name}")
        if self.ts_cols:
            self.ts_tz = bool(getattr(cols[self.ts_cols[0]].type, "timezone", False))
        if self.task.cfg.get_bool("validate.non.null"):
            if self.inc_col is not None and cols[self.inc_col].nullable:
                raise ConnectError(f"Cannot make incremental queries using incrementing column {self.inc_col} on "
                                   f"{self.name} because this column is nullable.")
            if self.mode in (jc.MODE_TIMESTAMP, jc.MODE_TIMESTAMP_INCREMENTING) and \
                    all(cols[c].nullable for c in self.ts_cols):
                raise ConnectError(f"Cannot make incremental queries using timestamp columns "
                                   f"{','.join(self.ts_cols)} on {self.name} because all of these columns are "
                                   "nullable.")
        fields = [(c.name, dialect.column_schema(c.type, bool(c.nullable))) for c in cols]
        self.schema = struct_schema(fields, name=table)

    # the query of one round (TimestampIncrementingCriteria.whereClause)
    def _ts_param(self, value: dt.datetime) -> dt.datetime:
        value = value.astimezone(dt.UTC)
        return value if self.ts_tz else value.replace(tzinfo=None)

    def start(self, conn: sa.Connection) -> None:
        uses_ts = self.mode in (jc.MODE_TIMESTAMP, jc.MODE_TIMESTAMP_INCREMENTING)
        params: dict[str, object] = {}
        if uses_ts:
            now = self.task.db_now(conn)
            delay = dt.timedelta(milliseconds=self.task.cfg.get_long("timestamp.delay.interval.ms"))
            params["end"] = self._ts_param(now - delay)
            params["last_ts"] = self._ts_param(self.last_ts)
        if self.mode in (jc.MODE_INCREMENTING, jc.MODE_TIMESTAMP_INCREMENTING):
            params["last_inc"] = self.last_inc
        suffix = self.task.cfg.get_str("query.suffix")
        stmt: sa.Executable
        if self.table is not None:
            stmt = self._table_select(params)
            if suffix:
                stmt = sa.text(str(stmt.compile(conn, compile_kwargs={"literal_binds": True})) + " " + suffix)
        else:
            stmt = sa.text(self._query_sql() + (" " + suffix if suffix else "")).bindparams(**params)
        stream = conn.execution_options(stream_results=True, max_row_buffer=self.task.cfg.get_int("batch.max.rows"))
        self.result = stream.execute(stmt, params if self.table is not None else {})

    def _table_select(self, params: dict) -> sa.Select:
        assert self.table is not None
        c = self.table.c
        stmt = sa.select(self.table)
        ts: sa.ColumnElement = sa.func.coalesce(*[c[n] for n in self.ts_cols]) if len(self.ts_cols) > 1 else \
            c[self.ts_cols[0]] if self.ts_cols else sa.null()
        inc: sa.ColumnElement = c[self.inc_col] if self.inc_col else sa.null()
        p = {k: sa.bindparam(k, v, type_=(sa.BigInteger() if k == "last_inc" else ts.type))
             for k, v in params.items()}
        if self.mode == jc.MODE_INCREMENTING:
            stmt = stmt.where(inc > p["last_inc"]).order_by(inc.asc())
        elif self.mode == jc.MODE_TIMESTAMP:
            stmt = stmt.where(ts > p["last_ts"], ts < p["end"]).order_by(ts.asc())
        elif self.mode == jc.MODE_TIMESTAMP_INCREMENTING:
            stmt = stmt.where(ts < p["end"], sa.or_(sa.and_(ts == p["last_ts"], inc > p["last_inc"]),
                                                    ts > p["last_ts"])).order_by(ts.asc(), inc.asc())
        return stmt

    def _query_sql(self) -> str:
        """Query mode: Confluent appends the criteria to the query as written (no WHERE of its own allowed)."""
        q = self.task.cfg.get_str("query") or ""

        def col(n):
            return '"' + n.replace('"', '""') + '"'
        ts = (f"COALESCE({','.join(col(n) for n in self.ts_cols)})" if len(self.ts_cols) > 1
              else col(self.ts_cols[0])) if self.ts_cols else ""
        inc = col(self.inc_col) if self.inc_col else ""
        if self.mode == jc.MODE_INCREMENTING:
            return f"{q} WHERE {inc} > :last_inc ORDER BY {inc} ASC"
        if self.mode == jc.MODE_TIMESTAMP:
            return f"{q} WHERE {ts} > :last_ts AND {ts} < :end ORDER BY {ts} ASC"
        if self.mode == jc.MODE_TIMESTAMP_INCREMENTING:
            return (f"{q} WHERE {ts} < :end AND (({ts} = :last_ts AND {inc} > :last_inc) OR {ts} > :last_ts) "
                    f"ORDER BY {ts},{inc} ASC")
        return q

    def fetch(self, max_rows: int) -> tuple[list[SourceRecord], bool]:
        """Up to max_rows records of the running query, and whether it is exhausted."""
        assert self.result is not None
        rows = self.result.fetchmany(max_rows)
        if self.schema is None:
            self.schema = self._query_schema(rows)
        fields = self.schema.fields
        out = []
        for row in rows:
            values = {f.name: dialect.to_connect(f.schema, row[f.index]) for f in fields}
            if self.inc_col is not None:
                self.last_inc = int(row._mapping[self.inc_col])
            if self.ts_cols:
                ts = next((row._mapping[n] for n in self.ts_cols if row._mapping[n] is not None), None)
                if ts is not None:
                    self.last_ts = dialect.to_connect(dialect.TIMESTAMP_SCHEMA, ts)  # type: ignore[assignment]
            out.append(SourceRecord(self.topic, None, None, None, self.schema, Struct(self.schema, values),
                                    source_partition=self.partition, source_offset=self._offset()))
        return out, len(rows) < max_rows

    def _offset(self) -> dict | None:
        if self.mode == jc.MODE_BULK:
            return None
        out: dict[str, int] = {}
        if self.ts_cols:
            millis, nanos = to_millis_nanos(self.last_ts)
            out["timestamp_nanos"] = nanos
        if self.inc_col:
            out["incrementing"] = self.last_inc
        if self.ts_cols:
            out["timestamp"] = millis
        return out

    def _query_schema(self, rows) -> Schema:
        """Query mode: columns typed from the driver's description (PostgreSQL) or the first row (SQLite), all
        optional as JDBC reports columnNullableUnknown."""
        assert self.result is not None
        cursor = self.result.cursor
        fields = []
        for i, d in enumerate(cursor.description if cursor is not None else []):
            t: sa.types.TypeEngine | None = PG_OIDS.get(d[1]) if isinstance(d[1], int) else None
            if t is None and rows:
                sample = next((r[i] for r in rows if r[i] is not None), None)
                t = sa.BigInteger() if isinstance(sample, int) and not isinstance(sample, bool) else \
                    sa.Double() if isinstance(sample, float) else \
                    sa.LargeBinary() if isinstance(sample, bytes) else sa.Text()
            fields.append((d[0], dialect.column_schema(t or sa.Text(), True)))
        return struct_schema(fields)

    def reset(self, now: float) -> None:
        """TableQuerier.reset: the result closed, the next round poll.interval.ms from now."""
        if self.result is not None:
            try:
                self.result.close()
            except sa.exc.SQLAlchemyError:
                pass
        self.result = None
        if self.name is None:
            self.schema = None  # query mode: the next round describes its result again
        self.next_update = now + self.task.cfg.get_int("poll.interval.ms") / 1000


class JdbcSourceTask(SourceTask):
    def __init__(self) -> None:
        super().__init__()
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # poll's database work; stop() closes the connection after it
        self.engine: sa.Engine | None = None
        self.conn: sa.Connection | None = None

    def start(self, props: dict[str, str]) -> None:
        try:
            self.cfg = jc.SOURCE.parse(props)
        except ConfigError as e:
            raise ConnectError(f"Couldn't start JdbcSourceTask due to configuration error: {e}") from e
        self.engine = dialect.create_engine(self.cfg)
        prefix = self.cfg.get_str("topic.prefix") or ""
        if self.cfg.get_str("query"):
            self.queue = [Querier(self, None, {"query": "query"}, prefix)]
        else:
            tables = [t for t in props.get("tables", "").split(",") if t]
            if not tables:
                raise ConnectError("Invalid configuration: each JdbcSourceTask must have at least one table "
                                   "assigned to it")
            self.queue = [Querier(self, t, {"protocol": "1", "table": t}, prefix + t.rsplit(".", 1)[-1])
                          for t in tables]
        conn = self._connection()
        for q in self.queue:
            q.describe(conn)
        conn.commit()

    def _connection(self) -> sa.Connection:
        if self.conn is None:
            assert self.engine is not None
            self.conn = dialect.connect(self.engine, self.cfg.get_int("connection.attempts"),
                                        self.cfg.get_long("connection.backoff.ms"), self._stopping)
        return self.conn

    def _drop_connection(self) -> None:
        if self.conn is not None:
            try:
                self.conn.invalidate()
                self.conn.close()
            except sa.exc.SQLAlchemyError:
                pass
            self.conn = None

    def db_now(self, conn: sa.Connection) -> dt.datetime:
        """The database's clock (Confluent's currentTimeOnDB); SQLite's has seconds only, so the local one."""
        if conn.dialect.name == "postgresql":
            return conn.execute(sa.text("SELECT CURRENT_TIMESTAMP")).scalar_one()
        return dt.datetime.now(dt.UTC)

    def poll(self):
        querier = self.queue[0]
        wait = querier.next_update - time.monotonic()
        if wait > 0 and self._stopping.wait(wait):
            return None
        with self._lock:
            if self._stopping.is_set():
                return None
            return self._poll(querier)

    def _poll(self, querier: Querier):
        try:
            conn = self._connection()
            if querier.result is None:
                querier.start(conn)
            records, done = querier.fetch(self.cfg.get_int("batch.max.rows"))
            if done:
                querier.reset(time.monotonic())
                conn.commit()
                self.queue.append(self.queue.pop(0))
            querier.retries = 0
            return records or None
        except sa.exc.DBAPIError as e:
            attempts = self.cfg.get_int("query.retry.attempts")
            log.error("SQL exception while running query for table: %s, %s. Attempting retry %d of %d attempts.",
                      querier, e.orig, querier.retries + 1, attempts)
            querier.result = None
            querier.reset(time.monotonic())
            self._drop_connection()
            if 0 < attempts <= querier.retries + 1:
                raise ConnectError("Failed to query table after retries") from e
            querier.retries += 1
            return None

    def stop(self):
        self._stopping.set()
        if self._lock.acquire(timeout=10):
            try:
                self._drop_connection()
                if self.engine is not None:
                    self.engine.dispose()
            finally:
                self._lock.release()
