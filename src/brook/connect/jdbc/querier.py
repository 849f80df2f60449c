"""TableQuerier with TimestampIncrementingCriteria: one table (or the query) of a JDBC source task.

Each round runs the mode's query — incrementing: `WHERE inc > last ORDER BY inc`; timestamp: `WHERE ts > last
AND ts < now-delay ORDER BY ts`; timestamp+incrementing: `WHERE ts < now-delay AND ((ts = last AND inc > last) OR
ts > last) ORDER BY ts, inc` (`COALESCE` over several timestamp columns) — streams its result out batch.max.rows
rows at a time as Structs named after the table, and keeps the last row's offset: Confluent's
{"incrementing": N, "timestamp": ms, "timestamp_nanos": ns} (java.sql.Timestamp's getTime and getNanos).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa

from brook.connect.api import SourceRecord
from brook.connect.data import ConnectError, Schema, Struct, struct_schema
from brook.connect.jdbc import config as jc
from brook.connect.jdbc import dialect

if TYPE_CHECKING:
    from brook.connect.jdbc.source import JdbcSourceTask

# the driver's type codes of a query's columns (psycopg: PostgreSQL's type OIDs), for query mode's schema
PG_OIDS: dict[int, sa.types.TypeEngine] = {
    16: sa.Boolean(), 20: sa.BigInteger(), 21: sa.SmallInteger(), 23: sa.Integer(), 700: sa.REAL(),
    701: sa.Double(), 1700: sa.Numeric(), 1082: sa.Date(), 1083: sa.Time(), 1114: sa.DateTime(),
    1184: sa.DateTime(timezone=True), 17: sa.LargeBinary()}


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
