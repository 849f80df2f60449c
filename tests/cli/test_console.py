"""kafka-console-producer and kafka-console-consumer: LineMessageReader's parsing, DefaultMessageFormatter's
layout, offsets, limits and errors (ConsoleProducer.scala, ConsoleConsumer*.java, DefaultMessageFormatter.java)."""

from __future__ import annotations

import re
import struct

from cli_helpers import LOG_PREFIX, produce, tool

CONSUMER_LOGGER = r"\(org.apache.kafka.tools.consumer.ConsoleConsumer\)"


def consume(broker, topic: str, *args: str):  # noqa: ANN001, ANN201
    return tool("kafka-console-consumer", "--bootstrap-server", broker.bootstrap, "--topic", topic, *args)


def test_keys_headers_and_null_marker_round_trip(broker) -> None:
    produce(broker.bootstrap, "kv", ["h1:v1,h2:v2\tk1\tone", "h3:NULL\tNULL\ttwo", "NULL\tk3\tNULL"],
            "--property", "parse.key=true", "--property", "parse.headers=true", "--property", "null.marker=NULL")
    r = consume(broker, "kv", "--from-beginning", "--max-messages", "3", "--property", "print.key=true",
                "--property", "print.headers=true", "--property", "print.offset=true",
                "--property", "print.partition=true", "--property", "key.separator= | ")
    assert r.returncode == 0, r.stderr
    # DefaultMessageFormatter.writeTo: Partition:, Offset:, headers, key, value joined by key.separator
    assert r.stdout == ("Partition:0 | Offset:0 | h1:v1,h2:v2 | k1 | one\n"
                        "Partition:0 | Offset:1 | h3:null | null | two\n"
                        "Partition:0 | Offset:2 | NO_HEADERS | k3 | null\n")
    assert r.stderr == "Processed a total of 3 messages\n"  # ConsoleConsumer.reportRecordCount

    r = consume(broker, "kv", "--from-beginning", "--max-messages", "1", "--property", "print.timestamp=true",
                "--property", "print.value=false", "--property", "print.key=true",
                "--property", "line.separator=;")
    assert re.fullmatch(r"CreateTime:\d{13}\tk1;", r.stdout), r.stdout


def test_partition_offset_and_limits(broker) -> None:
    produce(broker.bootstrap, "p", [f"a{i}" for i in range(5)], "--property", "parse.key=true",
            "--property", "key.separator=:", "--property", "ignore.error=true")
    for offset, expected in (("earliest", "a0"), ("2", "a2")):
        r = consume(broker, "p", "--partition", "0", "--offset", offset, "--max-messages", "1")
        assert (r.returncode, r.stdout) == (0, expected + "\n"), r.stderr
    r = consume(broker, "p", "--partition", "0", "--offset", "earliest", "--timeout-ms", "1000")
    assert r.returncode == 0
    assert r.stdout == "".join(f"a{i}\n" for i in range(5))
    # ConsoleConsumer.process: the TimeoutException ends the loop through LOG.error, then the count
    assert re.fullmatch(LOG_PREFIX + "ERROR Error processing message, terminating consumer process:  "
                        + CONSUMER_LOGGER + "\norg.apache.kafka.common.errors.TimeoutException\n"
                        "Processed a total of 5 messages\n", r.stderr), r.stderr


def test_group_commits_what_it_printed(broker) -> None:
    produce(broker.bootstrap, "g", ["1", "2", "3"])
    first = consume(broker, "g", "--group", "readers", "--from-beginning", "--max-messages", "2")
    second = consume(broker, "g", "--group", "readers", "--max-messages", "1")
    assert (first.stdout, second.stdout) == ("1\n2\n", "3\n")


def test_deserializers_and_skip_message_on_error(broker) -> None:
    produce(broker.bootstrap, "nums", [])
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": broker.bootstrap})
    for value in (struct.pack(">q", 42), b"odd", struct.pack(">q", -7)):
        producer.produce("nums", value=value)
    assert producer.flush(10) == 0
    serde = "org.apache.kafka.common.serialization."
    r = consume(broker, "nums", "--from-beginning", "--max-messages", "3", "--skip-message-on-error",
                "--value-deserializer", serde + "LongDeserializer")
    assert r.stdout == "42\n-7\n"
    # ConsoleConsumer.process: "Error processing message, skipping this message: " and the exception
    assert re.search(LOG_PREFIX + "ERROR Error processing message, skipping this message:  " + CONSUMER_LOGGER
                     + "\norg.apache.kafka.common.errors.SerializationException: Size of data received by "
                     "LongDeserializer is not 8\n", r.stderr), r.stderr
    assert r.stderr.endswith("Processed a total of 3 messages\n")

    r = consume(broker, "nums", "--from-beginning", "--max-messages", "3", "--property",
                f"value.deserializer={serde}BytesDeserializer")
    assert r.stdout == "\\x00\\x00\\x00\\x00\\x00\\x00\\x00*\nodd\n\\xFF\\xFF\\xFF\\xFF\\xFF\\xFF\\xFF\\xF9\n"

    r = consume(broker, "nums", "--from-beginning", "--max-messages", "3", "--value-deserializer",
                serde + "LongDeserializer")
    assert (r.returncode, r.stdout) == (1, "42\n")  # without --skip-message-on-error the consumer stops
    assert re.search("Processed a total of 2 messages\n" + LOG_PREFIX + "ERROR Unknown error when running consumer: "
                     " " + CONSUMER_LOGGER, r.stderr), r.stderr


def test_producer_line_errors(broker) -> None:
    r = tool("kafka-console-producer", "--bootstrap-server", broker.bootstrap, "--topic", "e",
             "--property", "parse.key=true", stdin="k\tv\nno separator\n")
    # LineMessageReader.parse: KafkaException, printed by ConsoleProducer.main's printStackTrace
    assert (r.returncode, r.stderr) == (1, "org.apache.kafka.common.KafkaException: No key separator found on line "
                                           "number 2: 'no separator'\n")
    r = tool("kafka-console-producer", "--bootstrap-server", broker.bootstrap, "--topic", "e",
             "--property", "parse.headers=true", "--property", "headers.separator=:", stdin="x\n")
    assert (r.returncode, r.stderr) == (1, "org.apache.kafka.common.KafkaException: headers.separator and "
                                           "headers.key.separator may not be equal\n")
    assert consume(broker, "e", "--from-beginning", "--max-messages", "1", "--property",
                   "print.key=true").stdout == "k\tv\n"  # the line before the bad one was sent

    r = tool("kafka-console-producer", "--bootstrap-server", broker.bootstrap, "--topic", "e", "--sync",
             "--compression-codec", "--request-required-acks", "1", stdin="zipped\n")
    assert (r.returncode, r.stderr) == (0, "")
    r = tool("kafka-console-producer", "--bootstrap-server", broker.bootstrap, "--topic", "e",
             "--compression-codec", "brotli", stdin="x\n")
    assert (r.returncode, r.stderr) == (1, "org.apache.kafka.common.config.ConfigException: Invalid value brotli "
                                           "for configuration compression.type: String must be one of: none, gzip, "
                                           "snappy, lz4, zstd\n")


def test_consumer_option_errors(broker) -> None:
    bs = broker.bootstrap
    cases = {  # ConsoleConsumerOptions.java: printUsageAndExit(parser, <message>)
        ("--bootstrap-server", bs): "Exactly one of --include/--topic is required. ",
        ("--bootstrap-server", bs, "--topic", "t", "--offset", "3"): "The partition is required when offset is "
                                                                       "specified.",
        ("--bootstrap-server", bs, "--topic", "t", "--partition", "0", "--offset", "-3"):
            "The provided offset value '-3' is incorrect. Valid values are 'earliest', 'latest', or a non-negative "
            "long.",
        ("--bootstrap-server", bs, "--topic", "t", "--partition", "0", "--group", "g"):
            "Options group and partition cannot be specified together.",
        ("--topic", "t"): 'Missing required argument "[bootstrap-server]"',
        ("--bootstrap-server", bs, "--topic", "t", "--formatter", "com.example.Fmt"): "com.example.Fmt",
    }
    for args, message in cases.items():
        r = tool("kafka-console-consumer", *args)
        assert r.returncode == 1, args
        assert r.stderr.startswith(message + "\nOption "), (args, r.stderr[:200])
    r = consume(broker, "t", "--isolation-level", "read_some")
    assert r.returncode == 1  # KafkaConsumer's ConfigException, logged by ConsoleConsumer.main
    assert re.fullmatch(LOG_PREFIX + "ERROR Unknown error when running consumer:  " + CONSUMER_LOGGER + "\n"
                        "org.apache.kafka.common.config.ConfigException: Invalid value read_some for configuration "
                        "isolation.level: String must be one of: read_committed, read_uncommitted\n", r.stderr)
