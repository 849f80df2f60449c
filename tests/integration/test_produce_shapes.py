"""Produce requests of a shape the connection sent before are appended without decoding (broker/handlers/produce.py,
handle_frame). What a client sees does not change: the same offsets, records and answers, and every answer other
than a plain acknowledgement (an error, a log append time, a throttle, an fsync to wait for, a topic that went) is
the decoded request's, as on the first request of a shape."""

from __future__ import annotations

import datetime

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic
from conftest import module_broker
from kafka_wire import Conn, decode_response, record_batch, request_frame, wait_for
from kio.schema.alter_client_quotas.v1 import request as acq_req
from kio.schema.alter_client_quotas.v1 import response as acq_resp
from kio.schema.produce.v9.request import PartitionProduceData, ProduceRequest, TopicProduceData
from kio.schema.produce.v9.response import ProduceResponse

NONE, CORRUPT_MESSAGE, UNKNOWN_TOPIC_OR_PARTITION, MESSAGE_TOO_LARGE, INVALID_RECORD = 0, 2, 3, 10, 87


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    with module_broker(tmp_path_factory, "produce-shapes") as b:
        yield b


def create(broker, name: str, partitions: int = 1, config: dict[str, str] | None = None) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1, config=config or {})])[name].result(30)


def set_config(broker, topic: str, name: str, value: str) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic, incremental_configs=[
        ConfigEntry(name, value, incremental_operation=AlterConfigOpType.SET)])
    for f in admin.incremental_alter_configs([resource]).values():
        f.result(30)


def read_all(broker, topic: str, partitions: int, expected: int) -> dict[int, list[tuple[int, bytes, bytes]]]:
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": f"read-{topic}", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    got: dict[int, list[tuple[int, bytes, bytes]]] = {p: [] for p in range(partitions)}
    count = 0

    def done() -> bool:
        nonlocal count
        for m in c.consume(500, 0.2):
            assert m.error() is None, m.error()
            got[m.partition()].append((m.offset(), m.key(), m.value()))
            count += 1
        return count >= expected

    wait_for(done, 30, what=f"{expected} records of {topic}")
    c.close()
    return got


@pytest.mark.parametrize("idempotent", [False, True])
def test_synchronous_producer_over_many_partitions_and_topics(broker, idempotent: bool) -> None:
    """One message per request, flushed each time: partitions and topics in turn (more than a connection keeps
    shapes of), and every record where its answer said, in order."""
    topics = [f"shapes-{idempotent}-{i}" for i in range(3)]
    for t in topics:
        create(broker, t, 12)
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0, "acks": "all",
                  "enable.idempotence": idempotent})
    acked: dict[tuple[str, int], list[int]] = {}
    sent: dict[tuple[str, int], list[bytes]] = {}

    def on_delivery(err, m) -> None:  # noqa: ANN001
        assert err is None, err
        acked.setdefault((m.topic(), m.partition()), []).append(m.offset())

    for n in range(3):
        for t in topics:
            for part in range(12):
                for k in range(2):
                    value = f"{t}/{part}/{n}/{k}".encode()
                    sent.setdefault((t, part), []).append(value)
                    p.produce(t, value, key=b"k%d" % k, partition=part, on_delivery=on_delivery)
                    assert p.flush(10) == 0
    assert all(offsets == list(range(6)) for offsets in acked.values()) and len(acked) == 36
    for t in topics:
        got = read_all(broker, t, 12, 72)
        for part in range(12):
            assert [v for _, _, v in got[part]] == sent[(t, part)]
            assert [o for o, _, _ in got[part]] == list(range(6))
            assert [k for _, k, _ in got[part]] == [b"k0", b"k1"] * 3


def produce(conn: Conn, topic: str, value: bytes, correlation_id: int, acks: int = 1, records: bytes | None = None,
            client_id: str = "shaped"):  # type: ignore[no-untyped-def]
    body = ProduceRequest(transactional_id=None, acks=acks, timeout=datetime.timedelta(seconds=10), topic_data=(
        TopicProduceData(name=topic, partition_data=(PartitionProduceData(
            index=0, records=records if records is not None else record_batch([value])),)),))
    conn.send(request_frame(body, correlation_id, client_id))
    if acks == 0:
        return None
    corr, response = decode_response(conn.recv_payload(), ProduceResponse)
    assert corr == correlation_id
    (topic_response,) = response.responses
    (part,) = topic_response.partition_responses
    return part, response


def test_answers_other_than_a_plain_ack_on_a_known_shape(broker) -> None:
    create(broker, "answers")
    with Conn(broker.port) as conn:
        for i in range(3):  # the first request teaches the connection its shape, the next two take it
            part, response = produce(conn, "answers", b"v%d" % i, 10 + i)
            assert (part.error_code, part.base_offset, part.log_append_time, response.throttle_time) == \
                (NONE, i, None, datetime.timedelta(0))
        # a batch whose CRC does not hold, in a frame of the same shape: refused, nothing appended
        bad = bytearray(record_batch([b"v3"]))
        bad[-1] ^= 0xFF
        part, _ = produce(conn, "answers", b"", 20, records=bytes(bad))
        assert part.error_code == CORRUPT_MESSAGE
        part, _ = produce(conn, "answers", b"v3", 21)
        assert (part.error_code, part.base_offset) == (NONE, 3)
        # the topic's config changes under the connection's shape
        set_config(broker, "answers", "message.timestamp.type", "LogAppendTime")
        part, _ = produce(conn, "answers", b"v4", 22)
        assert part.error_code == NONE and part.base_offset == 4 and part.log_append_time is not None
        set_config(broker, "answers", "message.timestamp.type", "CreateTime")
        set_config(broker, "answers", "max.message.bytes", "70")
        part, _ = produce(conn, "answers", b"x" * 100, 23)
        assert part.error_code == MESSAGE_TOO_LARGE
        set_config(broker, "answers", "max.message.bytes", "1048588")
        set_config(broker, "answers", "flush.messages", "1")  # every ack after an fsync
        part, _ = produce(conn, "answers", b"v5", 24)
        assert (part.error_code, part.base_offset) == (NONE, 5)
        # acks=0: no answer, the records appended all the same
        for i in range(3):
            produce(conn, "answers", b"zero%d" % i, 30 + i, acks=0)
        part, _ = produce(conn, "answers", b"v9", 40)
        assert (part.error_code, part.base_offset) == (NONE, 9)
    got = read_all(broker, "answers", 1, 10)[0]
    assert [v for _, _, v in got] == [b"v0", b"v1", b"v2", b"v3", b"v4", b"v5", b"zero0", b"zero1", b"zero2", b"v9"]


def test_a_quota_set_under_a_known_shape_throttles_it(broker) -> None:
    create(broker, "throttled")
    with Conn(broker.port) as conn, Conn(broker.port) as admin:
        for i in range(3):
            _, response = produce(conn, "throttled", b"v", 50 + i, client_id="slow-shape")
            assert response.throttle_time == datetime.timedelta(0)
        body = acq_req.AlterClientQuotasRequest(validate_only=False, entries=(acq_req.EntryData(
            entity=(acq_req.EntityData(entity_type="user", entity_name="ANONYMOUS"),
                    acq_req.EntityData(entity_type="client-id", entity_name="slow-shape")),
            ops=(acq_req.OpData(key="producer_byte_rate", value=10.0, remove=False),)),))
        (entry,) = admin.request(body, acq_resp.AlterClientQuotasResponse).entries  # type: ignore[attr-defined]
        assert entry.error_code == 0
        _, response = produce(conn, "throttled", b"x" * 500, 60, client_id="slow-shape")
        assert response.throttle_time > datetime.timedelta(0)


def test_a_topic_deleted_under_a_known_shape(broker) -> None:
    create(broker, "going")
    with Conn(broker.port) as conn:
        for i in range(2):
            part, _ = produce(conn, "going", b"v", 70 + i)
            assert part.error_code == NONE
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.delete_topics(["going"])["going"].result(30)
        part, _ = produce(conn, "going", b"v", 80)
        assert part.error_code == UNKNOWN_TOPIC_OR_PARTITION


def test_a_keyless_record_on_a_compacted_topic_under_a_known_shape(broker) -> None:
    create(broker, "compacted", config={"cleanup.policy": "compact"})
    with Conn(broker.port) as conn:
        for i in range(2):
            part, _ = produce(conn, "compacted", b"", 90 + i, records=record_batch([b"v"], keys=[b"k"]))
            assert (part.error_code, part.base_offset) == (NONE, i)
        part, _ = produce(conn, "compacted", b"", 92, records=record_batch([b"v"]))
        assert part.error_code == INVALID_RECORD and [e.batch_index for e in part.record_errors] == [0]
        part, _ = produce(conn, "compacted", b"", 93, records=record_batch([b"w"], keys=[b"k"]))
        assert (part.error_code, part.base_offset) == (NONE, 2)
