"""Length checks on a request body before kio's native reader sees it.

kio 0.6.5's native entity reader reserves an array's capacity from the array's length field before it reads
a single element, so a request announcing billions of elements (a few bytes: ``ff ff ff ff 0f``) makes the
allocation fail and the whole process abort, which no ``except`` can catch. Kafka's generated readers
reject an array longer than the bytes remaining ("Tried to allocate a collection of size N, but there are
only M bytes remaining"); this walk applies the same rule. It follows the kio class's fields and reads only
length prefixes (with kio's primitive readers); values are left to kio.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing

from kio.serial.readers import read_int16, read_int32, read_unsigned_varint
from kio.static.protocol import Entity

_FIXED = {"bool": 1, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "error_code": 2, "int32": 4, "uint32": 4,
          "timedelta_i32": 4, "int64": 8, "uint64": 8, "float64": 8, "timedelta_i64": 8, "datetime_i64": 8,
          "uuid": 16}
_FIXED_OP, _STRING, _BYTES, _ARRAY, _ENTITY, _NULLABLE_ENTITY = range(6)


class LengthError(ValueError):
    """A length prefix that cannot be right: more elements or bytes than the request holds."""


def _is_entity(tp: typing.Any) -> typing.TypeGuard[type[Entity]]:
    """A dataclass in a kio message's field types is one of kio's nested entity classes."""
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _op(tp: typing.Any, kafka_type: str | None) -> tuple:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = next(a for a in typing.get_args(tp) if a is not type(None))
        if _is_entity(inner):  # a nullable struct: an int8 marker (-1 null) before its fields
            return (_NULLABLE_ENTITY, _plan(inner))
        return _op(inner, kafka_type)
    if origin is tuple:
        return (_ARRAY, _op(typing.get_args(tp)[0], kafka_type))
    if _is_entity(tp):
        return (_ENTITY, _plan(tp))
    if kafka_type in _FIXED:
        return (_FIXED_OP, _FIXED[kafka_type])
    if kafka_type == "string":
        return (_STRING,)
    if kafka_type in ("bytes", "records"):
        return (_BYTES,)
    raise TypeError(f"no length rule for kafka_type {kafka_type!r}")


@functools.cache
def _plan(cls: type[Entity]) -> tuple:
    """(ops of the regular fields in order, {tag: op}, flexible) for a kio entity class."""
    hints = typing.get_type_hints(cls)
    regular, tagged = [], {}
    for f in dataclasses.fields(cls):
        op = _op(hints[f.name], f.metadata.get("kafka_type"))
        if "tag" in f.metadata:
            tagged[f.metadata["tag"]] = op
        else:
            regular.append(op)
    return tuple(regular), tagged, bool(cls.__flexible__)


def _length(buf: bytes, pos: int, flexible: bool, legacy_reader) -> tuple[int, int]:
    if flexible:
        n, size = read_unsigned_varint(buf, pos)
        return n - 1, pos + size
    n, size = legacy_reader(buf, pos)
    return n, pos + size


def _value(op: tuple, flexible: bool, buf: bytes, pos: int, end: int) -> int:
    kind = op[0]
    if kind == _FIXED_OP:
        pos += op[1]
    elif kind == _STRING or kind == _BYTES:
        n, pos = _length(buf, pos, flexible, read_int16 if kind == _STRING else read_int32)
        if n > end - pos:
            raise LengthError(f"a length of {n} bytes with {end - pos} bytes remaining")
        pos += max(n, 0)
    elif kind == _ARRAY:
        n, pos = _length(buf, pos, flexible, read_int32)
        if n > end - pos:
            raise LengthError(f"Tried to allocate a collection of size {n}, but there are only {end - pos} "
                              "bytes remaining.")
        item = op[1]
        for _ in range(n):
            pos = _value(item, flexible, buf, pos, end)
    elif kind == _NULLABLE_ENTITY:
        present = pos < end and buf[pos] != 0xFF
        pos += 1
        if present:
            pos = _entity(op[1], buf, pos, end)
    else:
        pos = _entity(op[1], buf, pos, end)
    if pos > end:
        raise LengthError("the request ends inside a field")
    return pos


def _entity(plan: tuple, buf: bytes, pos: int, end: int) -> int:
    regular, tagged, flexible = plan
    for op in regular:
        pos = _value(op, flexible, buf, pos, end)
    if flexible:
        count, size = read_unsigned_varint(buf, pos)
        pos += size
        for _ in range(count):  # each takes at least two bytes: a lie runs out of buffer quickly
            tag, size = read_unsigned_varint(buf, pos)
            pos += size
            n, size = read_unsigned_varint(buf, pos)
            pos += size
            if n > end - pos:
                raise LengthError(f"a tagged field of {n} bytes with {end - pos} bytes remaining")
            if tag in tagged:
                _value(tagged[tag], flexible, buf, pos, pos + n)
            pos += n
    return pos


def check_lengths(cls: type[Entity], buf: bytes, offset: int) -> None:
    """Raise LengthError (or kio's BufferUnderflow) if a length prefix in the body at offset cannot hold."""
    try:
        plan = _plan(cls)
    except TypeError:  # a field type this walk does not know: leave the body to kio
        return
    _entity(plan, buf, offset, len(buf))
