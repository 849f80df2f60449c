"""What the HTTP servers around the log (Connect, the schema registry, the SQL server) share: listener sockets bound
before hypercorn starts (so that an ephemeral port is known and logged), hypercorn's config with the https
listeners' TLS (rest_tls) beside the plain ones, and a stop on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import ssl
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from starlette.types import ASGIApp


def is_https(listener: str) -> bool:
    return urlsplit(listener).scheme.lower() == "https"


def bind_sockets(listeners: list[str], default_port: int = 0) -> list[socket.socket]:
    out = []
    for url in listeners:
        parts = urlsplit(url)
        host = parts.hostname or "0.0.0.0"
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, default_port if parts.port is None else parts.port))
        s.listen(1024)
        s.setblocking(False)
        out.append(s)
    return out


def listener_url(listener: str, sock: socket.socket) -> str:
    """scheme://host:port of a bound listener (the port an ephemeral bind got)."""
    host, port = sock.getsockname()[:2]
    return f"{'https' if is_https(listener) else 'http'}://{host}:{port}"


def hypercorn_config(sockets: list[socket.socket], errorlog: str, listeners: list[str] | None = None,
                     tls: ssl.SSLContext | None = None, graceful_timeout: float = 2) -> Any:
    """HTTP/1.1 and HTTP/2 (h2c, or h2 over TLS) on the bound sockets, no access log, a short graceful stop; the
    sockets of https `listeners` speak TLS with `tls`."""
    from hypercorn.config import Config

    class TlsConfig(Config):
        """hypercorn builds its context from files; this one serves the context rest_tls built."""

        context: ssl.SSLContext | None = None

        @property
        def ssl_enabled(self) -> bool:
            return self.context is not None

        def create_ssl_context(self) -> ssl.SSLContext | None:
            return self.context

    hc = TlsConfig()
    secure = [is_https(u) for u in listeners] if listeners else [False] * len(sockets)
    if any(secure):
        if tls is None:
            raise ValueError("https listeners need a TLS context")
        hc.context = tls
        hc.bind = [f"fd://{s.fileno()}" for s, https in zip(sockets, secure, strict=True) if https]
        hc.insecure_bind = [f"fd://{s.fileno()}" for s, https in zip(sockets, secure, strict=True) if not https]
    else:
        hc.bind = [f"fd://{s.fileno()}" for s in sockets]
    hc.accesslog = None
    hc.errorlog = logging.getLogger(errorlog)
    hc.graceful_timeout = graceful_timeout
    return hc


def stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def serve_app(app: ASGIApp, hc: Any, stop: asyncio.Event) -> None:
    """hypercorn's serve until `stop` is set."""
    from hypercorn.asyncio import serve as hypercorn_serve

    # hypercorn types an ASGI app with its TypedDict scopes, starlette with MutableMapping ones: the same calls at
    # run time, but mypy unifies neither way (a TypedDict is no MutableMapping)
    await hypercorn_serve(app, hc, shutdown_trigger=stop.wait)  # type: ignore[arg-type]
