"""Converters (org.apache.kafka.connect.storage / json): Connect data <-> the bytes in Kafka.

JsonConverter writes Kafka's envelope byte for byte as Jackson does ({"schema":...,"payload":...}, no spaces,
fields in Kafka's order), so topics written by Brook and by Kafka's workers read the same.
"""

from __future__ import annotations

import base64
import decimal
import json
import re
import secrets

from brook.connect.configdef import ConfigDef, Key, one_of
from brook.connect.data import (
    DATE,
    DECIMAL,
    OPTIONAL_BYTES_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    TIME,
    TIMESTAMP,
    DataError,
    Schema,
    Struct,
    from_logical,
    infer_type,
    java_str,
    struct_schema,
    to_logical,
)


class Converter:
    CONFIG_DEF = ConfigDef()

    def configure(self, configs: dict[str, str], is_key: bool) -> None:
        self.is_key = is_key
        self.settings = self.CONFIG_DEF.parse({k: v for k, v in configs.items() if k in self.CONFIG_DEF.keys})

    def config(self) -> ConfigDef:
        return self.CONFIG_DEF

    def from_connect_data(self, topic: str, schema: Schema | None, value: object) -> bytes | None:
        raise NotImplementedError

    def to_connect_data(self, topic: str, value: bytes | None) -> tuple[Schema | None, object]:
        raise NotImplementedError

    # HeaderConverter: the same conversion for one header
    def from_connect_header(self, topic: str, key: str, schema: Schema | None, value: object) -> bytes | None:
        return self.from_connect_data(topic, schema, value)

    def to_connect_header(self, topic: str, key: str, value: bytes | None) -> tuple[Schema | None, object]:
        return self.to_connect_data(topic, value)


class StringConverter(Converter):
    CONFIG_DEF = ConfigDef(Key("converter.encoding", "STRING", "UTF-8", "The name of the Java character set "
                               "to use for encoding strings as byte arrays.", importance="HIGH",
                               group="Converter", order=1, width="MEDIUM", display="Character encoding"))

    def from_connect_data(self, topic, schema, value):
        if value is None:
            return None
        text = value if isinstance(value, str) else java_str(value)
        if self._encoding().upper().replace("_", "-") == "UTF-16":  # Java's UTF-16: a big-endian BOM, big-endian
            return b"\xfe\xff" + text.encode("utf-16-be")
        return text.encode(self._encoding())

    def to_connect_data(self, topic, value):
        if value is None:
            return OPTIONAL_STRING_SCHEMA, None
        data = bytes(value)
        if self._encoding().upper().replace("_", "-") == "UTF-16" and data[:2] not in (b"\xfe\xff", b"\xff\xfe"):
            return OPTIONAL_STRING_SCHEMA, data.decode("utf-16-be")  # no BOM: Java reads big-endian
        return OPTIONAL_STRING_SCHEMA, data.decode(self._encoding())

    def _encoding(self) -> str:
        return str(getattr(self, "settings", {}).get("converter.encoding", "UTF-8"))


class ByteArrayConverter(Converter):
    def from_connect_data(self, topic, schema, value):
        if schema is not None and schema.type != "bytes":
            raise DataError(f"Invalid schema type for ByteArrayConverter: {schema.type.upper()}")
        if value is not None and not isinstance(value, (bytes, bytearray)):
            raise DataError(f"ByteArrayConverter is not compatible with objects of type {type(value).__name__}")
        return None if value is None else bytes(value)

    def to_connect_data(self, topic, value):
        return OPTIONAL_BYTES_SCHEMA, None if value is None else bytes(value)


class SimpleHeaderConverter(Converter):
    """Headers as strings (Kafka's SimpleHeaderConverter also infers numbers and booleans; see docs/connect.md)."""

    def from_connect_data(self, topic, schema, value):
        if value is None:
            return None
        return (value if isinstance(value, str) else java_str(value)).encode()

    def to_connect_data(self, topic, value):
        return OPTIONAL_STRING_SCHEMA, None if value is None else bytes(value).decode("utf-8", "replace")


JSON_CONFIG = ConfigDef(
    Key("schemas.enable", "BOOLEAN", True, "Include schemas within each of the serialized values and keys.",
        importance="HIGH", group="Schemas", order=1, width="MEDIUM", display="Enable Schemas"),
    Key("schemas.cache.size", "INT", 1000, "The maximum number of schemas that can be cached in this converter "
        "instance.", importance="HIGH", group="Schemas", order=2, width="MEDIUM", display="Schema Cache Size"),
    Key("decimal.format", "STRING", "BASE64", "Controls which format this converter will serialize decimals in. "
        "This value is case insensitive and can be either 'BASE64' (default) or 'NUMERIC'",
        one_of("BASE64", "NUMERIC"), importance="LOW", group="Serialization", order=1, width="MEDIUM",
        display="Decimal Format"),
    Key("replace.null.with.default", "BOOLEAN", True, "Whether to replace fields that have a default value and "
        "that are null to the default value. When set to true, the default value is used, otherwise null is used.",
        importance="LOW", group="Serialization", order=2, width="MEDIUM", display="Replace null with default"),
)


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)  # stateless, shared


# A Decimal written as a JSON number (decimal.format=NUMERIC) keeps its exact text, as Jackson writes a BigDecimal
# (1.50, not 1.5): to_json puts it in a string marked with NUL and a random token, which dumps() unquotes.
_TOKEN = secrets.token_hex(8)
_NUMBER = re.compile(r'"\\u0000' + _TOKEN + r'([-+0-9.eE]+)\\u0000"')


def exact_number(value: decimal.Decimal) -> str:
    return f"\x00{_TOKEN}{value}\x00"


class ExactFloat(float):
    """A JSON number read as a float that keeps its text, for a Decimal schema to read it exactly (Jackson's
    USE_BIG_DECIMAL_FOR_FLOATS)."""

    text = ""


def _exact_float(text: str) -> float:
    f = ExactFloat(text)
    f.text = text
    return f


def dumps(node: object) -> bytes:
    """Jackson's compact output."""
    text = _ENCODER.encode(node)
    if _TOKEN in text:
        text = _NUMBER.sub(r"\1", text)
    return text.encode()


class JsonConverter(Converter):
    CONFIG_DEF = JSON_CONFIG

    def __init__(self) -> None:
        self.settings = JSON_CONFIG.parse({})
        self._schema_cache: dict[Schema, dict] = {}
        self._envelope_cache: dict[Schema, bytes] = {}
        self._connect_cache: dict[str, Schema | None] = {}

    # Connect -> bytes
    def from_connect_data(self, topic, schema, value):
        if schema is None and value is None:
            return None
        payload = dumps(self.to_json(schema, value))
        if self.settings["schemas.enable"]:
            # the envelope around the payload, its schema part serialized once per schema
            head = self._envelope_cache.get(schema) if schema is not None else None
            if head is None:
                head = b'{"schema":' + dumps(self.as_json_schema(schema)) + b',"payload":'
                if schema is not None and len(self._envelope_cache) < self.settings["schemas.cache.size"]:
                    self._envelope_cache[schema] = head
            return head + payload + b"}"
        return payload

    def as_json_schema(self, schema: Schema | None) -> dict | None:
        if schema is None:
            return None
        cached = self._schema_cache.get(schema)
        if cached is not None:
            return cached
        names = {"float32": "float", "float64": "double"}
        out: dict = {"type": names.get(schema.type, schema.type)}
        if schema.type == "array":
            out["items"] = self.as_json_schema(schema.value_schema)
        elif schema.type == "map":
            out["keys"] = self.as_json_schema(schema.key_schema)
            out["values"] = self.as_json_schema(schema.value_schema)
        elif schema.type == "struct":
            out["fields"] = [{**self.as_json_schema(f.schema), "field": f.name} for f in schema.fields]  # type: ignore[dict-item]
        out["optional"] = schema.optional
        if schema.name is not None:
            out["name"] = schema.name
        if schema.version is not None:
            out["version"] = schema.version
        if schema.doc is not None:
            out["doc"] = schema.doc
        if schema.parameters is not None:
            out["parameters"] = dict(schema.parameters)
        if schema.default is not None:
            out["default"] = self.to_json(schema, schema.default)
        if len(self._schema_cache) < self.settings.get_int("schemas.cache.size"):
            self._schema_cache[schema] = out
        return out

    def to_json(self, schema: Schema | None, value: object) -> object:
        if value is None:
            if schema is None:
                return None
            if schema.default is not None and self.settings["replace.null.with.default"]:
                return self.to_json(schema, schema.default)
            if schema.optional:
                return None
            raise DataError("Conversion error: null value for field that is required and has no default value")
        if schema is not None and schema.name in (TIMESTAMP, DATE, TIME, DECIMAL):
            physical = from_logical(schema, value)
            if schema.name == DECIMAL:
                if self.settings["decimal.format"] == "NUMERIC":
                    return exact_number(value) if isinstance(value, decimal.Decimal) else value
                return base64.b64encode(physical).decode()  # type: ignore[arg-type]
            return physical
        kind = schema.type if schema is not None else infer_type(value)
        if kind is None:
            raise DataError(f"Java class {type(value).__name__} does not have corresponding schema type.")
        if kind in ("int8", "int16", "int32", "int64"):
            if not isinstance(value, int) or isinstance(value, bool):
                raise DataError(f"Invalid type for {kind.upper()}: {type(value).__name__}")
            return value
        if kind in ("float32", "float64"):
            return float(value)  # type: ignore[arg-type]
        if kind == "boolean":
            return bool(value)
        if kind == "string":
            return str(value)
        if kind == "bytes":
            if not isinstance(value, (bytes, bytearray)):
                raise DataError(f"Invalid type for bytes type: {type(value).__name__}")
            return base64.b64encode(value).decode()
        if kind == "array":
            vs = schema.value_schema if schema is not None else None
            return [self.to_json(vs, v) for v in value]  # type: ignore[attr-defined]
        if kind == "map":
            ks = schema.key_schema if schema is not None else None
            vs = schema.value_schema if schema is not None else None
            object_mode = ks.type == "string" if ks is not None else all(isinstance(k, str) for k in value)  # type: ignore[attr-defined]
            if object_mode:
                return {k: self.to_json(vs, v) for k, v in value.items()}  # type: ignore[attr-defined]
            return [[self.to_json(ks, k), self.to_json(vs, v)] for k, v in value.items()]  # type: ignore[attr-defined]
        if kind == "struct":
            if not isinstance(value, Struct):
                raise DataError(f"Invalid type for STRUCT: {type(value).__name__}")
            if schema is not None and value.schema != schema:
                raise DataError("Mismatching schema.")
            return {f.name: self.to_json(f.schema, value.get(f.name)) for f in value.schema.fields}
        raise DataError(f"Couldn't convert {value} to JSON.")

    # bytes -> Connect
    def to_connect_data(self, topic, value):
        if value is None:
            return None, None
        try:
            node = json.loads(bytes(value), parse_float=_exact_float)
        except (ValueError, UnicodeDecodeError) as e:
            raise DataError("Converting byte[] to Kafka Connect data failed due to serialization error: ") from e
        if self.settings["schemas.enable"]:
            if not isinstance(node, dict) or len(node) != 2 or "schema" not in node or "payload" not in node:
                raise DataError('JsonConverter with schemas.enable requires "schema" and "payload" fields and may '
                                "not contain additional fields. If you are trying to deserialize plain JSON data, "
                                "set schemas.enable=false in your converter configuration.")
            schema = self._cached_connect_schema(node["schema"])
            return schema, self.to_connect(schema, node["payload"])
        return None, self.to_connect(None, node)

    def _cached_connect_schema(self, node: object) -> Schema | None:
        """as_connect_schema, cached by the schema's JSON text (Kafka's toConnectSchemaCache)."""
        if not isinstance(node, dict):
            return self.as_connect_schema(node)
        text = _ENCODER.encode(node)
        schema = self._connect_cache.get(text)
        if schema is None:
            schema = self.as_connect_schema(node)
            if len(self._connect_cache) < self.settings.get_int("schemas.cache.size"):
                self._connect_cache[text] = schema
        return schema

    def as_connect_schema(self, node: object) -> Schema | None:
        if node is None:
            return None
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            raise DataError("Schema must contain 'type' field")
        t = node["type"]
        kinds = {"float": "float32", "double": "float64"}
        kind = kinds.get(t, t)
        key = value = None
        fields: list = []
        if kind == "array":
            if node.get("items") is None:
                raise DataError("Array schema did not specify the element type")
            value = self.as_connect_schema(node["items"])
        elif kind == "map":
            if "keys" not in node:
                raise DataError("Map schema did not specify the key type")
            if "values" not in node:
                raise DataError("Map schema did not specify the value type")
            key, value = self.as_connect_schema(node["keys"]), self.as_connect_schema(node["values"])
        elif kind == "struct":
            if not isinstance(node.get("fields"), list):
                raise DataError("Struct schema's \"fields\" argument is not an array.")
            for f in node["fields"]:
                if not isinstance(f.get("field"), str):
                    raise DataError("Struct schema's field name not specified properly")
                fields.append((f["field"], self.as_connect_schema(f)))
        elif kind not in ("int8", "int16", "int32", "int64", "float32", "float64", "boolean", "string", "bytes"):
            raise DataError(f"Unknown schema type: {t}")
        params = node.get("parameters")
        if isinstance(params, dict) and any(not isinstance(v, str) for v in params.values()):
            raise DataError("Schema parameters must have string values.")
        base = struct_schema(fields) if kind == "struct" else Schema(kind, key_schema=key, value_schema=value)
        schema = Schema(kind, node.get("optional") is True, None,
                        node.get("name") if isinstance(node.get("name"), str) else None,
                        node.get("version") if isinstance(node.get("version"), int) else None,
                        node.get("doc") if isinstance(node.get("doc"), str) else None,
                        tuple(params.items()) if isinstance(params, dict) else None,
                        base.fields, key, value)
        if node.get("default") is not None:
            schema = Schema(**{**schema.__dict__, "default": self.to_connect(schema, node["default"])})
        return schema

    def to_connect(self, schema: Schema | None, node: object) -> object:
        if node is None:
            if schema is not None and schema.default is not None:
                return schema.default
            if schema is None or schema.optional:
                return None
            raise DataError(f"Invalid null value for required {schema.type.upper()} field")
        if schema is not None and schema.name in (TIMESTAMP, DATE, TIME, DECIMAL):
            if schema.name == DECIMAL:
                if isinstance(node, (int, float)):
                    return decimal.Decimal(getattr(node, "text", "") or str(node))
                return to_logical(schema, base64.b64decode(str(node)))
            if not isinstance(node, int):
                raise DataError(f"Invalid type for {schema.name.rsplit('.', 1)[1]}, underlying representation "
                                "should be integer but was " + type(node).__name__.upper())
            return to_logical(schema, node)
        if schema is None:
            if isinstance(node, list):
                return [self.to_connect(None, v) for v in node]
            if isinstance(node, dict):
                return {k: self.to_connect(None, v) for k, v in node.items()}
            return float(node) if isinstance(node, ExactFloat) else node
        kind = schema.type
        checks = {"boolean": bool, "string": str, "bytes": str, "array": list, "struct": dict}
        if kind in ("int8", "int16", "int32", "int64") and (not isinstance(node, int) or isinstance(node, bool)):
            raise DataError(f"Invalid value: {json.dumps(node)} is not a valid {kind.upper()}")
        if kind in checks and not isinstance(node, checks[kind]):
            if kind == "struct":
                raise DataError("Structs should be encoded as JSON objects, but found "
                                + type(node).__name__.upper())
            raise DataError(f"Invalid value: {json.dumps(node)} is not a valid {kind.upper()}")
        if kind in ("float32", "float64"):
            return float(node)  # type: ignore[arg-type]
        if kind == "bytes":
            return base64.b64decode(node)  # type: ignore[arg-type]
        if kind == "array":
            return [self.to_connect(schema.value_schema, v) for v in node]  # type: ignore[attr-defined]
        if kind == "map":
            ks, vs = schema.key_schema, schema.value_schema
            if ks is None or ks.type == "string":
                if not isinstance(node, dict):
                    raise DataError("Maps with string fields should be encoded as JSON objects, but found "
                                    + type(node).__name__.upper())
                return {k: self.to_connect(vs, v) for k, v in node.items()}
            if not isinstance(node, list):
                raise DataError("Maps with non-string fields should be encoded as JSON array of tuples, but found "
                                + type(node).__name__.upper())
            return {self.to_connect(ks, e[0]): self.to_connect(vs, e[1]) for e in node}
        if kind == "struct":
            return Struct(schema, {f.name: self.to_connect(f.schema, node.get(f.name)) for f in schema.fields})  # type: ignore[attr-defined]
        return node


def internal_json() -> JsonConverter:
    """The schemaless JsonConverter Kafka uses for offset keys and values."""
    c = JsonConverter()
    c.configure({"schemas.enable": "false"}, True)
    return c
