"""Leadership on request, on a real ZooKeeper with three real brokers (automatic rebalance off here; it is tested
in test_controller.py): controlled shutdown moves a stopping broker's leadership away before it leaves, or
answers the partitions it could not move; ElectLeaders (PREFERRED, UNCLEAN) through confluent-kafka and the
kafka-leader-election tool; /admin/preferred_replica_election."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cluster_helpers import all_running, controller_id, create, set_state, state, three_brokers, wait_for
from confluent_kafka import ElectionType, TopicPartition
from confluent_kafka.admin import AdminClient

TOOL = str(Path(sys.executable).parent / "kafka-leader-election")


@pytest.fixture(scope="module")
def cluster(zookeeper, tmp_path_factory):
    with three_brokers(zookeeper, tmp_path_factory.mktemp("leadership"),
                       {"auto.leader.rebalance.enable": "false", "controlled.shutdown.max.retries": "2"}) as found:
        yield found


def tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([TOOL, *args], capture_output=True, text=True, timeout=60)


def test_controlled_shutdown_moves_leadership_then_elections_bring_it_back(cluster):
    brokers, raw = cluster
    ctl = controller_id(raw)
    b, other, third = [i for i in brokers if i != ctl] + [ctl]
    client = AdminClient({"bootstrap.servers": brokers[ctl].bootstrap})
    create(client, raw, "moving", [[b, other, third], [other, b, third], [b, third, other]])
    before = {p: state(raw, "moving", p) for p in range(3)}
    assert [before[p]["leader"] for p in range(3)] == [b, other, b]
    brokers[b].stop()
    text = brokers[b].log_text()
    assert "Starting controlled shutdown" in text and "Controlled shutdown request returned successfully" in text
    assert f"Shutting down broker {b}" in brokers[ctl].log_text()
    for p in range(3):  # moved by the controlled shutdown, each in one step, under the same controller epoch
        s = state(raw, "moving", p)
        assert s["leader"] != b and b not in s["isr"] and s["leader_epoch"] == before[p]["leader_epoch"] + 1
        assert s["controller_epoch"] == before[p]["controller_epoch"]
    assert state(raw, "moving", 0)["leader"] == other and state(raw, "moving", 2)["leader"] == third
    brokers[b].start()
    wait_for(lambda: raw.exists(f"/brokers/ids/{b}"))
    assert state(raw, "moving", 0)["leader"] == other  # no automatic rebalance here
    # the returning broker catches up and its leaders take it back into the ISRs (AlterPartition)
    for p in (0, 2):
        wait_for(lambda p=p: b in state(raw, "moving", p)["isr"])
    r = tool("--bootstrap-server", brokers[other].bootstrap, "--election-type", "preferred", "--topic", "moving",
             "--partition", "0")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Successfully completed leader election (PREFERRED) for partitions moving-0\n"
    assert state(raw, "moving", 0)["leader"] == b
    results = client.elect_leaders(ElectionType.PREFERRED, [TopicPartition("moving", p) for p in range(3)]).result()
    errors = {tp.partition: e for tp, e in results.items()}
    assert errors[2] is None and state(raw, "moving", 2)["leader"] == b
    assert errors[0].code() == 84 and errors[1].code() == 84  # ELECTION_NOT_NEEDED
    r = tool("--bootstrap-server", brokers[other].bootstrap, "--election-type", "PREFERRED", "--all-topic-partitions")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Valid replica already elected for partitions ") and "moving-1" in r.stdout


def test_the_last_replica_cannot_hand_over(cluster):
    brokers, raw = cluster
    all_running(brokers, raw)
    ctl = controller_id(raw)
    lone, away = [i for i in brokers if i != ctl]
    client = AdminClient({"bootstrap.servers": brokers[ctl].bootstrap})
    create(client, raw, "stuck", [[lone, away]])
    brokers[away].stop()
    wait_for(lambda: state(raw, "stuck", 0)["isr"] == [lone])
    brokers[lone].stop()  # no other ISR replica is live: the controller answers the partition it still leads
    text = brokers[lone].log_text()
    assert "Remaining partitions to move: stuck-0" in text
    assert "Retrying controlled shutdown (1 retries remaining)" in text
    assert "Proceeding to do an unclean shutdown as all the controlled shutdown attempts failed" in text
    # then the controller sees the broker's loss (its ZooKeeper watch): no leader until an ISR replica returns
    wait_for(lambda: state(raw, "stuck", 0)["leader"] == -1)
    brokers[away].start()
    wait_for(lambda: raw.exists(f"/brokers/ids/{away}"))
    assert state(raw, "stuck", 0)["leader"] == -1
    r = tool("--bootstrap-server", brokers[ctl].bootstrap, "--election-type", "preferred", "--topic", "stuck",
             "--partition", "0")
    assert r.returncode == 1
    assert r.stdout == ("Error completing leader election (PREFERRED) for partition: stuck-0: org.apache.kafka.common."
                        "errors.PreferredLeaderNotAvailableException: Failed to elect leader for partition stuck-0 "
                        "under strategy PreferredReplicaPartitionLeaderElectionStrategy\n")
    assert r.stderr == "1 replica(s) could not be elected\n"
    path = Path(brokers[ctl].data_dir).parent / "unclean.json"
    path.write_text(json.dumps({"partitions": [{"topic": "stuck", "partition": 0}]}))
    r = tool("--bootstrap-server", brokers[ctl].bootstrap, "--election-type", "unclean", "--path-to-json-file",
             str(path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == "Successfully completed leader election (UNCLEAN) for partitions stuck-0\n"
    assert state(raw, "stuck", 0)["leader"] == away and state(raw, "stuck", 0)["isr"] == [away]
    all_running(brokers, raw)


def test_preferred_replica_election_znode_and_bad_input(cluster):
    brokers, raw = cluster
    all_running(brokers, raw)
    ctl = controller_id(raw)
    b, other = [i for i in brokers if i != ctl]
    client = AdminClient({"bootstrap.servers": brokers[ctl].bootstrap})
    create(client, raw, "zk-elected", [[b, other]])
    set_state(raw, "zk-elected", 0, leader=other)  # another replica leads, as after a failover
    raw.create("/admin/preferred_replica_election",
               json.dumps({"version": 1, "partitions": [{"topic": "zk-elected", "partition": 0}]}).encode())
    wait_for(lambda: not raw.exists("/admin/preferred_replica_election"))
    assert state(raw, "zk-elected", 0)["leader"] == b
    results = client.elect_leaders(ElectionType.PREFERRED, [TopicPartition("nope", 0)]).result()
    assert [e.code() for e in results.values()] == [3]  # UNKNOWN_TOPIC_OR_PARTITION
    for args, message in ((["--election-type", "preferred", "--topic", "t"], "Missing required option(s): partition"),
                          (["--election-type", "preferred", "--partition", "0", "--all-topic-partitions"],
                           "Option partition is only allowed if topic is used"),
                          (["--election-type", "preferred"], "One and only one of the following options is required: "
                           "topic, all-topic-partitions, path-to-json-file")):
        r = tool("--bootstrap-server", brokers[ctl].bootstrap, *args)
        assert r.returncode == 1 and r.stderr == message + "\n"
