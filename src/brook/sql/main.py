"""ksql-server-start [ksql-server.properties] [--override key=value]...: ksqlDB's server as a process
(KsqlServerMain): replays the command topic, then serves the REST API on hypercorn (HTTP/1.1 and HTTP/2)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

from brook.asgi_server import bind_sockets, hypercorn_config, listener_url, serve_app, stop_on_signals
from brook.config.definition import ConfigError
from brook.registry.main import parse_args
from brook.sql.config import ConfigException, KsqlConfig

USAGE = "USAGE: ksql-server-start [-daemon] ksql-server.properties [--override property=value]*"
LOG_FORMAT = "[%(asctime)s] %(levelname)s %(message)s (%(name)s)"
log = logging.getLogger("io.confluent.ksql.rest.server.KsqlServerMain")


async def serve(config: KsqlConfig) -> int:
    from brook.rest_auth import BasicAuthMiddleware
    from brook.sql.app import create_app
    from brook.sql.engine import Engine

    try:
        tls, auth = config.rest_security()
    except ConfigError as e:
        log.error("Failed to start KSQL: %s", e)
        return 1
    engine = Engine(config)
    try:
        await asyncio.to_thread(engine.start)
    except Exception as e:  # noqa: BLE001 - a clear line and a non-zero exit, as ksqlDB's start-up failure
        log.error("Failed to start KSQL: %s", e)
        engine.close()
        return 1
    sockets = bind_sockets(config.listeners)
    hc = hypercorn_config(sockets, "io.confluent.ksql.api.server.Server", config.listeners, tls)
    stop = stop_on_signals()
    for url, s in zip(config.listeners, sockets, strict=True):
        log.info("ksqlDB API server listening on %s", listener_url(url, s))
    log.info("Server up and running")
    app = create_app(engine)
    try:
        await serve_app(BasicAuthMiddleware(app, auth) if auth else app, hc, stop)
    finally:
        await asyncio.to_thread(engine.close)
        for s in sockets:
            with contextlib.suppress(OSError):
                s.close()
    log.info("Server shutting down")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stdout)
    logging.addLevelName(logging.WARNING, "WARN")
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    try:
        path, overrides = parse_args(args)
        config = KsqlConfig.load(path, overrides)
    except (ConfigException, OSError, ValueError) as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    except SystemExit as e:
        print(str(e).replace("schema-registry-start", "ksql-server-start"), file=sys.stderr)
        return 1
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    return asyncio.run(serve(config))


if __name__ == "__main__":
    sys.exit(main())
