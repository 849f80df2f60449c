"""Request and response headers, including the ApiVersions rules (its response header is always v0)."""

from __future__ import annotations

import functools
import io
import struct
from collections.abc import Callable
from typing import Any, NamedTuple

from kio.schema.request_header.v1.header import RequestHeader as RequestHeaderV1
from kio.schema.request_header.v2.header import RequestHeader as RequestHeaderV2
from kio.serial import entity_reader, entity_writer

from .guard import compiled_check
from .versions import request_class

_KEY_VERSION = struct.Struct(">hh")
_CORR = struct.Struct(">ii")  # frame length, correlation id
_read_v1 = entity_reader(RequestHeaderV1)
_read_v2 = entity_reader(RequestHeaderV2)
API_VERSIONS = 18


class MalformedRequest(Exception):
    """The frame could not be read as the request its header names."""


class RequestHeader(NamedTuple):
    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None
    flexible: bool


def peek_key_version(frame: bytes) -> tuple[int, int]:
    if len(frame) < 8:
        raise MalformedRequest("request shorter than its header")
    return _KEY_VERSION.unpack_from(frame, 0)


def peek_correlation_id(frame: bytes) -> int:
    return struct.unpack_from(">i", frame, 4)[0]


def decode_header(frame: bytes, flexible: bool) -> tuple[RequestHeader, int]:
    """Returns the header and the offset of the body. ``flexible`` comes from the request class."""
    try:
        h, size = (_read_v2 if flexible else _read_v1)(frame, 0)
    except Exception as e:  # kio raises several types for truncated or invalid bytes
        raise MalformedRequest(f"bad request header: {e}") from None
    return RequestHeader(h.request_api_key, h.request_api_version, h.correlation_id, h.client_id, flexible), size


def decode_request(frame: bytes) -> tuple[RequestHeader, object]:
    """Decode a whole request frame. Raises MalformedRequest for unreadable bytes, and kio.index.KioIndexError
    (UnknownAPIKey / UnknownEntity, RuntimeErrors, not KeyError) for an (api key, version) kio has no class for."""
    api_key, api_version = peek_key_version(frame)
    return request_decoder(request_class(api_key, api_version))(frame)


@functools.cache
def request_decoder(cls: type) -> Callable[[bytes], tuple[RequestHeader, object]]:
    """decode_request for frames of one request class, its readers and length guard looked up once: the
    dispatcher keeps one per (api key, version), so a request pays no lookups before kio reads it."""
    flexible: bool = cls.__flexible__  # type: ignore[attr-defined]
    read_header = _read_v2 if flexible else _read_v1
    check = compiled_check(cls)
    read_body: Callable[[bytes, int], tuple[Any, int]] = entity_reader(cls)
    name = cls.__name__

    def decode(frame: bytes) -> tuple[RequestHeader, object]:
        try:
            h, offset = read_header(frame, 0)
        except Exception as e:  # kio raises several types for truncated or invalid bytes
            raise MalformedRequest(f"bad request header: {e}") from None
        try:
            if check is not None:  # kio's native reader aborts the process on a huge array length
                check(frame, offset, len(frame))
            body, _ = read_body(frame, offset)
        except Exception as e:
            raise MalformedRequest(f"cannot read {name} v{h.request_api_version}: {e}") from None
        return RequestHeader(h.request_api_key, h.request_api_version, h.correlation_id, h.client_id, flexible), body

    return decode


def encode_response(header: RequestHeader, response: Any) -> bytes:
    """Frame a response: length, correlation id, tagged fields if flexible (never for ApiVersions), body.
    `response` is any kio response entity (Any: handlers build the class of the request's version)."""
    buf = io.BytesIO()
    buf.write(b"\0\0\0\0\0\0\0\0")
    if header.flexible and header.api_key != API_VERSIONS:
        buf.write(b"\0")
    entity_writer(type(response))(buf, response)
    out = buf.getbuffer()
    _CORR.pack_into(out, 0, len(out) - 4, header.correlation_id)
    del out
    return buf.getvalue()
