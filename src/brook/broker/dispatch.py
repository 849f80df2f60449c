"""Request dispatch: one frame -> its handler (by API key and version) -> response bytes. Unknown APIs, versions
outside the handler's range (but ApiVersions, which answers UNSUPPORTED_VERSION) and unreadable frames close the
connection, as Kafka does."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from brook.protocol.header import (
    MalformedRequest,
    RequestHeader,
    encode_response,
    peek_correlation_id,
    request_decoder,
)
from brook.protocol.versions import api_name, request_class

from .connection import CLOSE
from .handlers import UNHANDLED

if TYPE_CHECKING:
    from .connection import KafkaConnection
    from .server import Broker

log = logging.getLogger("kafka.server.KafkaServer")

Decode = Callable[[bytes], tuple[RequestHeader, Any]]
# A request's handler, the decoder of its (api key, version), and the handler's undecoded-frame path (or None)
Route = tuple[Callable[..., object], Decode, Callable[..., object] | None]
# What dispatch returns: response bytes, None (acks=0: no response), bytes later, or CLOSE
DispatchResult = bytes | None | Awaitable[bytes | None] | object


@dataclass(slots=True)
class RequestContext:
    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None
    connection: KafkaConnection
    header: RequestHeader
    size: int = 0  # of the request (header and body), what Kafka's produce quota counts
    frame: bytes = b""  # the request as received (without its length)


class Dispatcher:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.registry = broker.registry
        # a frame's first four bytes (api key, version) -> its handler and decoder, once both were found good
        self._routes: dict[bytes, Route] = {}

    def dispatch(self, conn: KafkaConnection, frame: bytes) -> DispatchResult:
        """One request frame -> response bytes, None (acks=0), an awaitable of bytes, or CLOSE."""
        route = self._routes.get(frame[:4])
        if route is None or len(frame) < 8:
            found = self._route(conn, frame)
            if found.__class__ is not tuple:
                return found
            route = found  # type: ignore[assignment]
        handle, decode, handle_frame = route  # type: ignore[misc]
        if handle_frame is not None:
            try:
                result = handle_frame(self.broker, conn, frame, decode)
            except Exception:
                log.exception("Error handling %s from %s", api_name(int.from_bytes(frame[:2], "big")), conn.peer)
                return CLOSE
            if result is not UNHANDLED:
                return result
        try:
            header, body = decode(frame)
        except MalformedRequest as e:
            log.warning("Closing connection from %s: %s", conn.peer, e)
            return CLOSE
        ctx = RequestContext(header.api_key, header.api_version, header.correlation_id, header.client_id, conn,
                             header, len(frame), frame)
        try:
            result = handle(self.broker, ctx, body)
        except Exception:
            log.exception("Error handling %s v%d from %s", api_name(ctx.api_key), ctx.api_version, conn.peer)
            return CLOSE
        return encoded(conn, header, result)

    def _route(self, conn: KafkaConnection, frame: bytes) -> DispatchResult | Route:
        """The handler and decoder of a frame's api key and version (remembered), or what to answer instead:
        Kafka closes the connection on an unknown API key, a version outside the handler's range (but
        ApiVersions, which answers UNSUPPORTED_VERSION) or an unreadable header."""
        if len(frame) < 8:
            log.warning("Closing connection from %s: request shorter than its header", conn.peer)
            return CLOSE
        api_key = int.from_bytes(frame[0:2], "big", signed=True)
        version = int.from_bytes(frame[2:4], "big", signed=True)
        handler = self.registry.get(api_key)
        if handler is None:
            log.warning("Closing connection from %s: unknown API key %d", conn.peer, api_key)
            return CLOSE
        if not handler.min_version <= version <= handler.max_version:
            if api_key == 18:
                from .handlers.api_versions import unsupported_version_response

                return unsupported_version_response(self.broker, peek_correlation_id(frame))
            log.warning("Closing connection from %s: %s v%d is not supported (supported %d-%d)",
                        conn.peer, api_name(api_key), version, handler.min_version, handler.max_version)
            return CLOSE
        route = (handler.handle, request_decoder(request_class(api_key, version)), handler.handle_frame)
        self._routes[frame[:4]] = route
        return route


def encoded(conn: KafkaConnection, header: RequestHeader, result: object) -> DispatchResult:
    """A handler's result as the connection takes it: bytes as they are, a kio response encoded, an awaitable
    encoded once it is done."""
    if result is None or result.__class__ is bytes:
        return result
    if inspect.isawaitable(result):
        return _encode_later(header, result)
    try:
        return encode_response(header, result)
    except Exception:  # a response kio cannot write must not escape into the connection
        log.exception("Error encoding the %s v%d response to %s", api_name(header.api_key), header.api_version,
                      conn.peer)
        return CLOSE


async def _encode_later(header: RequestHeader, pending: Awaitable[object]) -> object:
    result = await pending
    if result is None or result is CLOSE or isinstance(result, bytes):
        return result
    return encode_response(header, result)
