"""ksqlDB's serialization formats for keys and values: KAFKA (Kafka's primitive serializers), JSON and DELIMITED.
A record that does not decode raises SerdeError; the query logs it and goes on (ksqlDB's processing log)."""

from __future__ import annotations

import base64
import binascii
import csv
import decimal
import io
import json
import math
import struct
from collections.abc import Sequence
from typing import Any

from brook.sql import casts, jsonvalues

FORMATS = ("KAFKA", "JSON", "DELIMITED", "NONE")
SR_FORMATS = ("AVRO", "JSON_SR", "PROTOBUF", "PROTOBUF_NOSR")


class SerdeError(Exception):
    pass


def coerce(value: Any, t: tuple | None) -> Any:
    """A JSON value as a column of type t (ksqlDB's JSON deserializer accepts numbers as strings and back)."""
    if value is None or t is None:
        return value
    kind = t[0]
    try:
        if kind == "STRING":
            if isinstance(value, (dict, list)):
                return json.dumps(value, separators=(",", ":"))
            return ("true" if value else "false") if isinstance(value, bool) else str(value)
        if kind in ("INTEGER", "BIGINT", "DATE", "TIME", "TIMESTAMP"):
            if isinstance(value, bool):
                raise SerdeError(f"Can't convert type. sourceType: BooleanNode, requiredType: {kind}")
            return int(value)
        if kind == "DECIMAL":  # exact: JSON numbers are read as Decimals for a row that holds one
            if isinstance(value, bool):
                raise SerdeError(f"Can't convert type. sourceType: BooleanNode, requiredType: {kind}")
            return casts.scaled(value, t[2]) if len(t) == 3 else casts.read_decimal(str(value))
        if kind == "DOUBLE":
            return float(value)
        if kind == "BYTES":  # base64 text in JSON and DELIMITED, as ksqlDB writes BYTES
            return base64.b64decode(value, validate=True) if isinstance(value, str) else value
        if kind == "BOOLEAN":
            if isinstance(value, str):
                return value.strip().lower() == "true"
            return bool(value)
        if kind == "ARRAY":
            return [coerce(v, t[1]) for v in value]
        if kind == "MAP":
            return {str(k): coerce(v, t[2]) for k, v in value.items()}
        if kind == "STRUCT":
            upper = {str(k).upper(): v for k, v in value.items()}
            return {name: coerce(value.get(name, upper.get(name.upper())), ft) for name, ft in t[1]}
    except (TypeError, ValueError, ArithmeticError, AttributeError, binascii.Error) as e:
        raise SerdeError(f"Can't convert type. sourceType: {type(value).__name__}, requiredType: {kind}") from e
    return value


_KAFKA = {"INTEGER": ">i", "BIGINT": ">q", "DOUBLE": ">d"}


def _loads(data: bytes, columns: list[tuple[str, tuple]]) -> Any:
    """JSON as Python values; a row with a DECIMAL column reads its numbers exactly (Jackson's
    USE_BIG_DECIMAL_FOR_FLOATS), the others as doubles."""
    return json.loads(data, parse_float=decimal.Decimal) if jsonvalues.has_decimal(columns) else json.loads(data)


def _quote_non_numeric(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {k: _quote_non_numeric(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_quote_non_numeric(v) for v in value]
    return value


def _delimited(value: Any, t: tuple | None) -> Any:
    """A DELIMITED field as ksqlDB writes it: BOOLEAN `true`, a DECIMAL with its scale's digits (decimal.json
    "DELIMITED should not trim trailing zeros"), BYTES base64."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if t and t[0] == "DECIMAL" and len(t) == 3 and isinstance(value, (int, float, decimal.Decimal)):
        return casts.decimal_text(value, t[2])
    if isinstance(value, float):  # a DOUBLE as Java prints it (literals.json "DOUBLE literal min/max": 4.9E-324)
        return casts.java_double(value)
    return value


def _quoted(text: str, first: bool, delimiter: str = ",") -> str:
    """A field as commons-csv 1.4 (ksqlDB's DELIMITED writer) prints it: quoted when it holds the delimiter, a quote
    or a line break, starts with a character up to `#` or ends with one up to a space, and, first in the record,
    when it starts with anything but a letter or digit (date.json "DELIMITED in/out": `"-10"`)."""
    if not text:
        return text
    c = text[0]
    if (first and not (c.isascii() and c.isalnum())) or c <= "#" or text[-1] <= " " \
            or any(x in text for x in delimiter + '"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def deserialize(fmt: str, data: bytes | None, columns: list[tuple[str, tuple]], delimiter: str = ","
                ) -> dict[str, Any] | None:
    """Bytes as a row of `columns`; None for a null (tombstone) value. `delimiter`: DELIMITED's separator."""
    if data is None:
        return None
    if not columns:
        return {}
    try:
        if fmt == "KAFKA":
            (name, t), = columns
            code = _KAFKA.get(t[0])
            if t[0] == "BYTES":  # Kafka's ByteBuffer serializer: the bytes themselves
                return {name: data}
            return {name: struct.unpack(code, data)[0] if code else data.decode()}
        if fmt == "JSON":
            value = _loads(data, columns)
            if len(columns) == 1 and not isinstance(value, dict):  # an anonymous (unwrapped) single value
                return {columns[0][0]: coerce(value, columns[0][1])}
            if not isinstance(value, dict):
                raise SerdeError(f"Can't convert type. sourceType: {type(value).__name__}, requiredType: STRUCT")
            upper = {k.upper(): v for k, v in value.items()}
            return {n: coerce(value[n] if n in value else upper.get(n.upper()), t) for n, t in columns}
        if fmt == "DELIMITED":
            fields = next(csv.reader(io.StringIO(data.decode()), delimiter=delimiter), [])
            if len(fields) != len(columns):
                raise SerdeError(f"Column count mismatch on deserialization. topic: , expected: {len(columns)}, "
                                 f"got: {len(fields)}")
            return {n: (None if f == "" else coerce(f, t)) for (n, t), f in zip(columns, fields, strict=True)}
    except SerdeError:
        raise
    except (ValueError, UnicodeDecodeError, struct.error) as e:
        raise SerdeError(f"Failed to deserialize data from {fmt}: {e}") from e
    raise SerdeError(f"Unsupported format: {fmt}")


def serialize(fmt: str, row: dict[str, Any] | None, columns: Sequence[tuple[str, tuple | None]],
              wrap_single: bool = True, delimiter: str = ",") -> bytes | None:
    if row is None or not columns:
        return None
    if fmt == "KAFKA":
        (name, t), = columns
        value = row.get(name)
        if value is None:
            return None
        code = _KAFKA.get(t[0]) if t else None  # a NULL-typed column is written as a STRING
        if isinstance(value, bytes):
            return value
        return struct.pack(code, value) if code else str(value).encode()
    if fmt == "JSON":
        value = row.get(columns[0][0]) if len(columns) == 1 and not wrap_single else {n: row.get(n) for n, _ in columns}
        try:
            return jsonvalues.dumps(value, allow_nan=False).encode()
        except ValueError:  # NaN or an infinity: Jackson (ksqlDB's writer) quotes them (math.json "sqrt")
            return jsonvalues.dumps(_quote_non_numeric(value)).encode()
    if fmt == "DELIMITED":
        return delimiter.join(_quoted(str(_delimited(row.get(n), t)), i == 0, delimiter)
                              for i, (n, t) in enumerate(columns)).encode()
    raise SerdeError(f"Unsupported format: {fmt}")


def key_serialize(fmt: str, row: dict[str, Any], columns: Sequence[tuple[str, tuple | None]], delimiter: str = ","
                  ) -> bytes | None:
    """Keys: a single key column is written unwrapped in JSON, as ksqlDB's key serde does; a single null column is
    a null key in every format (delimited.json "DECIMAL - key": not an empty DELIMITED field)."""
    if not columns or (len(columns) == 1 and row.get(columns[0][0]) is None):
        return None
    return serialize(fmt, row, columns, wrap_single=False, delimiter=delimiter)


def key_deserialize(fmt: str, data: bytes | None, columns: list[tuple[str, tuple]], delimiter: str = ","
                    ) -> dict[str, Any] | None:
    """Keys: a single JSON key column is read unwrapped, a STRUCT's object included (group-by.json "windowed
    aggregate with struct key - JSON")."""
    if fmt == "JSON" and data is not None and len(columns) == 1:
        try:
            return {columns[0][0]: coerce(_loads(data, columns), columns[0][1])}
        except (ValueError, UnicodeDecodeError) as e:
            raise SerdeError(f"Failed to deserialize data from {fmt}: {e}") from e
    return deserialize(fmt, data, columns, delimiter)
