"""kafka-delete-records: delete records below given offsets, as Kafka's DeleteRecordsCommand (tools, Kafka 3.9),
through confluent-kafka's AdminClient.delete_records."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from brook.cli.options import (
    OptionParser,
    check_required_args,
    entry_point,
    load_props,
    maybe_print_help_or_version,
)


class AdminOperationException(Exception):
    pass


class DeleteRecordsCommandOptions:
    def __init__(self, args: Sequence[str]) -> None:
        p = self.parser = OptionParser()
        self.bootstrap_server = p.accepts("bootstrap-server", "REQUIRED: The server to connect to.", arg="required",
                                          described_as="server(s) to use for bootstrapping")
        self.offset_json_file = p.accepts(
            "offset-json-file", "REQUIRED: The JSON file with offset per partition. The format to use is:\n"
            '{"partitions":\n  [{"topic": "foo", "partition": 1, "offset": 1}],\n "version":1\n}',
            arg="required", described_as="Offset json file path")
        self.command_config = p.accepts("command-config", "A property file containing configs to be passed to Admin "
                                        "Client.", arg="required", described_as="command config property file path")
        self.opts = p.parse(args)
        maybe_print_help_or_version(p, self.opts, "This tool helps to delete records of the given partitions down to "
                                    "the specified offset.")
        check_required_args(p, self.opts, self.bootstrap_server, self.offset_json_file)


def parse_offsets(text: str) -> dict[tuple[str, int], list[int]]:
    """DeleteRecordsCommand.parseOffsetJsonStringWithoutDedup."""
    try:
        js = json.loads(text)
    except ValueError:
        raise AdminOperationException("The input string is not a valid JSON") from None
    if not isinstance(js, dict):
        raise AdminOperationException("The input string is not a valid JSON")
    version = js.get("version", 1)
    if version != 1:
        raise AdminOperationException(f"Not supported version field value {version}")
    if "partitions" not in js:
        raise AdminOperationException("Missing partitions field")
    out: dict[tuple[str, int], list[int]] = {}
    for entry in js["partitions"]:
        out.setdefault((str(entry["topic"]), int(entry["partition"])), []).append(int(entry["offset"]))
    return out


def execute(args: Sequence[str]) -> None:
    o = DeleteRecordsCommandOptions(args)
    props = load_props(o.opts.value_of(o.command_config)) if o.opts.has(o.command_config) else {}
    path = o.opts.value_of(o.offset_json_file)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} (No such file or directory)") from None
    from confluent_kafka import TopicPartition

    from brook.cli.clients import admin_client, api_timeout_s, error_for_code, from_kafka

    admin = admin_client(o.opts.value_of(o.bootstrap_server), props)
    offsets = parse_offsets(text)
    duplicates = [f"{t}-{p}" for (t, p), v in offsets.items() if len(v) > 1]
    if duplicates:
        raise AdminOperationException("Offset json file contains duplicate topic partitions: " + ",".join(duplicates))
    print("Executing records delete operation")
    futures = admin.delete_records([TopicPartition(t, p, v[0]) for (t, p), v in offsets.items()],
                                   request_timeout=api_timeout_s(props))
    print("Records delete operation completed:")
    for tp, future in futures.items():
        try:
            print(f"partition: {tp.topic}-{tp.partition}\tlow_watermark: {future.result().low_watermark}")
        except Exception as e:
            err = from_kafka(e)
            if "No leaders found" in str(err):  # librdkafka's wording for a partition the cluster does not have
                err = error_for_code(3)
            print(f"partition: {tp.topic}-{tp.partition}\terror: {err.java()}")


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    try:
        execute(sys.argv[1:] if argv is None else argv)
        return 0
    except Exception as e:  # DeleteRecordsCommand.mainNoExit: the message, then (in Kafka) the stack trace
        print(e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
