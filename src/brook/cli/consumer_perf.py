"""kafka-consumer-perf-test: consumer throughput, as Kafka's ConsumerPerformance (tools, Kafka 3.9), with a
confluent-kafka Consumer."""

from __future__ import annotations

import random
import re
import sys
import time
from collections.abc import Sequence

from brook.cli.options import (
    OptionError,
    OptionParser,
    check_required_args,
    entry_point,
    load_props,
    maybe_print_help_or_version,
    print_usage_and_exit,
)

_DATE_FIELDS = {"yyyy": "%Y", "yy": "%y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}


def simple_date_format(pattern: str, ms: int) -> str:
    """java.text.SimpleDateFormat for the common fields (y, M, d, H, m, s, S), in local time."""
    t = time.localtime(ms / 1000)

    def field(m: re.Match) -> str:
        token = m.group(0)
        if token.startswith("'"):
            return token.strip("'") or "'"
        if token[0] == "S":
            return str(ms % 1000).zfill(len(token))
        fmt = _DATE_FIELDS.get(token)
        return time.strftime(fmt, t) if fmt else token

    return re.sub(r"'[^']*'|y+|M+|d+|H+|m+|s+|S+", field, pattern)


class ConsumerPerfOptions:
    def __init__(self, args: Sequence[str]) -> None:
        p = self.parser = OptionParser()
        self.broker_list = p.accepts("broker-list", "DEPRECATED, use --bootstrap-server instead; ignored if "
                                     "--bootstrap-server is specified. The broker list string in the form "
                                     "HOST1:PORT1,HOST2:PORT2.", arg="required", described_as="broker-list")
        self.bootstrap_server = p.accepts("bootstrap-server", "REQUIRED unless --broker-list(deprecated) is "
                                          "specified. The server(s) to connect to.", arg="required",
                                          described_as="server to connect to", required_unless=("broker-list",))
        self.topic = p.accepts("topic", "REQUIRED: The topic to consume from.", arg="required", described_as="topic")
        self.group = p.accepts("group", "The group id to consume on.", arg="required", described_as="gid",
                               default=(f"perf-consumer-{random.randrange(100_000)}",))
        self.fetch_size = p.accepts("fetch-size", "The amount of data to fetch in a single request.", arg="required",
                                    type="Integer", described_as="size", default=(str(1024 * 1024),))
        self.from_latest = p.accepts("from-latest", "If the consumer does not already have an established offset to "
                                     "consume from, start with the latest message present in the log rather than the "
                                     "earliest message.")
        self.socket_buffer = p.accepts("socket-buffer-size", "The size of the tcp RECV size.", arg="required",
                                       type="Integer", described_as="size", default=(str(2 * 1024 * 1024),))
        self.threads = p.accepts("threads", "DEPRECATED AND IGNORED: Number of processing threads.", arg="required",
                                 type="Integer", described_as="count", default=("10",))
        self.fetchers = p.accepts("num-fetch-threads", "DEPRECATED AND IGNORED: Number of fetcher threads.",
                                  arg="required", type="Integer", described_as="count", default=("1",))
        self.consumer_config = p.accepts("consumer.config", "Consumer config properties file.", arg="required",
                                         described_as="config file")
        self.print_metrics = p.accepts("print-metrics", "Print out the metrics.")
        self.detailed = p.accepts("show-detailed-stats", "If set, stats are reported for each reporting interval as "
                                  "configured by reporting-interval")
        self.timeout = p.accepts("timeout", "The maximum allowed time in milliseconds between returned records.",
                                 arg="optional", type="Long", described_as="milliseconds", default=("10000",))
        self.messages = p.accepts("messages", "REQUIRED: The number of messages to send or consume", arg="required",
                                  type="Long", described_as="count")
        self.interval = p.accepts("reporting-interval", "Interval in milliseconds at which to print progress info.",
                                  arg="required", type="Long", described_as="interval_ms", default=("5000",))
        self.date_format = p.accepts("date-format", "The date format to use for formatting the time field. See "
                                     "java.text.SimpleDateFormat for options.", arg="required",
                                     described_as="date format", default=("yyyy-MM-dd HH:mm:ss:SSS",))
        self.hide_header = p.accepts("hide-header", "If set, skips printing the header for the stats")
        try:
            self.opts = p.parse(args)
        except OptionError as e:
            print_usage_and_exit(p, str(e))
        raw_interval = self.opts.raw.get("reporting-interval", [])
        if raw_interval and not re.fullmatch(r"\d+", raw_interval[-1]):  # withValuesConvertedBy(regex("^\\d+$"))
            print_usage_and_exit(p, f"Cannot parse argument '{raw_interval[-1]}' of option reporting-interval")
        if self.opts.has(self.threads) or self.opts.has(self.fetchers):
            print("WARNING: option [threads] and [num-fetch-threads] have been deprecated and will be ignored by the "
                  "test")
        maybe_print_help_or_version(p, self.opts, "This tool is used to verify the consumer performance.")
        check_required_args(p, self.opts, self.topic, self.messages)


def execute(args: Sequence[str]) -> int:
    o = ConsumerPerfOptions(args)
    opts = o.opts
    interval_ms = opts.value_of(o.interval)
    if interval_ms <= 0:
        raise ValueError("Reporting interval must be greater than 0.")
    detailed, fmt = opts.has(o.detailed), opts.value_of(o.date_format)
    props = load_props(opts.value_of(o.consumer_config)) if opts.has(o.consumer_config) else {}
    servers = opts.value_of(o.bootstrap_server if opts.has(o.bootstrap_server) else o.broker_list)
    from brook.cli.clients import librdkafka_config, new_client

    conf = {**librdkafka_config(props), "bootstrap.servers": servers, "group.id": opts.value_of(o.group),
            "socket.receive.buffer.bytes": opts.value_of(o.socket_buffer),
            "max.partition.fetch.bytes": opts.value_of(o.fetch_size),
            "auto.offset.reset": "latest" if opts.has(o.from_latest) else "earliest", "check.crcs": False}
    conf.setdefault("client.id", "perf-consumer-client")
    if not opts.has(o.hide_header):
        extra = ", rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"
        first = "time, threadId" if detailed else "start.time, end.time"
        print(f"{first}, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec{extra}", flush=True)
    consumer = new_client("consumer", conf, "org.apache.kafka.clients.consumer.ConsumerConfig")
    state = {"join_ms": 0, "join_round": 0}
    join_start = [time.time() * 1000]

    def on_revoke(_c, _parts) -> None:  # noqa: ANN001 - ConsumerPerfRebListener
        join_start[0] = time.time() * 1000

    def on_assign(_c, _parts) -> None:  # noqa: ANN001
        elapsed = int(time.time() * 1000 - join_start[0])
        state["join_ms"] += elapsed
        state["join_round"] += elapsed

    start_ms = int(time.time() * 1000)
    join_start[0] = start_ms
    consumer.subscribe([opts.value_of(o.topic)], on_assign=on_assign, on_revoke=on_revoke)
    num, timeout_ms = opts.value_of(o.messages), opts.value_of(o.timeout)
    read = bytes_read = last_read = last_bytes = 0
    now = last_report = last_consumed = int(time.time() * 1000)
    while read < num and now - last_consumed <= timeout_ms:
        batch = consumer.consume(num_messages=min(500, max(1, num - read)), timeout=0.1)
        now = int(time.time() * 1000)
        records = [m for m in batch if m.error() is None]
        if records:
            last_consumed = now
        for m in records:
            read += 1
            bytes_read += len(m.key() or b"") + len(m.value() or b"")
            if now - last_report >= interval_ms:
                if detailed:  # printConsumerProgress
                    elapsed = now - last_report
                    total_mb = bytes_read / (1024 * 1024)
                    interval_mb = (bytes_read - last_bytes) / (1024 * 1024)
                    fetch_ms = elapsed - state["join_round"]
                    print(f"{simple_date_format(fmt, now)}, 0, {total_mb:.4f}, {1000.0 * interval_mb / elapsed:.4f}, "
                          f"{read}, {(read - last_read) / elapsed * 1000.0:.4f}, {state['join_round']}, {fetch_ms}, "
                          f"{0.0 if fetch_ms <= 0 else 1000.0 * interval_mb / fetch_ms:.4f}, "
                          f"{0.0 if fetch_ms <= 0 else 1000.0 * (read - last_read) / fetch_ms:.4f}", flush=True)
                state["join_round"] = 0
                last_report, last_read, last_bytes = now, read, bytes_read
    if read < num:
        print(f"WARNING: Exiting before consuming the expected number of messages: timeout ({timeout_ms} ms) "
              "exceeded. You can use the --timeout option to increase the timeout.")
    end_ms = int(time.time() * 1000)
    consumer.close()
    elapsed_s = (end_ms - start_ms) / 1000.0
    fetch_ms = (end_ms - start_ms) - state["join_ms"]
    if not detailed:
        mb = bytes_read / (1024 * 1024)

        def div(a: float, b: float) -> str:  # Java's double division: x/0.0 is Infinity or NaN
            return f"{a / b:.4f}" if b else ("NaN" if a == 0 else "Infinity")

        print(f"{simple_date_format(fmt, start_ms)}, {simple_date_format(fmt, end_ms)}, {mb:.4f}, "
              f"{div(mb, elapsed_s)}, {read}, {div(read, elapsed_s)}, {state['join_ms']}, {fetch_ms}, "
              f"{div(mb, fetch_ms / 1000.0)}, {div(read, fetch_ms / 1000.0)}")
    return 0


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    try:
        return execute(sys.argv[1:] if argv is None else argv)
    except Exception as e:  # ConsumerPerformance.main: the message, then (in Kafka) the stack trace; exit 1
        from brook.cli.clients import java_text

        print(e.args[0].str() if e.args and hasattr(e.args[0], "str") else (str(e) or java_text(e)),
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
