"""What the JDBC connectors need of a database, on SQLAlchemy Core: the JDBC URL mapped to an engine (PostgreSQL
through psycopg 3, SQLite), tables listed and reflected, column types mapped to Connect schemas (the source) and
Connect schemas to column types (the sink), as Confluent's GenericDatabaseDialect and its PostgreSQL and SQLite
dialects map them."""

from __future__ import annotations

import datetime as dt
import decimal
import time
import urllib.parse

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from brook.connect.data import (
    DATE,
    DECIMAL,
    EXACT,
    TIME,
    TIMESTAMP,
    ConnectError,
    Schema,
    decimal_schema,
)

TIMESTAMP_SCHEMA = Schema("int64", name=TIMESTAMP, version=1)
DATE_SCHEMA = Schema("int32", name=DATE, version=1)
TIME_SCHEMA = Schema("int32", name=TIME, version=1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def sqlalchemy_url(jdbc_url: str, user: str | None, password: str | None) -> sa.URL:
    """jdbc:postgresql://host[:port]/db[?params] and jdbc:sqlite:path as SQLAlchemy URLs; connection.user and
    connection.password win over the URL's user and password parameters, as the JDBC drivers let them."""
    if jdbc_url.startswith("jdbc:sqlite:"):
        path = jdbc_url[len("jdbc:sqlite:"):]
        return sa.URL.create("sqlite", database=None if path in ("", ":memory:") else path)
    if jdbc_url.startswith("jdbc:postgresql:"):
        rest = jdbc_url[len("jdbc:postgresql:"):]
        if not rest.startswith("//"):
            rest = "//localhost/" + rest  # jdbc:postgresql:database
        parts = urllib.parse.urlsplit(rest)
        params = dict(urllib.parse.parse_qsl(parts.query))
        user = user or params.pop("user", None)
        password = password or params.pop("password", None)
        params.pop("user", None), params.pop("password", None)
        return sa.URL.create("postgresql+psycopg", username=user, password=password, host=parts.hostname,
                             port=parts.port, database=parts.path.lstrip("/") or None, query=params)
    raise ConnectError(f"No suitable driver found for {jdbc_url}")


def create_engine(cfg: dict) -> Engine:
    url = sqlalchemy_url(cfg["connection.url"], cfg.get("connection.user"), cfg.get("connection.password"))
    args = {"connect_timeout": 10} if url.drivername.startswith("postgresql") else {"timeout": 10}
    # pool_pre_ping: a connection the server dropped is replaced instead of failing the next statement
    return sa.create_engine(url, pool_pre_ping=True, pool_size=1, connect_args=args)


def connect(engine: Engine, attempts: int, backoff_ms: int, stopping=None) -> sa.Connection:
    """CachedConnectionProvider.newConnection: up to connection.attempts tries, connection.backoff.ms apart."""
    for attempt in range(1, attempts + 1):
        try:
            return engine.connect()
        except sa.exc.OperationalError as e:
            if attempt >= attempts:
                raise ConnectError(f"Failed to connect to the database after {attempts} attempts: "
                                   f"{e.orig}") from e
            if stopping is not None:
                if stopping.wait(backoff_ms / 1000):
                    raise ConnectError("Task stopped while connecting") from e
            else:
                time.sleep(backoff_ms / 1000)
    raise ConnectError("connection.attempts must be at least 1")


def check_connection(cfg: dict) -> str | None:
    """AbstractJdbcConnectorValidation.validateConnection: None, or the error for connection.url."""
    try:
        engine = create_engine(cfg)
    except (ConnectError, sa.exc.ArgumentError) as e:
        return f"Could not connect to database. {e}"
    try:
        with engine.connect():
            return None
    except sa.exc.SQLAlchemyError as e:
        return f"Could not connect to database. {getattr(e, 'orig', None) or e}"
    finally:
        engine.dispose()


# --- the source side: column types to Connect schemas (GenericDatabaseDialect.addFieldToSchema) ---
def column_schema(col_type: sa.types.TypeEngine, optional: bool) -> Schema:
    t = col_type
    if isinstance(t, sa.Boolean):
        kind = "boolean"
    elif isinstance(t, sa.SmallInteger):
        kind = "int16"
    elif isinstance(t, sa.BigInteger):
        kind = "int64"
    elif isinstance(t, sa.Integer):
        kind = "int32"
    elif isinstance(t, sa.Numeric) and not isinstance(t, sa.Float) and not isinstance(t, sa.Integer):
        return decimal_schema(t.scale or 0, optional)
    elif isinstance(t, sa.Float):
        kind = "float32" if type(t).__name__ == "REAL" else "float64"
    elif isinstance(t, sa.DateTime):
        return TIMESTAMP_SCHEMA.as_optional() if optional else TIMESTAMP_SCHEMA
    elif isinstance(t, sa.Date):
        return DATE_SCHEMA.as_optional() if optional else DATE_SCHEMA
    elif isinstance(t, sa.Time):
        return TIME_SCHEMA.as_optional() if optional else TIME_SCHEMA
    elif isinstance(t, sa.LargeBinary) or type(t).__name__ in ("BYTEA", "BLOB", "BINARY", "VARBINARY"):
        kind = "bytes"
    else:
        kind = "string"  # text, varchar, char, uuid, json, ...: Confluent's dialects read them as strings
    return Schema(kind, optional)


def to_connect(schema: Schema, value: object) -> object:
    """A column value as Connect's value of its schema (logical types as brook.connect.data keeps them)."""
    if value is None:
        return None
    name = schema.name
    if name == TIMESTAMP:
        v = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
        return v.replace(tzinfo=dt.UTC) if v.tzinfo is None else v.astimezone(dt.UTC)
    if name == DATE:
        d = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)
    if name == TIME:
        t = value if isinstance(value, dt.time) else dt.time.fromisoformat(str(value))
        return dt.datetime(1970, 1, 1, t.hour, t.minute, t.second, t.microsecond // 1000 * 1000, tzinfo=dt.UTC)
    if name == DECIMAL:
        scale = int(schema.params().get("scale", "0"))
        return decimal.Decimal(value).quantize(decimal.Decimal(1).scaleb(-scale),  # type: ignore[arg-type]
                                               context=EXACT)
    if schema.type == "string" and not isinstance(value, str):
        return str(value)
    if schema.type == "bytes" and isinstance(value, memoryview):
        return value.tobytes()
    return value


# --- the sink side: Connect schemas to column types (PostgreSqlDatabaseDialect.getSqlType) ---
def sql_type(schema: Schema) -> sa.types.TypeEngine:
    if schema.name == DECIMAL:
        return sa.Numeric()
    if schema.name == DATE:
        return sa.Date()
    if schema.name == TIME:
        return sa.Time()
    if schema.name == TIMESTAMP:
        return sa.DateTime()
    types: dict[str, sa.types.TypeEngine] = {
        "int8": sa.SmallInteger(), "int16": sa.SmallInteger(), "int32": sa.Integer(), "int64": sa.BigInteger(),
        "float32": sa.REAL(), "float64": sa.Double(), "boolean": sa.Boolean(), "string": sa.Text(),
        "bytes": sa.LargeBinary()}
    if schema.type not in types:
        raise ConnectError(f"Unsupported type {schema.type.upper()} for column")
    return types[schema.type]


def to_db(schema: Schema | None, value: object) -> object:
    """A Connect value as the driver takes it for the column sql_type(schema) made."""
    if value is None or schema is None:
        return value
    if schema.name == DATE and isinstance(value, dt.datetime):
        return value.date()
    if schema.name == TIME and isinstance(value, dt.datetime):
        return value.time()
    if schema.name == TIMESTAMP and isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None)  # db.timezone=UTC, naive as TIMESTAMP stores it
    return value
