"""KEY_PROTOBUF_NULLABLE_REPRESENTATION / VALUE_PROTOBUF_NULLABLE_REPRESENTATION: how the PROTOBUF schemas ksqlDB
generates tell a null from a default value. `OPTIONAL` makes every nullable field proto3 `optional`, `WRAPPER` wraps
every nullable scalar in its `google.protobuf.*Value` (Confluent's ProtobufData optional.for.nullables and
wrapper.for.nullables); without it a null is written as the field's default. Validated as ksqlDB's
CreateSourceProperties / CreateSourceAsProperties do it."""

from __future__ import annotations

from typing import Any

from brook.sql.expressions import SqlError

PROPERTIES = {True: "KEY_PROTOBUF_NULLABLE_REPRESENTATION", False: "VALUE_PROTOBUF_NULLABLE_REPRESENTATION"}
VALUES = ("OPTIONAL", "WRAPPER")  # CommonCreateConfigs.ProtobufNullableConfigValues
_ENUM_CLASS = "io.confluent.ksql.properties.with.CommonCreateConfigs.ProtobufNullableConfigValues"
_FORMATS = ("PROTOBUF", "PROTOBUF_NOSR")


def representations(props: dict[str, Any], key_format: str, value_format: str) -> dict[bool, str | None]:
    """Each side's representation (True: the key): "optional", "wrapper" or None."""
    given = {is_key: props.get(prop) for is_key, prop in PROPERTIES.items()}
    for is_key, raw in given.items():  # the WITH clause's ConfigDef: any case passes its validator
        if raw is not None and str(raw).upper() not in VALUES:
            raise SqlError(f"Invalid value {raw} for property {PROPERTIES[is_key]}: String must be one of: "
                           f"{', '.join(VALUES)}, null")
    out: dict[bool, str | None] = {}
    for is_key, fmt in ((True, key_format), (False, value_format)):
        raw = given[is_key]
        if raw is None:
            out[is_key] = None
        elif fmt.upper() not in _FORMATS:
            raise SqlError(f"Property {PROPERTIES[is_key]} can only be enabled with protobuf format")
        elif str(raw) not in VALUES:  # then read with Enum.valueOf, which wants the name as it is spelled
            raise SqlError(f"No enum constant {_ENUM_CLASS}.{raw}")
        else:
            out[is_key] = str(raw).lower()
    return out
