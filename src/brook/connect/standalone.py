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
import sys
from urllib.parse import urlparse

from brook.config.properties import load_properties
from brook.connect.configdef import ConfigError

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


def bind(listener: str) -> tuple[socket.socket, str]:
    u = urlparse(listener)
    if (u.scheme or "http").lower() != "http":
        raise ConfigError(f"Listener protocol must be either \"http\" or \"https\", but {listener} was specified.")
    host = u.hostname or ""
    sock = socket.create_server((host or "0.0.0.0", u.port if u.port is not None else 8083), reuse_port=False)
    sock.set_inheritable(True)
    port = sock.getsockname()[1]
    advertised = host or socket.getfqdn()
    return sock, f"http://{advertised}:{port}/"


async def serve(app, sock: socket.socket, stop: asyncio.Event) -> None:
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    cfg = Config()
    cfg.bind = [f"fd://{sock.fileno()}"]
    cfg.accesslog = None
    cfg.errorlog = logging.getLogger("hypercorn.error")
    cfg.graceful_timeout = 5
    await hypercorn_serve(app, cfg, shutdown_trigger=stop.wait)


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
    sock, url = bind(config.get_list("listeners")[0])
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
        server = asyncio.create_task(serve(app, sock, stop))
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
