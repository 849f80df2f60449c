"""How benchmarks/ksql_functional.py writes a functional test's records and reads them back: per the formats of
the source over the topic (as DESCRIBE reports them), in the test files' JSON forms."""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from brook.connect.data import DATE, DECIMAL, TIME, TIMESTAMP, Schema
from brook.sql import formats, srformats

MESSAGES = ("PROTOBUF", srformats.NOSR)  # formats whose single key is a message all the same


def sql_type(schema: dict) -> tuple:
    """DESCRIBE's SchemaInfo JSON as the engine's column type."""
    kind = schema["type"]
    if kind == "ARRAY":
        return ("ARRAY", sql_type(schema["memberSchema"]))
    if kind == "MAP":
        return ("MAP", ("STRING",), sql_type(schema["memberSchema"]))
    if kind == "STRUCT":
        return ("STRUCT", [(f["name"], sql_type(f["schema"])) for f in schema["fields"]])
    if kind == "DECIMAL":
        return ("DECIMAL", schema["parameters"]["precision"], schema["parameters"]["scale"])
    return (kind,)


@dataclass
class SourceInfo:
    """What DESCRIBE says of a stream or table: enough to write its records and read them back."""
    name: str
    kind: str
    topic: str
    key_format: str
    value_format: str
    window: str | None
    keys: list[tuple[str, tuple]]
    values: list[tuple[str, tuple]]
    wrap_single: bool
    full_names: dict[bool, str | None] = field(default_factory=dict)  # KEY/VALUE_SCHEMA_FULL_NAME
    serdes: dict[bool, srformats.SrSerde] = field(default_factory=dict)

    @classmethod
    def of(cls, d: dict) -> SourceInfo:
        keys = [(f["name"], sql_type(f["schema"])) for f in d["fields"] if f.get("type") == "KEY"]
        values = [(f["name"], sql_type(f["schema"])) for f in d["fields"] if f.get("type") != "KEY"]
        wrap = not re.search(r"WRAP_SINGLE_VALUE\s*=\s*'?false", d.get("statement", ""), re.I)
        names = {is_key: m.group(1) if (m := re.search(rf"{side}_SCHEMA_FULL_NAME\s*=\s*'([^']*)'",
                                                       d.get("statement", ""), re.I)) else None
                 for is_key, side in ((True, "KEY"), (False, "VALUE"))}
        return cls(d["name"], d["type"], d["topic"], d["keyFormat"], d["valueFormat"], d.get("windowType"), keys,
                   values, wrap, names)

    def serde(self, registry: str, is_key: bool) -> srformats.SrSerde:
        if is_key not in self.serdes:
            cols = self.keys if is_key else self.values
            try:  # written with the subject's latest schema (a test's own, or the one the CREATE registered)
                with urllib.request.urlopen(f"{registry}/subjects/{srformats.subject(self.topic, is_key)}/versions/"
                                            "latest", timeout=10) as resp:
                    schema_id = int(json.loads(resp.read())["id"])
            except urllib.error.HTTPError:
                schema_id = None
            self.serdes[is_key] = srformats.SrSerde({"schema.registry.url": registry}, self.key_format if is_key
                                                    else self.value_format, self.topic, is_key, cols,
                                                    not is_key and not self.wrap_single, schema_id,
                                                    self.full_names.get(is_key))
        return self.serdes[is_key]

    def row(self, is_key: bool, data: Any) -> dict[str, Any]:
        """A test record's key or value as a row: one column written unwrapped (a key, but a PROTOBUF one, a
        KAFKA value, a WRAP_SINGLE_VALUE=false value) is the value itself, else the record holds the columns."""
        fmt, cols = (self.key_format, self.keys) if is_key else (self.value_format, self.values)
        unwrapped = len(cols) == 1 and (fmt == "KAFKA" or (fmt not in MESSAGES if is_key else not self.wrap_single))
        if unwrapped or not isinstance(data, dict):
            return {cols[0][0]: data}
        upper = {n.upper(): n for n, _ in cols}
        return {upper.get(str(k).upper(), k): v for k, v in data.items()}

    def encode(self, registry: str, is_key: bool, data: Any) -> bytes | None:
        fmt, cols = (self.key_format, self.keys) if is_key else (self.value_format, self.values)
        if data is None or not cols:
            return None
        if isinstance(data, str) and fmt in ("DELIMITED", "KAFKA") and cols[0][1][0] == "STRING" or \
                isinstance(data, str) and fmt == "DELIMITED":
            return data.encode()
        if fmt == "JSON":
            return json.dumps(data).encode()
        row = self.row(is_key, data)
        if fmt in (*srformats.SERDES, srformats.NOSR):
            serde = self.serde(registry, is_key)
            if serde.unwrapped:  # as the test driver's SpecToConnectConverter, per the schema written with
                name = cols[0][0]
                row = {name: spec_to_connect(row.get(name), serde.schema)}
            else:
                row = spec_to_connect(row, serde.schema)
            return serde.serialize(row)
        row = {n: spec_to_connect(row.get(n), Schema("bytes")) if t == ("BYTES",) else row.get(n) for n, t in cols}
        return formats.serialize(fmt, row, cols, wrap_single=not is_key and self.wrap_single)

    def decode(self, registry: str, is_key: bool, data: bytes | None) -> Any:
        """Bytes as the test files write them: JSON as written, DELIMITED as text, one column as its value, BYTES
        in base64."""
        fmt, cols = (self.key_format, self.keys) if is_key else (self.value_format, self.values)
        if data is None or not cols:
            return None
        if fmt == "JSON":
            return json.loads(data)
        if fmt == "DELIMITED":  # the test files write DELIMITED keys and values as their text
            return data.decode()
        if fmt in (*srformats.SERDES, srformats.NOSR):
            serde = self.serde(registry, is_key)
            row = serde.deserialize(data)
            if row is not None and not serde.unwrapped and fmt == "AVRO":
                # the writer's fields that are no column too (a sink written with VALUE_SCHEMA_ID's schema)
                _, value = serde.converter.to_connect_data(self.topic, data)
                known = {k.upper() for k in row}
                row.update({f.name: value.get(f.name) for f in getattr(value.schema, "fields", ())
                            if f.name.upper() not in known and not isinstance(value.get(f.name), (dict, list))})
        else:
            row = formats.deserialize(fmt, data, cols)
        row = _base64(row)
        # one column is written as its value (a PROTOBUF key stays a message)
        single = len(cols) == 1 and (is_key and fmt not in MESSAGES or not self.wrap_single or fmt == "KAFKA")
        return row[cols[0][0]] if single and row is not None else row


def spec_to_connect(spec: Any, schema: Schema) -> Any:
    """A test file's value as the type of the schema it is written with (ksqlDB's SpecToConnectConverter): numbers
    and booleans from their text, text from any value, struct fields matched ignoring case (others dropped), BYTES
    from base64; DECIMAL, DATE, TIME and TIMESTAMP values are left to the serde."""
    if spec is None or schema.name in (DECIMAL, DATE, TIME, TIMESTAMP):
        return spec
    kind = schema.type
    try:
        if kind in ("int8", "int16", "int32", "int64"):
            return int(str(spec)) if not isinstance(spec, bool) else spec
        if kind in ("float32", "float64"):
            return float(str(spec))
    except ValueError:  # left for the serde to refuse
        return spec
    if kind == "boolean":
        return spec if isinstance(spec, bool) else str(spec).lower() == "true"
    if kind == "string":
        return _java_text(spec)
    if kind == "bytes":
        return base64.b64decode(spec) if isinstance(spec, str) else spec
    if kind == "array" and isinstance(spec, list) and schema.value_schema is not None:
        return [spec_to_connect(x, schema.value_schema) for x in spec]
    if kind == "map" and isinstance(spec, dict) and schema.value_schema is not None:
        return {str(k): spec_to_connect(v, schema.value_schema) for k, v in spec.items()}
    if kind == "struct" and isinstance(spec, dict):
        fields = {f.name.upper(): f for f in schema.fields}
        return {f.name: spec_to_connect(v, f.schema) for k, v in spec.items() if (f := fields.get(str(k).upper()))}
    return spec


def _java_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return srformats.java_double(v)
    return v if isinstance(v, str) else json.dumps(v)


def _base64(v: Any) -> Any:
    """BYTES read back as the test files write them."""
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(v).decode()
    if isinstance(v, dict):
        return {k: _base64(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_base64(x) for x in v]
    return v
