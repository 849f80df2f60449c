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
