"""connect-standalone WORKER_PROPS [CONNECTOR_PROPS ...] and connect-distributed WORKER_PROPS: Kafka's
ConnectStandalone and ConnectDistributed.

Starts the REST server on `listeners` (default http://:8083), then each connector of the property files;
SIGTERM or Ctrl-C stops the tasks, which flush and commit their offsets, and exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import ssl
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from brook.asgi_server import bind_sockets, hypercorn_config, is_https, serve_app
from brook.config.properties import load_properties
from brook.connect.configdef import ConfigError

if TYPE_CHECKING:
    from brook.rest_auth import BasicAuth

log = logging.getLogger("org.apache.kafka.connect.cli.ConnectStandalone")
USAGE = "Usage: ConnectStandalone worker.properties [connector1.properties connector2.json ...]"
DISTRIBUTED_USAGE = "Usage: ConnectDistributed worker.properties"


class Log4jFormatter(logging.Formatter):
    """Kafka Connect's pattern: [%d] %p %m (%c)%n, with log4j's level names."""

    NAMES = {"WARNING": "WARN", "CRITICAL": "FATAL"}

    def format(self, record: logging.LogRecord) -> str:
        record.levelname = self.NAMES.get(record.levelname, record.levelname)
        return super().format(record)


def setup_logging() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(Log4jFormatter("[%(asctime)s,%(msecs)03d] %(levelname)s %(message)s (%(name)s)",
                                        "%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for noisy in ("hypercorn", "hypercorn.error", "hypercorn.access", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def connector_props(path: str) -> dict[str, str]:
    """A .properties file, or Kafka 3.9's JSON (a CreateConnectorRequest or a bare config map)."""
    if path.endswith(".json"):
        import json

        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        config = data.get("config", data) if isinstance(data, dict) else {}
        if "config" in data and "name" in data:
            config = {**config, "name": data["name"]}
        return {k: str(v) for k, v in config.items()}
    return load_properties(path)


def cluster_id(admin) -> str:
    return admin.describe_cluster(request_timeout=30).result(60).cluster_id


def rest_server(props: dict[str, str], config) -> RestServer:
    """Kafka's RestServer set-up: every listener bound (http and https, the port 8083 when none is given), the
    advertised URL (rest.advertised.listener picks the scheme, rest.advertised.host.name / port override the
    rest), TLS from listeners.https.ssl.* (or ssl.*) and the Basic auth extension of rest.extension.classes."""
    from brook import rest_auth, rest_tls

    listeners = config.get_list("listeners")
    for listener in listeners:
        if (urlparse(listener).scheme or "http").lower() not in ("http", "https"):
            raise ConfigError(f"Listener protocol must be either \"http\" or \"https\", but {listener} was "
                              "specified.")
    sockets = bind_sockets(listeners, default_port=8083)
    for sock in sockets:
        sock.set_inheritable(True)
    wanted = (config["rest.advertised.listener"] or "").lower()
    chosen = next((i for i, u in enumerate(listeners) if wanted and is_https(u) == (wanted == "https")), 0)
    scheme = "https" if is_https(listeners[chosen]) else "http"
    host = config["rest.advertised.host.name"] or urlparse(listeners[chosen]).hostname or socket.getfqdn()
    port = config["rest.advertised.port"] or sockets[chosen].getsockname()[1]
    get = rest_tls.connect_getter(props)
    tls = rest_tls.server_context(get, get("ssl.client.auth") or "none") if any(map(is_https, listeners)) else None
    client_tls = rest_tls.client_context(get) if scheme == "https" else None
    return RestServer(listeners, sockets, f"{scheme}://{host}:{port}/", tls, client_tls, rest_auth.connect_auth(props))


@dataclass
class RestServer:
    listeners: list[str]
    sockets: list[socket.socket]
    url: str  # the advertised URL
    tls: ssl.SSLContext | None
    client_tls: ssl.SSLContext | None  # for requests to the other workers (they share the scheme)
    auth: BasicAuth | None

    async def serve(self, app, stop: asyncio.Event) -> None:
        from brook.rest_auth import BasicAuthMiddleware

        hc = hypercorn_config(self.sockets, "hypercorn.error", self.listeners, self.tls, graceful_timeout=5)
        await serve_app(BasicAuthMiddleware(app, self.auth) if self.auth else app, hc, stop)


def main(argv: list[str] | None = None) -> int:
    return run(sys.argv[1:] if argv is None else argv, distributed=False)


def distributed_main(argv: list[str] | None = None) -> int:
    """connect-distributed WORKER_PROPS: Kafka's ConnectDistributed."""
    return run(sys.argv[1:] if argv is None else argv, distributed=True)


def run(args: list[str], distributed: bool) -> int:
    usage = DISTRIBUTED_USAGE if distributed else USAGE
    if not args or args[0] in ("-h", "--help") or (distributed and len(args) > 1):
        print(usage)
        return 1
    setup_logging()
    from brook.connect import config as defs
    from brook.connect.herder import RestError, StandaloneHerder
    from brook.connect.plugins import Plugins
    from brook.connect.rest import create_app
    from brook.connect.worker import Worker

    log.info("Kafka Connect worker initializing ...")
    props = load_properties(args[0])
    try:
        config = (defs.DISTRIBUTED if distributed else defs.STANDALONE).parse(props)
    except ConfigError as e:
        log.error("Stopping due to error\n%s", e)
        return 2
    log.info("Scanning for plugin classes. This might take a moment ...")
    plugins = Plugins()
    try:
        rest = rest_server(props, config)
    except ConfigError as e:
        log.error("Stopping due to error\n%s", e)
        return 2
    url = rest.url
    rest_host = urlparse(url)
    worker_id = f"{config['rest.advertised.host.name'] or rest_host.hostname}:" \
                f"{config['rest.advertised.port'] or rest_host.port}"
    bootstrap = ",".join(config.get_list("bootstrap.servers"))
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept: the worker's admin client from here on
    cid = cluster_id(admin)
    log.info("Kafka cluster ID: %s", cid)
    if distributed:
        herder = start_distributed(props, config, plugins, worker_id, admin)
        herder.rest_scheme, herder.rest_tls = rest_host.scheme, rest.client_tls
    else:
        from brook.connect.offsets import FileOffsetStore

        filename = config.get_str("offset.storage.file.filename")
        assert filename is not None  # required: parse() raised without it
        worker = Worker(props, config, plugins, FileOffsetStore(filename), None)
        worker.admin = admin
        herder = StandaloneHerder(worker, worker_id)
    app = create_app(herder, cid)

    async def serve_until_stopped() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        server = asyncio.create_task(rest.serve(app, stop))
        log.info("REST server listening at %s, advertising URL %s", url, url)
        log.info("Kafka Connect started")
        code = 0
        for path in args[1:]:
            cp = connector_props(path)
            try:
                _, info = await asyncio.to_thread(herder.put_connector_config, cp.get("name", ""), cp, False)
                log.info("Created connector %s", info["name"])
            except RestError as e:
                log.error("Failed to create connector for %s", path)
                log.error("Stopping after connector error\n%s", e.message)
                code = 3
                stop.set()
                break
        herder.ready = True
        await stop.wait()
        log.info("Kafka Connect stopping")
        await server
        await asyncio.to_thread(herder.stop)
        log.info("Kafka Connect stopped")
        return code

    return asyncio.run(serve_until_stopped())


def start_distributed(props: dict[str, str], config: dict, plugins, worker_id: str, admin):
    """Create (or find) the three topics, read them, and join the group."""
    from brook.connect.distributed import DistributedHerder
    from brook.connect.kafka_offsets import KafkaOffsetStore
    from brook.connect.kafkalog import ensure_topic
    from brook.connect.worker import Worker

    bootstrap = ",".join(config["bootstrap.servers"])
    ensure_topic(admin, config["config.storage.topic"], 1, config["config.storage.replication.factor"])
    ensure_topic(admin, config["offset.storage.topic"], config["offset.storage.partitions"],
                 config["offset.storage.replication.factor"])
    ensure_topic(admin, config["status.storage.topic"], config["status.storage.partitions"],
                 config["status.storage.replication.factor"])
    client_id = f"connect-{worker_id}"
    offsets = KafkaOffsetStore(bootstrap, config["offset.storage.topic"], client_id)
    offsets.start()
    worker = Worker(props, config, plugins, offsets, None)
    worker.admin = admin
    herder = DistributedHerder(worker, worker_id, config, client_id)
    herder.start()
    return herder


if __name__ == "__main__":
    sys.exit(main())
