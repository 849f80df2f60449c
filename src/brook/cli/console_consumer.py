"""kafka-console-consumer: records of a topic to standard output, as Kafka's ConsoleConsumer and
ConsoleConsumerOptions (tools/src/main/java/org/apache/kafka/tools/consumer/, Kafka 3.9)."""

from __future__ import annotations

import os
import random
import re
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

from brook.cli.clients import java_text
from brook.cli.formatter import build as build_formatter
from brook.cli.options import (
    OptionError,
    OptionParser,
    check_required_args,
    entry_point,
    load_props,
    log,
    maybe_print_help_or_version,
    parse_key_value_args,
    print_usage_and_exit,
)

LOGGER = "org.apache.kafka.tools.consumer.ConsoleConsumer"
EARLIEST, LATEST = -2, -1  # ListOffsetsRequest.EARLIEST_TIMESTAMP / LATEST_TIMESTAMP; librdkafka's too
PROPERTY_DOC = ("The properties to initialize the message formatter. Default properties include: \n"
                " print.timestamp=true|false\n print.key=true|false\n print.offset=true|false\n"
                " print.partition=true|false\n print.headers=true|false\n print.value=true|false\n"
                " key.separator=<key.separator>\n line.separator=<line.separator>\n"
                " headers.separator=<line.separator>\n null.literal=<null.literal>\n"
                " key.deserializer=<key.deserializer>\n value.deserializer=<value.deserializer>\n"
                " header.deserializer=<header.deserializer>\n\nUsers can also pass in customized properties for "
                "their formatter; more specifically, users can pass in properties keyed with 'key.deserializer.', "
                "'value.deserializer.' and 'headers.deserializer.' prefixes to configure their deserializers.")


class Terminated(BaseException):
    """SIGTERM: ConsoleConsumer's shutdown hook wakes the consumer up, then the JVM exits with 143."""


class ConsumerOptions:
    def __init__(self, args: Sequence[str]) -> None:
        p = self.parser = OptionParser()
        self.topic = p.accepts("topic", "The topic to consume on.", arg="required", described_as="topic")
        self.whitelist = p.accepts("whitelist", "DEPRECATED, use --include instead; ignored if --include specified. "
                                   "Regular expression specifying list of topics to include for consumption.",
                                   arg="required", described_as="Java regex (String)")
        self.include = p.accepts("include", "Regular expression specifying list of topics to include for "
                                 "consumption.", arg="required", described_as="Java regex (String)")
        self.partition = p.accepts("partition", "The partition to consume from. Consumption starts from the end of "
                                   "the partition unless '--offset' is specified.", arg="required", type="Integer",
                                   described_as="partition")
        self.offset = p.accepts("offset", "The offset to consume from (a non-negative number), or 'earliest' which "
                                "means from beginning, or 'latest' which means from end", arg="required",
                                described_as="consume offset", default=("latest",))
        self.consumer_property = p.accepts("consumer-property", "A mechanism to pass user-defined properties in the "
                                           "form key=value to the consumer.", arg="required",
                                           described_as="consumer_prop")
        self.consumer_config = p.accepts("consumer.config", "Consumer config properties file. Note that "
                                         "[consumer-property] takes precedence over this config.", arg="required",
                                         described_as="config file")
        self.formatter = p.accepts("formatter", "The name of a class to use for formatting kafka messages for "
                                   "display.", arg="required", described_as="class",
                                   default=("org.apache.kafka.tools.consumer.DefaultMessageFormatter",))
        self.property = p.accepts("property", PROPERTY_DOC, arg="required", described_as="prop")
        self.formatter_config = p.accepts("formatter-config", "Config properties file to initialize the message "
                                          "formatter. Note that [property] takes precedence over this config.",
                                          arg="required", described_as="config file")
        self.from_beginning = p.accepts("from-beginning", "If the consumer does not already have an established "
                                        "offset to consume from, start with the earliest message present in the log "
                                        "rather than the latest message.")
        self.max_messages = p.accepts("max-messages", "The maximum number of messages to consume before exiting. If "
                                      "not set, consumption is continual.", arg="required", type="Integer",
                                      described_as="num_messages")
        self.timeout_ms = p.accepts("timeout-ms", "If specified, exit if no message is available for consumption for "
                                    "the specified interval.", arg="required", type="Long", described_as="timeout_ms")
        self.skip_on_error = p.accepts("skip-message-on-error", "If there is an error when processing a message, "
                                       "skip it instead of halt.")
        self.bootstrap_server = p.accepts("bootstrap-server", "REQUIRED: The server(s) to connect to.",
                                          arg="required", described_as="server to connect to")
        self.key_deserializer = p.accepts("key-deserializer", arg="required", described_as="deserializer for key")
        self.value_deserializer = p.accepts("value-deserializer", arg="required",
                                            described_as="deserializer for values")
        self.systest_events = p.accepts("enable-systest-events", "Log lifecycle events of the consumer in addition to "
                                        "logging consumed messages. (This is specific for system tests.)")
        self.isolation_level = p.accepts("isolation-level", "Set to read_committed in order to filter out "
                                         "transactional messages which are not committed. Set to read_uncommitted to "
                                         "read all messages.", arg="required", default=("read_uncommitted",))
        self.group = p.accepts("group", "The consumer group id of the consumer.", arg="required",
                               described_as="consumer group id")
        try:
            self.opts = p.parse(args)
        except OptionError as e:
            print_usage_and_exit(p, str(e))
        maybe_print_help_or_version(p, self.opts, "This tool helps to read data from Kafka topics and outputs it to "
                                    "standard output.")
        try:  # Kafka converts these lazily and fails wherever it first reads one; Brook checks them up front
            for spec in (self.partition, self.max_messages, self.timeout_ms):
                self.opts.value_of(spec)
        except OptionError as e:
            print_usage_and_exit(p, str(e))
        self.check_required_args()
        o = self.opts
        file_props = load_props(o.value_of(self.consumer_config)) if o.has(self.consumer_config) else {}
        extra = parse_key_value_args(o.values_of(self.consumer_property))
        groups = self.check_consumer_group(file_props, extra)
        self.consumer_props = self.build_consumer_props(file_props, extra, groups)
        self.start_offset = self.parse_offset()
        timeout = o.value_of(self.timeout_ms) if o.has(self.timeout_ms) else -1
        self.timeout_s: float | None = timeout / 1000 if timeout >= 0 else None
        self.max = o.value_of(self.max_messages) if o.has(self.max_messages) else -1
        try:
            self.message_formatter = build_formatter(o.value_of(self.formatter), self.formatter_args())
        except (LookupError, OSError) as e:
            print_usage_and_exit(p, str(e.args[0]) if isinstance(e, LookupError) else str(e))

    def check_required_args(self) -> None:
        p, o = self.parser, self.opts
        if (o.value_of(self.topic) is not None) + (self.included() is not None) != 1:
            print_usage_and_exit(p, "Exactly one of --include/--topic is required. " + (
                "--whitelist is DEPRECATED use --include instead; ignored if --include specified."
                if o.has(self.whitelist) else ""))
        if o.has(self.partition):
            if not o.has(self.topic):
                print_usage_and_exit(p, "The topic is required when partition is specified.")
            if o.has(self.from_beginning) and o.has(self.offset):
                print_usage_and_exit(p, "Options from-beginning and offset cannot be specified together.")
        elif o.has(self.offset):
            print_usage_and_exit(p, "The partition is required when offset is specified.")
        check_required_args(p, o, self.bootstrap_server)

    def included(self) -> str | None:
        return self.opts.value_of(self.include if self.opts.has(self.include) else self.whitelist)

    def check_consumer_group(self, file_props: dict[str, str], extra: dict[str, str]) -> list[str]:
        groups: list[str] = []
        for candidate in (self.opts.value_of(self.group), file_props.get("group.id"), extra.get("group.id")):
            if candidate is not None and candidate not in groups:
                groups.append(candidate)
        if len(groups) > 1:
            print_usage_and_exit(self.parser, "The group ids provided in different places (directly using '--group', "
                                 "via '--consumer-property', or via '--consumer.config') do not match. Detected group "
                                 "ids: " + ", ".join(f"'{g}'" for g in groups))
        if groups and self.opts.has(self.partition):
            print_usage_and_exit(self.parser, "Options group and partition cannot be specified together.")
        return groups

    def build_consumer_props(self, file_props: dict[str, str], extra: dict[str, str], groups: list[str]) -> dict:
        o = self.opts
        props = {**file_props, **extra}
        if "auto.offset.reset" in props:
            if o.has(self.from_beginning) and props["auto.offset.reset"] != "earliest":
                print(f"Can't simultaneously specify --from-beginning and 'auto.offset.reset="
                      f"{props['auto.offset.reset']}', please remove one option", file=sys.stderr)
                raise SystemExit(1)
        else:
            props["auto.offset.reset"] = "earliest" if o.has(self.from_beginning) else "latest"
        props["bootstrap.servers"] = o.value_of(self.bootstrap_server)
        props.setdefault("client.id", "console-consumer")
        if o.has(self.isolation_level) or "isolation.level" not in props:
            props["isolation.level"] = o.value_of(self.isolation_level)
        if not groups:
            props["group.id"] = f"console-consumer-{random.randrange(100000)}"
            props.setdefault("enable.auto.commit", "false")
        else:
            props["group.id"] = groups[0]
        return props

    def parse_offset(self) -> int:
        o = self.opts
        if o.has(self.offset):
            raw = o.value_of(self.offset)
            if raw.lower() in ("earliest", "latest"):
                return EARLIEST if raw.lower() == "earliest" else LATEST
            if re.fullmatch(r"[+-]?[0-9]+", raw) and 0 <= int(raw) < 2**63:
                return int(raw)
            print_usage_and_exit(self.parser, f"The provided offset value '{raw}' is incorrect. Valid values are "
                                 "'earliest', 'latest', or a non-negative long.")
        return EARLIEST if o.has(self.from_beginning) else LATEST

    def formatter_args(self) -> dict[str, str]:
        o = self.opts
        args = load_props(o.value_of(self.formatter_config)) if o.has(self.formatter_config) else {}
        for key, spec in (("key.deserializer", self.key_deserializer),
                          ("value.deserializer", self.value_deserializer)):
            if o.value_of(spec):
                args[key] = o.value_of(spec)
        args.update(parse_key_value_args(o.values_of(self.property)))
        return args


def librdkafka_consumer_config(props: dict[str, str]) -> dict[str, str]:
    """The consumer's Java properties for librdkafka; Kafka's ConsumerConfig validates these two itself."""
    from brook.cli.clients import ToolError, librdkafka_config

    for key, allowed in (("auto.offset.reset", ("latest", "earliest", "none")),
                         ("isolation.level", ("read_committed", "read_uncommitted"))):
        if props[key] not in allowed:
            raise ToolError("org.apache.kafka.common.config.ConfigException", f"Invalid value {props[key]} for "
                            f"configuration {key}: String must be one of: {', '.join(allowed)}")
    conf = librdkafka_config(props)
    conf.setdefault("allow.auto.create.topics", "true")  # the Java consumer's default
    conf["enable.auto.offset.store"] = "false"  # only records that were written out get committed
    return conf


class Consumer:
    """ConsoleConsumer.ConsumerWrapper: subscribe or assign, then hand out records one at a time."""

    def __init__(self, o: ConsumerOptions) -> None:
        from confluent_kafka import TopicPartition

        from brook.cli.clients import new_client

        self.warned: set[str] = set()
        conf = {**librdkafka_consumer_config(o.consumer_props), "error_cb": self.on_error}
        self.client = new_client("consumer", conf, "org.apache.kafka.clients.consumer.ConsumerConfig")
        self.context = f"[Consumer clientId={conf['client.id']}, groupId={conf['group.id']}]"
        self.timeout_s = o.timeout_s
        self.buffer: list[Any] = []
        topic = o.opts.value_of(o.topic)
        if topic is not None and o.opts.has(o.partition):
            self.client.assign([TopicPartition(topic, o.opts.value_of(o.partition), o.start_offset)])
        elif topic is not None:
            self.client.subscribe([topic])
        else:
            self.client.subscribe([f"^({o.included()})$"])  # Pattern.matcher(topic).matches()

    def on_error(self, err: Any) -> None:
        from brook.cli.clients import network_warning

        text = network_warning(err.str())
        if text is not None and text not in self.warned:  # NetworkClient's WARN, once per distinct problem
            self.warned.add(text)
            log("WARN", f"{self.context} {text}", "org.apache.kafka.clients.NetworkClient")

    def receive(self, limit: int) -> Any:
        """The next record; raises ToolError(TimeoutException) after --timeout-ms without one."""
        from confluent_kafka import KafkaException

        from brook.cli.clients import ToolError

        start = time.monotonic()
        while not self.buffer:
            wait = 0.5 if self.timeout_s is None else max(0.0, min(0.5, start + self.timeout_s - time.monotonic()))
            for msg in self.client.consume(max(1, min(500, limit)), wait):
                err = msg.error()
                if err is None:
                    self.buffer.append(msg)
                elif err.fatal():
                    raise KafkaException(err)
                elif err.code() not in (-191,):  # _PARTITION_EOF is not an error
                    self.on_error(err)
            if not self.buffer and self.timeout_s is not None and time.monotonic() - start >= self.timeout_s:
                raise ToolError("org.apache.kafka.common.errors.TimeoutException", "")
        return self.buffer.pop(0)

    def processed(self, msg: Any) -> None:
        self.client.store_offsets(message=msg)

    def close(self) -> None:
        self.client.close()


class Progress:
    """ConsoleConsumer.messageCount: records handed to the formatter, reported however the loop ends."""

    count = 0


def process(o: ConsumerOptions, consumer: Consumer, out: Any, progress: Progress) -> None:
    """ConsoleConsumer.process: read until --max-messages, --timeout-ms, an error or a signal."""
    while o.max == -1 or progress.count < o.max:
        try:
            msg = consumer.receive(o.max - progress.count if o.max != -1 else 500)
        except Exception as e:  # includes the --timeout-ms TimeoutException
            log("ERROR", "Error processing message, terminating consumer process: ", LOGGER,
                java_text(e))
            return
        progress.count += 1
        try:
            o.message_formatter.write_to(msg, out)
        except BrokenPipeError:
            raise
        except Exception as e:
            if not o.opts.has(o.skip_on_error):
                raise
            log("ERROR", "Error processing message, skipping this message: ", LOGGER,
                java_text(e))
        consumer.processed(msg)
        if not consumer.buffer:
            out.flush()


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    return run(ConsumerOptions(sys.argv[1:] if argv is None else argv))


def run(o: ConsumerOptions) -> int:
    """ConsoleConsumer.run with parsed options (the schema registry's console consumers bring their formatter)."""

    def on_term(signum: int, frame: Any) -> None:
        raise Terminated()

    signal.signal(signal.SIGTERM, on_term)
    try:
        consumer = Consumer(o)
    except Exception as e:
        log("ERROR", "Unknown error when running consumer: ", LOGGER, java_text(e))
        return 1
    out = sys.stdout.buffer
    progress, status, failure = Progress(), 0, None
    try:
        process(o, consumer, out, progress)
        out.flush()
    except KeyboardInterrupt:
        status = 130
    except Terminated:
        status = 143
    except BrokenPipeError:
        print("Unable to write to standard out, closing consumer.", file=sys.stderr)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except Exception as e:  # a formatter error without --skip-message-on-error
        failure, status = e, 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        consumer.close()
        print(f"Processed a total of {progress.count} messages", file=sys.stderr)  # ConsoleConsumer.reportRecordCount
        if status in (130, 143) and o.opts.has(o.systest_events):
            print("shutdown_complete")
    if failure is not None:
        log("ERROR", "Unknown error when running consumer: ", LOGGER,
            java_text(failure))
    return status


if __name__ == "__main__":
    sys.exit(main())
