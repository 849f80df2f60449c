"""What the HTTP servers around the log (the schema registry, the SQL server) share: listener sockets bound before
hypercorn starts (so that an ephemeral port is known and logged), hypercorn's config, and a stop on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from starlette.types import ASGIApp


def bind_sockets(listeners: list[str]) -> list[socket.socket]:
    out = []
    for url in listeners:
        parts = urlsplit(url)
        host = parts.hostname or "0.0.0.0"
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, parts.port or 0))
        s.listen(1024)
        s.setblocking(False)
        out.append(s)
    return out


def hypercorn_config(sockets: list[socket.socket], errorlog: str) -> Any:
    """HTTP/1.1 and HTTP/2 (h2c) on the bound sockets, no access log, a short graceful stop."""
    from hypercorn.config import Config

    hc = Config()
    hc.bind = [f"fd://{s.fileno()}" for s in sockets]
    hc.accesslog = None
    hc.errorlog = logging.getLogger(errorlog)
    hc.graceful_timeout = 2
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
