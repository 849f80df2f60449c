"""What the transforms share: the Key/Value variants, Kafka's Requirements checks and Java class names."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import replace

from brook.connect.configdef import ConfigError
from brook.connect.data import DataError, Schema, Struct
from brook.connect.transforms import Transformation

JAVA_CLASSES = {str: "java.lang.String", bool: "java.lang.Boolean", int: "java.lang.Long", float: "java.lang.Double",
                bytes: "[B", list: "java.util.ArrayList", dict: "java.util.HashMap", dt.datetime: "java.util.Date",
                decimal.Decimal: "java.math.BigDecimal", Struct: "org.apache.kafka.connect.data.Struct"}


def java_class_name(value: object) -> str:
    return "null" if value is None else JAVA_CLASSES.get(type(value), type(value).__name__)


def require_map(value: object, purpose: str) -> dict:
    if not isinstance(value, dict):
        raise DataError(f"Only Map objects supported in absence of schema for [{purpose}], found: "
                        f"{java_class_name(value)}")
    return value


def require_struct(value: object, purpose: str) -> Struct:
    if not isinstance(value, Struct):
        raise DataError(f"Only Struct objects supported for [{purpose}], found: {java_class_name(value)}")
    return value


def require_schema(schema: Schema | None, purpose: str) -> Schema:
    if schema is None:
        raise DataError(f"Schema required for [{purpose}]")
    return schema


def config_error(name: str, value: object, message: str) -> ConfigError:
    """ConfigException(name, value, message)."""
    return ConfigError(f"Invalid value {value} for configuration {name}: {message}")


def struct_with(schema: Schema, fields: list[tuple[str, Schema]]) -> Schema:
    """SchemaUtil.copySchemaBasics onto a struct with these fields."""
    from brook.connect.data import Field

    return replace(schema, type="struct", fields=tuple(Field(n, i, s) for i, (n, s) in enumerate(fields)),
                   default=None, key_schema=None, value_schema=None)


class KeyOrValue(Transformation):
    """The `$Key` / `$Value` pair of a Kafka transform: which part of the record it works on."""

    key = False

    def operating_schema(self, record):
        return record.key_schema if self.key else record.value_schema

    def operating_value(self, record):
        return record.key if self.key else record.value

    def new_record(self, record, schema, value):
        if self.key:
            return record.new_record(record.topic, record.kafka_partition, schema, value, record.value_schema,
                                     record.value, record.timestamp)
        return record.new_record(record.topic, record.kafka_partition, record.key_schema, record.key, schema, value,
                                 record.timestamp)


def variants(base: type) -> tuple[type, type]:
    """The Key and Value classes of a KeyOrValue transform."""
    key = type("Key", (base,), {"key": True, "__module__": base.__module__,
                                "__qualname__": f"{base.__name__}.Key"})
    value = type("Value", (base,), {"key": False, "__module__": base.__module__,
                                    "__qualname__": f"{base.__name__}.Value"})
    return key, value


# --- field paths (KIP-821's field.syntax.version, which Kafka 3.9's ExtractField reads) ---------------------------

def syntax_version(name: str, value: object) -> None:
    """CaseInsensitiveValidString.in("V1", "V2")."""
    if str(value).upper() not in ("V1", "V2"):
        raise ConfigError(f"Invalid value {value} for configuration {name}: String must be one of (case "
                          "insensitive): V1, V2")


def field_path(text: str, version: str) -> list[str]:
    """The steps of a path (SingleFieldPath): V1 one step, the whole text; V2 dot-separated steps, a step wrapped in
    backticks when its name holds dots (a backtick followed by a dot closes the pair unless a backslash escapes it)."""
    if version.upper() == "V1":
        return [text]
    steps: list[str] = []
    i = 0
    while 0 <= i < len(text):
        if text[i] != "`":
            dot = text.find(".", i)
            steps.append(text[i:] if dot < 0 else text[i:dot])
            i = -1 if dot < 0 else dot + 1
            continue
        opened, i, start, name = i, i + 1, i + 1, ""
        while True:
            i = text.find("`", i)
            if i < 0:
                raise _incomplete(text, opened)
            escaped = text[i - 1] == "\\"
            if i >= len(text) - 1:  # the closing backtick ends the path
                if escaped:
                    raise _incomplete(text, opened)
                steps.append(name + text[start:i])
                i += 1
                break
            if text[i + 1] != ".":  # a backtick inside the name
                i += 1
                continue
            if escaped:  # an escaped backtick before a dot: part of the name
                name += text[start:i - 1] + "`"
                i += 1
                start = i
                continue
            steps.append(name + text[start:i])
            i += 2
            break
    if text.endswith("."):
        steps.append("")
    return steps


def _incomplete(path: str, at: int) -> ConfigError:
    return ConfigError(f"Incomplete backtick pair in path: [{path}], consider adding a backslash before backtick at "
                       f"position {at} to escape it")
