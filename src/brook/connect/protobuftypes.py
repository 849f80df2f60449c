"""The Protobuf types Confluent's ProtobufData gives Connect meanings beyond the scalars: enums (Connect strings
naming their symbols, the symbols' numbers in the parameters `io.confluent.connect.protobuf.Enum.<SYMBOL>`),
`confluent.type.Decimal` (a Connect Decimal: the unscaled value's two's-complement bytes, precision and scale; the
field's `(confluent.field_meta)` params give the column's precision and scale) and the `google.protobuf.*Value`
wrappers of nullable scalars (`wrapper.for.nullables`)."""

from __future__ import annotations

import decimal
from typing import Any

from confluent_kafka.schema_registry.confluent import meta_pb2
from confluent_kafka.schema_registry.confluent.type import decimal_pb2  # noqa: F401 - in the default pool
from google.protobuf import descriptor_pb2, wrappers_pb2  # noqa: F401 - the wrappers in the default pool

from brook.connect.data import DECIMAL, DataError, Schema, decimal_of

NAMESPACE = "io.confluent.connect.protobuf"
ENUM = NAMESPACE + ".Enum"
DECIMAL_TYPE = "confluent.type.Decimal"
DECIMAL_FILE = "confluent/type/decimal.proto"
WRAPPERS_FILE = "google/protobuf/wrappers.proto"
PRECISION = "connect.decimal.precision"
FIELD_META = meta_pb2.field_meta  # type: ignore[attr-defined]  # the generated module declares it at run time
# Connect's scalar types as ProtobufData wraps them when nullable (wrapper.for.nullables), and back
WRAPPER_OF = {"int8": "Int32Value", "int16": "Int32Value", "int32": "Int32Value", "int64": "Int64Value",
              "float32": "FloatValue", "float64": "DoubleValue", "boolean": "BoolValue", "string": "StringValue",
              "bytes": "BytesValue"}
UNWRAPPED = {"google.protobuf.DoubleValue": "float64", "google.protobuf.FloatValue": "float32",
             "google.protobuf.Int64Value": "int64", "google.protobuf.UInt64Value": "int64",
             "google.protobuf.Int32Value": "int32", "google.protobuf.UInt32Value": "int64",
             "google.protobuf.BoolValue": "boolean", "google.protobuf.StringValue": "string",
             "google.protobuf.BytesValue": "bytes"}


# --- enums ----------------------------------------------------------------------------------------------------------

def enum_schema(enum: Any) -> Schema:
    """An enum field's Connect schema: an optional string named after the enum, its symbols in the parameters."""
    params = ((ENUM, enum.name), *((f"{ENUM}.{v.name}", str(v.number)) for v in enum.values))
    return Schema("string", True, name=enum.full_name, parameters=params)


def is_enum(schema: Schema) -> bool:
    return schema.type in ("string", "int32") and ENUM in schema.params()


def enum_proto(schema: Schema) -> descriptor_pb2.EnumDescriptorProto:
    """The enum a Connect enum schema declares (ProtobufData.enumDefinitionFromConnectSchema)."""
    params = schema.params()
    out = descriptor_pb2.EnumDescriptorProto(name=params[ENUM])
    prefix = ENUM + "."
    for key, number in params.items():
        if key.startswith(prefix):
            out.value.add(name=key[len(prefix):], number=int(number))
    return out


def enum_number(field: Any, value: object) -> int:
    """A Connect value (the symbol, or its number) as the number of the field's enum."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    symbol = field.enum_type.values_by_name.get(str(value))
    if symbol is None:
        raise DataError(f"Invalid enum symbol {value!r} for the enum {field.enum_type.full_name}")
    return int(symbol.number)


def enum_symbol(field: Any, number: int) -> str:
    """The symbol of an enum number; a number the enum does not list reads as protobuf-java names it."""
    value = field.enum_type.values_by_number.get(number)
    return value.name if value is not None else f"UNKNOWN_ENUM_VALUE_{field.enum_type.name}_{number}"


# --- confluent.type.Decimal -----------------------------------------------------------------------------------------

def field_meta(field: Any) -> dict[str, str]:
    """The params of a field descriptor's (confluent.field_meta) option."""
    raw = field.GetOptions().SerializeToString()
    if not raw:
        return {}
    opts = descriptor_pb2.FieldOptions.FromString(raw)  # parsed again: the extension known to the default pool
    return dict(opts.Extensions[FIELD_META].params) if opts.HasExtension(FIELD_META) else {}


def decimal_schema(field: Any) -> Schema:
    """ProtobufData.toConnectSchema of a confluent.type.Decimal field: scale (0 unless given) and precision."""
    meta = field_meta(field)
    params = [("scale", str(_int(meta.get("scale"), 0)))]
    if _int(meta.get("precision"), None) is not None:
        params.append((PRECISION, str(_int(meta.get("precision"), None))))
    return Schema("bytes", True, name=DECIMAL, version=1, parameters=tuple(params))


def _int(text: str | None, default: int | None) -> int | None:
    try:
        return int(text) if text is not None else default
    except ValueError:  # ProtobufData ignores a param that is not a number
        return default


def decimal_meta(field: descriptor_pb2.FieldDescriptorProto, schema: Schema) -> None:
    """A Decimal field's type and its precision and scale in (confluent.field_meta), as ProtobufData writes them."""
    field.type, field.type_name = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE, "." + DECIMAL_TYPE
    params = schema.params()
    meta = field.options.Extensions[FIELD_META]
    if params.get(PRECISION) is not None:
        meta.params["precision"] = params[PRECISION]
    if params.get("scale") is not None:
        meta.params["scale"] = params["scale"]


def set_decimal(msg: Any, value: object) -> None:
    """DecimalUtils.fromBigDecimal: the unscaled value as BigInteger.toByteArray writes it, its digits, the scale."""
    d = value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))
    sign, digits, exponent = d.as_tuple()
    if not isinstance(exponent, int):
        raise DataError(f"Invalid Decimal value {d}")
    unscaled = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    size = (unscaled if unscaled >= 0 else ~unscaled).bit_length() // 8 + 1
    msg.SetInParent()
    msg.value = unscaled.to_bytes(size, "big", signed=True)
    msg.precision = len(digits)
    msg.scale = -exponent


def get_decimal(msg: Any) -> decimal.Decimal:
    unscaled = int.from_bytes(msg.value, "big", signed=True) if msg.value else 0
    return decimal_of(unscaled, msg.scale)


# --- wrappers and presence ------------------------------------------------------------------------------------------

def is_wrapper(field: Any) -> bool:
    return field.message_type is not None and field.message_type.full_name in UNWRAPPED


def wrapper_type(schema: Schema) -> str | None:
    """The wrapper ProtobufData writes a nullable scalar as (wrapper.for.nullables), or None."""
    if schema.name is not None or not schema.optional or is_enum(schema):
        return None
    name = WRAPPER_OF.get(schema.type)
    return f".google.protobuf.{name}" if name else None
