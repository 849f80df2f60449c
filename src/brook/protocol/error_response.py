"""A request's error response, for any API: what Kafka's AbstractRequest.getErrorResponse gives when a request
cannot be served at all (the SASL authenticator's ILLEGAL_SASL_STATE answer to a request sent in the middle of
an exchange). Kafka writes one per request class; here one walk of kio's response class does it for all:
every `error_code` gets the error (and an `error_message` beside it the message), arrays of entities mirror the
request's matching arrays (the topics and partitions it asked about, by name and index, as most upstream
getErrorResponse methods do), everything else is its zero value."""

from __future__ import annotations

import dataclasses
import datetime
import functools
import io
import typing
import uuid
from typing import Any

from kio.serial import entity_writer

from brook.errors import ErrorCode

_EPOCH = datetime.datetime.fromtimestamp(0, datetime.UTC)
_ZERO = {"bool": False, "bytes": b"", "records": b"", "string": "", "uuid": uuid.UUID(int=0),
         "timedelta_i32": datetime.timedelta(0), "timedelta_i64": datetime.timedelta(0), "datetime_i64": _EPOCH,
         "float64": 0.0}
# response array -> the request arrays it answers (Produce's topic_data -> responses, Fetch's topics -> responses)
_ARRAYS = {"responses": ("topic_data", "topics"), "partition_responses": ("partition_data", "partitions"),
           "topics": ("topics", "topic_data"), "partitions": ("partitions", "partition_indexes"),
           "results": ("topics", "groups"), "groups": ("groups", "group_ids")}
# response scalar -> the request field that holds it (Fetch and Produce name a partition `partition`/`index`)
_SCALARS = {"partition_index": ("partition_index", "partition", "index"), "name": ("name", "topic"),
            "topic_id": ("topic_id",), "group_id": ("group_id",), "topic": ("topic", "name")}


def error_response(response_cls: type, request: object, code: ErrorCode, message: str | None) -> Any:
    """response_cls (the request's version of the response) answering `request` with `code` everywhere."""
    try:
        response = _build(response_cls, request, code, message)
        entity_writer(response_cls)(io.BytesIO(), response)
        return response
    except Exception:  # noqa: BLE001 - a request value kio cannot write in the response's field: mirror nothing
        return _build(response_cls, None, code, message)


@functools.cache
def _fields(cls: type) -> tuple[tuple[dataclasses.Field, Any], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f, hints[f.name]) for f in dataclasses.fields(cls))


def _build(cls: type, source: object, code: ErrorCode, message: str | None) -> Any:
    values: dict[str, object] = {}
    for f, tp in _fields(cls):
        kafka_type = f.metadata.get("kafka_type")
        if kafka_type == "error_code":
            values[f.name] = code
            continue
        if f.name == "error_message":
            values[f.name] = message
            continue
        entity, is_array, optional = _shape(tp)
        if entity is not None and is_array:
            items = _source_array(source, f.name)
            values[f.name] = tuple(_build(entity, item, code, message) for item in items)
        elif entity is not None:
            values[f.name] = None if optional else _build(entity, None, code, message)
        elif not is_array and (found := _source_scalar(source, f.name)) is not _MISSING and (
                found is not None or optional):
            values[f.name] = found
        elif f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
            continue
        elif is_array or optional:
            values[f.name] = () if is_array and not optional else None
        else:
            values[f.name] = _ZERO.get(kafka_type or "", 0)
    return cls(**values)


_MISSING = object()


def _shape(tp: Any) -> tuple[type | None, bool, bool]:
    """(the entity class if a struct, whether an array, whether nullable) of a field's type."""
    optional = False
    args = typing.get_args(tp)
    if type(None) in args:
        optional = True
        tp = next(a for a in args if a is not type(None))
        args = typing.get_args(tp)
    is_array = typing.get_origin(tp) is tuple
    inner = args[0] if is_array else tp
    return (inner if isinstance(inner, type) and dataclasses.is_dataclass(inner) else None), is_array, optional


def _source_array(source: object, name: str) -> tuple:
    if source is None:
        return ()
    for candidate in _ARRAYS.get(name, (name,)):
        items = getattr(source, candidate, None)
        if isinstance(items, tuple) and all(dataclasses.is_dataclass(i) for i in items):
            return items
    return ()


def _source_scalar(source: object, name: str) -> object:
    if source is None:
        return _MISSING
    for candidate in _SCALARS.get(name, ()):
        value = getattr(source, candidate, _MISSING)
        if value is not _MISSING and not isinstance(value, tuple) and not dataclasses.is_dataclass(value):
            return value
    return _MISSING
