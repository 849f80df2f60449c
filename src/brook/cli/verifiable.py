"""What kafka-verifiable-producer and kafka-verifiable-consumer share (Kafka 3.9's VerifiableProducer and
VerifiableConsumer, tools/): their "Connection Group" of flags, events printed one JSON object a line as Jackson
writes them (timestamp and name first, no spaces), and the shutdown hook a JVM runs on SIGTERM or Ctrl-C."""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from brook.cli.argparse4j import ArgumentParserException, Parser


def connection_group(p: Parser, bootstrap_help: str) -> None:
    g = p.add_group("Connection Group", "Group of arguments for connection to brokers", mutex=True, required=True)
    meta = "HOST1:PORT1[,HOST2:PORT2[...]]"
    p.add("--bootstrap-server", group=g, metavar=meta, dest="bootstrapServer", help=bootstrap_help)
    p.add("--broker-list", group=g, metavar=meta, dest="brokerList", help="DEPRECATED, use --bootstrap-server "
          "instead; ignored if --bootstrap-server is specified.  Comma-separated list of Kafka brokers in the form "
          "HOST1:PORT1,HOST2:PORT2,...")


def bootstrap(p: Parser, res: dict[str, Any]) -> str:
    """createFromArgs: --bootstrap-server, else --broker-list, else the help and exit 0."""
    servers = res["bootstrapServer"] or res["brokerList"]
    if servers is None:
        p.print_help()
        raise SystemExit(0)
    return servers


def create_from_args(p: Parser, argv: Sequence[str] | None, props_of: Callable[[Parser, dict[str, Any]], dict],
                     build: Callable[[dict[str, str]], Any]) -> tuple[dict[str, Any], Any]:
    """main() up to the client: argparse4j's parse (help and errors), the client's properties (a config file that
    cannot be read is an ArgumentParserException: handleError, exit 1), then the client, whose exceptions Java's
    main does not catch (the JVM prints them, exit 1)."""
    res = p.parse_tool_args(sys.argv[1:] if argv is None else list(argv))
    try:
        props = props_of(p, res)
    except ArgumentParserException as e:
        p.handle_error(e)
        raise SystemExit(1) from None
    try:
        return res, build(props)
    except Exception as e:
        from brook.cli.clients import java_text

        print(f"Exception in thread \"main\" {java_text(e)}", file=sys.stderr)
        raise SystemExit(1) from None


def print_event(name: str, **fields: Any) -> None:
    """mapper.writeValueAsString(event): {"timestamp":..,"name":..,...} without spaces; a double as Java prints it
    (Jackson writes NaN and Infinity as strings)."""
    from brook.cli.java_collections import double_str

    def value(v: Any) -> str:
        if isinstance(v, float):
            java = double_str(v)
            return java if java[-1].isdigit() else f'"{java}"'
        return json.dumps(v, separators=(",", ":"), ensure_ascii=False)

    event = {"timestamp": int(time.time() * 1000), "name": name, **fields}
    sys.stdout.write("{" + ",".join(f"{json.dumps(k)}:{value(v)}" for k, v in event.items()) + "}\n")
    sys.stdout.flush()


class Stopper:
    """The shutdown hook's trigger: SIGTERM and SIGINT set `signal` and the tool's loop ends, cleans up and prints
    what Kafka's hook prints; the exit status is then the JVM's (128 + the signal)."""

    def __init__(self) -> None:
        self.signal = 0
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)

    def _stop(self, signum: int, _frame: object) -> None:
        self.signal = signum

    @property
    def stopped(self) -> bool:
        return self.signal != 0

    def exit_code(self) -> int:
        return 128 + self.signal if self.signal else 0
