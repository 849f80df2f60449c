"""Request dispatch: one frame -> its handler (by API key and version) -> response bytes. Unknown APIs, versions
outside the handler's range (but ApiVersions, which answers UNSUPPORTED_VERSION) and unreadable frames close the
connection, as Kafka does."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from brook.protocol.header import (
    MalformedRequest,
    RequestHeader,
    decode_request,
    encode_response,
    peek_correlation_id,
)
from brook.protocol.versions import api_name

from .connection import CLOSE

if TYPE_CHECKING:
    from .connection import KafkaConnection
    from .server import Broker

log = logging.getLogger("kafka.server.KafkaServer")

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


class Dispatcher:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.registry = broker.registry

    def dispatch(self, conn: KafkaConnection, frame: bytes) -> DispatchResult:
        """One request frame -> response bytes, None (acks=0), an awaitable of bytes, or CLOSE."""
        try:
            if len(frame) < 8:
                raise MalformedRequest("request shorter than its header")
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
            header, body = decode_request(frame)
        except MalformedRequest as e:
            log.warning("Closing connection from %s: %s", conn.peer, e)
            return CLOSE
        ctx = RequestContext(api_key, version, header.correlation_id, header.client_id, conn, header, len(frame))
        try:
            result = handler.handle(self.broker, ctx, body)
        except Exception:
            log.exception("Error handling %s v%d from %s", api_name(api_key), version, conn.peer)
            return CLOSE
        if result is None or result.__class__ is bytes:
            return result
        if inspect.isawaitable(result):
            return _encode_later(header, result)
        try:
            return encode_response(header, result)
        except Exception:  # a response kio cannot write must not escape into the connection
            log.exception("Error encoding the %s v%d response to %s", api_name(api_key), version, conn.peer)
            return CLOSE


async def _encode_later(header: RequestHeader, pending: Awaitable[object]) -> object:
    result = await pending
    if result is None or result is CLOSE or isinstance(result, bytes):
        return result
    return encode_response(header, result)
