"""OffsetFetch's require_stable (KIP-447) over the wire: while a transaction holds an offset for a partition, a
read_committed client's OffsetFetch gets UNSTABLE_OFFSET_COMMIT for it (and retries); once the transaction
commits, the offset is there."""

from __future__ import annotations

import uuid

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka_wire import Conn
from kio.schema.offset_fetch.v8.request import OffsetFetchRequest, OffsetFetchRequestGroup, OffsetFetchRequestTopics
from kio.schema.offset_fetch.v8.response import OffsetFetchResponse

from brook.errors import ErrorCode

TIMEOUT = 30


def fetch(conn: Conn, group: str, topic: str, require_stable: bool) -> tuple[int, int]:
    """(error code, committed offset) of the topic's partition 0."""
    req = OffsetFetchRequest(groups=(OffsetFetchRequestGroup(group_id=group, topics=(
        OffsetFetchRequestTopics(name=topic, partition_indexes=(0,)),)),), require_stable=require_stable)
    resp = conn.request(req, OffsetFetchResponse)
    assert resp.groups[0].error_code == 0
    part = resp.groups[0].topics[0].partitions[0]
    return part.error_code, part.committed_offset


def test_require_stable_while_a_transaction_holds_the_offset(broker) -> None:
    topic, group = f"stable-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(topic, 1)])[topic].result(TIMEOUT)
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False})
    consumer.commit(offsets=[TopicPartition(topic, 0, 3)], asynchronous=False)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": f"t-{group}"})
    producer.init_transactions(TIMEOUT)
    producer.begin_transaction()
    producer.send_offsets_to_transaction([TopicPartition(topic, 0, 7)], consumer.consumer_group_metadata(), TIMEOUT)
    with Conn(broker.port) as conn:
        assert fetch(conn, group, topic, True) == (ErrorCode.unstable_offset_commit, -1)
        assert fetch(conn, group, topic, False) == (0, 3)  # without require_stable: the last committed one
        producer.commit_transaction(TIMEOUT)
        assert fetch(conn, group, topic, True) == (0, 7)
    consumer.close()
