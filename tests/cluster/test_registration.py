"""Brokers on a real ZooKeeper (zookeeper.connect with a chroot): each registers /brokers/ids/<id> in Kafka's JSON,
they share /cluster/id, Metadata and DescribeCluster list every live broker, a duplicate broker.id is refused as
Kafka refuses it, a stopped broker leaves the list, and a topic created through one broker is known to the other."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import uuid
from pathlib import Path

import kafka_wire
import pytest
from confluent_kafka import KafkaException, TopicCollection
from confluent_kafka.admin import AdminClient, NewTopic
from conftest import BrokerProcess
from kazoo.client import KazooClient

# kafka_wire's bounded poll, with the default that ZooKeeper session changes need
wait_for = functools.partial(kafka_wire.wait_for, timeout=20, interval=0.05)



@pytest.fixture(scope="module")
def cluster(zookeeper, tmp_path_factory):
    chroot = f"/brook-registration-{uuid.uuid4().hex[:8]}"
    base = tmp_path_factory.mktemp("registration")
    brokers = [BrokerProcess(base / f"b{i}", {"broker.id": str(i), "zookeeper.connect": zookeeper.connect + chroot,
                                              "broker.rack": f"r{i}",
                                              # a stop is a broker loss here (controlled shutdown: test_leadership)
                                              "controlled.shutdown.enable": "false"}) for i in (1, 2)]
    raw = KazooClient(hosts=zookeeper.connect + chroot)
    try:
        for b in brokers:
            b.start()
        raw.start(timeout=15)
        yield brokers, raw, chroot
    finally:
        raw.stop()
        raw.close()
        for b in brokers:
            b.stop()


def admin(b: BrokerProcess) -> AdminClient:
    return AdminClient({"bootstrap.servers": b.bootstrap})


def test_registration_in_kafkas_json_and_one_cluster_id(cluster):
    brokers, raw, _ = cluster
    for i, b in enumerate(brokers, 1):
        data, stat = raw.get(f"/brokers/ids/{i}")
        d = json.loads(data)
        assert stat.ephemeralOwner != 0
        assert d["version"] == 5 and d["jmx_port"] == -1 and d["features"] == {} and d["rack"] == f"r{i}"
        assert d["endpoints"] == [f"PLAINTEXT://127.0.0.1:{b.port}"]
        assert d["listener_security_protocol_map"] == {"PLAINTEXT": "PLAINTEXT"}
        assert (d["host"], d["port"]) == ("127.0.0.1", b.port) and int(d["timestamp"]) > 0
    cluster_id = json.loads(raw.get("/cluster/id")[0])
    assert cluster_id["version"] == "1"
    for b in brokers:
        client = admin(b)  # kept: the future fails once its client is collected
        expected = [(1, brokers[0].port, "r1"), (2, brokers[1].port, "r2")]
        # each broker learns of the other through its watch on /brokers/ids: on a busy machine, a moment later
        wait_for(lambda c=client, e=expected: sorted((n.id, n.port, n.rack) for n in c.describe_cluster(
            request_timeout=10).result().nodes) == e)
        described = client.describe_cluster(request_timeout=10).result()
        assert described.cluster_id == cluster_id["id"]
        assert sorted((n.id, n.port, n.rack) for n in described.nodes) == expected
        meta = client.list_topics(timeout=10)
        assert meta.cluster_id == cluster_id["id"] and sorted(meta.brokers) == [1, 2]


def test_a_topic_created_through_one_broker_is_known_to_the_other(cluster):
    brokers, raw, _ = cluster
    client = admin(brokers[0])
    client.create_topics([NewTopic("shared", 2, 1)])["shared"].result(10)
    assignment = json.loads(raw.get("/brokers/topics/shared")[0])["partitions"]
    assert sorted(r for (r,) in assignment.values()) == [1, 2]  # AdminUtils: round-robin over the live brokers
    # known once the controller's partition states reached the other broker too (its leaders)
    meta = wait_for(lambda: (m := admin(brokers[1]).list_topics(timeout=10)).topics.get("shared")
                    and all(p.leader >= 0 for p in m.topics["shared"].partitions.values()) and m)
    assert {p.id: p.leader for p in meta.topics["shared"].partitions.values()} == {
        int(p): r for p, (r,) in assignment.items()}
    for p, (r,) in assignment.items():  # each broker keeps the logs of its own replicas only
        assert (brokers[r - 1].data_dir / f"shared-{p}").is_dir()
        assert not (brokers[2 - r].data_dir / f"shared-{p}").exists()


def test_the_controller_and_partition_states(cluster):
    brokers, raw, _ = cluster
    controller = json.loads(raw.get("/controller")[0])
    assert controller["version"] == 1 and controller["brokerid"] in (1, 2) and int(controller["timestamp"]) > 0
    epoch = int(raw.get("/controller_epoch")[0])
    assert epoch >= 1
    for b in brokers:
        client = admin(b)
        assert wait_for(lambda c=client: c.describe_cluster(request_timeout=10).result().controller.id
                        == controller["brokerid"])
    client = admin(brokers[0])
    client.create_topics([NewTopic("replicated", 4, 2)])["replicated"].result(10)
    assignment = json.loads(raw.get("/brokers/topics/replicated")[0])["partitions"]
    assert all(sorted(r) == [1, 2] for r in assignment.values())
    assert sorted(r[0] for r in assignment.values()) == [1, 1, 2, 2]  # leaders spread evenly
    def led():  # every partition's leader known (the controller's states reached the broker)
        d = client.describe_topics(TopicCollection(["replicated"]))["replicated"].result(10)
        return all(p.leader is not None for p in d.partitions) and d
    described = wait_for(led)
    assert {p.id: ([r.id for r in p.replicas], p.leader.id) for p in described.partitions} == {
        int(p): (r, r[0]) for p, r in assignment.items()}
    for p, replicas in assignment.items():
        state = wait_for(lambda p=p: raw.exists(f"/brokers/topics/replicated/partitions/{p}/state")
                         and json.loads(raw.get(f"/brokers/topics/replicated/partitions/{p}/state")[0]))
        assert state == {"controller_epoch": epoch, "leader": replicas[0], "version": 1, "leader_epoch": 0,
                         "isr": replicas}
    with pytest.raises(Exception, match="Replication factor: 3 larger than available brokers: 2."):
        client.create_topics([NewTopic("too-many", 1, 3)])["too-many"].result(10)


def test_a_duplicate_broker_id_is_refused(cluster, tmp_path):
    brokers, _, chroot = cluster
    dup = BrokerProcess(tmp_path / "dup", {"broker.id": "1",
                                           "zookeeper.connect": brokers[0].overrides["zookeeper.connect"]})
    with pytest.raises(RuntimeError, match="exited with 1"):
        dup.start()
    text = dup.log_text()
    assert "Error while creating ephemeral at /brokers/ids/1, node already exists" in text
    assert "Fatal error during KafkaServer startup. Prepare to shutdown" in text
    assert "NodeExistsException: KeeperErrorCode = NodeExists" in text
    assert brokers[0].alive()


def test_a_stopped_broker_leaves_the_list(cluster):
    brokers, raw, _ = cluster
    brokers[1].stop()
    assert not raw.exists("/brokers/ids/2")  # the session closed with the broker
    wait_for(lambda: sorted(admin(brokers[0]).list_topics(timeout=10).brokers) == [1])
    brokers[1].start()
    wait_for(lambda: sorted(admin(brokers[0]).list_topics(timeout=10).brokers) == [1, 2])


def state(raw: KazooClient, topic: str, p: int) -> dict:
    return json.loads(raw.get(f"/brokers/topics/{topic}/partitions/{p}/state")[0])


def controller_seen(client: AdminClient, broker_id: int) -> bool:
    """Whether DescribeCluster names broker_id as the controller; False while librdkafka has not yet found the new
    controller (it times out waiting for one it can reach: not yet, not an error)."""
    try:
        return client.describe_cluster(request_timeout=5).result().controller.id == broker_id
    except KafkaException:
        return False


def test_the_controller_moves_when_its_broker_stops_and_leaders_follow_the_live_brokers(cluster):
    brokers, raw, _ = cluster
    active = json.loads(raw.get("/controller")[0])["brokerid"]
    survivor_id = 3 - active
    epoch = int(raw.get("/controller_epoch")[0])
    victim, survivor = brokers[active - 1], brokers[survivor_id - 1]
    client = admin(survivor)
    for topic, rf in (("failover", 2), ("single", 1)):
        client.create_topics([NewTopic(topic, 2, rf)])[topic].result(10)
    wait_for(lambda: all(raw.exists(f"/brokers/topics/{t}/partitions/{p}/state")
                         for t in ("failover", "single") for p in (0, 1)))
    before = {(t, p): state(raw, t, p) for t in ("failover", "single") for p in (0, 1)}
    victim.stop()
    new = wait_for(lambda: raw.exists("/controller") and json.loads(raw.get("/controller")[0]))
    assert new["brokerid"] == survivor_id and int(raw.get("/controller_epoch")[0]) == epoch + 1
    wait_for(lambda: controller_seen(client, survivor_id), timeout=30, what="the new controller in DescribeCluster")
    # failover: partitions the victim led get a new leader from the ISR, or none (-1) without a live ISR replica
    for (t, p), old in before.items():
        if old["leader"] != active:
            # the failed broker leaves the ISRs it was in (ReplicaStateMachine's OfflineReplica at failover)
            isr = [r for r in old["isr"] if r != active] or old["isr"]
            expected = old if isr == old["isr"] else {**old, "isr": isr, "leader_epoch": old["leader_epoch"] + 1,
                                                       "controller_epoch": epoch + 1}
            assert state(raw, t, p) == expected
        elif t == "failover":
            assert state(raw, t, p) == {"controller_epoch": epoch + 1, "leader": survivor_id, "version": 1,
                                        "leader_epoch": 1, "isr": [survivor_id]}
        else:
            assert state(raw, t, p) == {"controller_epoch": epoch + 1, "leader": -1, "version": 1,
                                        "leader_epoch": 1, "isr": [active]}
    (victims_single,) = [p for (t, p), old in before.items() if t == "single" and old["leader"] == active]
    victim.start()  # its partition's only ISR replica is back: it leads again
    wait_for(lambda: state(raw, "single", victims_single)["leader"] == active)
    assert state(raw, "single", victims_single)["leader_epoch"] == 2
    assert json.loads(raw.get("/controller")[0])["brokerid"] == survivor_id  # a returning broker does not take over
    victim.stop()  # a broker that is not the controller fails: it leaves the ISRs it is in
    (kept,) = [p for (t, p), old in before.items() if t == "failover" and old["leader"] != active]
    wait_for(lambda: state(raw, "failover", kept)["isr"] == [survivor_id])
    assert state(raw, "failover", kept)["leader"] == survivor_id
    wait_for(lambda: state(raw, "single", victims_single)["leader"] == -1)
    victim.start()


def test_zookeeper_shell_shows_kafkas_tree(cluster):
    brokers, _, _ = cluster
    shell = Path(sys.executable).parent / "zookeeper-shell"
    r = subprocess.run([str(shell), brokers[0].overrides["zookeeper.connect"], "ls", "/"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    tree = next(line for line in r.stdout.splitlines() if line.startswith("["))
    for znode in ("admin", "brokers", "cluster", "config", "controller", "controller_epoch",
                  "isr_change_notification", "latest_producer_id_block"):
        assert znode in tree, tree
