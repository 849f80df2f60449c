"""Keyed records land where Kafka's Java producer puts them: toPositive(murmur2(key)) % numPartitions
(BuiltInPartitioner.partitionForKey, Utils.murmur2), for each Brook tool that produces, and partitioner.class as
Kafka's producer reads it. murmur2 is computed here from its definition and checked against Kafka's UtilsTest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import produce, tool
from conftest import module_broker

KEYS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj",
        "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "", "21", "foobar", "ключ"]


def murmur2(data: bytes) -> int:
    """org.apache.kafka.common.utils.Utils.murmur2, in Java's signed 32-bit arithmetic."""
    mask = 0xFFFFFFFF
    m, r = 0x5BD1E995, 24
    h = (0x9747B28C ^ len(data)) & mask
    whole = len(data) // 4 * 4
    for i in range(0, whole, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & mask
        k ^= k >> r
        k = (k * m) & mask
        h = ((h * m) & mask) ^ k
    tail = data[whole:]
    if len(tail) == 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if tail:
        h ^= tail[0]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def kafka_partition(key: str, partitions: int) -> int:
    """BuiltInPartitioner.partitionForKey: Utils.toPositive(Utils.murmur2(keyBytes)) % numPartitions."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def test_murmur2_is_kafkas() -> None:
    # clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2
    cases = {b"21": -973932308, b"foobar": -790332482, b"a-little-bit-long-string": -985981536,
             b"a-little-bit-longer-string": -1486304829,
             b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971, b"abc": 479470107}
    assert {data: murmur2(data) for data in cases} == cases
    # the example: on 3 partitions Kafka puts alice and bob on 0, dave on 1
    assert [kafka_partition(k, 3) for k in ("alice", "bob", "dave")] == [0, 0, 1]


@pytest.fixture(scope="module")
def broker(tmp_path_factory):  # noqa: ANN201
    with module_broker(tmp_path_factory, "partitioning") as b:
        yield b


def create(broker, topic: str, partitions: int) -> None:  # noqa: ANN001
    r = tool("kafka-topics", "--bootstrap-server", broker.bootstrap, "--create", "--topic", topic, "--partitions",
             str(partitions))
    assert r.returncode == 0, r.stderr


def consumed(broker, topic: str, count: int) -> list[tuple[int, str, str]]:  # noqa: ANN001
    """(partition, key, value) of every record, read back with the console consumer."""
    r = tool("kafka-console-consumer", "--bootstrap-server", broker.bootstrap, "--topic", topic, "--from-beginning",
             "--max-messages", str(count), "--property", "print.partition=true", "--property", "print.key=true",
             "--property", "key.separator=|")
    assert r.returncode == 0, r.stderr
    out = []
    for line in r.stdout.splitlines():
        partition, key, value = line.split("|")
        out.append((int(partition.removeprefix("Partition:")), key, value))
    return out


@pytest.mark.parametrize("partitions", [3, 7])
def test_console_producer_puts_keys_on_kafkas_partitions(broker, partitions: int) -> None:
    topic = f"console-keys-{partitions}"
    create(broker, topic, partitions)
    produce(broker.bootstrap, topic, [f"{k}:{i}" for i, k in enumerate(KEYS)], "--property", "parse.key=true",
            "--property", "key.separator=:")
    records = consumed(broker, topic, len(KEYS))
    assert sorted(records, key=lambda r: int(r[2])) == [
        (kafka_partition(k, partitions), k, str(i)) for i, k in enumerate(KEYS)]


def test_console_producer_partitioner_classes(broker, tmp_path: Path) -> None:
    create(broker, "classes", 3)
    lines = [f"{k}:{i}" for i, k in enumerate(["alice"] * 6)]
    keyed = ("--property", "parse.key=true", "--property", "key.separator=:")
    # RoundRobinPartitioner: every record to the next partition, whatever its key (a counter per topic)
    produce(broker.bootstrap, "classes", lines, *keyed, "--producer-property",
            "partitioner.class=org.apache.kafka.clients.producer.RoundRobinPartitioner")
    assert sorted((int(v), p) for p, _, v in consumed(broker, "classes", 6)) == [(i, i % 3) for i in range(6)]

    # the same class from --producer.config, and as Brook also accepts it, from --property partitioner=
    config = tmp_path / "producer.properties"
    config.write_text("partitioner.class=org.apache.kafka.clients.producer.RoundRobinPartitioner\n")
    for source in (("--producer.config", str(config)),
                   ("--property", "partitioner=org.apache.kafka.clients.producer.RoundRobinPartitioner")):
        create(broker, f"classes-{source[0].strip('-')}", 3)
        produce(broker.bootstrap, f"classes-{source[0].strip('-')}", lines[:3], *keyed, *source)
        assert sorted(p for p, _, _ in consumed(broker, f"classes-{source[0].strip('-')}", 3)) == [0, 1, 2]

    # UniformStickyPartitioner ignores keys: small records stay on one partition
    create(broker, "sticky", 3)
    produce(broker.bootstrap, "sticky", [f"{k}:{i}" for i, k in enumerate(KEYS)], *keyed, "--producer-property",
            "partitioner.class=org.apache.kafka.clients.producer.UniformStickyPartitioner")
    assert len({p for p, _, _ in consumed(broker, "sticky", len(KEYS))}) == 1

    # DefaultPartitioner (deprecated) hashes keys as the built-in partitioner does
    create(broker, "default-class", 3)
    produce(broker.bootstrap, "default-class", [f"{k}:{i}" for i, k in enumerate(KEYS)], *keyed,
            "--producer-property", "partitioner.class=org.apache.kafka.clients.producer.internals.DefaultPartitioner")
    assert sorted(consumed(broker, "default-class", len(KEYS)), key=lambda r: int(r[2])) == [
        (kafka_partition(k, 3), k, str(i)) for i, k in enumerate(KEYS)]

    # ConsoleProducer.main: the ConfigException of an unknown class, e.printStackTrace(), exit 1
    r = tool("kafka-console-producer", "--bootstrap-server", broker.bootstrap, "--topic", "classes",
             "--producer-property", "partitioner.class=com.example.NoSuchPartitioner", stdin="x\n")
    assert (r.returncode, r.stdout, r.stderr) == (
        1, "", "org.apache.kafka.common.config.ConfigException: Invalid value com.example.NoSuchPartitioner for "
        "configuration partitioner.class: Class com.example.NoSuchPartitioner could not be found.\n")


def offsets(broker, topic: str) -> dict[int, int]:  # noqa: ANN001
    r = tool("kafka-get-offsets", "--bootstrap-server", broker.bootstrap, "--topic", topic)
    assert r.returncode == 0, r.stderr
    return {int(p): int(o) for p, o in (line.rsplit(":", 2)[1:] for line in r.stdout.splitlines())}


def test_producer_perf_test_partitioner(broker) -> None:
    # ProducerPerformance sends records without keys (it has no key option); its partitioner comes from
    # --producer-props as for any Java producer
    create(broker, "perf-rr", 3)
    r = tool("kafka-producer-perf-test", "--topic", "perf-rr", "--num-records", "30", "--record-size", "10",
             "--throughput", "-1", "--producer-props", f"bootstrap.servers={broker.bootstrap}",
             "partitioner.class=org.apache.kafka.clients.producer.RoundRobinPartitioner")
    assert r.returncode == 0, r.stderr
    assert offsets(broker, "perf-rr") == {0: 10, 1: 10, 2: 10}
    r = tool("kafka-producer-perf-test", "--topic", "perf-rr", "--num-records", "1", "--record-size", "1",
             "--throughput", "-1", "--producer-props", f"bootstrap.servers={broker.bootstrap}",
             "partitioner.class=Nope")
    assert (r.returncode, r.stderr) == (1, 'Exception in thread "main" org.apache.kafka.common.config.'
                                        "ConfigException: Invalid value Nope for configuration partitioner.class: "
                                        "Class Nope could not be found.\n")


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_verifiable_producer_puts_keys_on_kafkas_partitions(broker) -> None:
    create(broker, "verifiable-keys", 5)
    r = tool("kafka-verifiable-producer", "--bootstrap-server", broker.bootstrap, "--topic", "verifiable-keys",
             "--max-messages", "40", "--repeating-keys", "13", "--value-prefix", "7")
    assert r.returncode == 0, r.stderr
    out = events(r.stdout)
    # acknowledgements come a batch (a partition) at a time, as the Java producer's callbacks do
    sent = sorted((e for e in out if e["name"] == "producer_send_success"), key=lambda e: int(e["value"][2:]))
    assert [e["key"] for e in sent] == [str(i % 13) for i in range(40)]
    assert [e["value"] for e in sent] == [f"7.{i}" for i in range(40)]
    assert all(e["partition"] == kafka_partition(e["key"], 5) for e in sent), sent
    assert offsets(broker, "verifiable-keys") == {
        p: sum(1 for e in sent if e["partition"] == p) for p in range(5)}


def test_keyed_quickstart_walk(broker) -> None:
    """Kafka's quickstart with keys on a 3-partition topic: every tool's output as Kafka prints it."""
    bs, topic, group = broker.bootstrap, "quickstart-events", "quickstart-group"
    r = tool("kafka-topics", "--create", "--topic", topic, "--partitions", "3", "--bootstrap-server", bs)
    assert (r.returncode, r.stdout) == (0, "Created topic quickstart-events.\n")
    events = [("alice", "first event"), ("bob", "second event"), ("carol", "third event"), ("dave", "fourth event"),
              ("alice", "fifth event")]
    produce(bs, topic, [f"{k}:{v}" for k, v in events], "--property", "parse.key=true", "--property",
            "key.separator=:")
    where = [kafka_partition(k, 3) for k, _ in events]
    assert where == [0, 0, 2, 1, 0]  # murmur2: alice and bob on 0, carol on 2, dave on 1

    r = tool("kafka-console-consumer", "--topic", topic, "--from-beginning", "--bootstrap-server", bs, "--group",
             group, "--max-messages", "5", "--property", "print.partition=true", "--property", "print.key=true")
    assert (r.returncode, r.stderr) == (0, "Processed a total of 5 messages\n")
    # DefaultMessageFormatter: Partition:<n>, key and value separated by tabs; partitions interleave as they are
    # fetched, each in offset order
    lines = r.stdout.splitlines()
    assert sorted(lines, key=lambda line: line.split("\t")[0]) == [
        f"Partition:{p}\t{k}\t{v}" for p, (k, v) in sorted(zip(where, events, strict=True), key=lambda e: e[0])]

    # ConsumerGroupCommand.printOffsets: the group has left, so no consumer columns; LAG 0 everywhere
    r = tool("kafka-consumer-groups", "--bootstrap-server", bs, "--describe", "--group", group)
    counts = [where.count(p) for p in range(3)]
    fmt = "{:<16} {:<17} {:<10} {:<15} {:<15} {:<15} {:<15} {:<15} {}"  # widths: max(15, longest group/topic)
    assert r.returncode == 0 and r.stdout.splitlines() == [
        "", fmt.format("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID",
                       "HOST", "CLIENT-ID"),
        *(fmt.format(group, topic, p, n, n, 0, "-", "-", "-") for p, n in enumerate(counts))]
    assert r.stderr == f"\nConsumer group '{group}' has no active members.\n"

    r = tool("kafka-get-offsets", "--bootstrap-server", bs, "--topic", topic)
    assert (r.returncode, r.stdout) == (0, "quickstart-events:0:3\nquickstart-events:1:1\nquickstart-events:2:1\n")
