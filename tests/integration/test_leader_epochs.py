"""Leader epochs of a real broker: per partition, kept in Kafka's leader-epoch-checkpoint, stamped on produced
batches, checked against clients' epochs (Fetch, ListOffsets, OffsetForLeaderEpoch), answered from the epoch
cache by OffsetForLeaderEpoch, and consistent with the log over a clean restart and a kill -9."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from conftest import BrokerProcess
from kafka_wire import Conn
from kio.schema.errors import ErrorCode
from kio.schema.fetch.v16 import request as fetch_req
from kio.schema.fetch.v16 import response as fetch_resp
from kio.schema.list_offsets.v8 import request as lo_req
from kio.schema.list_offsets.v8 import response as lo_resp
from kio.schema.metadata.v12 import request as md_req
from kio.schema.metadata.v12 import response as md_resp
from kio.schema.offset_for_leader_epoch.v4 import request as ofle_req
from kio.schema.offset_for_leader_epoch.v4 import response as ofle_resp
from kio.static.primitive import i8, i32, i64

from brook.protocol.records.batch import iter_batch_positions, read_header

TIMEOUT = 20.0
TOPIC = "epochs"
CHECKPOINT = "leader-epoch-checkpoint"


@pytest.fixture(scope="module")
def b(tmp_path_factory):  # type: ignore[no-untyped-def]
    b = BrokerProcess(tmp_path_factory.mktemp("epochs") / "data")
    try:
        yield b
    finally:
        b.stop()


def _produce(b: BrokerProcess, topic: str, values: list[bytes]) -> None:
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 0})
    for v in values:
        p.produce(topic, v, partition=0)
        assert p.flush(TIMEOUT) == 0  # one batch each


def _consumed_epochs(b: BrokerProcess, topic: str) -> list[tuple[int, int | None]]:
    """(offset, leader epoch) of every record, as librdkafka reports them."""
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": f"g-{topic}", "enable.partition.eof": True})
    c.assign([TopicPartition(topic, 0, 0)])
    out = []
    try:
        while True:
            m = c.poll(5)
            assert m is not None, "no record nor end of partition within 5 s"
            if m.error() is not None:
                assert m.error().code() == m.error()._PARTITION_EOF, m.error()
                return out
            out.append((m.offset(), m.leader_epoch()))
    finally:
        c.close()


def _metadata_epoch(conn: Conn, topic: str) -> int:
    r = conn.request(md_req.MetadataRequest(topics=(md_req.MetadataRequestTopic(topic_id=None, name=topic),),
                                            allow_auto_topic_creation=False,
                                            include_topic_authorized_operations=False), md_resp.MetadataResponse)
    (t,) = r.topics
    return t.partitions[0].leader_epoch


def _end_offset_for(conn: Conn, topic: str, epoch: int, current: int = -1) -> tuple[ErrorCode, int, int]:
    r = conn.request(ofle_req.OffsetForLeaderEpochRequest(topics=(ofle_req.OffsetForLeaderTopic(
        topic=topic, partitions=(ofle_req.OffsetForLeaderPartition(
            partition=i32(0), current_leader_epoch=i32(current), leader_epoch=i32(epoch)),)),)),
        ofle_resp.OffsetForLeaderEpochResponse)
    p = r.topics[0].partitions[0]
    return p.error_code, p.leader_epoch, p.end_offset


def _latest(conn: Conn, topic: str, current: int = -1) -> tuple[ErrorCode, int, int]:
    r = conn.request(lo_req.ListOffsetsRequest(replica_id=i32(-1), isolation_level=i8(0), topics=(
        lo_req.ListOffsetsTopic(name=topic, partitions=(lo_req.ListOffsetsPartition(
            partition_index=i32(0), current_leader_epoch=i32(current), timestamp=i64(-1)),)),)),
        lo_resp.ListOffsetsResponse)
    p = r.topics[0].partitions[0]
    return p.error_code, p.offset, p.leader_epoch


def _fetch(conn: Conn, topic_id, current: int, last_fetched: int = -1, offset: int = 0):  # type: ignore[no-untyped-def]
    r = conn.request(fetch_req.FetchRequest(
        max_wait=datetime.timedelta(0), min_bytes=i32(0), topics=(fetch_req.FetchTopic(topic_id=topic_id, partitions=(
            fetch_req.FetchPartition(partition=i32(0), current_leader_epoch=i32(current), fetch_offset=i64(offset),
                                     last_fetched_epoch=i32(last_fetched), partition_max_bytes=i32(1 << 20)),)),),
        forgotten_topics_data=()), fetch_resp.FetchResponse)
    return r, r.responses[0].partitions[0]


def _topic_id(conn: Conn, topic: str):  # type: ignore[no-untyped-def]
    r = conn.request(md_req.MetadataRequest(topics=(md_req.MetadataRequestTopic(topic_id=None, name=topic),),
                                            allow_auto_topic_creation=False,
                                            include_topic_authorized_operations=False), md_resp.MetadataResponse)
    return r.topics[0].topic_id


def _stamped_epochs(data_dir: Path, topic: str) -> list[int]:
    """Each batch's partition leader epoch, straight from the segment files."""
    out = []
    for seg in sorted((data_dir / f"{topic}-0").glob("*.log")):
        data = seg.read_bytes()
        out += [read_header(data, pos).partition_leader_epoch for pos, _b, _s in iter_batch_positions(data)]
    return out


def test_a_new_partition_starts_epoch_zero_and_stamps_it(b: BrokerProcess) -> None:
    b.start()
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    for f in a.create_topics([NewTopic(TOPIC, 2, 1)], operation_timeout=10).values():
        f.result(timeout=TIMEOUT)
    for p in (0, 1):  # Kafka's file as makeLeader leaves it for a new partition
        assert (b.data_dir / f"{TOPIC}-{p}" / CHECKPOINT).read_text() == "0\n1\n0 0\n"
    _produce(b, TOPIC, [b"a", b"b", b"c"])
    assert _stamped_epochs(b.data_dir, TOPIC) == [0, 0, 0]
    assert _consumed_epochs(b, TOPIC) == [(0, 0), (1, 0), (2, 0)]
    with Conn(b.port) as conn:
        assert _metadata_epoch(conn, TOPIC) == 0
        assert _end_offset_for(conn, TOPIC, 0) == (ErrorCode.none, 0, 3)
        assert _latest(conn, TOPIC) == (ErrorCode.none, 3, 0)


def test_epochs_survive_a_restart_and_offset_for_leader_epoch_answers_from_the_cache(b: BrokerProcess) -> None:
    """A later epoch in the checkpoint (as a Kafka broker leaves it after leading in epoch 2 from offset 3): the
    partition comes back in that epoch, stamps it on new batches, and answers every epoch from the cache."""
    assert b.stop() == 0
    (b.data_dir / f"{TOPIC}-0" / CHECKPOINT).write_text("0\n2\n0 0\n2 3\n")
    b.start()
    _produce(b, TOPIC, [b"d", b"e"])
    assert _stamped_epochs(b.data_dir, TOPIC) == [0, 0, 0, 2, 2]
    assert _consumed_epochs(b, TOPIC) == [(0, 0), (1, 0), (2, 0), (3, 2), (4, 2)]
    with Conn(b.port) as conn:
        assert _metadata_epoch(conn, TOPIC) == 2
        assert _end_offset_for(conn, TOPIC, 0, current=2) == (ErrorCode.none, 0, 3)
        assert _end_offset_for(conn, TOPIC, 1) == (ErrorCode.none, 0, 3)  # the largest epoch below, to epoch 2
        assert _end_offset_for(conn, TOPIC, 2) == (ErrorCode.none, 2, 5)  # the current epoch: the log end
        assert _end_offset_for(conn, TOPIC, 3) == (ErrorCode.none, -1, -1)
        assert _end_offset_for(conn, TOPIC, 0, current=1)[0] == ErrorCode.fenced_leader_epoch
        assert _end_offset_for(conn, TOPIC, 0, current=3)[0] == ErrorCode.unknown_leader_epoch
        assert _latest(conn, TOPIC, current=2) == (ErrorCode.none, 5, 2)
        assert _latest(conn, TOPIC, current=1)[0] == ErrorCode.fenced_leader_epoch
        topic_id = _topic_id(conn, TOPIC)
        _r, part = _fetch(conn, topic_id, current=2)
        assert part.error_code == ErrorCode.none and part.high_watermark == 5 and part.records
        response, part = _fetch(conn, topic_id, current=1)
        assert (part.error_code, part.high_watermark, part.records) == (ErrorCode.fenced_leader_epoch, -1, b"")
        assert (part.current_leader.leader_id, part.current_leader.leader_epoch) == (0, 2)  # KIP-951
        assert [(n.node_id, n.port) for n in response.node_endpoints] == [(0, b.port)]
        response, part = _fetch(conn, topic_id, current=3)
        assert part.error_code == ErrorCode.unknown_leader_epoch
        assert part.current_leader.leader_id == -1 and not response.node_endpoints  # Kafka: only when fenced
        # a follower that fetched epoch 1 up to offset 4 diverges where this leader's epoch 0 ends
        _r, part = _fetch(conn, topic_id, current=2, last_fetched=1, offset=4)
        assert (part.diverging_epoch.epoch, part.diverging_epoch.end_offset) == (0, 3) and not part.records
    assert (b.data_dir / f"{TOPIC}-1" / CHECKPOINT).read_text() == "0\n1\n0 0\n"  # per partition


def test_kill_9_keeps_the_checkpoint_consistent_with_the_log(b: BrokerProcess) -> None:
    """A crash after epoch 4 began at offset 6 and the batch at offset 5 was half written: recovery truncates the
    torn batch, and the epoch that starts past the recovered end goes from the checkpoint with it."""
    _produce(b, TOPIC, [b"f"])
    b.kill9()
    part_dir = b.data_dir / f"{TOPIC}-0"
    (part_dir / CHECKPOINT).write_text("0\n3\n0 0\n2 3\n4 6\n")
    seg = sorted(part_dir.glob("*.log"))[-1]
    seg.write_bytes(seg.read_bytes()[:-7])
    b.start()
    assert "Recovered log epochs-0" in b.log_text()
    assert (part_dir / CHECKPOINT).read_text() == "0\n2\n0 0\n2 3\n"
    with Conn(b.port) as conn:
        assert _metadata_epoch(conn, TOPIC) == 2
        assert _end_offset_for(conn, TOPIC, 2) == (ErrorCode.none, 2, 5)
        assert _end_offset_for(conn, TOPIC, 4) == (ErrorCode.none, -1, -1)
    _produce(b, TOPIC, [b"g"])
    assert _consumed_epochs(b, TOPIC)[-2:] == [(4, 2), (5, 2)]
