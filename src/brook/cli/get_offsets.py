"""kafka-get-offsets: topic-partition offsets by time, as Kafka's GetOffsetShell (tools, Kafka 3.9), through
confluent-kafka's AdminClient.list_offsets."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

from brook.cli.options import (
    OptionError,
    OptionParser,
    check_required_args,
    entry_point,
    load_props,
    maybe_print_help_or_version,
    print_usage_and_exit,
    valid_host_ports,
)
from brook.internal_topics import KAFKA_INTERNAL_TOPICS

USAGE_TEXT = "An interactive shell for getting topic-partition offsets."
TOPIC_PARTITION_PATTERN = r"([^:,]*)(?::(?:([0-9]*)|(?:([0-9]*)-([0-9]*))))?"
INT_MAX = 2**31 - 1


class TerseException(Exception):
    pass


def parse_offset_spec(value: str):  # noqa: ANN201 - a confluent_kafka OffsetSpec, or -4 / -5
    """GetOffsetShell.parseOffsetSpec."""
    named = {"earliest": -2, "latest": -1, "max-timestamp": -3, "earliest-local": -4, "latest-tiered": -5}
    if value in named:
        ts = named[value]
    else:
        if not re.fullmatch(r"[+-]?[0-9]+", value) or not -(2**63) <= int(value) < 2**63:
            raise TerseException(f"Malformed time argument {value}. Please use -1 or latest / -2 or earliest / -3 or "
                                 "max-timestamp / -4 or earliest-local / -5 or latest-tiered, or a specified long "
                                 "format timestamp")
        ts = int(value)
    if ts in (-4, -5):  # no OffsetSpec for these in librdkafka: list_offsets_rpc sends them
        return ts
    from confluent_kafka.admin import OffsetSpec

    return {-2: OffsetSpec.earliest, -1: OffsetSpec.latest, -3: OffsetSpec.max_timestamp}.get(
        ts, lambda: OffsetSpec.for_timestamp(ts))()


def _full(pattern: str, topic: str) -> bool:
    try:
        return re.fullmatch(pattern, topic) is not None
    except re.error as e:
        raise TerseException(f"Invalid regular expression {pattern}: {e}") from None


def topic_partition_filter(o: GetOffsetShellOptions):  # noqa: ANN201 - (topic, partition) -> bool
    opts = o.opts
    if opts.has(o.topic_partitions):
        rules = []
        for spec in opts.value_of(o.topic_partitions).split(","):
            m = re.fullmatch(TOPIC_PARTITION_PATTERN, spec)
            if not m:
                raise TerseException(f"Invalid rule specification: {spec}")
            topic = m.group(1) or ".*"
            if m.group(2):
                lo, hi = int(m.group(2)), int(m.group(2)) + 1
            else:
                lo, hi = int(m.group(3) or 0), int(m.group(4) or INT_MAX)
            rules.append((topic, lo, hi))
        return lambda t, p: any(_full(r[0], t) and r[1] <= p < r[2] for r in rules)
    topic = opts.value_of(o.topic) or ".*"
    raw = opts.value_of(o.partitions)
    partitions: set[int] = set()
    if raw:
        try:
            partitions = {int(x) for x in raw.split(",")}
        except ValueError:
            raise TerseException("--partitions expects a comma separated list of numeric partition ids, but "
                                 f"received: {raw}") from None
    return lambda t, p: _full(topic, t) and (not partitions or p in partitions)


class GetOffsetShellOptions:
    def __init__(self, args: Sequence[str]) -> None:
        p = self.parser = OptionParser()
        self.broker_list = p.accepts("broker-list", "DEPRECATED, use --bootstrap-server instead; ignored if "
                                     "--bootstrap-server is specified. The server(s) to connect to in the form "
                                     "HOST1:PORT1,HOST2:PORT2.", arg="required",
                                     described_as="HOST1:PORT1,...,HOST3:PORT3")
        self.bootstrap_server = p.accepts("bootstrap-server", "REQUIRED. The server(s) to connect to in the form "
                                          "HOST1:PORT1,HOST2:PORT2.", arg="required",
                                          described_as="HOST1:PORT1,...,HOST3:PORT3", required_unless=("broker-list",))
        self.topic_partitions = p.accepts(
            "topic-partitions", "Comma separated list of topic-partition patterns to get the offsets for, with the "
            f"format of '{TOPIC_PARTITION_PATTERN}'. The first group is an optional regex for the topic name, if "
            "omitted, it matches any topic name. The section after ':' describes a 'partition' pattern, which can be: "
            "a number, a range in the format of 'NUMBER-NUMBER' (lower inclusive, upper exclusive), an inclusive "
            "lower bound in the format of 'NUMBER-', an exclusive upper bound in the format of '-NUMBER' or may be "
            "omitted to accept all partitions.", arg="required",
            described_as="topic1:1,topic2:0-3,topic3,topic4:5-,topic5:-3")
        self.topic = p.accepts("topic", "The topic to get the offsets for. It also accepts a regular expression. If "
                               "not present, all authorized topics are queried. Cannot be used if --topic-partitions "
                               "is present.", arg="required", described_as="topic")
        self.partitions = p.accepts("partitions", "Comma separated list of partition ids to get the offsets for. If "
                                    "not present, all partitions of the authorized topics are queried. Cannot be used "
                                    "if --topic-partitions is present.", arg="required", described_as="partition ids")
        self.time = p.accepts("time", "timestamp of the offsets before that. [Note: No offset is returned, if the "
                              "timestamp greater than recently committed record timestamp is given.]", arg="required",
                              described_as="<timestamp> / -1 or latest / -2 or earliest / -3 or max-timestamp / -4 "
                              "or earliest-local / -5 or latest-tiered", default=("latest",))
        self.command_config = p.accepts("command-config", "Property file containing configs to be passed to Admin "
                                        "Client.", arg="required", described_as="config file")
        self.exclude_internal = p.accepts("exclude-internal-topics", "By default, internal topics are included. If "
                                          "specified, internal topics are excluded.")
        if not args:
            print_usage_and_exit(p, USAGE_TEXT)
        try:
            self.opts = p.parse(args)
        except OptionError as e:
            raise TerseException(str(e)) from None
        self.effective = self.bootstrap_server if self.opts.has(self.bootstrap_server) else self.broker_list
        maybe_print_help_or_version(p, self.opts, USAGE_TEXT)
        check_required_args(p, self.opts, self.effective)
        servers = self.opts.value_of(self.effective)
        if not servers or not servers.strip():  # ToolsUtils.validateBootstrapServer
            print_usage_and_exit(p, "Error while validating the bootstrap address\n")
        if not valid_host_ports(servers):
            print_usage_and_exit(p, "Please provide valid host:port like host1:9091,host2:9092\n")


def fetch_offsets(o: GetOffsetShellOptions) -> list[tuple[str, int, int]]:
    opts = o.opts
    if opts.has(o.topic_partitions) and (opts.has(o.topic) or opts.has(o.partitions)):
        raise TerseException("--topic-partitions cannot be used with --topic or --partitions")
    exclude_internal = opts.has(o.exclude_internal)
    spec = parse_offset_spec(opts.value_of(o.time))
    allowed = topic_partition_filter(o)
    props = load_props(opts.value_of(o.command_config)) if opts.has(o.command_config) else {}
    from confluent_kafka import TopicPartition

    from brook.cli.clients import admin_client, api_timeout_s, from_kafka

    admin = admin_client(opts.value_of(o.effective), {**props, "client.id": "GetOffsetShell"})
    timeout = api_timeout_s(props)
    try:
        metadata = admin.list_topics(timeout=timeout)
    except Exception as e:
        raise from_kafka(e, "listTopics") from None
    partitions = [(t, p) for t, tm in metadata.topics.items()
                  if not (exclude_internal and t in KAFKA_INTERNAL_TOPICS) and tm.error is None
                  for p in tm.partitions if allowed(t, p)]
    if not partitions:
        raise TerseException("Could not match any topic-partitions with the specified filters")
    results: dict[tuple[str, int], int | Exception] = {}
    if isinstance(spec, int):
        import time

        from brook.cli.list_offsets_rpc import list_offsets
        from brook.cli.rpc_security import check_security

        check_security(props)
        results.update(list_offsets(metadata, partitions, spec, time.monotonic() + timeout, props))
    else:
        futures = admin.list_offsets({TopicPartition(t, p): spec for t, p in partitions}, request_timeout=timeout)
        for tp, future in futures.items():
            try:
                results[(tp.topic, tp.partition)] = future.result().offset
            except Exception as e:
                results[(tp.topic, tp.partition)] = e
    out = []
    for (topic, partition), result in results.items():
        if isinstance(result, Exception):  # GetOffsetShell skips partitions whose lookup failed
            print(f"Skip getting offsets for topic-partition {topic}-{partition} due to error: "
                  f"{from_kafka(result).java()}", file=sys.stderr)
        elif result != -1:  # ListOffsetsResponse.UNKNOWN_OFFSET
            out.append((topic, partition, result))
    return sorted(out, key=lambda x: f"{x[0]}-{x[1]}")  # TreeMap ordered by TopicPartition.toString()


def execute(args: Sequence[str]) -> None:
    for topic, partition, offset in fetch_offsets(GetOffsetShellOptions(args)):
        print(f"{topic}:{partition}:{offset}")


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    try:
        execute(sys.argv[1:] if argv is None else argv)
        return 0
    except TerseException as e:  # GetOffsetShell.mainNoExit
        print(f"Error occurred: {e}", file=sys.stderr)
        return 1
    except Exception as e:
        from brook.cli.clients import from_kafka

        err = from_kafka(e) if e.args and hasattr(e.args[0], "code") else e
        print(f"Error occurred: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
