"""Cast and TimestampConverter: change the type of a whole key/value or of fields, as Kafka's transforms do."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
from dataclasses import replace

from brook.connect.configdef import NO_DEFAULT, ConfigDef, ConfigError, Key, one_of
from brook.connect.data import (
    DATE,
    DATE_SCHEMA,
    EPOCH,
    INT64_SCHEMA,
    STRING_SCHEMA,
    TIME,
    TIME_SCHEMA,
    TIMESTAMP,
    TIMESTAMP_SCHEMA,
    DataError,
    Schema,
    Struct,
    from_logical,
    infer_type,
    millis_to_timestamp,
    timestamp_to_millis,
)
from brook.connect.transforms.fields import REPLACE_NULL
from brook.connect.transforms.javadate import PatternError, format_date, parse_date, tokens
from brook.connect.transforms.util import KeyOrValue, java_class_name, require_map, require_struct, variants

INPUT_TYPES = ["INT8", "INT16", "INT32", "INT64", "FLOAT32", "FLOAT64", "BOOLEAN", "STRING", "BYTES"]
OUTPUT_TYPES = INPUT_TYPES[:-1]
BITS = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}
WHOLE = "__whole__"


def _wrap(n: int, bits: int) -> int:
    """Java's narrowing conversion (Number.byteValue and friends)."""
    n &= (1 << bits) - 1
    return n - (1 << bits) if n >= 1 << (bits - 1) else n


def java_date_string(v: dt.datetime) -> str:
    """Values.dateFormatFor: a Time, Date or Timestamp pattern by the value."""
    ms = timestamp_to_millis(v)
    if 0 <= ms < 86400000:
        return format_date("HH:mm:ss.SSS'Z'", v)
    if ms % 86400000 == 0:
        return format_date("yyyy-MM-dd", v)
    return format_date("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", v)


def cast_value(schema: Schema | None, value: object, target: str) -> object:
    if value is None:
        return None
    source = schema.type if schema is not None else infer_type(value)
    if source is None:
        raise DataError(f"Cast transformation was passed a value of type class {java_class_name(value)} which is "
                        "not supported by Connect's data API")
    if source.upper() not in INPUT_TYPES:
        raise DataError(f"Cast transformation does not support casting from {source.upper()}; supported types "
                        f"are [{', '.join(INPUT_TYPES)}]")
    if schema is not None and schema.name is not None and target != "string":
        value = from_logical(schema, value)
    try:
        if target == "string":
            if isinstance(value, dt.datetime):
                return java_date_string(value)
            if isinstance(value, (bytes, bytearray)):
                return base64.b64encode(value).decode()
            if isinstance(value, bool):
                return "true" if value else "false"
            return str(value)
        if target == "boolean":
            if isinstance(value, str):
                return value.strip().lower() == "true"
            if isinstance(value, (int, float, decimal.Decimal)):
                return int(value) != 0
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, (int, float, decimal.Decimal, str)):  # Cast.castToInt32 and friends: bytes, ...
            raise DataError(f"Unexpected type in Cast transformation: class {java_class_name(value)}")
        if target in BITS:
            n = int(value, 10) if isinstance(value, str) else int(value)
            if isinstance(value, str) and not -(1 << (BITS[target] - 1)) <= n < 1 << (BITS[target] - 1):
                raise ValueError
            return _wrap(n, BITS[target])
        if target in ("float32", "float64"):
            return float(value)
    except ValueError:
        raise DataError(f"Value ({value}) was out of range for requested data type") from None
    raise DataError(f"{target.upper()} is not supported in the Cast transformation.")


class Cast(KeyOrValue):
    PURPOSE = "cast types"
    CONFIG_DEF = ConfigDef(
        Key("spec", "LIST", NO_DEFAULT, "List of fields and the type to cast them to of the form field1:type,"
            "field2:type to cast fields of Maps or Structs. A single type to cast the entire value.",
            importance="HIGH"), REPLACE_NULL)

    def configure(self, props: dict[str, str]) -> None:
        super().configure(props)
        specs = self.config.get_list("spec")
        if not specs:
            raise ConfigError("Must specify at least one field to cast.")
        self.casts: dict[str, str] = {}
        for mapping in specs:
            parts = mapping.split(":")
            if len(parts) > 2:
                raise ConfigError(f"Invalid value {','.join(specs)} for configuration renames: Invalid rename "
                                  f"mapping: {mapping}")
            name, kind = (WHOLE, parts[0]) if len(parts) == 1 else (parts[0].strip(), parts[1])
            kind = kind.strip()
            if kind.upper() not in INPUT_TYPES + ["ARRAY", "MAP", "STRUCT"]:
                raise ConfigError(f"Invalid type found in casting spec: {kind}")
            if kind.upper() not in OUTPUT_TYPES:
                raise ConfigError(f"Cast transformation does not support casting to {kind.upper()}; supported "
                                  f"types are [{', '.join(OUTPUT_TYPES)}]")
            self.casts[name] = kind.lower()
        if WHOLE in self.casts and len(specs) > 1:
            raise ConfigError("Cast transformations that specify a type to cast the entire value to may only "
                              "specify a single cast in their spec")
        self.cache: dict = {}

    def apply(self, record):
        schema, value = self.operating_schema(record), self.operating_value(record)
        if value is None and schema is None:
            return record
        whole = self.casts.get(WHOLE)
        if whole is not None:
            new_schema = None if schema is None else replace(schema, type=whole, name=None, version=None,
                                                             parameters=None, default=None)
            return self.new_record(record, new_schema, cast_value(schema, value, whole))
        if schema is None:
            updated = dict(require_map(value, self.PURPOSE))
            for name, kind in self.casts.items():
                if name in updated:
                    updated[name] = cast_value(None, updated[name], kind)
            return self.new_record(record, None, updated)
        struct = require_struct(value, self.PURPOSE) if value is not None else None
        new_schema = self.cache.get(schema)
        if new_schema is None:
            fields = []
            for f in schema.fields:
                kind = self.casts.get(f.name)
                if kind is None:
                    fields.append(f)
                else:
                    default = cast_value(f.schema, f.schema.default, kind)
                    fields.append(replace(f, schema=Schema(kind, f.schema.optional, default)))
            new_schema = replace(schema, fields=tuple(fields))
            self.cache[schema] = new_schema
        if struct is None:
            return self.new_record(record, new_schema, None)
        get = struct.get if self.config["replace.null.with.default"] else struct.values.get
        updated = Struct(new_schema, {f.name: cast_value(f.schema, get(f.name), self.casts[f.name])
                                      if f.name in self.casts else get(f.name) for f in schema.fields})
        return self.new_record(record, new_schema, updated)


PRECISION = {"seconds": 1000, "milliseconds": 1, "microseconds": 0.001, "nanoseconds": 0.000001}


class TimestampConverter(KeyOrValue):
    PURPOSE = "converting timestamp formats"
    CONFIG_DEF = ConfigDef(
        Key("field", "STRING", "", "The field containing the timestamp, or empty if the entire value is a "
            "timestamp", importance="HIGH"),
        Key("target.type", "STRING", NO_DEFAULT, "The desired timestamp representation: string, unix, Date, Time, "
            "or Timestamp", one_of("string", "unix", "Date", "Time", "Timestamp")),
        Key("format", "STRING", "", "A SimpleDateFormat-compatible format for the timestamp. Used to generate the "
            "output when type=string or used to parse the input if the input is a string.", importance="MEDIUM"),
        Key("unix.precision", "STRING", "milliseconds", "The desired Unix precision for the timestamp: seconds, "
            "milliseconds, microseconds, or nanoseconds.", one_of("nanoseconds", "microseconds", "milliseconds",
                                                                   "seconds"), importance="LOW"),
        REPLACE_NULL)

    def configure(self, props: dict[str, str]) -> None:
        super().configure(props)
        # read once, as Java's TimestampConverter.Config holds them (STRING keys, each required or with a default)
        self.format = fmt = str(self.config["format"])
        self.target = str(self.config["target.type"])
        self.precision = PRECISION[str(self.config["unix.precision"])]
        if self.target == "string" and not fmt:
            raise ConfigError("TimestampConverter requires format option to be specified when using string "
                              "timestamps")
        if fmt:
            try:
                tokens(fmt)
            except PatternError as e:
                raise ConfigError(f"TimestampConverter requires a SimpleDateFormat-compatible pattern for string "
                                  f"timestamps: {fmt}") from e

    def _kind_of(self, schema: Schema | None, value: object) -> str:
        if schema is not None:
            if schema.name in (TIMESTAMP, DATE, TIME):
                return schema.name.rsplit(".", 1)[1]
            if schema.type == "string":
                return "string"
            if schema.type == "int64":
                return "unix"
            raise DataError(f"Schema {schema} does not correspond to a known timestamp type format")
        if isinstance(value, str):
            return "string"
        if isinstance(value, int) and not isinstance(value, bool):
            return "unix"
        if isinstance(value, dt.datetime):
            return "Timestamp"
        raise DataError(f"TimestampConverter does not support class {java_class_name(value)} objects as timestamps")

    def _to_raw(self, kind: str, value: object) -> dt.datetime:
        if kind == "string":
            if not isinstance(value, str):
                raise DataError(f"Expected string timestamp to be a String, but found class {java_class_name(value)}")
            try:
                return parse_date(self.format, value)
            except PatternError as e:
                raise DataError(f"Could not parse timestamp: value ({value}) does not match pattern "
                                f"({self.format})") from e
        if kind == "unix":
            if not isinstance(value, int):
                raise DataError(f"Expected Unix timestamp to be a Long, but found class {java_class_name(value)}")
            return millis_to_timestamp(int(value * self.precision))
        if not isinstance(value, dt.datetime):
            raise DataError(f"Expected {kind} to be a java.util.Date, but found class {java_class_name(value)}")
        return value

    def _from_raw(self, raw: dt.datetime) -> object:
        target = self.target
        ms = timestamp_to_millis(raw)
        if target == "string":
            return format_date(self.format, raw)
        if target == "unix":
            return int(ms / self.precision)
        if target == "Date":
            return millis_to_timestamp(ms - ms % 86400000)
        if target == "Time":
            return EPOCH + dt.timedelta(milliseconds=ms % 86400000)
        return raw

    def _target_schema(self, optional: bool) -> Schema:
        s = {"string": STRING_SCHEMA, "unix": INT64_SCHEMA, "Date": DATE_SCHEMA, "Time": TIME_SCHEMA,
             "Timestamp": TIMESTAMP_SCHEMA}[self.target]
        return s.as_optional() if optional else s

    def convert(self, schema: Schema | None, value: object) -> object:
        if value is None:
            return None
        return self._from_raw(self._to_raw(self._kind_of(schema, value), value))

    def apply(self, record):
        schema, value = self.operating_schema(record), self.operating_value(record)
        name = self.config["field"]
        if not name:
            new_schema = None if schema is None else self._target_schema(schema.optional)
            return self.new_record(record, new_schema, self.convert(schema, value))
        if value is None:
            return record
        if schema is None:
            updated = dict(require_map(value, self.PURPOSE))
            updated[name] = self.convert(None, updated.get(name))
            return self.new_record(record, None, updated)
        struct = require_struct(value, self.PURPOSE)
        fields = [replace(f, schema=self._target_schema(f.schema.optional)) if f.name == name else f
                  for f in schema.fields]
        new_schema = replace(schema, fields=tuple(fields))
        get = struct.get if self.config["replace.null.with.default"] else struct.values.get
        updated = Struct(new_schema, {f.name: self.convert(f.schema, get(f.name)) if f.name == name else get(f.name)
                                      for f in schema.fields})
        return self.new_record(record, new_schema, updated)


CastKey, CastValue = variants(Cast)
TimestampConverterKey, TimestampConverterValue = variants(TimestampConverter)
