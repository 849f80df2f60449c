"""kafka-verifiable-producer and kafka-verifiable-consumer against Kafka 3.9's VerifiableProducer and
VerifiableConsumer (tools/): their JSON events (Jackson's field order, no spaces), exit statuses and argparse4j
messages; and kafka-producer-perf-test's argparse4j command line (ProducerPerformance)."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import time

import pytest
from cli_helpers import start, tool
from conftest import module_broker

SUCCESS = ["timestamp", "name", "key", "value", "topic", "partition", "offset"]
ERROR = ["timestamp", "name", "topic", "key", "value", "exception", "message"]
TOOL_DATA = ["timestamp", "name", "sent", "acked", "target_throughput", "avg_throughput"]


@pytest.fixture(scope="module")
def broker(tmp_path_factory):  # noqa: ANN201
    with module_broker(tmp_path_factory, "verifiable") as b:
        yield b


def create(broker, topic: str, *args: str) -> None:  # noqa: ANN001
    r = tool("kafka-topics", "--bootstrap-server", broker.bootstrap, "--create", "--topic", topic, *args)
    assert r.returncode == 0, r.stderr


def events(stdout: str) -> list[dict]:
    lines = stdout.splitlines()
    assert all(re.fullmatch(r'\{"timestamp":\d{13},"name":"\w+".*\}', line) for line in lines), stdout
    return [json.loads(line) for line in lines]


def test_verifiable_producer_events(broker) -> None:
    create(broker, "vp", "--partitions", "1")
    r = tool("kafka-verifiable-producer", "--bootstrap-server", broker.bootstrap, "--topic", "vp",
             "--max-messages", "5")
    assert (r.returncode, r.stderr) == (0, "")
    out = events(r.stdout)
    # {"timestamp":..,"name":"startup_complete"}, a success per record, then the shutdown hook's two lines
    assert [e["name"] for e in out] == (["startup_complete"] + ["producer_send_success"] * 5
                                        + ["shutdown_complete", "tool_data"])
    assert list(out[0]) == ["timestamp", "name"] and list(out[-2]) == ["timestamp", "name"]
    assert all(list(e) == SUCCESS for e in out[1:6])
    assert [(e["key"], e["value"], e["topic"], e["partition"], e["offset"]) for e in out[1:6]] == [
        (None, str(i), "vp", 0, i) for i in range(5)]
    assert list(out[-1]) == TOOL_DATA
    assert (out[-1]["sent"], out[-1]["acked"], out[-1]["target_throughput"]) == (5, 5, -1)
    assert isinstance(out[-1]["avg_throughput"], float)

    # a record the broker refuses: producer_send_error with the Java exception's class and message
    create(broker, "vp-small", "--partitions", "1", "--config", "max.message.bytes=10")
    r = tool("kafka-verifiable-producer", "--bootstrap-server", broker.bootstrap, "--topic", "vp-small",
             "--max-messages", "1", "--value-prefix", "123456", "--acks", "1")
    out = events(r.stdout)
    assert [e["name"] for e in out] == ["startup_complete", "producer_send_error", "shutdown_complete", "tool_data"]
    assert list(out[1]) == ERROR
    assert {k: out[1][k] for k in ERROR[2:]} == {
        "topic": "vp-small", "key": None, "value": "123456.0",
        "exception": "class org.apache.kafka.common.errors.RecordTooLargeException",
        "message": "The request included a message larger than the max message size the server will accept."}
    assert (out[-1]["sent"], out[-1]["acked"]) == (1, 0)


def test_verifiable_producer_command_line(broker) -> None:
    r = tool("kafka-verifiable-producer")  # no arguments: the help, exit 0
    assert r.returncode == 0 and r.stdout.startswith(
        "usage: verifiable-producer [-h] --topic TOPIC [--max-messages MAX-MESSAGES]\n")
    assert "\nConnection Group:\n  Group of arguments for connection to brokers\n\n  --bootstrap-server" in r.stdout
    assert ("  --max-messages MAX-MESSAGES\n"  # argparse4j's justified help, defaultHelp's suffix
            "                         Produce  this  many   messages.   If  -1,  produce\n"
            "                         messages until the  process  is killed externally.\n"
            "                         (default: -1)\n") in r.stdout
    usage = ("usage: verifiable-producer [-h] --topic TOPIC [--max-messages MAX-MESSAGES]\n"
             "                           [--throughput THROUGHPUT] [--acks ACKS]\n"
             "                           [--producer.config CONFIG_FILE]\n"
             "                           [--message-create-time CREATETIME]\n"
             "                           [--value-prefix VALUE-PREFIX]\n"
             "                           [--repeating-keys REPEATING-KEYS]\n"
             "                           (--bootstrap-server HOST1:PORT1[,HOST2:PORT2[...]]\n"
             "                           | --broker-list HOST1:PORT1[,HOST2:PORT2[...]])\n")
    for args, error in (
            (["--topic", "t", "--acks", "2", "--bootstrap-server", broker.bootstrap],
             "verifiable-producer: error: argument  --acks:  invalid  choice: '2' (choose\nfrom {0,1,-1})\n"),
            (["--topic", "t"], "verifiable-producer: error:  one  of  the  arguments  --bootstrap-server --\n"
                               "broker-list is required\n"),  # argparse4j 0.7.0's TextHelper.wrap, checked
            (["--topic", "t", "--bootstrap-server", "a:1", "--broker-list", "b:2"],
             "verifiable-producer:  error:  argument  --broker-list:   not  allowed  with\n"
             "argument --bootstrap-server\n"),
            (["--topic", "t", "--bootstrap-server", "a:1", "--producer.config", "missing.properties"],
             "verifiable-producer: error: missing.properties\n")):  # NoSuchFileException's message
        r = tool("kafka-verifiable-producer", *args)
        assert (r.returncode, r.stdout, r.stderr) == (1, "", usage + error), r.stderr


def test_verifiable_consumer_events(broker) -> None:
    create(broker, "vc", "--partitions", "3")
    r = tool("kafka-verifiable-producer", "--bootstrap-server", broker.bootstrap, "--topic", "vc",
             "--max-messages", "30", "--repeating-keys", "5")
    assert r.returncode == 0, r.stderr
    r = tool("kafka-verifiable-consumer", "--bootstrap-server", broker.bootstrap, "--topic", "vc", "--group-id",
             "vc-group", "--max-messages", "30", "--verbose")
    assert (r.returncode, r.stderr) == (0, "")
    out = events(r.stdout)
    everything = [{"topic": "vc", "partition": p} for p in range(3)]
    assert out[0]["name"] == "startup_complete"
    assert out[1] == {"timestamp": out[1]["timestamp"], "name": "partitions_assigned", "partitions": everything}
    assert [e["name"] for e in out[-2:]] == ["partitions_revoked", "shutdown_complete"]
    assert out[-2]["partitions"] == everything
    polls = out[2:-2]
    records = [e for e in polls if e["name"] == "record_data"]
    assert all(list(e) == SUCCESS for e in records)
    assert sorted(int(e["value"]) for e in records) == list(range(30))
    # records_consumed summarises the poll; offsets_committed follows it with the next offsets
    consumed = [e for e in polls if e["name"] == "records_consumed"]
    committed = [e for e in polls if e["name"] == "offsets_committed"]
    assert len(consumed) == len(committed) and sum(e["count"] for e in consumed) == 30
    for c, o in zip(consumed, committed, strict=True):
        assert list(c) == ["timestamp", "name", "count", "partitions"]
        assert all(list(s) == ["topic", "partition", "count", "minOffset", "maxOffset"] for s in c["partitions"])
        assert list(o) == ["timestamp", "name", "offsets", "success"] and o["success"] is True
        assert sorted((x["partition"], x["offset"]) for x in o["offsets"]) == sorted(
            (s["partition"], s["maxOffset"] + 1) for s in c["partitions"])
    ends = {p: sum(1 for e in records if e["partition"] == p) for p in range(3)}
    r = tool("kafka-consumer-groups", "--bootstrap-server", broker.bootstrap, "--describe", "--group", "vc-group")
    rows = [line.split() for line in r.stdout.splitlines()[2:]]
    assert {int(row[2]): (int(row[3]), int(row[5])) for row in rows} == {p: (n, 0) for p, n in ends.items()}


def read_events_until(proc, done, timeout: float = 20) -> list[dict]:  # noqa: ANN001
    """A running tool's JSON events, read until done(events) holds (bounded by timeout)."""
    assert proc.stdout is not None
    fd, buf, deadline = proc.stdout.fileno(), b"", time.monotonic() + timeout
    while True:
        got = [json.loads(line) for line in buf.decode().splitlines(keepends=True) if line.endswith("\n")]
        if done(got):
            return got
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out, got {buf!r}"
        if select.select([fd], [], [], remaining)[0]:
            chunk = os.read(fd, 65536)
            assert chunk, f"tool exited after {buf!r}"
            buf += chunk


def test_verifiable_consumer_shutdown_hook_and_autocommit(broker) -> None:
    create(broker, "vc-term", "--partitions", "2")
    r = tool("kafka-verifiable-producer", "--bootstrap-server", broker.bootstrap, "--topic", "vc-term",
             "--max-messages", "4")
    assert r.returncode == 0, r.stderr
    proc = start("kafka-verifiable-consumer", "--bootstrap-server", broker.bootstrap, "--topic", "vc-term",
                 "--group-id", "vc-term-group", "--enable-autocommit")
    try:
        seen = read_events_until(proc, lambda got: sum(e.get("count", 0) for e in got
                                                       if e["name"] == "records_consumed") == 4)
    finally:
        proc.send_signal(signal.SIGTERM)  # the shutdown hook: close the consumer, then shutdown_complete
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 143  # the JVM's status after SIGTERM
    names = [e["name"] for e in seen] + [json.loads(line)["name"] for line in out.decode().splitlines()]
    assert names[:2] == ["startup_complete", "partitions_assigned"]
    assert names[-2:] == ["partitions_revoked", "shutdown_complete"]
    assert "offsets_committed" not in names  # auto-commit: the tool reports no commits
    r = tool("kafka-consumer-groups", "--bootstrap-server", broker.bootstrap, "--describe", "--group",
             "vc-term-group")
    assert sum(int(line.split()[3]) for line in r.stdout.splitlines()[2:]) == 4  # committed on close


PERF_USAGE = (  # Kafka 3.9's producer-performance at argparse4j's 75 columns
    "usage: producer-performance [-h] --topic TOPIC --num-records NUM-RECORDS\n"
    "                            [--payload-delimiter PAYLOAD-DELIMITER]\n"
    "                            --throughput THROUGHPUT\n"
    "                            [--producer-props PROP-NAME=PROP-VALUE [PROP-NAME=PROP-VALUE ...]]\n"
    "                            [--producer.config CONFIG-FILE]\n"
    "                            [--print-metrics]\n"
    "                            [--transactional-id TRANSACTIONAL-ID]\n"
    "                            [--transaction-duration-ms TRANSACTION-DURATION]\n"
    "                            (--record-size RECORD-SIZE |\n"
    "                            --payload-file PAYLOAD-FILE |\n"
    "                            --payload-monotonic)\n")


def test_producer_perf_test_command_line() -> None:
    r = tool("kafka-producer-perf-test")  # ProducerPerformance.start: no arguments, the help and exit 0
    assert r.returncode == 0 and r.stdout.startswith(
        PERF_USAGE + "\nThis tool is used to verify the producer performance.\n\noptional arguments:\n"
        "  -h, --help             show this help message and exit\n"
        "  --topic TOPIC          produce messages to this topic\n"
        "  --num-records NUM-RECORDS\n"
        "                         number of messages to produce\n"
        "  --payload-delimiter PAYLOAD-DELIMITER\n"
        "                         provides delimiter to be  used when --payload-file\n"
        "                         is provided. Defaults to new  line. Note that this\n"
        "                         parameter will  be  ignored  if  --payload-file is\n"
        "                         not provided. (default: \\n)\n"
        "  --throughput THROUGHPUT\n"
        "                         throttle    maximum    message    throughput    to\n"
        "                         *approximately* THROUGHPUT messages/sec.  Set this\n"
        "                         to -1 to disable throttling.\n")
    assert ("\n  either --record-size or --payload-file must be specified but not both.\n\n"
            "  --record-size RECORD-SIZE\n") in r.stdout  # the payload group, after the other options
    base = ["--topic", "t", "--num-records", "1", "--throughput", "-1"]
    for args, error in (
            (base + ["--producer-props", "a=b"],
             "producer-performance: error: one of  the arguments --record-size --payload-\n"
             "file --payload-monotonic is required\n"),  # argparse4j 0.7.0's TextHelper.wrap, checked
            (base + ["--record-size", "1", "--payload-monotonic"],
             "producer-performance:  error:  argument  --payload-monotonic:  not  allowed\n"
             "with argument --record-size\n"),
            (["--topic", "t", "--num-records", "1", "--throughput", "fast", "--record-size", "1"],
             "producer-performance:  error:  argument  --throughput:  could  not  convert\n"
             "'fast' to Double (For input string: \"fast\")\n"),
            (base + ["--record-size", "1", "--producer.config"],
             "producer-performance:  error:  argument   --producer.config:  expected  one\nargument\n"),
            (base + ["--record-size", "1"],
             "producer-performance: error: Either  --producer-props  or --producer.config\nmust be specified.\n"),
            (base + ["--record-size", "1", "--help"], None)):
        r = tool("kafka-producer-perf-test", *args)
        if error is None:  # --help: the help on stdout, then handleError does nothing and the tool exits 1
            assert (r.returncode, r.stderr) == (1, "") and r.stdout.startswith(PERF_USAGE)
        else:
            assert (r.returncode, r.stdout, r.stderr) == (1, "", PERF_USAGE + error), r.stderr


def test_verifiable_consumer_without_offsets_and_reset_policy_none(broker) -> None:
    create(broker, "vc-none", "--partitions", "1")
    r = tool("kafka-verifiable-consumer", "--bootstrap-server", broker.bootstrap, "--topic", "vc-none", "--group-id",
             "vc-none-group", "--reset-policy", "none")
    # poll throws NoOffsetForPartitionException: VerifiableConsumer.run logs it, closes and exits normally
    assert r.returncode == 0
    assert [e["name"] for e in events(r.stdout)] == ["startup_complete", "partitions_assigned", "partitions_revoked",
                                                     "shutdown_complete"]
    assert r.stderr.endswith("org.apache.kafka.clients.consumer.NoOffsetForPartitionException: Undefined offset "
                             "with no reset policy for partitions: [vc-none-0]\n")


def test_verifiable_producer_shutdown_hook(broker) -> None:
    create(broker, "vp-term", "--partitions", "1")
    proc = start("kafka-verifiable-producer", "--bootstrap-server", broker.bootstrap, "--topic", "vp-term",
                 "--throughput", "50")  # no --max-messages: until killed
    try:
        seen = read_events_until(proc, lambda got: sum(e["name"] == "producer_send_success" for e in got) >= 3)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 143
    rest = [json.loads(line) for line in out.decode().splitlines()]
    assert seen[0]["name"] == "startup_complete"
    assert [e["name"] for e in rest[-2:]] == ["shutdown_complete", "tool_data"]
    sent = sum(e["name"] == "producer_send_success" for e in seen + rest)
    assert (rest[-1]["sent"], rest[-1]["acked"], rest[-1]["target_throughput"]) == (sent, sent, 50)
