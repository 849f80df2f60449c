"""kafka-console-producer: standard input lines to a topic, as Kafka's ConsoleProducer and its LineMessageReader
(core/src/main/scala/kafka/tools/ConsoleProducer.scala, Kafka 3.9)."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, BinaryIO

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
    valid_host_ports,
)

READERS = ("kafka.tools.ConsoleProducer$LineMessageReader", "kafka.tools.LineMessageReader",
           "org.apache.kafka.tools.LineMessageReader")
CALLBACK_LOGGER = "org.apache.kafka.clients.producer.internals.ErrorLoggingCallback"
PROPERTY_DOC = """A mechanism to pass user-defined properties in the form key=value to the message reader. This \
allows custom configuration for a user-defined message reader.
Default properties include:
 parse.key=false
 parse.headers=false
 ignore.error=false
 key.separator=\\t
 headers.delimiter=\\t
 headers.separator=,
 headers.key.separator=:
 null.marker=   When set, any fields (key, value and headers) equal to this will be replaced by null
Default parsing pattern when:
 parse.headers=true and parse.key=true:
  "h1:v1,h2:v2...\\tkey\\tvalue"
 parse.key=true:
  "key\\tvalue"
 parse.headers=true:
  "h1:v1,h2:v2...\\tvalue"
"""


class KafkaException(Exception):
    """org.apache.kafka.common.KafkaException, as LineMessageReader throws it."""

    def java(self) -> str:
        return f"org.apache.kafka.common.KafkaException: {self}"


class ProducerOptions:
    def __init__(self, args: Sequence[str]) -> None:
        p = self.parser = OptionParser()
        self.topic = p.accepts("topic", "REQUIRED: The topic id to produce messages to.", arg="required",
                               described_as="topic")
        self.broker_list = p.accepts("broker-list", "DEPRECATED, use --bootstrap-server instead; ignored if "
                                     "--bootstrap-server is specified.  The broker list string in the form "
                                     "HOST1:PORT1,HOST2:PORT2.", arg="required", described_as="broker-list")
        self.bootstrap_server = p.accepts(
            "bootstrap-server", "REQUIRED unless --broker-list(deprecated) is specified. The server(s) to connect to. "
            "The broker list string in the form HOST1:PORT1,HOST2:PORT2.", arg="required",
            described_as="server to connect to", required_unless=("broker-list",))
        self.sync = p.accepts("sync", "If set message send requests to the brokers are synchronously, one at a time "
                              "as they arrive.")
        self.compression = p.accepts("compression-codec", "The compression codec: either 'none', 'gzip', 'snappy', "
                                     "'lz4', or 'zstd'.If specified without value, then it defaults to 'gzip'",
                                     arg="optional", described_as="compression-codec")
        self.batch_size = p.accepts("batch-size", "Number of messages to send in a single batch if they are not being "
                                    "sent synchronously. please note that this option will be replaced if "
                                    "max-partition-memory-bytes is also set", arg="required", type="Integer",
                                    described_as="size", default=("16384",))
        self.retries = p.accepts(
            "message-send-max-retries", "Brokers can fail receiving the message for multiple reasons, and being "
            "unavailable transiently is just one of them. This property specifies the number of retries before the "
            "producer give up and drop this message. This is the option to control `retries` in producer configs.",
            arg="required", type="Integer", default=("3",))
        self.retry_backoff = p.accepts(
            "retry-backoff-ms", "Before each retry, the producer refreshes the metadata of relevant topics. Since "
            "leader election takes a bit of time, this property specifies the amount of time that the producer waits "
            "before refreshing the metadata. This is the option to control `retry.backoff.ms` in producer configs.",
            arg="required", type="Long", default=("100",))
        self.timeout = p.accepts(
            "timeout", "If set and the producer is running in asynchronous mode, this gives the maximum amount of "
            "time a message will queue awaiting sufficient batch size. The value is given in ms. This is the option "
            "to control `linger.ms` in producer configs.", arg="required", type="Long", described_as="timeout_ms",
            default=("1000",))
        self.acks = p.accepts("request-required-acks", "The required `acks` of the producer requests", arg="required",
                              described_as="request required acks", default=("-1",))
        self.request_timeout = p.accepts("request-timeout-ms", "The ack timeout of the producer requests. Value must "
                                         "be non-negative and non-zero.", arg="required", type="Integer",
                                         described_as="request timeout ms", default=("1500",))
        self.metadata_expiry = p.accepts(
            "metadata-expiry-ms", "The period of time in milliseconds after which we force a refresh of metadata even "
            "if we haven't seen any leadership changes. This is the option to control `metadata.max.age.ms` in "
            "producer configs.", arg="required", type="Long", described_as="metadata expiration interval",
            default=("300000",))
        self.max_block = p.accepts("max-block-ms", "The max time that the producer will block for during a send "
                                   "request.", arg="required", type="Long", described_as="max block on send",
                                   default=("60000",))
        self.max_memory = p.accepts(
            "max-memory-bytes", "The total memory used by the producer to buffer records waiting to be sent to the "
            "server. This is the option to control `buffer.memory` in producer configs.", arg="required", type="Long",
            described_as="total memory in bytes", default=("33554432",))
        self.max_partition_memory = p.accepts(
            "max-partition-memory-bytes", "The buffer size allocated for a partition. When records are received "
            "which are smaller than this size the producer will attempt to optimistically group them together until "
            "this size is reached. This is the option to control `batch.size` in producer configs.", arg="required",
            type="Integer", described_as="memory in bytes per partition", default=("16384",))
        self.reader = p.accepts("line-reader", "The class name of the class to use for reading lines from standard "
                                "in. By default each line is read as a separate message.", arg="required",
                                described_as="reader_class", default=(READERS[0],))
        self.socket_buffer = p.accepts("socket-buffer-size", "The size of the tcp RECV size. This is the option to "
                                       "control `send.buffer.bytes` in producer configs.", arg="required",
                                       type="Integer", described_as="size", default=("102400",))
        self.property = p.accepts("property", PROPERTY_DOC, arg="required", described_as="prop")
        self.reader_config = p.accepts("reader-config", "Config properties file for the message reader. Note that "
                                       "[property] takes precedence over this config.", arg="required",
                                       described_as="config file")
        self.producer_property = p.accepts("producer-property", "A mechanism to pass user-defined properties in the "
                                           "form key=value to the producer. ", arg="required",
                                           described_as="producer_prop")
        self.producer_config = p.accepts("producer.config", "Producer config properties file. Note that "
                                         "[producer-property] takes precedence over this config.", arg="required",
                                         described_as="config file")
        try:
            self.opts = p.parse(args)
        except OptionError as e:
            print_usage_and_exit(p, str(e))
        maybe_print_help_or_version(p, self.opts, "This tool helps to read data from standard input and publish it "
                                    "to Kafka.")
        check_required_args(p, self.opts, self.topic)
        o = self.opts
        self.servers: str = o.value_of(self.bootstrap_server if o.has(self.bootstrap_server) else self.broker_list)
        if not valid_host_ports(self.servers):
            print_usage_and_exit(p, "Please provide valid host:port like host1:9091,host2:9092\n ")

    def producer_props(self) -> dict[str, str]:
        """ConsoleProducer.producerProps: file, then --producer-property, then the flags (maybeMergeOptions)."""
        o = self.opts
        props = load_props(o.value_of(self.producer_config)) if o.has(self.producer_config) else {}
        props.update(parse_key_value_args(o.values_of(self.producer_property)))
        props["bootstrap.servers"] = self.servers
        reader_partitioner = parse_key_value_args(o.values_of(self.property)).get("partitioner")
        if reader_partitioner is not None:  # Brook: --property partitioner=<class> as partitioner.class
            props.setdefault("partitioner.class", reader_partitioner)
        codec = o.value_of(self.compression) if o.has(self.compression) else "none"
        props["compression.type"] = codec or "gzip"
        props.setdefault("client.id", "console-producer")
        for key, spec in (("linger.ms", self.timeout), ("acks", self.acks),
                          ("request.timeout.ms", self.request_timeout),
                          ("retries", self.retries), ("retry.backoff.ms", self.retry_backoff),
                          ("send.buffer.bytes", self.socket_buffer), ("buffer.memory", self.max_memory),
                          ("batch.size", self.batch_size), ("batch.size", self.max_partition_memory),
                          ("metadata.max.age.ms", self.metadata_expiry), ("max.block.ms", self.max_block)):
            if o.has(spec) or key not in props:
                props[key] = str(o.value_of(spec))
        return props

    def reader_props(self) -> dict[str, str]:
        o = self.opts
        props = load_props(o.value_of(self.reader_config)) if o.has(self.reader_config) else {}
        props["topic"] = o.value_of(self.topic)
        props.update(parse_key_value_args(o.values_of(self.property)))
        return props


class LineMessageReader:
    """Each input line is one record: [headers<delimiter>][key<separator>]value (ConsoleProducer.LineMessageReader)."""

    def __init__(self, props: dict[str, str]) -> None:
        def flag(name: str) -> bool:
            return props.get(name, "false").strip().lower() == "true"

        self.topic = props["topic"]
        self.parse_key, self.parse_headers, self.ignore_error = (flag("parse.key"), flag("parse.headers"),
                                                                 flag("ignore.error"))
        self.key_separator = props.get("key.separator", "\t")
        self.headers_delimiter = props.get("headers.delimiter", "\t")
        self.headers_separator = props.get("headers.separator", ",")
        self.headers_key_separator = props.get("headers.key.separator", ":")
        self.null_marker = props.get("null.marker")
        self.line_number = 0
        pairs = (("headers.delimiter", "headers.separator"), ("headers.delimiter", "headers.key.separator"),
                 ("headers.separator", "headers.key.separator"))
        for a, b in pairs:
            if self._value(a) == self._value(b):
                raise KafkaException(f"{a} and {b} may not be equal")
        for other in ("key.separator", "headers.separator", "headers.delimiter", "headers.key.separator"):
            if self.null_marker == self._value(other):
                raise KafkaException(f"null.marker and {other} may not be equal")

    def _value(self, name: str) -> str:
        return getattr(self, name.replace(".", "_"))

    def records(self, stream: BinaryIO, prompt: bool) -> Iterator[tuple[bytes | None, bytes | None, list]]:
        while True:
            self.line_number += 1
            if prompt:
                sys.stdout.write(">")
                sys.stdout.flush()
            raw = stream.readline()
            if not raw:
                return
            line = raw.decode("utf-8", errors="replace").removesuffix("\n").removesuffix("\r")
            yield self.parse(line)

    def parse(self, line: str) -> tuple[bytes | None, bytes | None, list]:
        headers = self._field(self.parse_headers, line, 0, self.headers_delimiter, "headers delimiter")
        offset = 0 if headers is None else len(headers) + len(self.headers_delimiter)
        key = self._field(self.parse_key, line, offset, self.key_separator, "key separator")
        value = line[offset + (0 if key is None else len(key) + len(self.key_separator)):]
        out_headers = [] if headers is None or headers == self.null_marker else self._split_headers(headers)
        return (None if key is None or key == self.null_marker else key.encode(),
                None if value == self.null_marker else value.encode(), out_headers)

    def _field(self, enabled: bool, line: str, start: int, separator: str, name: str) -> str | None:
        if not enabled:
            return None
        index = line.find(separator, start)
        if index == -1:
            if self.ignore_error:
                return None
            raise KafkaException(f"No {name} found on line number {self.line_number}: '{line}'")
        return line[start:index]

    def _split_headers(self, headers: str) -> list[tuple[str, bytes | None]]:
        pairs = re.split(self.headers_separator, headers)
        while pairs and pairs[-1] == "":  # java.util.regex.Pattern.split drops trailing empty strings
            pairs.pop()
        out: list[tuple[str, bytes | None]] = []
        for pair in pairs:
            i = pair.find(self.headers_key_separator)
            if i == -1:
                if not self.ignore_error:
                    raise KafkaException(f"No header key separator found in pair '{pair}' on line number "
                                         f"{self.line_number}")
                out.append((pair, None))
                continue
            key, value = pair[:i], pair[i + len(self.headers_key_separator):]
            if key == self.null_marker:
                raise KafkaException(f"Header keys should not be equal to the null marker '{self.null_marker}' as "
                                     "they can't be null")
            out.append((key, None if value == self.null_marker else value.encode()))
        return out


def librdkafka_producer_config(props: dict[str, str]) -> tuple[dict[str, str], float]:
    """The producer's Java properties for librdkafka (clients.producer_config), and max.block.ms in seconds.
    librdkafka's message timeout stands in for max.block.ms unless one is given."""
    from brook.cli.clients import producer_config

    max_block_s = int(props.get("max.block.ms", "60000")) / 1000
    conf = producer_config(props)
    # a record waits up to linger.ms to be sent, then up to max.block.ms for a broker (librdkafka needs the sum)
    conf.setdefault("message.timeout.ms", str(int(max_block_s * 1000) + int(conf.get("linger.ms", "0"))))
    return conf, max_block_s


def run(o: ProducerOptions, encode: Callable[[bytes | None, bytes | None], tuple[bytes | None, bytes | None]]
        | None = None) -> int:
    """ConsoleProducer.run; `encode` turns each line's key and value into the bytes sent (the schema registry's
    console producers serialize them with a schema)."""
    from confluent_kafka import KafkaException as CKafkaException

    from brook.cli.clients import ToolError, delivery_error, from_kafka, new_client
    from brook.cli.partitioners import explicit

    props = o.producer_props()
    conf, max_block_s = librdkafka_producer_config(props)
    partitioning = explicit(props)
    topic = o.opts.value_of(o.topic)

    def on_delivery(err: Any, msg: Any) -> None:
        if err is not None:
            failed(msg.key(), msg.value(), delivery_error(err, msg, int(max_block_s * 1000)))

    def failed(key: bytes | None, value: bytes | None, error: ToolError) -> None:
        """ErrorLoggingCallback(topic, key, value, logAsString=false).onCompletion with the exception."""
        failures.append(error)
        log("ERROR", f"Error when sending message to topic {topic} with key: "
            f"{'null' if key is None else f'{len(key)} bytes'}, value: "
            f"{'null' if value is None else f'{len(value)} bytes'} with error:", CALLBACK_LOGGER, error.java())

    failures: list[ToolError] = []
    producer = new_client("producer", conf, "org.apache.kafka.clients.producer.ProducerConfig")
    try:
        reader_class = o.opts.value_of(o.reader)
        if reader_class not in READERS:
            raise ToolError("java.lang.ClassNotFoundException", reader_class)
        reader = LineMessageReader(o.reader_props())
        prompt = sys.stdin.isatty() and sys.stdout.isatty()  # LineMessageReader: System.console != null
        for key, value, headers in reader.records(sys.stdin.buffer, prompt):
            if encode is not None:
                key, value = encode(key, value)
            try:  # a partitioner waits for the topic's metadata as KafkaProducer.waitOnMetadata does
                partition = -1 if partitioning is None else partitioning.partition(producer, topic, key, value)
            except ToolError as e:  # send() hands the TimeoutException to the callback
                failed(key, value, e)
                partition = None
            while partition is not None:
                try:
                    producer.produce(topic, value=value, key=key, partition=partition, headers=headers or None,
                                     on_delivery=on_delivery)
                    break
                except BufferError:  # buffer.memory is full: Java's send() blocks, so wait for room
                    producer.poll(0.1)
                except CKafkaException as e:
                    raise from_kafka(e) from None
            if o.opts.has(o.sync):
                producer.flush()
                if failures:  # send(record).get() throws
                    raise ToolError("java.util.concurrent.ExecutionException", failures[-1].java())
            else:
                producer.poll(0)
    finally:
        producer.flush(int(conf["message.timeout.ms"]) / 1000 + 5)  # producer.close(): every record settles
    return 0


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    o = ProducerOptions(sys.argv[1:] if argv is None else argv)
    try:
        return run(o)
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except OptionError as e:  # ConsoleProducer.main: an OptionException's message alone
        print(e, file=sys.stderr)
        return 1
    except Exception as e:  # ConsoleProducer.main: e.printStackTrace(); exit 1
        from brook.cli.clients import java_text

        java = f"java.io.FileNotFoundException: {e}" if isinstance(e, FileNotFoundError) else java_text(e)
        print(java, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
