"""Connect schemas and values <-> Protobuf, as Confluent's ProtobufData (io.confluent.connect.protobuf) converts
them: a struct is a proto3 message (named by the schema's name, else ConnectDefault1; unnamed nested structs
ConnectDefault2, ... under an unnamed root, ConnectDefault1, ... under a named one, declared inside their parent),
fields numbered from 1 in order, arrays `repeated`, string-keyed maps `map<>`, Timestamp `google.protobuf.Timestamp`,
Date `google.type.Date`, Time `google.type.TimeOfDay`, Decimal `confluent.type.Decimal`, enums as strings
(brook.connect.protobuftypes); nullable fields `optional` (optional.for.nullables) or wrapped in
`google.protobuf.*Value` (wrapper.for.nullables) when asked. Read back, every field is optional and carries its tag
in the parameter `io.confluent.connect.protobuf.Tag`, as Confluent's converter reads it; a field that has presence
(`optional`, a message) and is absent reads as null."""

from __future__ import annotations

import datetime as dt
from typing import Any

from google.protobuf import descriptor_pb2, timestamp_pb2  # noqa: F401 - Timestamp in the default pool
from google.type import date_pb2, timeofday_pb2  # noqa: F401 - Date and TimeOfDay in the default pool

from brook.connect import protobuftypes as types
from brook.connect.data import DATE, DECIMAL, EPOCH, TIME, TIMESTAMP, DataError, Schema, Struct, struct_schema

NAMESPACE = "io.confluent.connect.protobuf"
TAG = NAMESPACE + ".Tag"
TIMESTAMP_TYPE = ".google.protobuf.Timestamp"
# Connect's logical types as ProtobufData writes them: (type name, the file it imports)
_LOGICAL = {TIMESTAMP: (TIMESTAMP_TYPE, "google/protobuf/timestamp.proto"),
            DATE: (".google.type.Date", "google/type/date.proto"),
            TIME: (".google.type.TimeOfDay", "google/type/timeofday.proto")}
_FROM_MESSAGE = {TIMESTAMP_TYPE[1:]: Schema("int64", True, name=TIMESTAMP, version=1),
                 "google.type.Date": Schema("int32", True, name=DATE, version=1),
                 "google.type.TimeOfDay": Schema("int32", True, name=TIME, version=1)}
MILLIS_PER_DAY = 86400000
FDP = descriptor_pb2.FieldDescriptorProto
_SCALARS = {"int8": FDP.TYPE_INT32, "int16": FDP.TYPE_INT32, "int32": FDP.TYPE_INT32, "int64": FDP.TYPE_INT64,
            "float32": FDP.TYPE_FLOAT, "float64": FDP.TYPE_DOUBLE, "boolean": FDP.TYPE_BOOL,
            "string": FDP.TYPE_STRING, "bytes": FDP.TYPE_BYTES}
_TO_CONNECT = {FDP.TYPE_INT32: "int32", FDP.TYPE_SINT32: "int32", FDP.TYPE_SFIXED32: "int32",
               FDP.TYPE_UINT32: "int64", FDP.TYPE_FIXED32: "int64", FDP.TYPE_INT64: "int64",
               FDP.TYPE_SINT64: "int64", FDP.TYPE_SFIXED64: "int64", FDP.TYPE_UINT64: "int64",
               FDP.TYPE_FIXED64: "int64", FDP.TYPE_FLOAT: "float32", FDP.TYPE_DOUBLE: "float64",
               FDP.TYPE_BOOL: "boolean", FDP.TYPE_STRING: "string", FDP.TYPE_BYTES: "bytes"}
NULLABLES = ("optional", "wrapper")  # ProtobufData's optional.for.nullables / wrapper.for.nullables


def message_name(schema: Schema) -> tuple[str, str]:
    """(package, message name) of the root message (ProtobufData.fromConnectData's naming)."""
    package, _, name = (schema.name or "ConnectDefault1").rpartition(".")
    return package, name


def from_connect_schema(schema: Schema, nullable: str | None = None) -> descriptor_pb2.FileDescriptorProto:
    """`nullable`: "optional" or "wrapper", how nullable fields are written (else as plain proto3 fields)."""
    if schema.type != "struct":
        raise DataError(f"Unsupported root schema of type {schema.type.upper()}")
    package, name = message_name(schema)
    fd = descriptor_pb2.FileDescriptorProto(name="schema.proto", syntax="proto3", package=package)
    counter: list = [0 if schema.name else 1, nullable]  # an unnamed root took ConnectDefault1; nested ones count on
    fd.message_type.append(_message(schema, name, fd, counter, f".{package}.{name}" if package else f".{name}"))
    return fd


def _import(fd: descriptor_pb2.FileDescriptorProto, name: str) -> None:
    if name not in fd.dependency:
        fd.dependency.append(name)


def _map_entry(field_name: str) -> str:
    """protoc's name of a map field's entry message: the field name camel-cased at underscores, then "Entry"."""
    parts = field_name.split("_")
    return "".join(p[:1].upper() + p[1:] for p in parts) + "Entry"


def _message(schema: Schema, name: str, fd: descriptor_pb2.FileDescriptorProto, counter: list, scope: str
             ) -> descriptor_pb2.DescriptorProto:
    """`scope`: the message's full name; type names are written fully qualified, as protoc writes them (a schema
    registered from this descriptor then compares equal to the same schema parsed from its text)."""
    msg = descriptor_pb2.DescriptorProto(name=name)
    for f in schema.fields:
        field = msg.field.add(name=f.name, number=f.index + 1, label=FDP.LABEL_OPTIONAL)
        fs = f.schema
        if fs.type == "array":
            field.label = FDP.LABEL_REPEATED
            assert fs.value_schema is not None
            fs = fs.value_schema
        elif fs.type == "map":
            assert fs.key_schema is not None and fs.value_schema is not None
            entry = msg.nested_type.add(name=_map_entry(f.name))
            entry.options.map_entry = True
            entry_scope = f"{scope}.{entry.name}"
            _typed(entry.field.add(name="key", number=1, label=FDP.LABEL_OPTIONAL), fs.key_schema, msg, scope, fd,
                   counter, key=True)
            _typed(entry.field.add(name="value", number=2, label=FDP.LABEL_OPTIONAL), fs.value_schema, entry,
                   entry_scope, fd, counter)
            field.label, field.type, field.type_name = FDP.LABEL_REPEATED, FDP.TYPE_MESSAGE, entry_scope
            continue
        _typed(field, fs, msg, scope, fd, counter)
        if counter[1] == "optional" and f.schema.optional and field.label != FDP.LABEL_REPEATED:
            # proto3 `optional`: a synthetic oneof of its own
            field.proto3_optional, field.oneof_index = True, len(msg.oneof_decl)
            msg.oneof_decl.add(name=f"_{f.name}")
    return msg


def _typed(field: Any, fs: Schema, parent: descriptor_pb2.DescriptorProto, scope: str,
           fd: descriptor_pb2.FileDescriptorProto, counter: list, key: bool = False) -> None:
    wrapper = types.wrapper_type(fs) if counter[1] == "wrapper" and not key else None
    if fs.name in _LOGICAL:
        field.type, (field.type_name, imported) = FDP.TYPE_MESSAGE, _LOGICAL[fs.name]
        _import(fd, imported)
    elif fs.name == DECIMAL:
        types.decimal_meta(field, fs)
        _import(fd, types.DECIMAL_FILE)
    elif types.is_enum(fs):
        enum = types.enum_proto(fs)
        if not any(e.name == enum.name for e in parent.enum_type):
            parent.enum_type.append(enum)
        field.type, field.type_name = FDP.TYPE_ENUM, f"{scope}.{enum.name}"
    elif wrapper is not None:  # map keys stay scalars: a map's key cannot be a message
        field.type, field.type_name = FDP.TYPE_MESSAGE, wrapper
        _import(fd, types.WRAPPERS_FILE)
    elif fs.type == "struct":
        if fs.name:
            nested = fs.name.rpartition(".")[2]
        else:
            counter[0] += 1
            nested = f"ConnectDefault{counter[0]}"
        if not any(m.name == nested for m in parent.nested_type):
            parent.nested_type.append(_message(fs, nested, fd, counter, f"{scope}.{nested}"))
        field.type, field.type_name = FDP.TYPE_MESSAGE, f"{scope}.{nested}"
    elif fs.type in _SCALARS:
        field.type = _SCALARS[fs.type]
    else:
        raise DataError(f"Unsupported type {fs.type.upper()} in a Protobuf field")


def fill(msg: Any, schema: Schema, value: Struct) -> Any:
    """Set the fields of a message from a Struct (ProtobufData.fromConnectData); the message's descriptor says
    how each is written (an enum's number, a wrapper, a Decimal)."""
    fields = msg.DESCRIPTOR.fields_by_name
    for f in schema.fields:
        v = value.get(f.name)
        if v is None:
            continue
        fs, fd = f.schema, fields[f.name]
        if fs.type == "array":
            assert fs.value_schema is not None
            items = getattr(msg, f.name)
            for item in v:  # type: ignore[attr-defined]
                if item is not None:  # a repeated field holds no nulls
                    _put_item(items, fd, fs.value_schema, item)
        elif fs.type == "map":
            assert fs.value_schema is not None
            entries = getattr(msg, f.name)
            vd = fd.message_type.fields_by_name["value"]
            for k, item in v.items():  # type: ignore[attr-defined]
                if item is None:
                    continue
                if vd.message_type is not None:  # a message value: set in place
                    _set_message(entries[k], vd, fs.value_schema, item)
                else:
                    entries[k] = _scalar(vd, item)
        elif fd.message_type is not None:
            _set_message(getattr(msg, f.name), fd, fs, v)
        else:
            setattr(msg, f.name, _scalar(fd, v))
    return msg


def _scalar(fd: Any, v: object) -> object:
    return types.enum_number(fd, v) if fd.enum_type is not None else v


def _put_item(items: Any, fd: Any, schema: Schema, item: object) -> None:
    if fd.message_type is not None:
        _set_message(items.add(), fd, schema, item)
    else:
        items.append(_scalar(fd, item))


def _set_message(msg: Any, fd: Any, schema: Schema, v: Any) -> None:
    if schema.name == DECIMAL:
        types.set_decimal(msg, v)
    elif schema.name in _LOGICAL:
        _set_logical(msg, schema, v)
    elif types.is_wrapper(fd) and schema.type != "struct":
        msg.SetInParent()
        msg.value = v
    else:
        fill(msg, schema, v)
        msg.SetInParent()  # an empty struct is there all the same


def _set_logical(msg: Any, schema: Schema, v: Any) -> None:
    """A Connect Timestamp, Date or Time (a UTC datetime) into its message, with ProtobufData's checks."""
    if schema.name == TIMESTAMP:
        msg.FromDatetime(v)
        return
    millis = (v - EPOCH) // dt.timedelta(milliseconds=1)
    if schema.name == DATE:
        if millis % MILLIS_PER_DAY:
            raise DataError("Kafka Connect Date type should not have any time fields set to non-zero values.")
        msg.year, msg.month, msg.day = v.year, v.month, v.day
        return
    if millis < 0 or millis > MILLIS_PER_DAY:
        raise DataError("Time values must use number of millis greater than 0 and less than 86400000")
    msg.hours, msg.minutes, msg.seconds = v.hour, v.minute, v.second
    msg.nanos = v.microsecond // 1000 * 1000000


def to_connect_schema(desc: Any, version: int | None = None, unwrap: bool = False) -> Schema:
    """ProtobufData.toConnectSchema of a message descriptor: optional fields tagged with their numbers; `unwrap`
    (wrapper.for.nullables): google.protobuf.*Value fields as their scalars, else as structs."""
    fields = []
    for f in desc.fields:
        s = _field_schema(f, unwrap)
        fields.append((f.name, Schema(**{**s.__dict__, "optional": True,
                                         "parameters": (*(s.parameters or ()), (TAG, str(f.number)))})))
    return Schema("struct", False, None, desc.name, version, None, None, struct_schema(fields).fields)


def _field_schema(f: Any, unwrap: bool) -> Schema:
    if f.message_type is not None and f.message_type.GetOptions().map_entry:
        k, v = f.message_type.fields_by_name["key"], f.message_type.fields_by_name["value"]
        return Schema("map", True, key_schema=_single(k, unwrap).as_optional(),
                      value_schema=_single(v, unwrap).as_optional())
    single = _single(f, unwrap)
    if f.is_repeated:
        return Schema("array", True, value_schema=single.as_optional())
    return single


def _single(f: Any, unwrap: bool) -> Schema:
    if f.type == FDP.TYPE_MESSAGE:
        name = f.message_type.full_name
        if name in _FROM_MESSAGE:
            return _FROM_MESSAGE[name]
        if name == types.DECIMAL_TYPE:
            return types.decimal_schema(f)
        if unwrap and name in types.UNWRAPPED:
            return Schema(types.UNWRAPPED[name], True)
        return to_connect_schema(f.message_type, None, unwrap).as_optional()
    if f.type == FDP.TYPE_ENUM:
        return types.enum_schema(f.enum_type)
    return Schema(_TO_CONNECT[f.type], True)


def to_connect(schema: Schema, msg: Any) -> Struct:
    values: dict[str, object] = {}
    fields = msg.DESCRIPTOR.fields_by_name
    for f in schema.fields:
        fs, fd = f.schema, fields[f.name]
        raw = getattr(msg, f.name)
        if fs.type == "array":
            assert fs.value_schema is not None
            values[f.name] = [_value(fd, fs.value_schema, x) for x in raw]
        elif fs.type == "map":
            assert fs.value_schema is not None
            vd = fd.message_type.fields_by_name["value"]
            values[f.name] = {k: _value(vd, fs.value_schema, x) for k, x in raw.items()}
        elif fd.has_presence and not msg.HasField(f.name):  # a message, or a proto3 `optional` scalar
            values[f.name] = None
        else:
            values[f.name] = _value(fd, fs, raw)
    return Struct(schema, values)


def _value(fd: Any, schema: Schema, raw: Any) -> object:
    if fd.enum_type is not None:
        return types.enum_symbol(fd, raw) if schema.type == "string" else raw
    if fd.message_type is None:
        return raw
    if schema.name == TIMESTAMP:
        return raw.ToDatetime(tzinfo=dt.UTC)
    if schema.name == DATE:  # ProtobufData's Calendar of year, month, day in UTC
        return dt.datetime(raw.year, raw.month, raw.day, tzinfo=dt.UTC)
    if schema.name == TIME:
        return EPOCH + dt.timedelta(hours=raw.hours, minutes=raw.minutes, seconds=raw.seconds,
                                    microseconds=raw.nanos // 1000)
    if schema.name == DECIMAL:
        return types.get_decimal(raw)
    if schema.type == "struct":
        return to_connect(schema, raw)
    return raw.value  # a wrapper read as its scalar
