"""kafka-verifiable-consumer: Kafka 3.9's VerifiableConsumer (tools/), the system tests' group consumer. It
subscribes to one topic and prints a JSON line per event: startup_complete, partitions_assigned / partitions_revoked
(its rebalance listener), records_consumed per poll (record_data per record with --verbose), offsets_committed
after each synchronous commit (unless --enable-autocommit), and shutdown_complete once the consumer is closed."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from brook.cli.argparse4j import ArgumentParserException, Parser
from brook.cli.options import entry_point, load_props
from brook.cli.verifiable import Stopper, bootstrap, connection_group, create_from_args, print_event

MAX_POLL_RECORDS = 500  # the Java consumer's max.poll.records default


def arg_parser() -> Parser:
    p = Parser("verifiable-consumer", "This tool consumes messages from a specific topic and emits consumer events "
               "(e.g. group rebalances, received messages, and offsets committed) as JSON objects to STDOUT.",
               default_help=True)
    connection_group(p, "REQUIRED unless --broker-list(deprecated) is specified. The server(s) to connect to. "
                     "Comma-separated list of Kafka brokers in the form HOST1:PORT1,HOST2:PORT2,...")
    p.add("--topic", required=True, metavar="TOPIC", help="Consumes messages from this topic.")
    p.add("--group-protocol", default="classic", metavar="GROUP_PROTOCOL", dest="groupProtocol",
          help="Group protocol (must be one of CLASSIC, CONSUMER)")
    p.add("--group-remote-assignor", metavar="GROUP_REMOTE_ASSIGNOR", dest="groupRemoteAssignor",
          help="Group remote assignor; only used if the group protocol is CONSUMER")
    p.add("--group-id", required=True, metavar="GROUP_ID", dest="groupId",
          help="The groupId shared among members of the consumer group")
    p.add("--group-instance-id", metavar="GROUP_INSTANCE_ID", dest="groupInstanceId",
          help="A unique identifier of the consumer instance")
    p.add("--max-messages", type="Integer", default=-1, metavar="MAX-MESSAGES", dest="maxMessages",
          help="Consume this many messages. If -1 (the default), the consumer will consume until the process is "
          "killed externally")
    p.add("--session-timeout", default=30000, type="Integer", metavar="TIMEOUT_MS", dest="sessionTimeout",
          help="Set the consumer's session timeout")
    p.add("--verbose", action="store_true", help="Enable to log individual consumed records")
    p.add("--enable-autocommit", action="store_true", dest="useAutoCommit", help="Enable offset auto-commit on "
          "consumer")
    p.add("--reset-policy", default="earliest", dest="resetPolicy",
          help="Set reset policy (must be either 'earliest', 'latest', or 'none'")
    p.add("--assignment-strategy", default="org.apache.kafka.clients.consumer.RangeAssignor",
          dest="assignmentStrategy", help="Set assignment strategy (e.g. "
          "org.apache.kafka.clients.consumer.RoundRobinAssignor); only used if the group protocol is CLASSIC")
    p.add("--consumer.config", metavar="CONFIG_FILE", help="Consumer config properties file (config options shared "
          "with command line parameters will be overridden).")
    return p


def consumer_props(p: Parser, res: dict[str, Any]) -> dict[str, str]:
    """createFromArgs: the config file, then the command line over it."""
    props: dict[str, str] = {}
    if res["consumer.config"] is not None:
        try:
            props.update(load_props(res["consumer.config"]))
        except OSError:  # NoSuchFileException's message is the path
            raise ArgumentParserException(res["consumer.config"], p) from None
    if res["groupProtocol"].lower() == "consumer":
        props["group.protocol"] = res["groupProtocol"]
        if res["groupRemoteAssignor"] is not None:
            props["group.remote.assignor"] = res["groupRemoteAssignor"]
    else:
        props["partition.assignment.strategy"] = res["assignmentStrategy"]
    props["group.id"] = res["groupId"]
    if res["groupInstanceId"] is not None:
        props["group.instance.id"] = res["groupInstanceId"]
    props["bootstrap.servers"] = bootstrap(p, res)
    props["enable.auto.commit"] = "true" if res["useAutoCommit"] else "false"
    props["auto.offset.reset"] = res["resetPolicy"]
    props["session.timeout.ms"] = str(res["sessionTimeout"])
    return props


def partitions(tps: list[Any]) -> list[dict[str, Any]]:
    """The listener's SortedSet<TopicPartition> (by topic, then partition), as the tool's TopicPartition
    serializer writes it."""
    return [{"topic": t, "partition": p} for t, p in sorted((tp.topic, tp.partition) for tp in tps)]


class VerifiableConsumer:
    def __init__(self, consumer: Any, res: dict[str, Any], stopper: Stopper) -> None:
        self.consumer, self.stopper = consumer, stopper
        self.topic, self.max_messages, self.verbose = res["topic"], res["maxMessages"], res["verbose"]
        self.auto_commit = res["useAutoCommit"]
        self.consumed = 0
        self.failed = False  # a fatal error: the Java tool logs it and closes

    def finished(self) -> bool:
        return 0 <= self.max_messages <= self.consumed or self.failed or self.stopper.stopped

    def on_assign(self, _consumer: Any, tps: list[Any]) -> None:
        print_event("partitions_assigned", partitions=partitions(tps))

    def on_revoke(self, _consumer: Any, tps: list[Any]) -> None:  # also onPartitionsLost's default
        print_event("partitions_revoked", partitions=partitions(tps))

    def poll(self) -> list[Any]:
        """consumer.poll(Long.MAX_VALUE): wait for a record, then take what else is already fetched, up to
        max.poll.records (librdkafka's batch consume would wait for a full batch)."""
        while not self.finished():
            first = self.consumer.poll(0.2)
            if first is None or self._skip(first):
                continue
            rest = [m for m in self.consumer.consume(MAX_POLL_RECORDS - 1, 0) if not self._skip(m)]
            return [first, *rest]
        return []

    def _skip(self, msg: Any) -> bool:
        """A record, or an error: poll's exceptions end the tool (logged, then closed), librdkafka's transient
        errors are retried as the Java consumer retries them."""
        err = msg.error()
        if err is not None and (err.fatal() or err.code() == -140):
            from brook.cli.clients import ToolError, from_kafka
            from brook.cli.options import log

            error = from_kafka(err) if err.code() != -140 else ToolError(  # _AUTO_OFFSET_RESET with policy none
                "org.apache.kafka.clients.consumer.NoOffsetForPartitionException",
                f"Undefined offset with no reset policy for partitions: [{msg.topic()}-{msg.partition()}]")
            log("ERROR", "Error during processing, terminating consumer process: ",
                "org.apache.kafka.tools.VerifiableConsumer", error.java())
            self.failed = True
        return err is not None

    def on_records(self, records: list[Any]) -> dict[tuple[str, int], int]:
        """onRecordsReceived: a summary per partition (in the order the poll returned them), record_data each
        with --verbose, never past --max-messages; returns the offsets to commit."""
        by_partition: dict[tuple[str, int], list[Any]] = {}
        for m in records:
            by_partition.setdefault((m.topic(), m.partition()), []).append(m)
        offsets: dict[tuple[str, int], int] = {}
        summaries = []
        for (topic, partition), batch in by_partition.items():
            if self.max_messages >= 0 and self.consumed + len(batch) > self.max_messages:
                batch = batch[:self.max_messages - self.consumed]
            if not batch:
                continue
            offsets[(topic, partition)] = batch[-1].offset() + 1
            summaries.append({"topic": topic, "partition": partition, "count": len(batch),
                              "minOffset": batch[0].offset(), "maxOffset": batch[-1].offset()})
            if self.verbose:
                for m in batch:
                    print_event("record_data", key=_text(m.key()), value=_text(m.value()), topic=topic,
                                partition=partition, offset=m.offset())
            self.consumed += len(batch)
            if 0 <= self.max_messages <= self.consumed:
                break
        print_event("records_consumed", count=len(records), partitions=summaries)
        return offsets

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        """commitSync(offsets), then offsets_committed in the HashMap's order, with the error's message if any."""
        from confluent_kafka import TopicPartition

        from brook.cli.clients import from_kafka
        from brook.cli.java_collections import hash_order, topic_partition_hash

        order = hash_order(offsets, lambda tp: topic_partition_hash(*tp))
        committed = [{"topic": t, "partition": p, "offset": offsets[(t, p)]} for t, p in order]
        error = None
        if offsets:
            try:
                self.consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()],
                                     asynchronous=False)
            except Exception as e:
                error = from_kafka(e).message
        fields: dict[str, Any] = {"offsets": committed}
        if error is not None:
            fields["error"] = error
        print_event("offsets_committed", **fields, success=error is None)

    def run(self) -> None:
        print_event("startup_complete")
        try:
            self.consumer.subscribe([self.topic], on_assign=self.on_assign, on_revoke=self.on_revoke,
                                    on_lost=self.on_revoke)
            while not self.finished():
                records = self.poll()
                if not records:
                    continue
                offsets = self.on_records(records)
                if not self.auto_commit:
                    self.commit(offsets)
        finally:
            self.consumer.close()
            print_event("shutdown_complete")


def _text(data: bytes | None) -> str | None:
    """StringDeserializer: UTF-8, a malformed byte as U+FFFD."""
    return None if data is None else data.decode("utf-8", errors="replace")


def build(props: dict[str, str]) -> Any:
    from brook.cli.clients import librdkafka_config, new_client

    conf = librdkafka_config(props)
    if conf.get("auto.offset.reset") == "none":
        conf["auto.offset.reset"] = "error"  # librdkafka's name: no committed offset is an error, not a reset
    return new_client("consumer", conf, "org.apache.kafka.clients.consumer.ConsumerConfig")


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    res, consumer = create_from_args(arg_parser(), argv, consumer_props, build)
    stopper = Stopper()
    VerifiableConsumer(consumer, res, stopper).run()
    return stopper.exit_code()


if __name__ == "__main__":
    sys.exit(main())
