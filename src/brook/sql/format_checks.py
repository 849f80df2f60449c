"""What the schema-registry formats and WRAP_SINGLE_VALUE can hold, checked when a CREATE or CREATE ... AS SELECT
is executed, with ksqlDB 0.29's messages (serde_checks.py makes the other formats' checks and refuses MAP key
columns): the value's wrapping first (WRAP_SINGLE_VALUE, SerdeFeaturesFactory), then, side by side after
serde_checks', the format's own: AVRO, JSON, JSON_SR and PROTOBUF hold MAPs with STRING keys only, an AVRO schema's
record and field names must be Avro names. A format's refusal is worded as ksqlDB's GenericSerdeFactory words it."""

from __future__ import annotations

from typing import Any

from brook.connect.data import Schema
from brook.sql import srformats
from brook.sql.expressions import SqlError
from brook.sql.parser import type_str

# The values of WRAP_SINGLE_VALUE each format takes (its WRAP_SINGLES / UNWRAP_SINGLES features)
WRAPPINGS = {"JSON": (True, False), "JSON_SR": (True, False), "AVRO": (True, False), "PROTOBUF": (True,),
             "PROTOBUF_NOSR": (True, False), "DELIMITED": (False,), "KAFKA": (False,)}
MAP_KEYS = {"AVRO": "Avro only supports MAPs with STRING keys",
            "JSON": "JSON only supports MAP types with STRING keys",
            "JSON_SR": "JSON only supports MAP types with STRING keys",
            "PROTOBUF": "PROTOBUF format only supports MAP types with STRING keys. See "
                        "https://github.com/confluentinc/ksql/issues/6177.",
            "PROTOBUF_NOSR": "PROTOBUF format only supports MAP types with STRING keys. See "
                             "https://github.com/confluentinc/ksql/issues/6177."}


def check_wrapping(props: dict, value_format: str, value_columns: list) -> None:
    """WRAP_SINGLE_VALUE given explicitly: a value the format can take, and a single value column."""
    given = props.get("WRAP_SINGLE_VALUE")
    if given is None:
        return
    wrap = str(given).lower() == "true"
    if wrap not in WRAPPINGS.get(value_format.upper(), ()):
        raise SqlError(f"Format '{value_format.upper()}' does not support 'WRAP_SINGLE_VALUE' set to "
                       f"'{str(wrap).lower()}'.")
    if len(value_columns) != 1:
        raise SqlError("'WRAP_SINGLE_VALUE' is only valid for single-field value schemas")


def check_registry_format(source: Any, is_key: bool, wrap_given: Any = None) -> None:
    """One side's schema-registry format checks (`source`: a queries.Source; `wrap_given`: WRAP_SINGLE_VALUE as
    the statement gave it, which the value's serde features show)."""
    if is_key:
        features = ["UNWRAP_SINGLES"] if len(source.key_columns) == 1 and \
            len(WRAPPINGS.get(source.key_format.upper(), ())) == 2 else []
        _check_side(source.key_format.upper(), source.key_columns, True, True, source.key_full_name, features)
    else:
        features = [] if wrap_given is None else \
            ["WRAP_SINGLES" if str(wrap_given).lower() == "true" else "UNWRAP_SINGLES"]
        _check_side(source.value_format.upper(), source.value_columns, False, not source.wrap_single,
                    source.value_full_name, features)


def _check_side(fmt: str, columns: list, is_key: bool, unwrap: bool, full_name: str | None,
                features: list[str]) -> None:
    """A format's refusal, as ksqlDB's GenericSerdeFactory words it: `Key format does not support schema.` with
    the format, the columns and the serde features, then the reason."""
    if not columns:
        return
    persisted = ", ".join(f"`{n}` {type_str(t) if t else 'STRING'}{' KEY' if is_key else ''}" for n, t in columns)
    reason = _reason(fmt, columns, unwrap, full_name)
    if reason is not None:
        raise SqlError(f"{'Key' if is_key else 'Value'} format does not support schema.\nformat: {fmt}\nschema: "
                       f"Persistence{{columns=[{persisted}], features=[{', '.join(features)}]}}\nreason: {reason}")


def _reason(fmt: str, columns: list, unwrap: bool, full_name: str | None) -> str | None:
    if fmt == "AVRO":  # AvroFormat converts to an Avro schema before its serde factory looks at map keys
        schema = srformats.connect_schema(fmt, columns, unwrap and len(columns) == 1, full_name)
        try:
            _avro_names(schema)
        except ValueError as e:
            return f"Schema is not compatible with Avro: {e}"
    if fmt in MAP_KEYS and any(t is not None and _non_string_map_key(t) for _, t in columns):
        return MAP_KEYS[fmt]
    return None


def _non_string_map_key(t: tuple) -> bool:
    if t[0] == "MAP":
        return t[1][0] != "STRING" or _non_string_map_key(t[2])
    if t[0] == "ARRAY":
        return _non_string_map_key(t[1])
    return t[0] == "STRUCT" and any(_non_string_map_key(ft) for _, ft in t[1])


def _avro_names(schema: Schema) -> None:
    """Avro's name rules (Schema.validateName) over the records and fields Avro's converter would make: a record
    named first, then each field's schema, then the field's name."""
    if schema.type == "struct":
        if schema.name:
            _avro_name(schema.name.rsplit(".", 1)[-1])
        for f in schema.fields:
            _avro_names(f.schema)
            _avro_name(f.name)
    elif schema.type in ("array", "map") and schema.value_schema is not None:
        _avro_names(schema.value_schema)


def _avro_name(name: str) -> None:
    if not name:
        raise ValueError("Empty name")
    if not (name[0].isalpha() or name[0] == "_"):
        raise ValueError(f"Illegal initial character: {name}")
    if any(not (c.isalnum() or c == "_") for c in name[1:]):
        raise ValueError(f"Illegal character in: {name}")
