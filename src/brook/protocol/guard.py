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


@functools.cache
def compiled_check(cls: type[Entity]) -> typing.Callable[[bytes, int, int], int] | None:
    """The walk of `_entity` over this class's plan as generated Python (one function per nested entity, fixed
    fields summed, no per-field dispatch): the same checks and messages at a fraction of the interpreted walk's
    cost, which every request pays. None for a class the walk cannot follow."""
    try:
        plan = _plan(cls)
    except TypeError:  # a field type this walk does not know: leave the body to kio
        return None
    return _Compiler().compile(plan)


_ENDS_INSIDE = "LengthError('the request ends inside a field')"


class _Compiler:
    """Python source for `_entity`'s walk of one plan (see `_value` and `_entity` for the rules)."""

    def __init__(self) -> None:
        self.functions: list[str] = []
        self.names: dict[int, str] = {}

    def compile(self, plan: tuple) -> typing.Callable[[bytes, int, int], int]:
        name = self._function(plan)
        namespace: dict[str, object] = {"LengthError": LengthError, "read_int16": read_int16,
                                        "read_int32": read_int32, "read_unsigned_varint": read_unsigned_varint}
        exec("\n\n".join(self.functions), namespace)  # noqa: S102 - source generated above from kio's classes
        return typing.cast(typing.Callable[[bytes, int, int], int], namespace[name])

    def _function(self, plan: tuple) -> str:
        if id(plan) in self.names:
            return self.names[id(plan)]
        name = self.names[id(plan)] = f"_entity_{len(self.names)}"
        regular, tagged, flexible = plan
        body: list[str] = []
        fixed = 0
        for op in regular:
            if op[0] == _FIXED_OP:
                fixed += op[1]
                continue
            if fixed:
                body += [f"pos += {fixed}", f"if pos > end: raise {_ENDS_INSIDE}"]
                fixed = 0
            body += self._value(op, flexible, "pos", "end")
        if fixed:
            body += [f"pos += {fixed}", f"if pos > end: raise {_ENDS_INSIDE}"]
        if flexible:
            body += ["count, size = read_unsigned_varint(buf, pos)", "pos += size",
                     "for _ in range(count) if count else ():",  # almost always none: no range to make
                     "    tag, size = read_unsigned_varint(buf, pos)", "    pos += size",
                     "    n, size = read_unsigned_varint(buf, pos)", "    pos += size",
                     "    if n > end - pos:",
                     "        raise LengthError(f'a tagged field of {n} bytes with {end - pos} bytes remaining')",
                     "    tagged_pos, tagged_end = pos, pos + n"]
            for i, (tag, op) in enumerate(sorted(tagged.items())):
                body += [f"    {'if' if i == 0 else 'elif'} tag == {tag}:",
                         *("        " + line for line in self._value(op, flexible, "tagged_pos", "tagged_end"))]
            body += ["    pos = tagged_end"]  # `n` may have been reused by the tagged value's own lengths
        body.append("return pos")
        self.functions.append(f"def {name}(buf, pos, end):\n" + "\n".join("    " + line for line in body))
        return name

    def _value(self, op: tuple, flexible: bool, pos: str, end: str) -> list[str]:
        """Statements that move `pos` over one value, as `_value` does."""
        kind = op[0]
        if kind == _FIXED_OP:
            return [f"{pos} += {op[1]}", f"if {pos} > {end}: raise {_ENDS_INSIDE}"]
        if kind == _ENTITY:
            return [f"{pos} = {self._function(op[1])}(buf, {pos}, {end})", f"if {pos} > {end}: raise {_ENDS_INSIDE}"]
        if kind == _NULLABLE_ENTITY:
            return [f"present = {pos} < {end} and buf[{pos}] != 0xFF", f"{pos} += 1", "if present:",
                    f"    {pos} = {self._function(op[1])}(buf, {pos}, {end})",
                    f"if {pos} > {end}: raise {_ENDS_INSIDE}"]
        lines = self._length(flexible, pos, "read_int16" if kind == _STRING else "read_int32")
        if kind in (_STRING, _BYTES):
            return [*lines, f"if n > {end} - {pos}:",
                    f"    raise LengthError(f'a length of {{n}} bytes with {{{end} - {pos}}} bytes remaining')",
                    f"if n > 0: {pos} += n", f"if {pos} > {end}: raise {_ENDS_INSIDE}"]
        item = op[1]  # an array
        lines = [*self._length(flexible, pos, "read_int32"), f"if n > {end} - {pos}:",
                 "    raise LengthError(f'Tried to allocate a collection of size {n}, but there are only "
                 f"{{{end} - {pos}}} bytes remaining.')"]
        if item[0] == _FIXED_OP:
            return [*lines, f"if n > 0: {pos} += n * {item[1]}", f"if {pos} > {end}: raise {_ENDS_INSIDE}"]
        return [*lines, "for _ in range(n):", *("    " + line for line in self._value(item, flexible, pos, end)),
                f"if {pos} > {end}: raise {_ENDS_INSIDE}"]

    @staticmethod
    def _length(flexible: bool, pos: str, legacy: str) -> list[str]:
        if flexible:
            return [f"n, size = read_unsigned_varint(buf, {pos})", "n -= 1", f"{pos} += size"]
        return [f"n, size = {legacy}(buf, {pos})", f"{pos} += size"]
