"""schema-registry-start [schema-registry.properties] [--override key=value]...: the registry as a process
(Confluent's SchemaRegistryMain): reads `_schemas` to its end, then serves the REST API on hypercorn."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

from brook.asgi_server import bind_sockets, hypercorn_config, listener_url, serve_app, stop_on_signals
from brook.config.definition import ConfigError
from brook.registry.config import ConfigException, RegistryConfig
from brook.registry.leader import LeaderElector
from brook.registry.state import State
from brook.registry.store import KafkaStore, StoreInitializationException

USAGE = "USAGE: schema-registry-start [-daemon] schema-registry.properties [--override property=value]*"
LOG_FORMAT = "[%(asctime)s] %(levelname)s %(message)s (%(name)s)"
log = logging.getLogger("io.confluent.kafka.schemaregistry.rest.SchemaRegistryMain")


def parse_args(argv: list[str]) -> tuple[str | None, dict[str, str]]:
    args = [a for a in argv if a != "-daemon"]
    if args and args[0] in ("-h", "--help"):
        print(USAGE)
        sys.exit(0)
    path = args.pop(0) if args and not args[0].startswith("--") else None
    overrides: dict[str, str] = {}
    while args:
        flag = args.pop(0)
        if flag != "--override" or not args or "=" not in args[0]:
            raise SystemExit(f"{USAGE}\nUnrecognized argument: {flag}")
        key, _, value = args.pop(0).partition("=")
        overrides[key.strip()] = value.strip()
    return path, overrides


async def serve(config: RegistryConfig) -> int:
    from brook.registry.app import create_app
    from brook.registry.registry import Registry
    from brook.rest_auth import BasicAuthMiddleware

    try:
        server_tls, client_tls, auth = config.rest_security()
    except ConfigError as e:
        log.error("Error starting the schema registry: %s", e)
        return 1

    store = KafkaStore(config, State())
    try:
        await asyncio.to_thread(store.start)
    except (StoreInitializationException, Exception) as e:
        log.error("Error starting the schema registry: %s", e)
        store.close()
        return 1
    sockets = bind_sockets(config.listeners)
    # the listener of inter.instance.protocol is the one the other registries forward to
    urls = [listener_url(u, s) for u, s in zip(config.listeners, sockets, strict=True)]
    own = next((u for u in urls if u.startswith(config.inter_instance_protocol + "://")), urls[0])
    identity = {"version": 1, "host": config.host_name, "port": int(own.rsplit(":", 1)[1]),
                "master_eligibility": config.leader_eligibility, "scheme": config.inter_instance_protocol}
    elector = LeaderElector(config, identity, lambda: store.catch_up(config.init_timeout_ms / 1000))
    elector.start()
    if not await asyncio.to_thread(elector.elected.wait, config.init_timeout_ms / 1000):
        log.error("Error starting the schema registry: no leader elected within kafkastore.init.timeout.ms")
        await asyncio.to_thread(elector.stop)
        store.close()
        return 1
    hc = hypercorn_config(sockets, "org.eclipse.jetty.server.Server", config.listeners, server_tls)
    stop = stop_on_signals()
    for url in urls:
        log.info("Listening on %s", url)
    log.info("Server started, listening for requests...")
    app = create_app(Registry(config, store), elector, client_tls)
    try:
        await serve_app(BasicAuthMiddleware(app, auth) if auth else app, hc, stop)
    finally:
        await asyncio.to_thread(elector.stop)
        await asyncio.to_thread(store.close)
        for s in sockets:
            with contextlib.suppress(OSError):  # hypercorn closed it already
                s.close()
    log.info("Shut down the schema registry")
    return 0


def main(argv: list[str] | None = None) -> int:
    # kio (the elector's group calls) registers hypothesis strategies whenever hypothesis is importable; the
    # registry has no use for them (as options.entry_point does for the tools)
    sys.modules.setdefault("hypothesis", None)  # type: ignore[arg-type]
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stdout)
    logging.addLevelName(logging.WARNING, "WARN")
    try:
        path, overrides = parse_args(sys.argv[1:] if argv is None else argv)
        config = RegistryConfig.load(path, overrides)
    except (ConfigException, OSError, ValueError) as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    return asyncio.run(serve(config))


if __name__ == "__main__":
    sys.exit(main())
