"""Connect schemas and values <-> JSON Schema, as Confluent's JsonSchemaData (io.confluent.connect.json) converts
them: structs are objects whose properties carry `connect.index` (the field order), optional schemas are
`oneOf: [null, T]`, numbers carry `connect.type`, names are titles, versions and parameters `connect.*`."""

from __future__ import annotations

import base64
import decimal
from dataclasses import replace
from typing import Any

from brook.connect.data import (
    DATE,
    DECIMAL,
    TIME,
    TIMESTAMP,
    DataError,
    Schema,
    Struct,
    convert_members,
    from_logical,
    struct_schema,
    to_logical,
)

_INTS = ("int8", "int16", "int32", "int64")


def from_connect_schema(schema: Schema, index: int | None = None, ignore_optional: bool = False) -> dict:
    """JsonSchemaData.fromConnectSchema."""
    out: dict[str, Any]
    if schema.type == "struct" and schema.optional and not ignore_optional:
        out = {"oneOf": [{"type": "null"}, from_connect_schema(replace(schema, optional=False))]}
        if index is not None:
            out["connect.index"] = index
        return out
    if schema.type in _INTS:
        out = {"type": "integer", "connect.type": schema.type}
    elif schema.type in ("float32", "float64"):
        out = {"type": "number", "connect.type": schema.type}
    elif schema.type == "boolean":
        out = {"type": "boolean"}
    elif schema.type == "string":
        out = {"type": "string"}
    elif schema.type == "bytes":  # a Decimal is a number (JsonSchemaData: decimal.format NUMERIC)
        out = {"type": "number" if schema.name == DECIMAL else "string", "connect.type": "bytes"}
    elif schema.type == "array":
        assert schema.value_schema is not None
        out = {"type": "array", "items": from_connect_schema(schema.value_schema)}
    elif schema.type == "map":
        assert schema.key_schema is not None and schema.value_schema is not None
        if schema.key_schema.type == "string" and not schema.key_schema.optional:
            out = {"type": "object", "additionalProperties": from_connect_schema(schema.value_schema),
                   "connect.type": "map"}
        else:
            entry = {"type": "object", "properties": {"key": from_connect_schema(schema.key_schema, 0),
                                                      "value": from_connect_schema(schema.value_schema, 1)}}
            out = {"type": "array", "items": entry, "connect.type": "map"}
    elif schema.type == "struct":
        out = {"type": "object", "properties": {
            f.name: from_connect_schema(f.schema, f.index) for f in schema.fields}}
    else:
        raise DataError(f"Unsupported type {schema.type}")
    if schema.name is not None:
        out["title"] = schema.name
    if schema.version is not None:
        out["connect.version"] = schema.version
    if schema.doc is not None:
        out["description"] = schema.doc
    if schema.parameters:
        out["connect.parameters"] = dict(schema.parameters)
    if schema.default is not None:
        out["default"] = to_json(schema, schema.default)
    if schema.optional and not ignore_optional:
        out = {"oneOf": [{"type": "null"}, out]}
    if index is not None:
        out["connect.index"] = index
    return out


def to_json(schema: Schema, value: object, numeric: bool = False) -> object:
    """A Connect value as the JSON document the schema above validates (JsonSchemaData.fromConnectData); a
    Decimal as base64 bytes, or with `numeric` (decimal.format=NUMERIC) as a number with its digits."""
    if value is None:
        if schema.default is not None:
            return to_json(schema, schema.default, numeric)
        if schema.optional:
            return None
        raise DataError("Conversion error: null value for field that is required and has no default value")
    if schema.name in (TIMESTAMP, DATE, TIME):
        return from_logical(schema, value)
    if schema.name == DECIMAL:
        if not numeric:
            return base64.b64encode(from_logical(schema, value)).decode()  # type: ignore[arg-type]
        return value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))  # exact: exactjson
    if schema.type == "bytes":
        return base64.b64encode(value).decode()  # type: ignore[arg-type]
    if schema.type == "struct":
        if not isinstance(value, Struct):
            raise DataError(f"Invalid type for STRUCT: {type(value).__name__}")
        return {f.name: to_json(f.schema, value.get(f.name), numeric) for f in schema.fields}
    if schema.type == "array":
        assert schema.value_schema is not None
        return [to_json(schema.value_schema, v, numeric) for v in value]  # type: ignore[attr-defined]
    if schema.type == "map":
        ks, vs = schema.key_schema, schema.value_schema
        assert ks is not None and vs is not None
        if ks.type == "string" and not ks.optional:
            return {k: to_json(vs, v, numeric) for k, v in value.items()}  # type: ignore[attr-defined]
        return [{"key": to_json(ks, k, numeric), "value": to_json(vs, v, numeric)}
                for k, v in value.items()]  # type: ignore[attr-defined]
    return value


def to_connect_schema(node: Any, version: int | None = None, optional: bool = False) -> Schema:
    """JsonSchemaData.toConnectSchema for the schemas Confluent's converters and serializers write."""
    if node is True or node == {}:
        raise DataError("Schemaless JSON (an empty schema) is not supported by Brook's JsonSchemaConverter")
    for combiner in ("oneOf", "anyOf"):
        if combiner in node:
            members = [m for m in node[combiner] if m.get("type") != "null"]
            if len(members) == 1:
                return to_connect_schema(members[0], version, True)
            raise DataError(f"{combiner} other than [null, T] is not supported by Brook's JsonSchemaConverter")
    kind = node.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        return to_connect_schema({**node, "type": kinds[0]}, version, optional or len(kinds) < len(kind))
    connect_type = node.get("connect.type")
    key = value = None
    fields: tuple = ()
    if kind == "integer":
        ctype = connect_type if connect_type in _INTS else "int64"
    elif kind == "number":
        ctype = connect_type if connect_type in ("float32", "float64", "bytes") else "float64"
    elif kind == "boolean":
        ctype = "boolean"
    elif kind == "string":
        ctype = "bytes" if connect_type == "bytes" else "string"
    elif kind == "array":
        items = node.get("items", {})
        if connect_type == "map":
            props = items["properties"]
            ctype, key, value = "map", to_connect_schema(props["key"]), to_connect_schema(props["value"])
        else:
            ctype, value = "array", to_connect_schema(items)
    elif kind == "object" and connect_type == "map":
        ctype, key, value = "map", Schema("string"), to_connect_schema(node.get("additionalProperties", {}))
    elif kind == "object":
        props = node.get("properties", {})
        order = sorted(props, key=lambda n: props[n].get("connect.index", len(props)) if isinstance(props[n], dict)
                       else len(props))
        ctype, fields = "struct", struct_schema([(n, to_connect_schema(props[n])) for n in order]).fields
    else:
        raise DataError(f"Unsupported JSON schema type {kind}")
    params = node.get("connect.parameters")
    return Schema(ctype, optional, None, node.get("title"), node.get("connect.version", version),
                  node.get("description"), tuple(params.items()) if isinstance(params, dict) else None,
                  fields, key, value)


def to_connect(schema: Schema, value: object) -> object:
    if value is None:
        return None
    if schema.name in (TIMESTAMP, DATE, TIME):
        return to_logical(schema, value)
    if schema.name == DECIMAL:  # a number (read exactly: the reader's json_decode), or base64 bytes
        if isinstance(value, decimal.Decimal):
            return value
        if isinstance(value, (int, float)):
            return decimal.Decimal(str(value))
        return to_logical(schema, base64.b64decode(str(value)))
    if schema.type == "bytes":
        return base64.b64decode(str(value))
    if schema.type in ("float32", "float64"):
        return float(value)  # type: ignore[arg-type]
    return convert_members(schema, value, to_connect)

