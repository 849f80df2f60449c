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

from brook.connect.api import SourceConnector, SourceTask
from brook.connect.configdef import ConfigError
from brook.connect.data import ConnectError
from brook.connect.jdbc import config as jc
from brook.connect.jdbc import dialect
from brook.connect.jdbc.querier import Querier

log = logging.getLogger("io.confluent.connect.jdbc.source.JdbcSourceTask")
SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "pg_toast"}


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
