"""Replication on three real brokers and a real ZooKeeper: brokers act on the partition states the controller
writes (leaders, followers, Metadata), followers copy their leader's batches byte for byte, acks=all waits for the
ISR, and the ISR follows the followers (AlterPartition to the controller)."""

from __future__ import annotations

import datetime
import json

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from conftest import Cluster, cluster_wait
from kafka_wire import Conn, record_batch
from kio.schema.alter_partition.v2 import request as ap_req
from kio.schema.alter_partition.v2 import response as ap_resp
from kio.schema.fetch.v10 import request as v10_req
from kio.schema.fetch.v10 import response as v10_resp
from kio.schema.fetch.v12.request import FetchPartition, FetchRequest, FetchTopic
from kio.schema.fetch.v12.response import FetchResponse
from kio.schema.metadata.v12 import request as md_req
from kio.schema.metadata.v12 import response as md_resp
from kio.schema.produce.v9.request import PartitionProduceData, ProduceRequest, TopicProduceData
from kio.schema.produce.v9.response import ProduceResponse

from brook.errors import ErrorCode
from brook.java_hash import string_hash


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
        # the states reach each broker's copy moments after ZooKeeper has them: wait until every leader is there
        meta = cluster_wait(lambda b=b: (m := AdminClient({"bootstrap.servers": b.bootstrap}).list_topics(
            "r3", timeout=10)).topics["r3"].partitions and all(
            p.leader >= 0 for p in m.topics["r3"].partitions.values()) and m)
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


def _metadata(port: int, topic: str):  # noqa: ANN202
    with Conn(port) as conn:
        r = conn.request(md_req.MetadataRequest(topics=(md_req.MetadataRequestTopic(topic_id=None, name=topic),),
                                                allow_auto_topic_creation=False,
                                                include_topic_authorized_operations=False), md_resp.MetadataResponse)
    (t,) = r.topics
    return {p.partition_index: p for p in t.partitions}


def test_a_broker_that_does_not_lead_refuses_reads_and_writes_as_kafka(three_brokers: Cluster) -> None:
    c = three_brokers
    state = c.state("r3", 0)
    follower = next(i for i in state["isr"] if i != state["leader"])
    produce = ProduceRequest(transactional_id=None, acks=-1, timeout=datetime.timedelta(seconds=10), topic_data=(
        TopicProduceData(name="r3", partition_data=(PartitionProduceData(index=0, records=record_batch([b"x"])),)),))
    fetch = FetchRequest(cluster_id=None, replica_id=-1, max_wait=datetime.timedelta(0), min_bytes=1, max_bytes=1 << 20,
                         isolation_level=0, session_id=0, session_epoch=-1, topics=(FetchTopic(topic="r3", partitions=(
                             FetchPartition(partition=0, current_leader_epoch=-1, fetch_offset=0,
                                            last_fetched_epoch=-1, log_start_offset=-1,
                                            partition_max_bytes=1 << 20),)),), forgotten_topics_data=(), rack_id="")
    # a consumer's fetch before v11 (no ClientMetadata) reads from the leader only; v11+ may read from a follower
    old_fetch = v10_req.FetchRequest(replica_id=-1, max_wait=datetime.timedelta(0), min_bytes=1, max_bytes=1 << 20,
                                     isolation_level=0, session_id=0, session_epoch=-1, topics=(v10_req.FetchTopic(
                                         topic="r3", partitions=(v10_req.FetchPartition(
                                             partition=0, fetch_offset=0, partition_max_bytes=1 << 20),)),),
                                     forgotten_topics_data=())
    with Conn(c.brokers[follower].port) as conn:
        (p,) = conn.request(produce, ProduceResponse).responses[0].partition_responses
        assert p.error_code == ErrorCode.not_leader_or_follower
        (f,) = conn.request(old_fetch, v10_resp.FetchResponse).responses[0].partitions
        assert f.error_code == ErrorCode.not_leader_or_follower
        (f,) = conn.request(fetch, FetchResponse).responses[0].partitions
        assert f.error_code == ErrorCode.none  # KIP-392: up to the follower's high watermark
    with Conn(c.brokers[state["leader"]].port) as conn:
        (f,) = conn.request(fetch, FetchResponse).responses[0].partitions
        assert f.error_code == ErrorCode.none and f.records


def test_alter_partition_goes_to_the_controller_only(three_brokers: Cluster) -> None:
    c = three_brokers
    controller = c.controller_id()
    other = next(i for i in c.brokers if i != controller)
    state = c.state("r3", 0)
    topic_id = _topic_id(c, "r3")
    # the broker epoch is the czxid of the leader's registration znode
    epoch = c.raw.exists(f"/brokers/ids/{state['leader']}").czxid

    def request(broker_epoch: int) -> ap_req.AlterPartitionRequest:
        return ap_req.AlterPartitionRequest(broker_id=state["leader"], broker_epoch=broker_epoch, topics=(
            ap_req.TopicData(topic_id=topic_id, partitions=(ap_req.PartitionData(
                partition_index=0, leader_epoch=state["leader_epoch"] - 1 if state["leader_epoch"] else -1,
                new_isr=tuple(state["isr"]), leader_recovery_state=0, partition_epoch=0),)),))
    with Conn(c.brokers[other].port) as conn:
        assert conn.request(request(epoch), ap_resp.AlterPartitionResponse).error_code == ErrorCode.not_controller
    with Conn(c.brokers[controller].port) as conn:
        r = conn.request(request(epoch), ap_resp.AlterPartitionResponse)
        assert r.error_code == ErrorCode.none
        assert r.topics[0].partitions[0].error_code == ErrorCode.fenced_leader_epoch  # an older leader's proposal
        for stale in (epoch - 1, -1):  # an older registration's epoch, or none
            r = conn.request(request(stale), ap_resp.AlterPartitionResponse)
            assert r.error_code == ErrorCode.stale_broker_epoch and r.topics == ()


def _topic_id(c: Cluster, topic: str):  # noqa: ANN202
    import base64
    import uuid

    s = json.loads(c.raw.get(f"/brokers/topics/{topic}")[0])["topic_id"]
    return uuid.UUID(bytes=base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))


def test_a_dead_replica_is_offline_and_out_of_the_isr_until_it_catches_up_again(three_brokers: Cluster) -> None:
    c = three_brokers
    state = c.wait_state("r3", 1, lambda s: len(s["isr"]) == 3)
    # a follower that is not the controller: the controller takes a dead broker out of the ISRs
    victim = next(i for i in state["isr"] if i not in (state["leader"], c.controller_id()))
    alive = next(i for i in c.brokers if i != victim)
    c.brokers[victim].kill9()
    c.wait_state("r3", 1, lambda s: victim not in s["isr"], what="the dead follower out of the ISR")
    p = cluster_wait(lambda: victim not in (m := _metadata(c.brokers[alive].port, "r3")[1]).isr_nodes and m)
    assert list(p.offline_replicas) == [victim] and p.leader_id == state["leader"]
    produce(c.bootstrap, "r3", [b"while-away"] * 50)  # min.insync.replicas=2: two are enough
    c.brokers[victim].start()
    c.wait_state("r3", 1, lambda s: len(s["isr"]) == 3, what="the follower back in the ISR")
    cluster_wait(lambda: not (m := _metadata(c.brokers[alive].port, "r3")[1]).offline_replicas
                 and sorted(m.isr_nodes) == [1, 2, 3], what="Metadata with the follower back")
    cluster_wait(lambda: len(set(segments(c, "r3", 0).values())) == 1, what="the returned follower caught up")


def test_a_group_carries_on_when_its_coordinators_broker_is_killed(three_brokers: Cluster) -> None:
    c = three_brokers
    admin = AdminClient({"bootstrap.servers": c.bootstrap})
    admin.create_topics([NewTopic("grouped", 1, 3)])["grouped"].result(10)
    c.wait_state("grouped", 0, lambda s: len(s["isr"]) == 3)
    produce(c.bootstrap, "grouped", [b"first"] * 50)
    consumer = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "carries-on", "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "session.timeout.ms": 6000})
    consumer.subscribe(["grouped"])
    seen: list[int] = []

    def consume_to(n: int) -> None:
        def more() -> bool:
            for m in consumer.consume(100, timeout=0.5):
                if m.error() is None:
                    seen.append(m.offset())
            return len(seen) >= n
        cluster_wait(more, what=f"{n} records in the group")
        consumer.commit(asynchronous=False)

    consume_to(50)
    group = admin.describe_consumer_groups(["carries-on"])["carries-on"].result(10)
    partition = (string_hash("carries-on") & 0x7FFFFFFF) % 50
    coordinator = group.coordinator.id
    assert coordinator == c.state("__consumer_offsets", partition)["leader"]  # the offsets partition's leader
    c.brokers[coordinator].kill9()
    c.wait_state("__consumer_offsets", partition, lambda s: s["leader"] not in (coordinator, -1),
                 what="a new leader of the group's offsets partition")
    produce(c.bootstrap, "grouped", [b"second"] * 50)
    consume_to(100)
    consumer.close()
    assert seen == list(range(100))
    moved = admin.describe_consumer_groups(["carries-on"])["carries-on"].result(10)
    assert moved.coordinator.id not in (coordinator, -1)
    later = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "carries-on"})
    try:  # the offsets committed before and after the coordinator's death are all there
        (tp,) = later.committed([TopicPartition("grouped", 0)], timeout=10)
        assert tp.offset == 100
    finally:
        later.close()
    c.brokers[coordinator].start()
    c.wait_state("__consumer_offsets", partition, lambda s: len(s["isr"]) == 3, what="the ISR whole again")
