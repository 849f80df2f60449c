"""What ksqlDB refuses when it builds a source's or sink's serdes, with its messages: the DELIMITED format's
delimiters (`KEY_DELIMITER`, `VALUE_DELIMITER`: one character, or TAB / SPACE; other formats take none), the
types a format cannot hold (DELIMITED: no ARRAY, MAP or STRUCT; KAFKA: INT, BIGINT, DOUBLE, STRING, BYTES),
and MAP key columns, which no key format takes (their serialization is not stable)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from brook.sql.expressions import SqlError
from brook.sql.parser import type_str

_NAMED = {"TAB": "\t", "SPACE": " "}
_DELIMITED_TYPES = {"BOOLEAN", "INTEGER", "BIGINT", "DOUBLE", "DECIMAL", "STRING", "BYTES", "DATE", "TIME",
                    "TIMESTAMP"}
_KAFKA_TYPES = {"INTEGER", "BIGINT", "DOUBLE", "STRING", "BYTES"}


def check_format_properties(props: Mapping[str, Any], known: Sequence[str]) -> None:
    """FORMAT with KEY_FORMAT or VALUE_FORMAT (CreateSourceAsProperties), and formats ksqlDB does not have."""
    for side in ("KEY_FORMAT", "VALUE_FORMAT"):
        if side in props and "FORMAT" in props:
            raise SqlError(f"Cannot supply both '{side}' and 'FORMAT' properties, as 'FORMAT' sets both key and value "
                           "formats. Either use just 'FORMAT', or use 'KEY_FORMAT' and 'VALUE_FORMAT'.")
    for name in ("FORMAT", "KEY_FORMAT", "VALUE_FORMAT"):
        if name in props and str(props[name]).upper() not in known:
            raise SqlError(f"Unknown format: {str(props[name]).upper()}")


def delimiter(props: Mapping[str, Any], is_key: bool) -> str | None:
    """The WITH clause's KEY_DELIMITER / VALUE_DELIMITER as one character (ksqlDB's Delimiter.parse), or None."""
    name = "KEY_DELIMITER" if is_key else "VALUE_DELIMITER"
    if name not in props:
        return None
    text = str(props[name])
    if not text.strip():
        reason = ("Delimiter cannot be empty, if you meant to have a tab or space for delimiter, please use the "
                  "special values 'TAB' or 'SPACE'")
    elif len(text) == 1 or text in _NAMED:
        return _NAMED.get(text, text)
    else:
        reason = f"Invalid delimiter value: '{text}'. Delimiter must be a single character or {','.join(_NAMED)}"
    raise SqlError(f"Failed to prepare statement: Configuration {name} is invalid: {reason}\n"
                   "Example valid value: ';'")


def delimiters(props: Mapping[str, Any], key_format: str, value_format: str) -> tuple[str | None, str | None]:
    """Both sides' delimiters, checked against their formats: only DELIMITED takes one (FormatProperties'
    `JSON does not support the following configs: [delimiter]`)."""
    found = delimiter(props, True), delimiter(props, False)
    for fmt, value in ((key_format, found[0]), (value_format, found[1])):
        if value is not None and fmt != "DELIMITED":
            raise SqlError(f"{fmt} does not support the following configs: [delimiter]")
    return found


def check_schema(fmt: str, columns: Sequence[tuple[str, tuple | None]], is_key: bool) -> None:
    """A side's columns against its format, as ksqlDB's serde factories check them when a source or sink is made."""
    if not columns:
        return
    if is_key:
        for name, t in columns:  # GenericKeySerDe: before the format's own checks
            if t is not None and _has_map(t):
                raise SqlError("Map keys, including types that contain maps, are not supported as they may lead to "
                               f"unexpected behavior due to inconsistent serialization. Key column name: `{name}`. "
                               f"Column type: {type_str(t)}. See https://github.com/confluentinc/ksql/issues/6621 "
                               "for more.")
    listed = ", ".join(f"`{n}` {type_str(ct) if ct else 'STRING'}" + (" KEY" if is_key else "") for n, ct in columns)
    for name, t in columns:
        base = t[0] if t is not None else "STRING"
        if fmt == "NONE":
            reason = f"The 'NONE' format can only be used when no columns are defined. Got: [{listed}]"
        elif fmt == "KAFKA" and len(columns) > 1:
            reason = f"The 'KAFKA' format only supports a single field. Got: [{listed}]"
        elif fmt == "DELIMITED" and base not in _DELIMITED_TYPES:
            reason = f"The 'DELIMITED' format does not support type '{base}', column: `{name}`"
        elif fmt == "KAFKA" and base not in _KAFKA_TYPES:
            reason = f"The 'KAFKA' format does not support type '{base}'"
        else:
            continue
        raise SqlError(f"{'Key' if is_key else 'Value'} format does not support schema.\nformat: {fmt}\n"
                       f"schema: Persistence{{columns=[{listed}], features=[]}}\nreason: {reason}")


def _has_map(t: tuple) -> bool:
    if t[0] == "MAP":
        return True
    if t[0] == "ARRAY":
        return _has_map(t[1])
    if t[0] == "STRUCT":
        return any(_has_map(ft) for _, ft in t[1])
    return False


def sink_delimiters(props: Mapping[str, Any], source: Any, sink: Any) -> tuple[str, str]:
    """A query's sink's delimiters: its WITH clause's, else its source's when the sink keeps the source's format
    (no KEY_FORMAT / VALUE_FORMAT / FORMAT given), as ksqlDB keeps the source's format properties then."""
    key, value = delimiters(props, sink.key_format, sink.value_format)
    kept_key = "KEY_FORMAT" not in props and "FORMAT" not in props and source.key_format == sink.key_format
    kept_value = "VALUE_FORMAT" not in props and "FORMAT" not in props and source.value_format == sink.value_format
    return (key or (source.key_delimiter if kept_key else ","),
            value or (source.value_delimiter if kept_value else ","))


_HEADERS_TYPE = ("ARRAY", ("STRUCT", [("KEY", ("STRING",)), ("VALUE", ("BYTES",))]))


def check_headers(columns: Sequence[tuple[str, tuple, Any]]) -> None:
    """HEADERS columns are ARRAY<STRUCT<KEY STRING, VALUE BYTES>>, HEADER('k') columns BYTES (ksqlDB's
    TableElements checks, with its messages)."""
    for _, t, ns in columns:
        if ns == "HEADERS" and _normal(t) != _HEADERS_TYPE:
            raise SqlError(f"Invalid type for HEADERS column: expected {type_str(_HEADERS_TYPE)}, got {type_str(t)}")
        if isinstance(ns, str) and ns.startswith("HEADER(") and t[0] != "BYTES":
            raise SqlError(f"Invalid type for {ns} column: expected BYTES, got {type_str(t)}")


def _normal(t: tuple) -> tuple:
    """A type with its struct fields' names upper-cased (STRUCT<key STRING, ...> is the headers' type too)."""
    if t[0] == "ARRAY":
        return ("ARRAY", _normal(t[1]))
    if t[0] == "STRUCT":
        return ("STRUCT", [(n.upper(), _normal(ft)) for n, ft in t[1]])
    return t
