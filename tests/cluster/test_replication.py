"""Replication on three real brokers and a real ZooKeeper: brokers act on the partition states the controller
writes (leaders, followers, Metadata), followers copy their leader's batches byte for byte, acks=all waits for the
ISR, and the ISR follows the followers (AlterPartition to the controller)."""

from __future__ import annotations

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from conftest import Cluster, cluster_wait


def segments(cluster: Cluster, topic: str, p: int) -> dict[int, bytes]:
    return {i: b"".join(f.read_bytes() for f in sorted((b.data_dir / f"{topic}-{p}").glob("*.log")))
            for i, b in cluster.brokers.items()}


def produce(bootstrap: str, topic: str, values: list[bytes], **config) -> list[tuple[int, int]]:  # noqa: ANN003
    """acks=all, idempotent: the (partition, offset) of every acknowledged record, in order of values."""
    acked: list[tuple[int, int] | None] = [None] * len(values)
    errors: list[KafkaError] = []

    def report(err, msg, i):  # noqa: ANN001, ANN202
        if err is None:
            acked[i] = (msg.partition(), msg.offset())
        else:
            errors.append(err)

    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True, **config})
    for i, v in enumerate(values):
        producer.produce(topic, v, partition=0, on_delivery=lambda e, m, i=i: report(e, m, i))
        producer.poll(0)
    assert producer.flush(30) == 0
    assert not errors, errors
    return [a for a in acked if a is not None]


def read_all(bootstrap: str, topic: str, p: int, end: int) -> list[tuple[int, bytes]]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, 0)])
    out: list[tuple[int, bytes]] = []
    try:
        def more() -> bool:
            for m in consumer.consume(500, timeout=0.5):
                if m.error() is None:
                    out.append((m.offset(), m.value()))
            return len(out) >= end
        cluster_wait(more, what=f"{end} records of {topic}-{p}")
    finally:
        consumer.close()
    return out


def test_leaders_followers_and_the_isr_in_metadata(three_brokers: Cluster) -> None:
    c = three_brokers
    admin = AdminClient({"bootstrap.servers": c.bootstrap})
    admin.create_topics([NewTopic("r3", 3, 3)])["r3"].result(10)
    states = {p: c.wait_state("r3", p, lambda s: len(s["isr"]) == 3) for p in range(3)}
    for b in c.brokers.values():
        meta = cluster_wait(lambda b=b: (m := AdminClient({"bootstrap.servers": b.bootstrap}).list_topics(
            "r3", timeout=10)).topics["r3"].partitions and m)
        parts = meta.topics["r3"].partitions
        assert {p: (parts[p].leader, sorted(parts[p].isrs)) for p in range(3)} == {
            p: (s["leader"], sorted(s["isr"])) for p, s in states.items()}
        assert all(sorted(parts[p].replicas) == [1, 2, 3] for p in range(3))


def test_followers_copy_the_leaders_batches_and_acks_all_waits_for_them(three_brokers: Cluster) -> None:
    c = three_brokers
    values = [f"v{i}".encode() for i in range(200)]
    acked = produce(c.bootstrap, "r3", values, **{"linger.ms": 5})
    assert [o for _, o in acked] == list(range(200))
    # byte for byte: the followers appended the leader's batches as they are
    cluster_wait(lambda: len(set(segments(c, "r3", 0).values())) == 1, what="identical segments")
    assert read_all(c.bootstrap, "r3", 0, 200) == list(enumerate(values))
