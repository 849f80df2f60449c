"""Partition reassignment on a real ZooKeeper with three real brokers: kafka-reassign-partitions (--generate,
--execute with --throttle, --verify, --list, --cancel), AlterPartitionReassignments' errors,
/admin/reassign_partitions. A replica added by a reassignment catches up through replication and joins the ISR
through its leader's AlterPartition; the throttles --throttle sets hold the copy to their rate."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cluster_helpers import create, state, three_brokers, wait_for
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from conftest import BrokerProcess
from kazoo.client import KazooClient

from brook.cli.reassign_partitions import Cluster

TOOL = str(Path(sys.executable).parent / "kafka-reassign-partitions")


@pytest.fixture(scope="module")
def cluster(zookeeper, tmp_path_factory):
    base = tmp_path_factory.mktemp("reassign")
    # two 1 s quota windows: a throttle's rate is measured over 1-2 s (Kafka's 11 would let 10 s of it through
    # first); fetches of 16 KiB per partition: a throttle over its rate holds a copy back after one fetch
    with three_brokers(zookeeper, base, {"auto.leader.rebalance.enable": "false", "replication.quota.window.num": "2",
                                         "replica.fetch.max.bytes": "16384"}) as (brokers, raw):
        yield brokers, raw, base


def topic_znode(raw: KazooClient, topic: str) -> dict:
    return json.loads(raw.get(f"/brokers/topics/{topic}")[0])


def create_topic(brokers: dict[int, BrokerProcess], raw: KazooClient, topic: str, replicas: list[list[int]]) -> None:
    create(AdminClient({"bootstrap.servers": brokers[1].bootstrap}), raw, topic, replicas)


def tool(brokers: dict[int, BrokerProcess], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([TOOL, "--bootstrap-server", brokers[2].bootstrap, *args], capture_output=True, text=True,
                          timeout=60)


def plan(path: Path, parts: dict[tuple[str, int], list[int]]) -> str:
    path.write_text(json.dumps({"version": 1, "partitions": [{"topic": t, "partition": p, "replicas": r}
                                                             for (t, p), r in parts.items()]}))
    return str(path)


def config(raw: KazooClient, path: str) -> dict:
    return json.loads(raw.get(path)[0])["config"] if raw.exists(path) else {}


def test_shrinking_completes_at_once_and_verify_reports_it(cluster):
    brokers, raw, base = cluster
    create_topic(brokers, raw, "shrink", [[1, 2, 3]])
    file = plan(base / "shrink.json", {("shrink", 0): [1, 2]})
    r = tool(brokers, "--execute", "--reassignment-json-file", file)
    assert r.returncode == 0, r.stdout
    assert r.stdout == ("Current partition replica assignment\n\n"
                        '{"version":1,"partitions":[{"topic":"shrink","partition":0,"replicas":[1,2,3],'
                        '"log_dirs":["any","any","any"]}]}\n\n'
                        "Save this to use as the --reassignment-json-file option during rollback\n"
                        "Successfully started partition reassignment for shrink-0\n")
    # every target replica is in the ISR: done at once, the removed replica out of the ISR and its log gone
    data = topic_znode(raw, "shrink")
    assert data["partitions"] == {"0": [1, 2]} and data["adding_replicas"] == {} and data["removing_replicas"] == {}
    assert state(raw, "shrink", 0)["isr"] == [1, 2] and state(raw, "shrink", 0)["leader"] == 1
    wait_for(lambda: not (brokers[3].data_dir / "shrink-0").exists())
    r = tool(brokers, "--verify", "--reassignment-json-file", file)
    assert r.returncode == 0, r.stdout
    assert r.stdout == ("Status of partition reassignment:\nReassignment of partition shrink-0 is completed.\n\n"
                        "Clearing broker-level throttles on brokers 1,2,3\n"
                        "Clearing topic-level throttles on topic shrink\n")


def produce(bootstrap: str, topic: str, p: int, values: list[bytes]) -> None:
    # small batches: a fetch of 16 KiB takes 16 KiB (a bigger first batch would come whole)
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5, "batch.size": 8192})
    for v in values:
        producer.produce(topic, v, partition=p)
    assert producer.flush(30) == 0


def read_back(bootstrap: str, topic: str, p: int, count: int) -> list[bytes]:
    """The partition's first `count` values, from its current leader."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"read-{topic}", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, 0)])
    values: list[bytes] = []
    deadline = time.monotonic() + 30
    try:
        while len(values) < count and time.monotonic() < deadline:
            values += [m.value() for m in consumer.consume(count - len(values), 1) if not m.error()]
    finally:
        consumer.close()
    return values


def test_moving_waits_for_the_isr_with_throttles_then_completes(cluster):
    brokers, raw, base = cluster
    create_topic(brokers, raw, "move", [[1], [1]])
    values = [bytes([i % 256]) * 1024 for i in range(160)]  # 160 KiB: 10 fetches, one per 1-2 s at 1000 B/s
    produce(brokers[1].bootstrap, "move", 0, values)
    r = tool(brokers, "--generate", "--topics-to-move-json-file",
             str((base / "topics.json").write_text('{"topics":[{"topic":"move"}],"version":1}') and
                 base / "topics.json"), "--broker-list", "2,3")
    assert r.returncode == 0, r.stdout
    lines = r.stdout.splitlines()
    assert lines[:2] == ["Current partition replica assignment",
                         '{"version":1,"partitions":[{"topic":"move","partition":0,"replicas":[1],"log_dirs":["any"]},'
                         '{"topic":"move","partition":1,"replicas":[1],"log_dirs":["any"]}]}']
    assert lines[3] == "Proposed partition reassignment configuration"
    proposed = json.loads(lines[4])["partitions"]
    assert sorted(p["replicas"][0] for p in proposed) == [2, 3]
    file = plan(base / "move.json", {("move", 0): [2]})
    r = tool(brokers, "--execute", "--reassignment-json-file", file, "--throttle", "1000")
    assert r.returncode == 0, r.stdout
    assert "Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle " \
           "is removed.\nThe inter-broker throttle limit was set to 1000 B/s\n" in r.stdout
    data = topic_znode(raw, "move")
    assert data["partitions"]["0"] == [2, 1] and data["adding_replicas"] == {"0": [2]}
    assert data["removing_replicas"] == {"0": [1]}
    wait_for(lambda: (brokers[2].data_dir / "move-0").is_dir())  # the new replica's log, to replicate into
    assert config(raw, "/config/topics/move") == {"leader.replication.throttled.replicas": "0:1",
                                                  "follower.replication.throttled.replicas": "0:2"}
    for b in (1, 2):
        assert config(raw, f"/config/brokers/{b}") == {"leader.replication.throttled.rate": "1000",
                                                       "follower.replication.throttled.rate": "1000"}
    r = tool(brokers, "--list")
    assert r.stdout == "Current partition reassignments:\nmove-0: replicas: 2,1. adding: 2. removing: 1.\n"
    r = subprocess.run([str(Path(sys.executable).parent / "kafka-topics"), "--bootstrap-server", brokers[3].bootstrap,
                        "--describe", "--topic", "move"], capture_output=True, text=True, timeout=60)
    lines = r.stdout.splitlines()  # the reassignment's columns; the replication factor without adding replicas
    assert "\tReplicationFactor: 1\t" in lines[0], r.stdout + r.stderr
    assert lines[1].startswith("\tTopic: move\tPartition: 0\tLeader: ") and "\tReplicas: 2,1\t" in lines[1]
    assert lines[1].endswith("\tAdding Replicas: 2\tRemoving Replicas: 1\tElr: \tLastKnownElr: ")
    assert "Adding Replicas" not in lines[2]
    r = tool(brokers, "--execute", "--reassignment-json-file", file)
    assert r.returncode == 1 and r.stdout.startswith("Cannot execute because there is an existing partition")
    r = tool(brokers, "--verify", "--reassignment-json-file", file)
    assert r.stdout == "Status of partition reassignment:\nReassignment of partition move-0 is still in progress.\n\n"
    assert config(raw, "/config/brokers/1")  # throttles stay while anything moves
    # a higher throttle (--additional resubmits the plan): the new replica catches up, its leader adds it to the
    # ISR (AlterPartition) and the controller completes the move
    r = tool(brokers, "--execute", "--additional", "--reassignment-json-file", file, "--throttle", "100000000")
    assert r.returncode == 0, r.stdout
    wait_for(lambda: topic_znode(raw, "move")["partitions"]["0"] == [2])
    assert topic_znode(raw, "move")["adding_replicas"] == {} and topic_znode(raw, "move")["removing_replicas"] == {}
    assert state(raw, "move", 0)["leader"] == 2 and state(raw, "move", 0)["isr"] == [2]
    wait_for(lambda: not (brokers[1].data_dir / "move-0").exists())
    r = tool(brokers, "--verify", "--reassignment-json-file", file)
    assert r.stdout.startswith("Status of partition reassignment:\nReassignment of partition move-0 is completed.")
    assert r.stdout.endswith("Clearing broker-level throttles on brokers 1,2,3\n"
                             "Clearing topic-level throttles on topic move\n")
    assert config(raw, "/config/topics/move") == {} and config(raw, "/config/brokers/1") == {}
    assert read_back(brokers[3].bootstrap, "move", 0, len(values)) == values  # from the new leader, broker 2


def test_a_throttled_move_copies_at_the_throttled_rate(cluster):
    """160 KiB to copy at 40,000 B/s (both sides throttled): at least 2-3 s, where an unthrottled copy takes a
    fraction of a second; every record arrives."""
    brokers, raw, base = cluster
    create_topic(brokers, raw, "slow", [[1]])
    values = [bytes([i % 256]) * 1024 for i in range(160)]
    produce(brokers[1].bootstrap, "slow", 0, values)
    file = plan(base / "slow.json", {("slow", 0): [3]})
    started = time.monotonic()
    r = tool(brokers, "--execute", "--reassignment-json-file", file, "--throttle", "40000")
    assert r.returncode == 0, r.stdout
    wait_for(lambda: topic_znode(raw, "slow")["partitions"]["0"] == [3])
    took = time.monotonic() - started
    assert took >= 2.0, f"a 160 KiB copy throttled at 40,000 B/s finished in {took:.2f} s"
    assert tool(brokers, "--verify", "--reassignment-json-file", file).returncode == 0  # clears the throttles
    assert read_back(brokers[2].bootstrap, "slow", 0, len(values)) == values


def test_cancel_and_errors(cluster):
    brokers, raw, base = cluster
    create_topic(brokers, raw, "cancelled", [[1, 2]])
    produce(brokers[1].bootstrap, "cancelled", 0, [bytes([i % 256]) * 1024 for i in range(160)])
    file = plan(base / "cancel.json", {("cancelled", 0): [1, 2, 3]})
    # throttled to 16 KiB per 1-2 s: the copy to broker 3 is still under way when it is cancelled
    assert tool(brokers, "--execute", "--reassignment-json-file", file, "--throttle", "1000").returncode == 0
    assert topic_znode(raw, "cancelled")["adding_replicas"] == {"0": [3]}
    wait_for(lambda: (brokers[3].data_dir / "cancelled-0").is_dir())
    r = tool(brokers, "--cancel", "--reassignment-json-file", file)
    assert r.returncode == 0, r.stdout
    assert r.stdout.startswith("Successfully cancelled partition reassignment for: cancelled-0\n"
                               "None of the specified partition moves are active.")
    data = topic_znode(raw, "cancelled")
    assert data["partitions"] == {"0": [1, 2]} and data["adding_replicas"] == {}
    wait_for(lambda: not (brokers[3].data_dir / "cancelled-0").exists())
    assert tool(brokers, "--list").stdout == "No partition reassignments found.\n"
    c = Cluster(brokers[1].bootstrap, {})
    assert c.alter_reassignments({("cancelled", 0): None}) == {
        ("cancelled", 0): "No partition reassignment is in progress."}
    assert c.alter_reassignments({("cancelled", 0): []}) == {
        ("cancelled", 0): "Empty replica list specified in partition reassignment."}
    assert c.alter_reassignments({("cancelled", 0): [1, 1], ("cancelled", 1): [1]}) == {
        ("cancelled", 0): "Duplicate replica ids in partition reassignment replica list: List(1, 1)",
        ("cancelled", 1): "The partition does not exist."}
    assert c.alter_reassignments({("cancelled", 0): [1, 7]}) == {
        ("cancelled", 0): "Replica assignment has brokers that are not alive. Replica list: List(7), live broker "
                          "list: Set(1, 2, 3)"}
    r = tool(brokers, "--execute", "--reassignment-json-file", plan(base / "bad.json", {("cancelled", 0): [1, 9]}))
    assert r.returncode == 1 and r.stdout == "Error: Unknown broker id 9\n"
    r = subprocess.run([TOOL, "--bootstrap-server", brokers[1].bootstrap, "--list", "--execute"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr.startswith("Command must include exactly one action: --generate, --execute, --verify, "
                               "--cancel, --list\n")


def test_reassign_partitions_znode(cluster):
    brokers, raw, _ = cluster
    create_topic(brokers, raw, "zk-moved", [[1, 2, 3], [2, 3, 1]])
    raw.create("/admin/reassign_partitions", json.dumps({"version": 1, "partitions": [
        {"topic": "zk-moved", "partition": 0, "replicas": [3, 1]},
        {"topic": "zk-moved", "partition": 1, "replicas": [2, 3]}]}).encode())
    wait_for(lambda: not raw.exists("/admin/reassign_partitions"))  # both completed (targets in the ISR)
    assert topic_znode(raw, "zk-moved")["partitions"] == {"0": [3, 1], "1": [2, 3]}
    assert state(raw, "zk-moved", 0)["leader"] == 1  # the leader stays while it is a target replica


def test_replica_verification_reports_the_lag(cluster, tmp_path):
    """kafka-replica-verification on a topic with three replicas: it reads each replica (followers too, as the
    debugging consumer), their batches up to the high watermark agree, the lag falls to 0."""
    brokers, raw, _ = cluster
    create_topic(brokers, raw, "verified", [[2, 3, 1]])
    producer = Producer({"bootstrap.servers": brokers[2].bootstrap, "acks": "all"})
    for i in range(3):
        producer.produce("verified", f"v{i}".encode(), partition=0)
    assert producer.flush(15) == 0
    out = tmp_path / "verification.out"
    with open(out, "wb") as f:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "kafka-replica-verification"), "--broker-list",
                                 brokers[1].bootstrap, "--topics-include", "verified", "--time", "-2",
                                 "--report-interval-ms", "0", "--max-wait-ms", "100"], stdout=f,
                                stderr=subprocess.PIPE)
    try:
        line = wait_for(lambda: next((x for x in out.read_text().splitlines() if "max lag is 0" in x), None))
        assert line.endswith(": max lag is 0 for partition verified-0 at offset 3 among 1 partitions")
        assert out.read_text().splitlines()[0].endswith(": verification process is started")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    r = subprocess.run([str(Path(sys.executable).parent / "kafka-replica-verification")], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1 and r.stderr.startswith("Validate that all replicas for a set of topics have the same")
