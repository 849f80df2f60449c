"""kafka-server-start [server.properties] [--override key=value]... (also python -m brook)."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys

from brook.config.broker import BROKER_CONFIGS, BrokerConfig
from brook.config.definition import ConfigError
from brook.config.properties import load_properties

from .log_levels import TRACE

USAGE = "USAGE: kafka-server-start [-daemon] server.properties [--override property=value]*"
LOG4J_LEVEL_NAMES = {TRACE: "TRACE", logging.WARNING: "WARN", logging.CRITICAL: "FATAL"}
LOG_FORMAT = "[%(asctime)s] %(levelname)s %(message)s (%(name)s)"


def parse_args(argv: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    args = [a for a in argv if a != "-daemon"]
    if args and args[0] in ("-h", "--help"):
        print(USAGE)
        sys.exit(0)
    if args and not args[0].startswith("--"):
        values.update(load_properties(args.pop(0)))
    while args:
        flag = args.pop(0)
        if flag != "--override" or not args or "=" not in args[0]:
            raise SystemExit(f"{USAGE}\nUnrecognized argument: {flag}" if flag != "--override"
                             else f"{USAGE}\n--override needs property=value")
        key, _, value = args.pop(0).partition("=")
        values[key.strip()] = value.strip()
    return values


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stdout)
    for level, name in LOG4J_LEVEL_NAMES.items():  # the broker's log reads as Kafka's log4j lines
        logging.addLevelName(level, name)
    try:
        values = parse_args(sys.argv[1:] if argv is None else argv)
        for name, raw in values.items():
            if name in BROKER_CONFIGS:
                BROKER_CONFIGS.keys[name].parse(raw)
        config = BrokerConfig(values)
    except (ConfigError, OSError) as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    keep_freed_memory()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    return asyncio.run(_serve(config))


def keep_freed_memory() -> None:
    """glibc's malloc: requests and fetches of up to a megabyte come and go all the time. By default such a block
    is mmapped (or, once the dynamic threshold has risen, taken from the heap top and trimmed back when freed), so
    each one costs fresh pages: page faults and zeroing, measured as twice the broker's CPU on 1 KiB produce. Blocks
    below 32 MiB come from the heap, and up to 128 MiB freed at its top stay for the next ones."""
    import ctypes  # not ctypes.util's find_library: it imports shutil, tempfile and more, to run ldconfig

    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own symbols: libc's, if it is glibc
    except (OSError, AttributeError):  # not glibc: its own allocator's defaults
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 * 1024 * 1024)  # glibc's largest (HEAP_MAX_SIZE / 2)
    mallopt(m_trim_threshold, 128 * 1024 * 1024)


async def _serve(config: BrokerConfig) -> int:
    from brook.broker.server import Broker

    broker = None
    try:
        broker = Broker(config)
        await broker.start()
    except Exception as e:  # KafkaServer.startup: a fatal error is logged, what started is shut down, exit 1
        logging.getLogger("kafka.server.KafkaServer").error(
            "[KafkaServer id=%s] Fatal error during KafkaServer startup. Prepare to shutdown\n%s",
            config.get("broker.id"), e)
        if broker is not None:
            await broker.stop()
        return 1
    # What start-up made (modules, kio's classes, loaded logs and coordinators) lives as long as the broker: out of
    # the collector's generations, a full collection no longer walks it (a pause of milliseconds otherwise)
    gc.freeze()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
