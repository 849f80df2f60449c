"""Fetching from the closest replica (KIP-392) on three real brokers in three racks with
`replica.selector.class=...RackAwareReplicaSelector`: the leader answers a consumer in another rack with that
rack's in-sync replica as preferred_read_replica and no records; librdkafka (`client.rack`) then reads every record
from the follower; a consumer in the leader's rack reads from the leader."""

from __future__ import annotations

import json
import time

import pytest
from cluster_helpers import create, state, three_brokers, wait_for
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from kafka_wire import Conn
from kio.schema.fetch.v12 import request as fetch_req
from kio.schema.fetch.v12.response import FetchResponse

from brook.errors import ErrorCode

SELECTOR = "org.apache.kafka.common.replica.RackAwareReplicaSelector"


@pytest.fixture(scope="module")
def racks(zookeeper, tmp_path_factory):
    base = tmp_path_factory.mktemp("racks")
    with three_brokers(zookeeper, base, {"replica.selector.class": SELECTOR, "auto.leader.rebalance.enable": "false"},
                       {i: {"broker.rack": f"r{i}"} for i in (1, 2, 3)}) as (brokers, raw):
        create(AdminClient({"bootstrap.servers": brokers[1].bootstrap}), raw, "near", [[1, 2, 3]])
        wait_for(lambda: state(raw, "near", 0)["isr"] == [1, 2, 3])
        producer = Producer({"bootstrap.servers": brokers[1].bootstrap, "acks": "all", "linger.ms": 5})
        for i in range(200):
            producer.produce("near", f"v{i}".encode(), partition=0)
        assert producer.flush(30) == 0
        yield brokers, raw


def fetch(port: int, rack: str) -> object:
    request = fetch_req.FetchRequest(
        cluster_id=None, replica_id=-1, max_wait=__import__("datetime").timedelta(0), min_bytes=1,
        max_bytes=1 << 20, isolation_level=0, session_id=0, session_epoch=-1, topics=(fetch_req.FetchTopic(
            topic="near", partitions=(fetch_req.FetchPartition(
                partition=0, current_leader_epoch=-1, fetch_offset=0, last_fetched_epoch=-1, log_start_offset=-1,
                partition_max_bytes=1 << 20),)),), forgotten_topics_data=(), rack_id=rack)
    with Conn(port) as conn:
        return conn.request(request, FetchResponse).responses[0].partitions[0]


def test_the_leader_names_the_replica_in_the_consumers_rack(racks):
    brokers, _ = racks
    wait_for(lambda: fetch(brokers[1].port, "r3").preferred_read_replica == 3)  # once broker 3 has the records
    p = fetch(brokers[1].port, "r3")
    assert p.error_code == ErrorCode.none and p.high_watermark == 200 and not p.records
    p = fetch(brokers[1].port, "r1")  # the leader's own rack: read here
    assert p.preferred_read_replica == -1 and p.records
    assert fetch(brokers[1].port, "elsewhere").preferred_read_replica == -1  # no replica there: the leader
    # a follower serves a v11+ consumer fetch, up to its high watermark (the leader's, one follower fetch later)
    p = wait_for(lambda: (r := fetch(brokers[2].port, "")).high_watermark == 200 and r)
    assert p.error_code == ErrorCode.none and p.records


def consume_all(bootstrap: str, rack: str) -> tuple[list[bytes], list[int]]:
    """Every record, and the brokers librdkafka fetched the partition from in turn (its statistics' toppar
    broker: the leader first, until it names a preferred read replica)."""
    fetched_from: list[int] = []

    def stats(text: str) -> None:
        part = json.loads(text).get("topics", {}).get("near", {}).get("partitions", {}).get("0")
        if part and part.get("broker", -1) >= 0 and part.get("fetch_state") == "active":
            if not fetched_from or fetched_from[-1] != part["broker"]:
                fetched_from.append(part["broker"])

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"near-{rack}", "client.rack": rack,
                         "enable.auto.commit": False, "statistics.interval.ms": 100, "stats_cb": stats})
    consumer.assign([TopicPartition("near", 0, 0)])
    values: list[bytes] = []
    deadline = time.monotonic() + 30
    try:
        while (len(values) < 200 or not fetched_from or fetched_from[-1] == 1 and rack != "r1") and \
                time.monotonic() < deadline:
            values += [m.value() for m in consumer.consume(200, 0.2) if m.error() is None]
    finally:
        consumer.close()
    return values, fetched_from


def test_librdkafka_reads_from_the_follower_in_its_rack(racks):
    brokers, _ = racks
    values, fetched_from = consume_all(brokers[1].bootstrap, "r2")
    assert values == [f"v{i}".encode() for i in range(200)]  # the leader gives no records to a consumer it redirects
    assert fetched_from[-1] == 2 and set(fetched_from) <= {1, 2}
    values, fetched_from = consume_all(brokers[1].bootstrap, "r1")
    assert values == [f"v{i}".encode() for i in range(200)] and fetched_from == [1]
