"""kafka-get-offsets, kafka-delete-records, kafka-dump-log, kafka-broker-api-versions, kafka-log-dirs, the perf tests
and kafka-server-stop against a real broker: exact output lines and exit codes (Kafka 3.9 sources named inline)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from cli_helpers import produce, tool

TS = r"\d{13}"


def create(broker, topic: str, *args: str) -> None:  # noqa: ANN001
    r = tool("kafka-topics", "--bootstrap-server", broker.bootstrap, "--create", "--topic", topic, *args)
    assert r.returncode == 0, r.stderr


def offsets(broker, *args: str):  # noqa: ANN001, ANN201
    return tool("kafka-get-offsets", "--bootstrap-server", broker.bootstrap, *args)


def test_get_offsets_and_delete_records(broker, tmp_path) -> None:
    create(broker, "offs", "--partitions", "2")
    create(broker, "other", "--partitions", "1")
    produce(broker.bootstrap, "offs", ["k:a", "k:b", "k:c"], "--property", "parse.key=true", "--property",
            "key.separator=:")  # one key: all three in one partition
    r = offsets(broker, "--topic", "offs")
    ends = dict(line.rsplit(":", 1) for line in r.stdout.splitlines())
    assert r.returncode == 0 and set(ends) == {"offs:0", "offs:1"} and sorted(map(int, ends.values())) == [0, 3], r
    full = next(tp for tp, end in ends.items() if int(end) >= 3)
    part = full.split(":")[1]
    # GetOffsetShell.execute: topic:partition:offset, ordered by TopicPartition.toString()
    assert offsets(broker, "--topic", "offs", "--time", "-2").stdout == "offs:0:0\noffs:1:0\n"
    assert offsets(broker, "--topic-partitions", f"offs:{part}", "--time", "earliest").stdout == f"offs:{part}:0\n"
    assert offsets(broker, "--topic", "o.*", "--partitions", "0", "--time", "-2").stdout == "offs:0:0\nother:0:0\n"
    assert re.fullmatch(rf"offs:{part}:\d\n", offsets(broker, "--topic-partitions", f"offs:{part}", "--time",
                                                       "-3").stdout)
    r = offsets(broker, "--topic", "missing")
    # GetOffsetShell.fetchOffsets / mainNoExit
    assert (r.returncode, r.stdout, r.stderr) == (
        1, "", "Error occurred: Could not match any topic-partitions with the specified filters\n")
    r = offsets(broker, "--topic", "offs", "--time", "soon")
    assert (r.returncode, r.stderr) == (1, "Error occurred: Malformed time argument soon. Please use -1 or latest / -2 "
                                        "or earliest / -3 or max-timestamp / -4 or earliest-local / -5 or "
                                        "latest-tiered, or a specified long format timestamp\n")
    r = offsets(broker, "--topic-partitions", "offs", "--topic", "offs")
    assert r.stderr == "Error occurred: --topic-partitions cannot be used with --topic or --partitions\n"

    spec = tmp_path / "delete.json"
    spec.write_text(json.dumps({"partitions": [{"topic": "offs", "partition": int(part), "offset": 2},
                                               {"topic": "gone", "partition": 0, "offset": 1}], "version": 1}))
    r = tool("kafka-delete-records", "--bootstrap-server", broker.bootstrap, "--offset-json-file", str(spec))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    # DeleteRecordsCommand.execute
    assert lines[:2] == ["Executing records delete operation", "Records delete operation completed:"]
    assert sorted(lines[2:]) == [
        "partition: gone-0\terror: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does "
        "not host this topic-partition.", f"partition: offs-{part}\tlow_watermark: 2"]
    assert offsets(broker, "--topic-partitions", f"offs:{part}", "--time", "-2").stdout == f"offs:{part}:2\n"
    # -4 / -5 go out as ListOffsets v9 (kafka_rpc): without tiered storage UnifiedLog.fetchOffsetByTimestamp
    # answers the log start offset for earliest-local and offset -1 for latest-tiered, which GetOffsetShell skips
    other = "1" if part == "0" else "0"
    expected = "".join(sorted([f"offs:{part}:2\n", f"offs:{other}:0\n"]))
    assert offsets(broker, "--topic", "offs", "--time", "-4").stdout == expected
    assert offsets(broker, "--topic", "offs", "--time", "earliest-local").stdout == expected
    r = offsets(broker, "--topic", "offs", "--time", "latest-tiered")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    spec.write_text('{"partitions": [{"topic": "offs", "partition": 0, "offset": 1}], "version": 2}')
    r = tool("kafka-delete-records", "--bootstrap-server", broker.bootstrap, "--offset-json-file", str(spec))
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "Not supported version field value 2\n")


def test_dump_log_segment_and_indexes(broker) -> None:
    create(broker, "dump", "--partitions", "1", "--config", "index.interval.bytes=1")
    produce(broker.bootstrap, "dump", ["k1:v1", "k2:v2"], "--property", "parse.key=true",
            "--property", "key.separator=:")
    produce(broker.bootstrap, "dump", ["v3"])
    base = broker.data_dir / "dump-0" / "00000000000000000000"
    files = f"{base}.log,{base}.index,{base}.timeindex"
    r = tool("kafka-dump-log", "--files", files, "--print-data-log")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[:2] == [f"Dumping {base}.log", "Log starting offset: 0"]  # DumpLogSegments.main / dumpLog
    def batch(base: int, last: int, count: int, last_seq: int, position: object, size: str) -> str:
        return (f"baseOffset: {base} lastOffset: {last} count: {count} baseSequence: 0 lastSequence: {last_seq} "
                r"producerId: \d+ producerEpoch: 0 partitionLeaderEpoch: 0 isTransactional: false isControl: false "
                f"deleteHorizonMs: OptionalLong.empty position: {position} CreateTime: {TS} size: {size} magic: 2 "
                r"compresscodec: none crc: \d+ isvalid: true")  # DumpLogSegments.printBatchLevel

    m = re.fullmatch(batch(0, 1, 2, 1, 0, r"(\d+)"), lines[2])
    assert m, lines[2]
    size = int(m.group(1))
    # DumpLogSegments.dumpLog: "| offset: ... payload: ..."
    assert re.fullmatch(rf"\| offset: 0 CreateTime: {TS} keySize: 2 valueSize: 2 sequence: 0 headerKeys: \[\] "
                        r"key: k1 payload: v1", lines[3]), lines[3]
    assert re.fullmatch(rf"\| offset: 1 CreateTime: {TS} keySize: 2 valueSize: 2 sequence: 1 headerKeys: \[\] "
                        r"key: k2 payload: v2", lines[4]), lines[4]
    assert re.fullmatch(batch(2, 2, 1, 0, size, r"\d+"), lines[5]), lines[5]
    assert re.fullmatch(rf"\| offset: 2 CreateTime: {TS} keySize: -1 valueSize: 2 sequence: 0 headerKeys: \[\] "
                        r"payload: v3", lines[6]), lines[6]
    # DumpLogSegments.dumpIndex / dumpTimeIndex
    assert lines[7:9] == [f"Dumping {base}.index", f"offset: 2 position: {size}"]
    assert lines[9] == f"Dumping {base}.timeindex"
    assert re.fullmatch(rf"timestamp: {TS} offset: 2", lines[10]) and len(lines) == 11, lines

    r = tool("kafka-dump-log", "--files", f"{base}.log")  # shallow: batch lines only
    assert [line[:25] for line in r.stdout.splitlines()[2:]] == ["baseOffset: 0 lastOffset:",
                                                                 "baseOffset: 2 lastOffset:"]
    r = tool("kafka-dump-log", "--files", f"{base}.log", "--deep-iteration", "--skip-record-metadata")
    assert r.stdout.splitlines()[3:5] == ["", ""]
    r = tool("kafka-dump-log", "--files", str(base.parent / "leader-epoch-checkpoint"))
    assert (r.returncode, r.stderr) == (0, f"Ignoring unknown file {base.parent / 'leader-epoch-checkpoint'}\n")
    r = tool("kafka-dump-log", "--print-data-log")
    assert r.returncode == 1 and r.stderr.startswith('Missing required argument "[files]"\n')  # CommandLineUtils


def test_broker_api_versions_and_log_dirs(broker) -> None:
    r = tool("kafka-broker-api-versions", "--bootstrap-server", broker.bootstrap)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    # BrokerApiVersionsCommand.execute: "$broker -> ${NodeApiVersions.toString(true)}"
    assert lines[0] == f"{broker.bootstrap} (id: 0 rack: null) -> (" and lines[-1] == ")"
    assert lines[1] == "\tProduce(0): 0 to 11 [usable: 11],"  # NodeApiVersions.apiVersionToText
    assert "\tLeaderAndIsr(4): UNSUPPORTED," in lines  # NodeApiVersions.toString: client APIs the node lacks
    assert lines[-2].startswith("\t") and not lines[-2].endswith(",")

    r = tool("kafka-log-dirs", "--bootstrap-server", broker.bootstrap)
    assert r.returncode == 1 and r.stderr.startswith('Missing required argument "[describe]"\n')  # LogDirsCommand


def test_log_dirs(broker) -> None:
    create(broker, "dirs", "--partitions", "3")
    create(broker, "other", "--partitions", "1")
    produce(broker.bootstrap, "dirs", ["k\tvalue"], "--property", "parse.key=true")
    r = tool("kafka-log-dirs", "--bootstrap-server", broker.bootstrap, "--describe", "--topic-list", "dirs")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    # LogDirsCommand.execute
    assert lines[:2] == ["Querying brokers for log directories information",
                         "Received log directory information from brokers 0"] and len(lines) == 3
    # LogDirsCommand.formatAsJson: Jackson over Java HashMaps (their key order), no spaces
    doc = json.loads(lines[2])
    assert lines[2].startswith('{"brokers":[{"broker":0,"logDirs":[{"partitions":[{"partition":"dirs-')
    assert lines[2].endswith('}],"version":1}')
    (entry,) = doc["brokers"][0]["logDirs"]
    assert list(entry) == ["partitions", "error", "logDir"] and entry["error"] is None
    assert entry["logDir"] == str(broker.data_dir)
    parts = {p["partition"]: p for p in entry["partitions"]}
    assert set(parts) == {"dirs-0", "dirs-1", "dirs-2"}
    assert all(list(p) == ["partition", "size", "offsetLag", "isFuture"] for p in parts.values())
    assert sorted(p["size"] for p in parts.values())[-1] > 0 and not any(p["isFuture"] for p in parts.values())
    # HashMap<TopicPartition, _> order: "dirs".hashCode() = 3083654; TopicPartition.hashCode = 31 * (31 + p) + that,
    # spread (h ^ h >>> 16) & 15 puts dirs-0, -1, -2 in buckets 8, 9, 10
    assert [p["partition"] for p in entry["partitions"]] == ["dirs-0", "dirs-1", "dirs-2"]

    r = tool("kafka-log-dirs", "--bootstrap-server", broker.bootstrap, "--describe")
    topics = {p["partition"].rsplit("-", 1)[0] for p in json.loads(r.stdout.splitlines()[2])["brokers"][0]
              ["logDirs"][0]["partitions"]}
    assert r.returncode == 0 and {"dirs", "other"} <= topics, r

    r = tool("kafka-log-dirs", "--bootstrap-server", broker.bootstrap, "--describe", "--broker-list", "0,7,5")
    # LogDirsCommand.execute: a TerseException, message alone, exit 1
    assert (r.returncode, r.stdout, r.stderr) == (
        1, "", "ERROR: The given brokers do not exist from --broker-list: 5,7. Current existent brokers: 0\n")


def test_producer_and_consumer_perf(broker) -> None:
    create(broker, "perf", "--partitions", "1")
    r = tool("kafka-producer-perf-test", "--topic", "perf", "--num-records", "500", "--record-size", "100",
             "--throughput", "-1", "--producer-props", f"bootstrap.servers={broker.bootstrap}", "acks=1")
    assert r.returncode == 0, r.stderr
    # ProducerPerformance.Stats.printTotal
    assert re.fullmatch(r"500 records sent, \d+\.\d{6} records/sec \(\d+\.\d\d MB/sec\), \d+\.\d\d ms avg latency, "
                        r"\d+\.00 ms max latency, \d+ ms 50th, \d+ ms 95th, \d+ ms 99th, \d+ ms 99.9th.\n",
                        r.stdout), r.stdout
    r = tool("kafka-producer-perf-test", "--topic", "perf", "--num-records", "1", "--record-size", "1",
             "--throughput", "-1")
    assert (r.returncode, r.stderr.splitlines()[-2:]) == (  # ProducerPerformance.start: ArgumentParserException
        1, ["producer-performance: error: Either  --producer-props  or --producer.config", "must be specified."])

    r = tool("kafka-consumer-perf-test", "--bootstrap-server", broker.bootstrap, "--topic", "perf",
             "--messages", "500", "--timeout", "10000")
    assert r.returncode == 0, r.stderr
    header, values = r.stdout.splitlines()
    # ConsumerPerformance.printHeader / main
    assert header == ("start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, "
                      "rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec")
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}"  # yyyy-MM-dd HH:mm:ss:SSS
    num = r"(?:-?\d+\.\d{4}|Infinity|NaN)"  # %.4f of a Java double
    assert re.fullmatch(rf"{stamp}, {stamp}, 0\.0477, {num}, 500, {num}, \d+, -?\d+, {num}, {num}", values), values
    r = tool("kafka-consumer-perf-test", "--bootstrap-server", broker.bootstrap, "--messages", "1")
    assert r.returncode == 1 and r.stderr.startswith('Missing required argument "[topic]"\n')


def test_server_stop_signals_only_the_selected_broker(broker) -> None:
    # a stand-in whose command line looks like a Brook broker with node.id=4242; the real broker has another id
    dummy = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "-m", "brook",
                              "--override", "node.id=4242"])
    try:
        r = tool("kafka-server-stop", "--node-id=4243")
        assert (r.returncode, r.stdout, dummy.poll()) == (0, "", None)
        r = tool("kafka-server-stop", "--node-id=4242", "--process-role=broker")
        # kafka-server-stop.sh: node-id wins over process-role
        assert (r.returncode, r.stdout) == (
            0, "When both node-id and process-role are provided, the value for node-id will take precedence\n")
        assert dummy.wait(10) == -15  # SIGTERM
        assert broker.alive()
    finally:
        if dummy.poll() is None:
            dummy.kill()
            dummy.wait(5)
