"""Connect's data model (org.apache.kafka.connect.data): schemas, structs and the logical types.

Values are plain Python: int, float, bool, str, bytes, list, dict, Struct, None; the logical types map to
datetime (Timestamp, Date, Time) and decimal.Decimal (Decimal). Schemas are frozen, hashable dataclasses, so
transforms and converters can cache what they derive from one.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from dataclasses import dataclass, field, replace

PRIMITIVES = ("int8", "int16", "int32", "int64", "float32", "float64", "boolean", "string", "bytes")
TIMESTAMP = "org.apache.kafka.connect.data.Timestamp"
DATE = "org.apache.kafka.connect.data.Date"
TIME = "org.apache.kafka.connect.data.Time"
DECIMAL = "org.apache.kafka.connect.data.Decimal"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
INT_RANGES = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}


class ConnectError(Exception):
    """org.apache.kafka.connect.errors.ConnectException; java_class names the Java exception Kafka throws."""

    java_class = "org.apache.kafka.connect.errors.ConnectException"


class DataError(ConnectError):
    java_class = "org.apache.kafka.connect.errors.DataException"


class RetriableError(ConnectError):
    java_class = "org.apache.kafka.connect.errors.RetriableException"


@dataclass(frozen=True)
class Field:
    name: str
    index: int
    schema: Schema


@dataclass(frozen=True)
class Schema:
    type: str
    optional: bool = False
    default: object = None
    name: str | None = None
    version: int | None = None
    doc: str | None = None
    parameters: tuple[tuple[str, str], ...] | None = None
    fields: tuple[Field, ...] = ()
    key_schema: Schema | None = None
    value_schema: Schema | None = None

    def field(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def params(self) -> dict[str, str]:
        return dict(self.parameters or ())

    def as_optional(self) -> Schema:
        return replace(self, optional=True)

    def __str__(self) -> str:  # ConnectSchema.toString
        return f"Schema{{{self.name + ':' if self.name else ''}{self.type.upper()}}}"


def struct_schema(fields: list[tuple[str, Schema]], name: str | None = None, optional: bool = False,
                  version: int | None = None, doc: str | None = None) -> Schema:
    return Schema("struct", optional, None, name, version, doc, None,
                  tuple(Field(n, i, s) for i, (n, s) in enumerate(fields)))


def prim(kind: str, optional: bool = False) -> Schema:
    return Schema(kind, optional)


STRING_SCHEMA, OPTIONAL_STRING_SCHEMA = prim("string"), prim("string", True)
BYTES_SCHEMA, OPTIONAL_BYTES_SCHEMA = prim("bytes"), prim("bytes", True)
INT64_SCHEMA, OPTIONAL_INT64_SCHEMA = prim("int64"), prim("int64", True)
INT32_SCHEMA, OPTIONAL_INT32_SCHEMA = prim("int32"), prim("int32", True)
TIMESTAMP_SCHEMA = Schema("int64", name=TIMESTAMP, version=1)
OPTIONAL_TIMESTAMP_SCHEMA = TIMESTAMP_SCHEMA.as_optional()
DATE_SCHEMA = Schema("int32", name=DATE, version=1)
TIME_SCHEMA = Schema("int32", name=TIME, version=1)


def decimal_schema(scale: int, optional: bool = False) -> Schema:
    return Schema("bytes", optional, name=DECIMAL, version=1, parameters=(("scale", str(scale)),))


class Struct:
    """A value of a struct schema; put() checks the field exists (Struct.put's DataException)."""

    __slots__ = ("schema", "values")

    def __init__(self, schema: Schema, values: dict[str, object] | None = None) -> None:
        self.schema = schema
        self.values: dict[str, object] = {}
        for k, v in (values or {}).items():
            self.put(k, v)

    def put(self, name: str, value: object) -> Struct:
        if self.schema.field(name) is None:
            raise DataError(f"{name} is not a valid field name")
        self.values[name] = value
        return self

    def get(self, name: str) -> object:
        f = self.schema.field(name)
        if f is None:
            raise DataError(f"{name} is not a valid field name")
        v = self.values.get(name)
        return f.schema.default if v is None else v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Struct) and other.schema == self.schema and \
            all(self.get(f.name) == other.get(f.name) for f in self.schema.fields)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:  # Struct.toString
        return "Struct{" + ",".join(f"{f.name}={java_str(self.values[f.name])}" for f in self.schema.fields
                                    if self.values.get(f.name) is not None) + "}"


def infer_type(value: object) -> str | None:
    """ConnectSchema.schemaType(value.getClass()) for schemaless values."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (bytes, bytearray)):
        return "bytes"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, Struct):
        return "struct"
    return None


def java_str(value: object) -> str:
    """String.valueOf(value) as Java prints Connect's values (FileStreamSink writes lines this way)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e7:
            return f"{value:.1f}"
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{java_str(k)}={java_str(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(java_str(v) for v in value) + "]"
    if isinstance(value, (bytes, bytearray)):
        return "[B@" + format(id(value) & 0xFFFFFFF, "x")
    return str(value)


# Logical types: the physical value Kafka stores, and back
def timestamp_to_millis(v: dt.datetime) -> int:
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.UTC)
    delta = v - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def millis_to_timestamp(ms: int) -> dt.datetime:
    return EPOCH + dt.timedelta(milliseconds=ms)


def days_to_date(days: int) -> dt.datetime | int:
    """A Connect Date of `days` since the epoch: a datetime, or the days themselves beyond Python's years 1 to 9999
    (Java's Date holds any; ksqlDB's DATE is any int, max-group-by.json "min date" has -2147483647)."""
    try:
        return EPOCH + dt.timedelta(days=days)
    except OverflowError:
        return days


def to_logical(schema: Schema, value: object) -> object:
    if value is None or schema.name is None:
        return value
    if schema.name == TIMESTAMP:
        return millis_to_timestamp(value)  # type: ignore[arg-type]
    if schema.name == DATE:
        return days_to_date(value)  # type: ignore[arg-type]
    if schema.name == TIME:
        return EPOCH + dt.timedelta(milliseconds=value)  # type: ignore[arg-type]
    if schema.name == DECIMAL:
        scale = int(schema.params().get("scale", "0"))
        return decimal_of(int.from_bytes(value, "big", signed=True), scale)  # type: ignore[arg-type]
    return value


# Decimal arithmetic rounds to 28 digits by default; BigDecimal's conversions never round
EXACT = decimal.Context(prec=1000)


def decimal_of(unscaled: int, scale: int) -> decimal.Decimal:
    """new BigDecimal(unscaled, scale), every digit kept."""
    return decimal.Decimal(f"{unscaled}E{-scale}")


def from_logical(schema: Schema, value: object) -> object:
    if value is None or schema.name is None:
        return value
    if schema.name == TIMESTAMP and isinstance(value, dt.datetime):
        return timestamp_to_millis(value)
    if schema.name == DATE and isinstance(value, dt.datetime):
        ms = timestamp_to_millis(value)
        if ms % 86400000:
            raise DataError("Kafka Connect Date type should not have any time fields set to non-zero values.")
        return ms // 86400000
    if schema.name == TIME and isinstance(value, dt.datetime):
        ms = timestamp_to_millis(value)
        if not 0 <= ms < 86400000:
            raise DataError("Kafka Connect Time type should not have any date fields set to non-zero values.")
        return ms
    if schema.name == DECIMAL and isinstance(value, decimal.Decimal):
        scale = int(schema.params().get("scale", "0"))
        unscaled = int(value.scaleb(scale, context=EXACT))
        n = max(1, (unscaled.bit_length() + 8) // 8)
        return unscaled.to_bytes(n, "big", signed=True)
    return value


def convert_members(schema: Schema, value: object, convert: Callable[[Schema, object], object]) -> object:
    """A struct (from a dict), array or map value rebuilt with convert(member schema, member) applied to its
    members; a map may come as a list of {"key", "value"} entries (Avro's and JSON Schema's form of maps whose keys
    are not strings). Any other value is returned as it is."""
    if schema.type == "struct":
        data: dict = value  # type: ignore[assignment]
        return Struct(schema, {f.name: convert(f.schema, data.get(f.name)) for f in schema.fields})
    if schema.type == "array":
        assert schema.value_schema is not None
        return [convert(schema.value_schema, v) for v in value]  # type: ignore[attr-defined]
    if schema.type == "map":
        assert schema.key_schema is not None and schema.value_schema is not None
        if isinstance(value, list):
            return {convert(schema.key_schema, e["key"]): convert(schema.value_schema, e["value"]) for e in value}
        return {k: convert(schema.value_schema, v) for k, v in value.items()}  # type: ignore[attr-defined]
    return value


@dataclass
class Header:
    key: str
    schema: Schema | None
    value: object


@dataclass
class Headers:
    items: list[Header] = field(default_factory=list)

    def add(self, key: str, value: object, schema: Schema | None = None) -> Headers:
        self.items.append(Header(key, schema, value))
        return self

    def last(self, key: str) -> Header | None:
        for h in reversed(self.items):
            if h.key == key:
                return h
        return None

    def remove(self, key: str) -> Headers:
        self.items = [h for h in self.items if h.key != key]
        return self

    def copy(self) -> Headers:
        return Headers(list(self.items))

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)
