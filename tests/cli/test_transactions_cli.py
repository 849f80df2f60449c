"""kafka-transactions against a real broker, with real transactions (confluent-kafka's transactional Producer, and
a raw transactional batch from a producer with no transactional id for a truly hanging one): exact stdout, stderr
and exit codes. Expected strings come from Kafka 3.9's tools/.../TransactionsCommand.java (TC below),
ToolsUtils.prettyPrintTable, the Admin handlers in clients/.../admin/internals/ and argparse4j 0.7.0."""

from __future__ import annotations

import datetime
import io
import re
import socket
import time
import uuid

import pytest
from cli_helpers import tool
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from conftest import BrokerProcess, module_broker
from kafka_wire import Conn

TIMEOUT = 20.0
TS = r"\d{13}"
MAIN_USAGE = ("usage: kafka-transactions.sh [-h] [-v] [--command-config FILE]\n"
              "                             --bootstrap-server host:port COMMAND ...\n")
DEBUG = ". Enable debug logging for additional detail.\n"  # TC.printErrorAndExit(message, cause)


@pytest.fixture(scope="module")
def kafka(tmp_path_factory):
    with module_broker(tmp_path_factory, "txn-cli") as b:
        yield b


def uniq(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def txns(broker: BrokerProcess, *args: str, name: str = "kafka-transactions", timeout: float = 60):  # noqa: ANN201
    return tool(name, "--bootstrap-server", broker.bootstrap, *args, timeout=timeout)


def table(headers: list[str], rows: list[list[str]]) -> str:
    """ToolsUtils.prettyPrintTable: every cell left-aligned to its column's width and followed by a tab."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    return "".join("".join(c + " " * (w - len(c)) + "\t" for c, w in zip(row, widths, strict=True)) + "\n"
                   for row in [headers, *rows])


def rows_of(stdout: str) -> list[list[str]]:
    return [[c.strip() for c in line.split("\t")[:-1]] for line in stdout.splitlines()]


def create_topic(broker: BrokerProcess, partitions: int = 1) -> str:
    name = uniq("txt")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for f in admin.create_topics([NewTopic(name, partitions, 1)]).values():
        f.result(timeout=TIMEOUT)
    return name


def txn_producer(broker: BrokerProcess, txn_id: str) -> Producer:
    p = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": txn_id, "linger.ms": 1,
                  "transaction.timeout.ms": 600000})
    p.init_transactions(TIMEOUT)
    return p


def open_transaction(broker: BrokerProcess, topic: str, values: list[bytes], txn_id: str | None = None) -> Producer:
    """A transaction left open (never committed): its records are in the log, it holds the LSO."""
    p = txn_producer(broker, txn_id or uniq("open"))
    p.begin_transaction()
    for v in values:
        p.produce(topic, value=v, partition=0)
    assert p.flush(TIMEOUT) == 0
    return p


def plain_produce(broker: BrokerProcess, topic: str, values: list[bytes]) -> None:
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 1})
    for v in values:
        p.produce(topic, value=v, partition=0)
    assert p.flush(TIMEOUT) == 0


def hanging_batch(broker: BrokerProcess, topic: str, age_minutes: int) -> int:
    """A transactional batch from an idempotent producer id (no transactional id, so no coordinator will ever end
    it), stamped age_minutes ago: the hanging transaction find-hanging looks for. Returns the producer id."""
    from kio.records.schema import NewRecordBatch, Record
    from kio.records.writers import write_new_batch
    from kio.schema.init_producer_id.v4.request import InitProducerIdRequest
    from kio.schema.init_producer_id.v4.response import InitProducerIdResponse
    from kio.schema.produce.v9.request import PartitionProduceData, ProduceRequest, TopicProduceData
    from kio.schema.produce.v9.response import ProduceResponse

    ts = datetime.datetime.fromtimestamp(time.time() - age_minutes * 60, datetime.UTC)
    with Conn(broker.port) as conn:
        init = conn.request(InitProducerIdRequest(transactional_id=None, transaction_timeout=datetime.timedelta(0)),
                            InitProducerIdResponse)
        assert init.error_code == 0
        buf = io.BytesIO()
        write_new_batch(buf, NewRecordBatch(producer_id=init.producer_id, producer_epoch=init.producer_epoch,
                                            base_sequence=0, attributes=0x10, records=(Record(
                                                attributes=0, timestamp=ts, offset=0, key=None, value=b"hanging",
                                                headers=()),)))
        resp = conn.request(ProduceRequest(transactional_id=None, acks=-1, timeout=datetime.timedelta(seconds=10),
                                           topic_data=(TopicProduceData(name=topic, partition_data=(
                                               PartitionProduceData(index=0, records=buf.getvalue()),)),)),
                            ProduceResponse)
        assert resp.responses[0].partition_responses[0].error_code == 0
    return int(init.producer_id)


def read_committed(broker: BrokerProcess, topic: str) -> tuple[int, list[bytes]]:
    """(last stable offset, every value a read_committed consumer sees up to it)."""
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": uniq("rc"), "isolation.level": "read_committed",
                  "enable.partition.eof": True, "fetch.wait.max.ms": 50})
    try:
        lso = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=TIMEOUT, cached=False)[1]
        c.assign([TopicPartition(topic, 0, 0)])
        got: list[bytes] = []
        deadline = time.monotonic() + TIMEOUT
        while True:
            assert time.monotonic() < deadline, f"no end of partition after {got}"
            msgs = c.consume(100, 0.2)
            got += [m.value() for m in msgs if m.error() is None]
            if any(m.error() is not None and m.error().code() == KafkaError._PARTITION_EOF for m in msgs):
                return lso, got
    finally:
        c.close()


# -- the command line (argparse4j) ---------------------------------------------------------------------------------
def test_command_line_errors(tmp_path) -> None:
    # ArgumentParserImpl.parseArgs: sub-parsers still wanted at the end -> "too few arguments"; handleError prints
    # the usage and "prog: error: message"; TC.execute then Exit.exit(1)
    for args in ((), ("--bootstrap-server", "localhost:9092")):
        r = tool("kafka-transactions", *args)
        assert (r.returncode, r.stdout, r.stderr) == (1, "", MAIN_USAGE + "kafka-transactions.sh: error: too few "
                                                      "arguments\n")
    r = tool("kafka-transactions", "--bootstrap-server", "localhost:9092", "list", "--foo")
    assert (r.returncode, r.stderr) == (1, "usage: kafka-transactions.sh --bootstrap-server host:port list [-h]\n"
                                           "                             [--duration-filter DURATION_FILTER]\n"
                                           "kafka-transactions.sh: error: unrecognized arguments: '--foo'\n")
    r = tool("kafka-transactions", "--bootstrap-server", "localhost:9092", "lst")  # UnrecognizedCommandException
    # TextHelper.wrap: at 75 columns, the cut line justified by adjustSpace
    assert (r.returncode, r.stderr) == (1, MAIN_USAGE + "kafka-transactions.sh: error: invalid  choice:  'lst'  "
                                        "(choose from 'list',\n'describe', 'describe-producers', 'abort', "
                                        "'find-hanging')\n\nDid you mean:\n\tlist\n")
    r = tool("kafka-transactions", "--bootstrap-server", "localhost:9092", "desc")
    assert (r.returncode, r.stderr) == (1, MAIN_USAGE + "kafka-transactions.sh:  error:   ambiguous   command:   desc  "
                                        " could  match\ndescribe, describe-producers\n")
    r = tool("kafka-transactions", "--bootstrap-server", "localhost:9092", "describe")  # checkRequiredArgument
    assert (r.returncode, r.stderr) == (1, "usage: kafka-transactions.sh --bootstrap-server host:port describe [-h]\n"
                                           "                             --transactional-id TRANSACTIONAL_ID\n"
                                           "kafka-transactions.sh: error: argument --transactional-id is required\n")
    r = tool("kafka-transactions", "describe", "--transactional-id", "x")
    assert r.returncode == 1 and r.stderr.endswith("error: argument --bootstrap-server is required\n")
    r = tool("kafka-transactions", "--bootstrap-server", "localhost:9092", "describe-producers", "--topic", "t",
             "--partition", "x")  # ReflectArgumentType.convert
    assert r.returncode == 1 and r.stderr.endswith(
        "kafka-transactions.sh: error: argument --partition:  could  not convert 'x'\nto Integer (For input string: "
        "\"x\")\n")
    r = tool("kafka-transactions", "-h")  # help on stdout, then TC.execute's Exit.exit(1)
    assert r.returncode == 1 and r.stdout.startswith(MAIN_USAGE + "\nThis tool is used to analyze") and r.stderr == ""
    assert "    find-hanging         find hanging transactions\n" in r.stdout

    r = tool("kafka-transactions", "-v")  # PrintVersionAndExitAction: printed while parsing, Exit.exit(0)
    assert (r.returncode, r.stdout) == (0, "3.9.0 (Brook 0.1.0)\n")
    r = tool("kafka-transactions", "--bootstrap-server", "localhost", "list")  # Admin.create throws, uncaught
    assert (r.returncode, r.stderr) == (1, "Exception in thread \"main\" org.apache.kafka.common.KafkaException: "
                                           "Failed to create new KafkaAdminClient\n")

    # checks TC makes after parsing, before any request: printErrorAndExit(message)
    checks = {
        ("abort", "--topic", "t", "--partition", "0"): "The transaction to abort must be identified either with "
        "--start-offset (for brokers on 3.0 or above) or with --producer-id, --producer-epoch, and "
        "--coordinator-epoch (for older brokers)",
        ("abort", "--topic", "t", "--partition", "0", "--producer-id", "12345"):
            "Missing required argument --producer-epoch",
        ("abort", "--topic", "t", "--partition", "0", "--producer-id", "12345", "--producer-epoch", "15"):
            "Missing required argument --coordinator-epoch",
        ("find-hanging",): "The `find-hanging` command requires either --topic or --broker-id to limit the scope of "
                           "the search",
        ("find",): "The `find-hanging` command requires either --topic or --broker-id to limit the scope of the "
                   "search",  # SubparsersImpl.resolveNextSubparser: a unique prefix names the command
        ("find-hanging", "--broker-id", "0", "--partition", "5"):
            "The --partition argument requires --topic to be provided",
    }
    for args, message in checks.items():
        r = tool("kafka-transactions", "--bootstrap-server", "localhost:9092", *args)
        assert (r.returncode, r.stdout, r.stderr) == (1, "", message + "\n"), args
    r = tool("kafka-transactions", "--bootstrap-server", "localhost:9092", "--command-config",
             str(tmp_path / "missing.properties"), "list")  # TC.buildAdminClient
    assert (r.returncode, r.stderr) == (1, f"Failed to load admin client properties: {tmp_path}/missing.properties "
                                           f"(No such file or directory){DEBUG}")


def test_unreachable_broker_times_out(tmp_path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "admin.properties"
    config.write_text("default.api.timeout.ms=2000\n")
    t0 = time.monotonic()
    r = tool("kafka-transactions", "--bootstrap-server", f"127.0.0.1:{port}", "--command-config", str(config),
             "describe", "--transactional-id", "x", timeout=30)
    # KafkaAdminClient: "Timed out waiting for a node assignment. Call: " + the AdminApiDriver lookup's name
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "Failed to describe transaction state of transactional-id "
                                                  "`x`: Timed out waiting for a node assignment. Call: "
                                                  f"describeTransactions(api=FIND_COORDINATOR){DEBUG}")
    assert time.monotonic() - t0 < 15


# -- list, describe, describe-producers ----------------------------------------------------------------------------
def test_list_and_describe(broker) -> None:
    topic = create_topic(broker)
    done_id = uniq("done")
    done = txn_producer(broker, done_id)
    done.begin_transaction()
    done.produce(topic, value=b"committed", partition=0)
    done.commit_transaction(TIMEOUT)
    plain_produce(broker, topic, [b"plain"])
    before = int(time.time() * 1000)
    open_id = uniq("open")
    p = open_transaction(broker, topic, [b"open-0", b"open-1"], open_id)

    r = txns(broker, "list")  # TC.ListTransactionsCommand: one row per listing, coordinator = broker id
    listed = {row[0]: row for row in rows_of(r.stdout)[1:]}
    assert r.returncode == 0 and r.stderr == ""
    assert listed[done_id][1:] == ["0", listed[done_id][2], "CompleteCommit"]
    assert listed[open_id][1:] == ["0", listed[open_id][2], "Ongoing"]
    headers = ["TransactionalId", "Coordinator", "ProducerId", "TransactionState"]
    assert r.stdout == table(headers, rows_of(r.stdout)[1:])  # prettyPrintTable's padding
    r = txns(broker, "list", "--duration-filter", "3600000")  # KIP-994: only transactions running longer
    assert r.stdout == table(headers, [])

    r = txns(broker, "describe", "--transactional-id", open_id, name="bin/kafka-transactions.sh")
    [row] = rows_of(r.stdout)[1:]
    assert r.returncode == 0 and row[:6] == ["0", open_id, listed[open_id][2], "0", "Ongoing", "600000"]
    assert before <= int(row[6]) <= int(time.time() * 1000) and 0 <= int(row[7]) < 60000 and row[8] == f"{topic}-0"
    assert r.stdout == table(["CoordinatorId", "TransactionalId", "ProducerId", "ProducerEpoch", "TransactionState",
                              "TransactionTimeoutMs", "CurrentTransactionStartTimeMs", "TransactionDurationMs",
                              "TopicPartitions"], [row])
    r = txns(broker, "describe", "--transactional-id", done_id)
    assert rows_of(r.stdout)[1][4] == "CompleteCommit" and rows_of(r.stdout)[1][8] == ""
    r = txns(broker, "describe", "--transactional-id", "no-such-id")  # DescribeTransactionsHandler
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "Failed to describe transaction state of transactional-id "
                                                  "`no-such-id`: DescribeTransactions request for transactionalId "
                                                  f"`no-such-id` failed because the ID could not be found{DEBUG}")

    r = txns(broker, "describe-producers", "--topic", topic, "--partition", "0")
    rows = rows_of(r.stdout)[1:]
    by_pid = {row[0]: row for row in rows}
    # the open producer: epoch 0, no marker yet (coordinator epoch -1); its transaction starts at offset 3 (after
    # the committed record, its COMMIT marker and the plain record)
    assert by_pid[listed[open_id][2]][1:3] == ["0", "-1"] and by_pid[listed[open_id][2]][3] == "1"
    assert re.fullmatch(TS, by_pid[listed[open_id][2]][4]) and by_pid[listed[open_id][2]][5] == "3"
    assert by_pid[listed[done_id][2]][2] == "0" and by_pid[listed[done_id][2]][5] == "None"  # ended by a marker
    assert r.stdout == table(["ProducerId", "ProducerEpoch", "LatestCoordinatorEpoch", "LastSequence",
                              "LastTimestamp", "CurrentTransactionStartOffset"], rows)
    r2 = txns(broker, "describe-producers", "--topic", topic, "--partition", "0", "--broker-id", "0")
    assert (r2.returncode, r2.stdout) == (0, r.stdout)  # the same answer, asked of broker 0 directly
    r = txns(broker, "describe-producers", "--topic", "no-such-topic", "--partition", "0")  # PartitionLeaderStrategy
    assert (r.returncode, r.stderr) == (1, "Failed to describe producers for partition no-such-topic-0 on leader: "
                                           "Failed to fetch metadata for partition no-such-topic-0 because metadata "
                                           f"for topic `no-such-topic` could not be found{DEBUG}")
    p.abort_transaction(TIMEOUT)


# -- abort ---------------------------------------------------------------------------------------------------------
def test_abort_by_start_offset(kafka) -> None:
    topic = create_topic(kafka)
    plain_produce(kafka, topic, [b"before-0", b"before-1"])
    p = open_transaction(kafka, topic, [b"open-0", b"open-1", b"open-2"])
    assert read_committed(kafka, topic) == (2, [b"before-0", b"before-1"])  # held at the transaction's start

    r = txns(kafka, "abort", "--topic", topic, "--partition", "0", "--start-offset", "3")
    assert (r.returncode, r.stdout, r.stderr) == (1, "", f"Could not find any open transactions starting at offset 3 "
                                                  f"on partition {topic}-0\n")  # TC.AbortTransactionCommand
    r = txns(kafka, "abort", "--topic", topic, "--partition", "0", "--start-offset", "2")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    # the ABORT marker (offset 5) ends it: the LSO moves past it and the aborted records stay invisible
    assert read_committed(kafka, topic) == (6, [b"before-0", b"before-1"])
    plain_produce(kafka, topic, [b"after"])
    assert read_committed(kafka, topic) == (7, [b"before-0", b"before-1", b"after"])
    p.abort_transaction(TIMEOUT)


def test_find_hanging_and_abort_by_producer_id(kafka) -> None:
    topic = create_topic(kafka)
    pid = hanging_batch(kafka, topic, age_minutes=20)
    other = create_topic(kafka)
    p = open_transaction(kafka, other, [b"open"])  # open, but its coordinator will end it: not hanging

    r = txns(kafka, "find-hanging", "--topic", topic)  # 20 minutes > the default 15
    [row] = rows_of(r.stdout)[1:]
    assert r.returncode == 0 and row[:6] == [topic, "0", str(pid), "0", "-1", "0"]
    assert re.fullmatch(TS, row[6]) and row[7] in ("20", "21")
    assert r.stdout == table(["Topic", "Partition", "ProducerId", "ProducerEpoch", "CoordinatorEpoch", "StartOffset",
                              "LastTimestamp", "Duration(min)"], [row])
    r = txns(kafka, "find-hanging", "--topic", topic, "--partition", "0", "--max-transaction-timeout", "30")
    assert (r.returncode, rows_of(r.stdout)) == (0, [rows_of(r.stdout)[0]])  # younger than 30 minutes: headers only
    r = txns(kafka, "find-hanging", "--broker-id", "0", "--max-transaction-timeout", "0")
    found = {(row[0], row[2]) for row in rows_of(r.stdout)[1:]}
    assert (topic, str(pid)) in found and not any(t == other for t, _ in found)

    r = txns(kafka, "abort", "--topic", topic, "--partition", "0", "--producer-id", str(pid), "--producer-epoch", "-1",
             "--coordinator-epoch", "0")  # AbortTransactionHandler: INVALID_PRODUCER_EPOCH
    spec = f"AbortTransactionSpec(topicPartition={topic}-0, producerId={pid}, producerEpoch=-1, coordinatorEpoch=0)"
    assert (r.returncode, r.stderr) == (1, f"Failed to abort transaction {spec}: WriteTxnMarkers request with {spec} "
                                           f"failed due an invalid producer epoch{DEBUG}")
    assert read_committed(kafka, topic) == (0, [])
    r = txns(kafka, "abort", "--topic", topic, "--partition", "0", "--producer-id", str(pid), "--producer-epoch", "0",
             "--coordinator-epoch", "-1")  # -1 (no marker yet) is sent as 0
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert read_committed(kafka, topic) == (2, [])  # past the batch and its ABORT marker; "hanging" stays invisible
    r = txns(kafka, "find-hanging", "--topic", topic)
    assert rows_of(r.stdout)[1:] == []
    p.abort_transaction(TIMEOUT)
