"""Connect schemas and values <-> Avro, as Confluent's AvroData (io.confluent.connect.avro) converts them, so that the
schemas Brook's AvroConverter registers are the ones Confluent's would register for the same Connect data.

Unnamed structs become records `io.confluent.connect.avro.ConnectDefault` (then ConnectDefault2, 3, ... in the
order met), optional schemas unions with null (null first, default null; the value's type first when the schema
has a default), int8/int16 ints with `connect.type`, and names, versions, docs and parameters kept in `connect.*`
properties. Values are what fastavro (inside confluent-kafka's serializers) reads and writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from brook.connect.data import (
    DATE,
    DECIMAL,
    EPOCH,
    TIME,
    TIMESTAMP,
    DataError,
    Schema,
    Struct,
    convert_members,
    days_to_date,
    decimal_of,
    struct_schema,
)

NAMESPACE = "io.confluent.connect.avro"
DEFAULT_NAME = "ConnectDefault"
ENUM = NAMESPACE + ".Enum"  # AvroData's parameter naming an enum read as a string; ENUM.<symbol> lists its symbols
PRECISION_DEFAULT = 64
_PRIMITIVE = {"int8": "int", "int16": "int", "int32": "int", "int64": "long", "float32": "float",
              "float64": "double", "boolean": "boolean", "string": "string", "bytes": "bytes"}
_LOGICAL = {TIMESTAMP: "timestamp-millis", TIME: "time-millis", DATE: "date"}


def _lenient_date_reader() -> None:
    """fastavro reads a `date` as a Python date, which fails beyond years 1 to 9999: such a value is read as its
    days (a Connect Date kept as days, data.days_to_date), for the C and Python readers alike."""
    import fastavro.read

    for module in (getattr(fastavro.read, "_read", None), fastavro.read):
        readers = getattr(module, "LOGICAL_READERS", None)
        strict = readers.get("int-date") if readers is not None else None
        if readers is None or strict is None or getattr(strict, "lenient", False):
            continue

        def read_date(data: int, *args: Any, strict: Any = strict) -> Any:
            try:
                return strict(data, *args)
            except (ValueError, OverflowError):
                return data
        read_date.lenient = True  # type: ignore[attr-defined]
        readers["int-date"] = read_date


_lenient_date_reader()


class _Names:
    """FromConnectContext: the running index of default record names, and records already declared."""

    def __init__(self) -> None:
        self.index = 0
        self.declared: dict[Schema, str] = {}
        self.enums: set[str] = set()  # enums already declared: named after that

    def next_default(self) -> str:
        self.index += 1
        return DEFAULT_NAME + (str(self.index) if self.index > 1 else "")


def from_connect_schema(schema: Schema, connect_meta: bool = True) -> Any:
    """The Avro schema (JSON-ready) for a Connect schema (AvroData.fromConnectSchema)."""
    return _from_connect(schema, _Names(), connect_meta)


def _from_connect(schema: Schema, names: _Names, meta: bool, ignore_optional: bool = False) -> Any:
    if not schema.optional and schema in names.declared:
        return names.declared[schema]  # a record is declared once, then named
    base: dict[str, Any]
    if schema.type == "string" and ENUM in schema.params():  # AvroData writes it back as the enum it was
        full = schema.params()[ENUM]
        if full in names.enums:
            return full if not schema.optional else ["null", full]
        names.enums.add(full)
        namespace, _, name = full.rpartition(".")
        base = {"type": "enum", "name": name, "symbols": [k[len(ENUM) + 1:] for k in schema.params()
                                                          if k.startswith(ENUM + ".")]}
        if namespace:
            base["namespace"] = namespace
    elif schema.type in _PRIMITIVE:
        base = {"type": _PRIMITIVE[schema.type]}
        if schema.name == DECIMAL:
            base["scale"] = int(schema.params().get("scale", "0"))
            base["precision"] = int(schema.params().get("connect.decimal.precision", PRECISION_DEFAULT))
    elif schema.type == "array":
        assert schema.value_schema is not None
        base = {"type": "array", "items": _from_connect(schema.value_schema, names, meta)}
    elif schema.type == "map":
        assert schema.key_schema is not None and schema.value_schema is not None
        if schema.key_schema.type == "string" and not schema.key_schema.optional:
            base = {"type": "map", "values": _from_connect(schema.value_schema, names, meta)}
        else:  # Avro maps have string keys: an array of key/value records otherwise
            entry = {"type": "record", "name": "MapEntry", "namespace": NAMESPACE, "fields": [
                _field("key", schema.key_schema, names, meta), _field("value", schema.value_schema, names, meta)]}
            base = {"type": "array", "items": entry}
    elif schema.type == "struct":
        if schema.optional:
            return ["null", _from_connect(replace(schema, optional=False), names, meta)]
        if schema.name:
            namespace, _, name = schema.name.rpartition(".")
        else:
            namespace, name = NAMESPACE, names.next_default()
        base = {"type": "record", "name": name}
        if namespace:
            base["namespace"] = namespace
        full = f"{namespace}.{name}" if namespace else name
        names.declared[schema] = full
        base["fields"] = [_field(f.name, f.schema, names, meta) for f in schema.fields]
    else:
        raise DataError(f"Unknown schema type: {schema.type}")
    if meta:
        if schema.doc is not None:
            base["connect.doc"] = schema.doc
        if schema.version is not None:
            base["connect.version"] = schema.version
        if schema.parameters:
            base["connect.parameters"] = dict(schema.parameters)
        if schema.default is not None:
            base["connect.default"] = to_avro(schema, schema.default, json_default=True)
        if schema.name is not None:
            base["connect.name"] = schema.name
        if schema.type in ("int8", "int16"):
            base["connect.type"] = schema.type
    if schema.name == DECIMAL:
        base["logicalType"] = "decimal"
    elif schema.name in _LOGICAL:
        base["logicalType"] = _LOGICAL[schema.name]
    # a primitive without properties prints as its name, as Avro prints it
    out: Any = base["type"] if len(base) == 1 and base["type"] in _PRIMITIVE.values() else base
    if ignore_optional or not schema.optional:
        return out
    return [out, "null"] if schema.default is not None else ["null", out]


def _field(name: str, schema: Schema, names: _Names, meta: bool) -> dict:
    out: dict[str, Any] = {"name": name, "type": _from_connect(schema, names, meta)}
    if schema.default is not None:
        out["default"] = to_avro(schema, schema.default, json_default=True)
    elif schema.optional:
        out["default"] = None
    return out


def to_avro(schema: Schema, value: object, json_default: bool = False) -> object:
    """A Connect value as fastavro writes it for the schema from_connect_schema made (AvroData.fromConnectData)."""
    if value is None:
        if schema.default is not None:
            return to_avro(schema, schema.default, json_default)
        if schema.optional:
            return None
        raise DataError("Conversion error: null value for field that is required and has no default value")
    if schema.name == TIMESTAMP and isinstance(value, dt.datetime):
        return value if not json_default else int((value - EPOCH).total_seconds() * 1000)
    if schema.name == DATE and isinstance(value, dt.datetime):
        return value.date() if not json_default else (value - EPOCH).days
    if schema.name == TIME and isinstance(value, dt.datetime):
        return value.time() if not json_default else int((value - EPOCH).total_seconds() * 1000)
    if schema.name == DECIMAL and json_default:
        return str(value)
    if schema.type == "struct":
        if not isinstance(value, Struct):
            raise DataError(f"Invalid type for STRUCT: {type(value).__name__}")
        return {f.name: to_avro(f.schema, value.get(f.name), json_default) for f in schema.fields}
    if schema.type == "array":
        assert schema.value_schema is not None
        return [to_avro(schema.value_schema, v, json_default) for v in value]  # type: ignore[attr-defined]
    if schema.type == "map":
        ks, vs = schema.key_schema, schema.value_schema
        assert ks is not None and vs is not None
        if ks.type == "string" and not ks.optional:
            return {k: to_avro(vs, v, json_default) for k, v in value.items()}  # type: ignore[attr-defined]
        return [{"key": to_avro(ks, k, json_default), "value": to_avro(vs, v, json_default)}
                for k, v in value.items()]  # type: ignore[attr-defined]
    if schema.type in ("float32", "float64") and isinstance(value, int):
        return float(value)
    return value


# --- Avro -> Connect (AvroData.toConnectSchema / toConnectData) ---------------------------------------------------

def to_connect_schema(avro: Any, version: int | None = None) -> Schema:
    return _to_connect(avro, {}, version)


_DEFAULTS = ("int8", "int16", "int32", "int64", "float32", "float64", "boolean", "string")


def _field_schema(field: dict, named: dict[str, Schema]) -> Schema:
    """A record field's schema with the field's default (AvroData's defaultValueFromAvro), for the primitive types:
    Connect's Struct.get gives it for a NULL, so a writer fills it in (avro.json "VALUE_SCHEMA_ID with compound types
    and default value")."""
    schema = _to_connect(field["type"], named)
    default = field.get("default")
    if default is None or schema.type not in _DEFAULTS or schema.name is not None:
        return schema
    return replace(schema, default=float(default) if schema.type.startswith("float") else default)


def _to_connect(avro: Any, named: dict[str, Schema], version: int | None = None, optional: bool = False) -> Schema:
    if isinstance(avro, list):  # a union: [null, T] (either order) is an optional T
        members = [m for m in avro if m != "null" and not (isinstance(m, dict) and m.get("type") == "null")]
        if len(members) == 1 and len(members) < len(avro):
            return _to_connect(members[0], named, None, True)
        raise DataError("Unions other than [null, T] are not supported by Brook's AvroConverter")
    if isinstance(avro, str):
        if avro in named:
            return replace(named[avro], optional=optional)
        avro = {"type": avro}
    kind = avro["type"]
    if isinstance(kind, (dict, list)):
        return _to_connect(kind, named, version, optional)
    logical = avro.get("logicalType")
    name: str | None = avro.get("connect.name")
    params = dict(avro.get("connect.parameters") or {})
    fields: tuple = ()
    key = value = None
    if kind == "record":
        full = avro["name"]
        if "." not in full and avro.get("namespace"):
            full = f"{avro['namespace']}.{full}"
        if name is None and not full.startswith(f"{NAMESPACE}.{DEFAULT_NAME}"):
            name = full
        if full == f"{NAMESPACE}.MapEntry":
            raise DataError("MapEntry records are read as arrays of entries")
        fields = struct_schema([(f["name"], _field_schema(f, named)) for f in avro["fields"]]).fields
        connect_kind = "struct"
    elif kind == "array":
        items = avro["items"]
        if isinstance(items, dict) and items.get("type") == "record" and items.get("name") == "MapEntry":
            entry = {f["name"]: f["type"] for f in items["fields"]}
            connect_kind, key, value = "map", _to_connect(entry["key"], named), _to_connect(entry["value"], named)
        else:
            connect_kind, value = "array", _to_connect(items, named)
    elif kind == "map":
        connect_kind, key, value = "map", Schema("string"), _to_connect(avro["values"], named)
    elif kind == "int":
        connect_kind = avro.get("connect.type") if avro.get("connect.type") in ("int8", "int16") else "int32"
        if logical == "date":
            connect_kind, name = "int32", DATE
        elif logical == "time-millis":
            name = TIME
    elif kind == "long":
        connect_kind = "int64"
        if logical == "timestamp-millis":
            name = TIMESTAMP
    elif kind in ("bytes", "fixed"):
        connect_kind = "bytes"
        if logical == "decimal":
            name = DECIMAL
            params = {"scale": str(avro.get("scale", 0)), **{k: v for k, v in params.items() if k != "scale"}}
    elif kind == "enum":  # AvroData: a string, the enum's full name and symbols in the parameters
        full = avro["name"] if "." in avro["name"] or not avro.get("namespace") else \
            f"{avro['namespace']}.{avro['name']}"
        connect_kind = "string"
        params = {**params, ENUM: full, **{f"{ENUM}.{x}": x for x in avro["symbols"]}}
    else:
        kinds = {"float": "float32", "double": "float64", "boolean": "boolean", "string": "string"}
        if kind not in kinds:
            raise DataError(f"Couldn't translate unsupported schema type {kind}.")
        connect_kind = kinds[kind]
    v = avro.get("connect.version", version)
    if name in (DATE, TIME, TIMESTAMP, DECIMAL) and v is None:
        v = 1
    schema = Schema(connect_kind, optional, None, name, v, avro.get("connect.doc"),
                    tuple(params.items()) if params else None, fields, key, value)
    if kind in ("record", "enum"):  # named types, which later fields may name
        named[avro["name"]] = named[full] = replace(schema, optional=False)
    return schema


def to_connect(schema: Schema, value: object) -> object:
    """A datum fastavro read as the Connect value of `schema`."""
    if value is None:
        return None
    if schema.name == TIMESTAMP:
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return EPOCH + dt.timedelta(milliseconds=value)  # type: ignore[arg-type]
    if schema.name == DATE:
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
        return days_to_date(value)  # type: ignore[arg-type]
    if schema.name == TIME:
        if isinstance(value, dt.time):
            return dt.datetime.combine(EPOCH.date(), value, tzinfo=dt.UTC)
        return EPOCH + dt.timedelta(milliseconds=value)  # type: ignore[arg-type]
    if schema.name == DECIMAL and isinstance(value, (bytes, bytearray)):
        scale = int(schema.params().get("scale", "0"))
        return decimal_of(int.from_bytes(value, "big", signed=True), scale)
    return convert_members(schema, value, to_connect)


# --- schemaless values (AvroData's ANYTHING_SCHEMA) ---------------------------------------------------------------

ANYTHING_NAME = f"{NAMESPACE}.Anything"
_ANYTHING_KINDS = ("boolean", "bytes", "double", "float", "int", "long", "string")
# Confluent's record for a value without a Connect schema, as Avro prints it: one optional field per kind, arrays
# of Anything, and maps as arrays of Anything key/value entries (Avro cannot name a union, so a record it is)
ANYTHING: dict = {"type": "record", "name": "Anything", "namespace": NAMESPACE, "fields": [
    *({"name": k, "type": ["null", k], "default": None} for k in _ANYTHING_KINDS),
    {"name": "array", "type": ["null", {"type": "array", "items": "Anything"}], "default": None},
    {"name": "map", "type": ["null", {"type": "array", "items": {"type": "record", "name": "MapEntry", "fields": [
        {"name": "key", "type": "Anything"}, {"name": "value", "type": "Anything"}]}}], "default": None}]}


def is_anything(avro: Any) -> bool:
    """True for Confluent's Anything record (the writer schema of schemaless values)."""
    if not isinstance(avro, dict) or avro.get("type") != "record":
        return False
    name = avro.get("name", "")
    return (name if "." in name else f"{avro.get('namespace', '')}.{name}") == ANYTHING_NAME


def to_anything(value: object) -> dict:
    """A schemaless Connect value wrapped in an Anything record (AvroData.maybeWrapSchemaless); schemaless integers
    are Connect's INT64 (what JsonConverter reads them as), floats FLOAT64."""
    out: dict[str, object] = {k: None for k in (*_ANYTHING_KINDS, "array", "map")}
    if value is None:
        return out
    if isinstance(value, bool):
        out["boolean"] = value
    elif isinstance(value, int):
        out["long"] = value
    elif isinstance(value, float):
        out["double"] = value
    elif isinstance(value, str):
        out["string"] = value
    elif isinstance(value, (bytes, bytearray)):
        out["bytes"] = bytes(value)
    elif isinstance(value, (list, tuple)):
        out["array"] = [to_anything(v) for v in value]
    elif isinstance(value, dict):
        out["map"] = [{"key": to_anything(k), "value": to_anything(v)} for k, v in value.items()]
    else:
        raise DataError(f"Unknown Java type for schemaless data: {type(value).__name__}")
    return out


def from_anything(datum: object) -> object:
    """The schemaless Connect value inside an Anything record (the first kind set, in the record's order)."""
    if datum is None:
        return None
    if not isinstance(datum, dict):
        raise DataError("Invalid Avro data for schemaless Connect data")
    for kind in _ANYTHING_KINDS:
        if datum.get(kind) is not None:
            return datum[kind]
    if datum.get("array") is not None:
        return [from_anything(v) for v in datum["array"]]
    if datum.get("map") is not None:
        return {from_anything(e["key"]): from_anything(e["value"]) for e in datum["map"]}
    return None
