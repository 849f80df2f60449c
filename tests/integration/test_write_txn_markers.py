"""WriteTxnMarkers (key 27) from outside the coordinator, as `kafka-transactions abort` sends it: an ABORT marker
ends a hanging transaction (the LSO moves, the data stays invisible to read_committed), and Kafka's
per-partition errors: UNKNOWN_TOPIC_OR_PARTITION, INVALID_PRODUCER_EPOCH for a stale producer epoch and
TRANSACTION_COORDINATOR_FENCED for a zombie coordinator epoch (ProducerAppendInfo.appendEndTxnMarker)."""

from __future__ import annotations

import uuid

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka_wire import Conn, wait_for
from kio.schema.api_versions.v3.request import ApiVersionsRequest
from kio.schema.api_versions.v3.response import ApiVersionsResponse
from kio.schema.describe_producers.v0.request import DescribeProducersRequest, TopicRequest
from kio.schema.describe_producers.v0.response import DescribeProducersResponse
from kio.schema.write_txn_markers.v1.request import WritableTxnMarker, WritableTxnMarkerTopic, WriteTxnMarkersRequest
from kio.schema.write_txn_markers.v1.response import WriteTxnMarkersResponse

TIMEOUT = 20.0
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_PRODUCER_EPOCH = 47
TRANSACTION_COORDINATOR_FENCED = 52


def uniq(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def txn_producer(bootstrap: str, txn_id: str) -> Producer:
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": txn_id, "linger.ms": 1,
                  "transaction.timeout.ms": 600000})
    p.init_transactions(TIMEOUT)
    return p


def producer_state(conn: Conn, topic: str) -> list:
    resp = conn.request(DescribeProducersRequest(topics=(TopicRequest(name=topic, partition_indexes=(0,)),)),
                        DescribeProducersResponse)
    part = resp.topics[0].partitions[0]
    assert part.error_code == 0, part
    return list(part.active_producers)


def write_marker(conn: Conn, pid: int, epoch: int, coordinator_epoch: int,
                 partitions: dict[str, tuple[int, ...]]) -> dict[tuple[str, int], int]:
    req = WriteTxnMarkersRequest(markers=(WritableTxnMarker(
        producer_id=pid, producer_epoch=epoch, transaction_result=False, coordinator_epoch=coordinator_epoch,
        topics=tuple(WritableTxnMarkerTopic(name=t, partition_indexes=ps) for t, ps in partitions.items())),))
    resp = conn.request(req, WriteTxnMarkersResponse)
    assert [m.producer_id for m in resp.markers] == [pid]
    return {(t.name, p.partition_index): p.error_code for t in resp.markers[0].topics for p in t.partitions}


def high_watermark(bootstrap: str, topic: str, isolation: str) -> int:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": uniq("wm"), "isolation.level": isolation})
    try:
        return c.get_watermark_offsets(TopicPartition(topic, 0), timeout=TIMEOUT, cached=False)[1]
    finally:
        c.close()


def test_write_txn_markers_aborts_a_hanging_transaction(broker) -> None:
    b = broker.bootstrap
    topic = uniq("wtm")
    admin = AdminClient({"bootstrap.servers": b})
    for f in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        f.result(timeout=TIMEOUT)
    txn_id = uniq("hanging")
    txn_producer(b, txn_id).flush(TIMEOUT)  # epoch 0, then a second producer bumps the epoch to 1
    p = txn_producer(b, txn_id)
    p.begin_transaction()
    for i in range(3):
        p.produce(topic, value=b"hanging-%d" % i, partition=0)
    assert p.flush(TIMEOUT) == 0
    assert high_watermark(b, topic, "read_committed") == 0  # the open transaction holds the LSO at 0

    with Conn(broker.port) as conn:
        api = {k.api_key: k for k in conn.request(ApiVersionsRequest(client_software_name="t",
                                                                     client_software_version="1"),
                                                  ApiVersionsResponse).api_keys}
        assert (api[27].min_version, api[27].max_version) == (1, 1)  # KIP-896's floor to Kafka 3.9's top

        [state] = producer_state(conn, topic)
        pid, epoch = state.producer_id, state.producer_epoch
        assert epoch == 1 and state.current_txn_start_offset == 0 and state.coordinator_epoch == -1

        # ReplicaManager.getMagic: a partition this broker does not host
        missing = uniq("missing")
        assert write_marker(conn, pid, epoch, 0, {topic: (0, 7), missing: (0,)}) == {
            (topic, 0): 0, (topic, 7): UNKNOWN_TOPIC_OR_PARTITION, (missing, 0): UNKNOWN_TOPIC_OR_PARTITION}
        assert producer_state(conn, topic)[0].current_txn_start_offset == -1
        assert high_watermark(b, topic, "read_committed") == 4  # 3 records + the ABORT marker
        # ProducerAppendInfo.checkProducerEpoch: a marker older than the producer's epoch
        assert write_marker(conn, pid, epoch - 1, 0, {topic: (0,)}) == {(topic, 0): INVALID_PRODUCER_EPOCH}
        # checkCoordinatorEpoch: a newer coordinator epoch is taken, an older one is a zombie's
        assert write_marker(conn, pid, epoch, 5, {topic: (0,)}) == {(topic, 0): 0}
        assert producer_state(conn, topic)[0].coordinator_epoch == 5
        assert write_marker(conn, pid, epoch, 4, {topic: (0,)}) == {(topic, 0): TRANSACTION_COORDINATOR_FENCED}
        assert high_watermark(b, topic, "read_uncommitted") == 5

    c = Consumer({"bootstrap.servers": b, "group.id": uniq("rc"), "isolation.level": "read_committed",
                  "enable.partition.eof": True})
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        got: list = []
        wait_for(lambda: any(m.error() is not None for m in c.consume(100, 0.2) if got.append(m) or True),
                 TIMEOUT, what="end of partition")
        assert [m.value() for m in got if m.error() is None] == []  # the aborted data stays invisible
    finally:
        c.close()
    assert "Rejected ABORT marker for producer" in broker.log_text()
