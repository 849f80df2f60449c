"""kafka-log-dirs: Kafka's LogDirsCommand (tools, Kafka 3.9). The brokers come from confluent-kafka's
describe_cluster; DescribeLogDirs, which neither confluent-kafka nor librdkafka offers, goes to each broker through
`kafka_rpc` (kio's messages). The JSON keeps the key order of the Java HashMaps Kafka's tool serializes."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from brook.cli.options import (
    OptionParser,
    check_required_args,
    entry_point,
    load_props,
    maybe_print_help_or_version,
)


class TerseException(Exception):
    pass


class LogDirsCommandOptions:
    def __init__(self, args: Sequence[str]) -> None:
        p = self.parser = OptionParser()
        self.bootstrap_server = p.accepts("bootstrap-server", "REQUIRED: the server(s) to use for bootstrapping",
                                          arg="required", described_as="The server(s) to use for bootstrapping")
        self.command_config = p.accepts("command-config", "Property file containing configs to be passed to Admin "
                                        "Client.", arg="required", described_as="Admin client property file")
        self.describe = p.accepts("describe", "Describe the specified log directories on the specified brokers.")
        self.topic_list = p.accepts("topic-list", "The list of topics to be queried in the form "
                                    "\"topic1,topic2,topic3\". All topics will be queried if no topic list is "
                                    "specified", arg="required", described_as="Topic list", default=("",))
        self.broker_list = p.accepts("broker-list", "The list of brokers to be queried in the form \"0,1,2\". All "
                                     "brokers in the cluster will be queried if no broker list is specified",
                                     arg="required", described_as="Broker list", default=("",))
        self.opts = p.parse(args)
        maybe_print_help_or_version(p, self.opts, "This tool helps to query log directory usage on the specified "
                                    "brokers.")
        check_required_args(p, self.opts, self.bootstrap_server, self.describe)

    def topics(self) -> set[str]:
        return {t for t in self.opts.value_of(self.topic_list).split(",") if t}

    def brokers(self) -> set[int]:
        return {int(b) for b in self.opts.value_of(self.broker_list).split(",") if b}


def describe_log_dirs(host: str, port: int, deadline: float, props: dict[str, str]) -> Any:
    """One broker's DescribeLogDirs answer for all topics, at the highest version both sides know (v1-v4)."""
    from brook.cli.kafka_rpc import call_highest, connect

    with connect(host, port, deadline, "describeLogDirs", props) as conn:
        return call_highest(conn, "describe_log_dirs", range(1, 5), lambda m: m.DescribeLogDirsRequest(topics=None),
                            "describeLogDirs")


def as_json(answers: dict[int, Any], topics: set[str]) -> str:
    """LogDirsCommand.formatAsJson, with Java's HashMap orders (Jackson writes them compactly)."""
    from brook.cli.clients import exception_class
    from brook.cli.java_collections import hash_order, int_order, string_hash, string_key_order, topic_partition_hash

    def ordered(d: dict[str, Any]) -> dict[str, Any]:
        return {k: d[k] for k in string_key_order(d)}

    brokers = []
    for broker in int_order(answers):
        log_dirs = []
        results = answers[broker].results
        for result in hash_order(results, lambda r: string_hash(r.log_dir)):
            replicas = [(t.name, int(p.partition_index), p) for t in result.topics for p in t.partitions
                        if not topics or t.name in topics]
            partitions = [ordered({"partition": f"{t}-{i}", "size": int(p.partition_size),
                                   "offsetLag": int(p.offset_lag), "isFuture": bool(p.is_future_key)})
                          for t, i, p in hash_order(replicas, lambda r: topic_partition_hash(r[0], r[1]))]
            error = exception_class(int(result.error_code)) if result.error_code else None
            log_dirs.append(ordered({"logDir": result.log_dir, "error": error, "partitions": partitions}))
        brokers.append(ordered({"broker": broker, "logDirs": log_dirs}))
    return json.dumps(ordered({"version": 1, "brokers": brokers}), separators=(",", ":"))


def execute(args: Sequence[str]) -> None:
    o = LogDirsCommandOptions(args)
    props = load_props(o.opts.value_of(o.command_config)) if o.opts.has(o.command_config) else {}
    topics, input_brokers = o.topics(), o.brokers()
    from brook.cli.clients import admin_client, api_timeout_s, error_for_code, from_kafka
    from brook.cli.java_collections import int_order
    from brook.cli.rpc_security import check_security

    check_security(props)
    props.setdefault("client.id", "log-dirs-tool")
    admin = admin_client(o.opts.value_of(o.bootstrap_server), props)
    timeout = api_timeout_s(props)
    deadline = time.monotonic() + timeout
    try:
        nodes = {n.id: n for n in admin.describe_cluster(request_timeout=timeout).result().nodes}
    except Exception as e:
        raise from_kafka(e, "describeCluster") from None
    existing = (input_brokers or set(nodes)) & set(nodes)
    missing = input_brokers - set(nodes)
    if missing:
        raise TerseException("ERROR: The given brokers do not exist from --broker-list: "
                             f"{','.join(map(str, int_order(missing)))}. Current existent brokers: "
                             f"{','.join(map(str, int_order(nodes)))}")
    print("Querying brokers for log directories information")
    answers = {b: describe_log_dirs(nodes[b].host, nodes[b].port, deadline, props) for b in int_order(existing)}
    for answer in answers.values():
        if answer.error_code:
            raise error_for_code(int(answer.error_code))
    print(f"Received log directory information from brokers {','.join(map(str, int_order(existing)))}")
    print(as_json(answers, topics))


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    from brook.cli.clients import java_text

    try:
        execute(sys.argv[1:] if argv is None else argv)
        return 0
    except TerseException as e:  # LogDirsCommand.mainNoExit: a terse message alone
        print(e, file=sys.stderr)
        return 1
    except Exception as e:  # anything else: getMessage() (an ExecutionException's is the cause's toString())
        print(java_text(e) if hasattr(e, "java") else e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
