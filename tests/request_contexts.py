"""A handler's RequestContext without a socket or a broker behind it, for handler tests: the real RequestContext and
KafkaConnection classes the handlers are typed with, not stand-ins that only share some attribute names."""

from __future__ import annotations

from types import SimpleNamespace

from brook.broker.connection import KafkaConnection
from brook.broker.dispatch import Dispatcher, RequestContext
from brook.broker.idle_poll import IdlePoller
from brook.protocol.header import RequestHeader


def detached_connection() -> KafkaConnection:
    """A connection as a listener makes one, never connected: what handlers keep on it (produce shapes) works."""
    broker = SimpleNamespace(registry={}, max_request_bytes=100 * 1024 * 1024, idle_poll=IdlePoller(0))
    broker.dispatcher = Dispatcher(broker)  # type: ignore[arg-type]
    return KafkaConnection(broker, SimpleNamespace(endpoint=SimpleNamespace(name="PLAINTEXT")))  # type: ignore[arg-type]


def request_context(header: RequestHeader, frame: bytes = b"", connection: KafkaConnection | None = None,
                    ) -> RequestContext:
    return RequestContext(header.api_key, header.api_version, header.correlation_id, header.client_id,
                          connection or detached_connection(), header, len(frame), frame)
