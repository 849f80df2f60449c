"""The issue's bar "Consumer groups and transactions carry on when their coordinator's broker is killed", on three
real brokers and a real ZooKeeper: __transaction_state and __consumer_offsets have three replicas
(transaction.state.log.min.isr=2, min.insync.replicas=2). A transactional confluent-kafka producer writes
transactions across partitions led by different brokers while the transaction coordinator's broker is killed with
SIGKILL, once mid-transaction and once right after a commit's answer (its markers on their way: the next coordinator
finishes them); a read_committed consumer sees exactly the committed transactions' records, in order. A consumer group
committing offsets loses its coordinator's broker the same way; the group moves to the new coordinator and its
committed offsets hold: nothing before the last commit is read again, nothing after it skipped."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from conftest import CLUSTER_SETTINGS, BrokerProcess, Cluster, cluster_wait
from kafka_wire import Conn
from kazoo.client import KazooClient
from kio.schema.find_coordinator.v4.request import FindCoordinatorRequest
from kio.schema.find_coordinator.v4.response import FindCoordinatorResponse

from brook.errors import ErrorCode
from brook.java_hash import string_hash

INTERNAL_PARTITIONS = 5  # few partitions of the internal topics: the test waits on their ISRs
# no automatic preferred-leader elections: the coordinators move only when a test kills their broker
SETTINGS = {**CLUSTER_SETTINGS, "transaction.state.log.min.isr": "2", "auto.leader.rebalance.enable": "false",
            "offsets.topic.num.partitions": str(INTERNAL_PARTITIONS),
            "transaction.state.log.num.partitions": str(INTERNAL_PARTITIONS)}
TXN_ID = "failover-txn"
GROUP = "failover-group"
RECORDS = 5  # per partition and transaction


@pytest.fixture(scope="module")
def cluster(zookeeper, tmp_path_factory) -> Iterator[Cluster]:
    chroot = f"/brook-{uuid.uuid4().hex[:8]}"
    base = tmp_path_factory.mktemp("coordinators")
    brokers = {i: BrokerProcess(base / f"broker-{i}", {"broker.id": str(i),
                                                       "zookeeper.connect": zookeeper.connect + chroot, **SETTINGS})
               for i in (1, 2, 3)}
    raw = KazooClient(hosts=zookeeper.connect + chroot)
    try:
        for b in brokers.values():
            b.start()
        raw.start(timeout=15)
        c = Cluster(brokers, raw, chroot)
        cluster_wait(lambda: c.live_ids() == [1, 2, 3], what="three live brokers")
        yield c
    finally:
        raw.stop()
        raw.close()
        for b in brokers.values():
            b.stop()


def find_coordinator(c: Cluster, key: str, key_type: int) -> int:
    """FindCoordinator (v4) asked of a live broker: the coordinator's id, -1 while there is none."""
    port = next(b.port for b in c.brokers.values() if b.alive())
    with Conn(port) as conn:
        response = conn.request(FindCoordinatorRequest(key_type=key_type, coordinator_keys=(key,)),
                                FindCoordinatorResponse)
    (answer,) = response.coordinators  # type: ignore[attr-defined]
    return answer.node_id if answer.error_code == ErrorCode.none else -1


def coordinator_partition(key: str) -> int:
    return (string_hash(key) & 0x7FFFFFFF) % INTERNAL_PARTITIONS


def coordinator_of(c: Cluster, topic: str, key: str, key_type: int) -> int:
    """The broker leading the key's coordinator partition, once FindCoordinator names it (the brokers' copies of the
    partition states follow ZooKeeper's within moments)."""
    p = coordinator_partition(key)
    return cluster_wait(lambda: (leader := c.state(topic, p)["leader"]) >= 0
                        and find_coordinator(c, key, key_type) == leader and leader, what="FindCoordinator's answer")


def kill_and_replace(c: Cluster, victim: int, topic: str, key: str, key_type: int) -> int:
    """Kill the coordinator's broker; wait until FindCoordinator names the coordinator partition's new leader."""
    c.brokers[victim].kill9()
    p = coordinator_partition(key)
    c.wait_state(topic, p, lambda s: s["leader"] not in (victim, -1), what=f"a new leader of {topic}-{p}")
    assert coordinator_of(c, topic, key, key_type) != victim  # FindCoordinator names the new leader
    return victim


def restart(c: Cluster, victim: int, topics: list[tuple[str, int]]) -> None:
    """The killed broker back, and every ISR whole again (the next test may kill any broker)."""
    c.brokers[victim].start()
    for topic, count in topics:
        for p in range(count):
            c.wait_state(topic, p, lambda s: len(s["isr"]) == 3, what=f"{topic}-{p}'s ISR whole again")


def end_transaction(producer: Producer) -> bool:
    """Commit as an application does: a retriable error retries, an abortable one aborts. True when committed."""
    deadline = time.monotonic() + 90
    committing = True
    while True:
        try:
            if committing:
                producer.commit_transaction(30)
                return True
            producer.abort_transaction(30)
            return False
        except KafkaException as e:
            err = e.args[0]
            assert not err.fatal(), err
            assert time.monotonic() < deadline, err
            if err.txn_requires_abort():
                committing = False
            elif not err.retriable():
                raise


def read_committed(c: Cluster, topic: str, partitions: int, last: bytes) -> dict[int, list[bytes]]:
    """Each partition's values as read_committed reads them, up to the value `last` (committed last everywhere)."""
    consumer = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "verifier", "enable.auto.commit": False,
                         "isolation.level": "read_committed"})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    seen: dict[int, list[bytes]] = {p: [] for p in range(partitions)}
    try:
        def all_read() -> bool:
            for m in consumer.consume(500, timeout=0.5):
                if m.error() is None:
                    seen[m.partition()].append(m.value())
            return all(vs and vs[-1] == last for vs in seen.values())
        cluster_wait(all_read, what="every committed record")
    finally:
        consumer.close()
    return seen


def test_transactions_carry_on_when_the_transaction_coordinators_broker_is_killed(cluster: Cluster) -> None:
    c = cluster
    admin = AdminClient({"bootstrap.servers": c.bootstrap})
    topic = "txn-data"  # each partition led by another broker
    admin.create_topics([NewTopic(topic, 3, replica_assignment=[[1, 2, 3], [2, 3, 1], [3, 1, 2]])])[topic].result(15)
    for p in range(3):
        c.wait_state(topic, p, lambda s: len(s["isr"]) == 3, what=f"{topic}-{p}'s ISR")
    producer = Producer({"bootstrap.servers": c.bootstrap, "transactional.id": TXN_ID,
                         "transaction.timeout.ms": 60000, "message.timeout.ms": 60000})
    producer.init_transactions(30)
    p = coordinator_partition(TXN_ID)
    c.wait_state("__transaction_state", p, lambda s: len(s["isr"]) == 3, what="the coordinator partition's ISR")
    committed: list[int] = []
    restarted = [("__transaction_state", INTERNAL_PARTITIONS), (topic, 3)]
    for i in range(12):
        producer.begin_transaction()
        for part in range(3):
            for j in range(RECORDS):
                producer.produce(topic, f"{i}-{part}-{j}".encode(), partition=part)
        producer.flush(30)
        if i == 3:  # mid-transaction: its partitions are in the coordinator's log, no marker is written yet
            victim = kill_and_replace(c, coordinator_of(c, "__transaction_state", TXN_ID, 1), "__transaction_state",
                                      TXN_ID, 1)
        if i == 8:  # right after EndTxn's answer: the markers are (most likely) still on their way
            victim = coordinator_of(c, "__transaction_state", TXN_ID, 1)
        if end_transaction(producer):
            committed.append(i)
        if i == 8:  # the next coordinator finds PrepareCommit and writes the markers itself
            kill_and_replace(c, victim, "__transaction_state", TXN_ID, 1)
        if i in (5, 10):
            restart(c, victim, restarted)
    producer.begin_transaction()  # the last transaction: read up to it
    for part in range(3):
        producer.produce(topic, b"last", partition=part)
    assert end_transaction(producer)
    assert len(committed) >= 10, committed  # at most the transactions around the kills aborted
    seen = read_committed(c, topic, 3, b"last")
    for part in range(3):
        expected = [f"{i}-{part}-{j}".encode() for i in committed for j in range(RECORDS)] + [b"last"]
        assert seen[part] == expected, f"partition {part}"


def test_a_group_keeps_its_offsets_when_the_group_coordinators_broker_is_killed(cluster: Cluster) -> None:
    c = cluster
    admin = AdminClient({"bootstrap.servers": c.bootstrap})
    topic = "grouped"
    admin.create_topics([NewTopic(topic, 3, replica_assignment=[[1, 2, 3], [2, 3, 1], [3, 1, 2]])])[topic].result(15)
    for p in range(3):
        c.wait_state(topic, p, lambda s: len(s["isr"]) == 3, what=f"{topic}-{p}'s ISR")
    producer = Producer({"bootstrap.servers": c.bootstrap, "acks": "all", "enable.idempotence": True})
    for n in range(300):
        producer.produce(topic, str(n).encode(), partition=n % 3)
    assert producer.flush(30) == 0
    first = Consumer({"bootstrap.servers": c.bootstrap, "group.id": GROUP, "enable.auto.commit": False,
                      "auto.offset.reset": "earliest", "session.timeout.ms": 10000})
    first.subscribe([topic])
    consumed: dict[int, list[int]] = {p: [] for p in range(3)}
    last_commit = {p: 0 for p in range(3)}

    def consume_and_commit(each: int) -> None:
        """Consume, committing after each batch as an application does (a commit that fails while the coordinator
        moves is tried again after the next batch); a record below the last successful commit is never read."""
        def more() -> bool:
            for m in first.consume(20, timeout=0.5):
                if m.error() is None:
                    assert m.offset() >= last_commit[m.partition()], "a record before the last commit read again"
                    consumed[m.partition()].append(m.offset())
            try:
                for tp in first.commit(asynchronous=False) or ():
                    last_commit[tp.partition] = max(last_commit[tp.partition], tp.offset)
            except KafkaException as e:
                err = e.args[0]
                assert not err.fatal(), err
                if err.code() != KafkaError._NO_OFFSET:  # nothing new to commit is no failure
                    return False
            return all(len(offsets) >= each for offsets in consumed.values())
        cluster_wait(more, what=f"{each} records of each partition consumed and committed")

    consume_and_commit(30)
    c.wait_state("__consumer_offsets", coordinator_partition(GROUP), lambda s: len(s["isr"]) == 3)
    victim = kill_and_replace(c, coordinator_of(c, "__consumer_offsets", GROUP, 0), "__consumer_offsets", GROUP, 0)
    consume_and_commit(60)  # the commits go to the new coordinator
    first.close()
    reader = Consumer({"bootstrap.servers": c.bootstrap, "group.id": GROUP})
    try:
        committed = {tp.partition: tp.offset for tp in reader.committed([TopicPartition(topic, p) for p in range(3)],
                                                                        timeout=10)}
    finally:
        reader.close()
    assert committed == last_commit  # every commit the coordinators acknowledged, before the kill and after it
    for p in range(3):  # nothing skipped up to the last commit
        assert sorted(set(consumed[p])) == list(range(committed[p])), f"partition {p}"
    second = Consumer({"bootstrap.servers": c.bootstrap, "group.id": GROUP, "enable.auto.commit": False,
                       "auto.offset.reset": "earliest"})
    second.subscribe([topic])  # a new member: the group rebalances on the new coordinator
    rest: dict[int, list[int]] = {p: [] for p in range(3)}
    try:
        def the_rest() -> bool:
            for m in second.consume(100, timeout=0.5):
                if m.error() is None:
                    rest[m.partition()].append(m.offset())
            return all(len(rest[p]) >= 100 - committed[p] for p in range(3))
        cluster_wait(the_rest, what="the records after the last commit")
    finally:
        second.close()
    for p in range(3):  # from the last commit on: nothing read again, nothing skipped
        assert rest[p] == list(range(committed[p], 100)), f"partition {p}"
    described = admin.describe_consumer_groups([GROUP])[GROUP].result(10)
    assert described.coordinator.id not in (victim, -1)
    restart(c, victim, [("__consumer_offsets", INTERNAL_PARTITIONS)])
