"""Produce requests read by their shape (protocol/produce_shape.py) are read exactly as kio reads them: a frame the
shape accepts decodes to the learnt request with the records the shape cut out, whatever bytes were changed, cut or
added; and the answer built from the shape is byte for byte kio's encoding of the response."""

from __future__ import annotations

import datetime
import random
from types import SimpleNamespace

import pytest
from kio.static.primitive import i16, i32
from request_contexts import detached_connection, request_context

from brook.broker.handlers.produce import _learn, _response
from brook.broker.replica_manager import ProduceResult
from brook.cli.kafka_rpc import request_payload
from brook.errors import ErrorCode
from brook.protocol.header import decode_request, encode_response
from brook.protocol.produce_shape import ProduceShape
from brook.protocol.templates import TemplateCache
from brook.protocol.versions import request_class

VERSIONS = [3, 5, 8, 9, 11]


def produce_frame(version: int, records: bytes, correlation_id: int = 7, partitions=((("orders"), (3,)),),
                  acks: int = -1, client_id: str | None = "rdkafka", transactional_id: str | None = None) -> bytes:
    cls = request_class(0, version)
    topic_cls = cls.__dataclass_fields__["topic_data"].type.__args__[0]
    part_cls = topic_cls.__dataclass_fields__["partition_data"].type.__args__[0]
    body = cls(transactional_id=transactional_id, acks=i16(acks), timeout=datetime.timedelta(seconds=30),
               topic_data=tuple(topic_cls(name=name, partition_data=tuple(part_cls(index=i32(i), records=records)
                                                                           for i in indexes))
                                for name, indexes in partitions))
    return request_payload(body, correlation_id, client_id)


def batch(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)  # the shape does not read the batch: any bytes do


@pytest.mark.parametrize("version", VERSIONS)
def test_a_frame_of_the_shape_gives_its_records(version: int) -> None:
    first = produce_frame(version, batch(100))
    shape = ProduceShape.learn(first, decode_request(first)[1])
    assert shape is not None and (shape.topic, shape.partition, shape.acks) == ("orders", 3, -1)
    for size in (1, 61, 126, 127, 128, 200, 16383, 16384, 70000):  # across the varint's widths
        records = batch(size, size)
        frame = produce_frame(version, records, correlation_id=size)
        assert shape.records(frame) == records
    # another partition, topic, acks, client id or transactional id is another shape
    for other in (produce_frame(version, batch(100), partitions=(("orders", (4,)),)),
                  produce_frame(version, batch(100), partitions=(("order", (3,)),)),
                  produce_frame(version, batch(100), acks=1),
                  produce_frame(version, batch(100), client_id="other"),
                  produce_frame(version, batch(100), transactional_id="t")):
        assert shape.records(other) is None


@pytest.mark.parametrize("version", VERSIONS)
def test_requests_of_several_partitions_have_no_shape(version: int) -> None:
    for partitions in ((("orders", (1, 2)),), (("orders", (1,)), ("payments", (1,)))):
        frame = produce_frame(version, batch(100), partitions=partitions)
        assert ProduceShape.learn(frame, decode_request(frame)[1]) is None
    frame = produce_frame(version, b"")
    assert ProduceShape.learn(frame, decode_request(frame)[1]) is None  # no records: nothing to learn from


@pytest.mark.parametrize("version", VERSIONS)
def test_whatever_the_bytes_an_accepted_frame_decodes_to_the_shape(version: int) -> None:
    """Changed, cut and added bytes: the shape accepts a frame only if kio reads it as the learnt request with the
    records the shape returns (otherwise kio decides, as for any frame)."""
    rng = random.Random(version)
    first = produce_frame(version, batch(150))
    learnt = decode_request(first)[1]
    shape = ProduceShape.learn(first, learnt)
    assert shape is not None
    base = produce_frame(version, batch(150, 1), correlation_id=99)
    accepted = 0
    for _ in range(3000):
        frame = bytearray(base)
        kind = rng.randrange(3)
        at = rng.randrange(len(frame))
        if kind == 0:
            frame[at] = rng.randrange(256)
        elif kind == 1:
            del frame[at:at + rng.randint(1, 4)]
        else:
            frame[at:at] = rng.randbytes(rng.randint(1, 4))
        records = shape.records(bytes(frame))
        if records is None:
            continue
        accepted += 1
        header, request = decode_request(bytes(frame))
        assert header.api_version == version
        part = request.topic_data[0].partition_data[0]
        assert (request.transactional_id, request.acks, request.timeout) == \
            (learnt.transactional_id, learnt.acks, learnt.timeout)
        assert len(request.topic_data) == 1 and len(request.topic_data[0].partition_data) == 1
        assert (request.topic_data[0].name, part.index, part.records) == ("orders", 3, records)
    assert accepted > 100  # the changes inside the records and the correlation id


@pytest.mark.parametrize("version", [5, 8, 9, 11])
def test_the_shapes_answer_is_kios_encoding(version: int) -> None:
    first = produce_frame(version, batch(100))
    header, request = decode_request(first)
    conn = detached_connection()
    ctx = request_context(header, first, conn)
    results = [("orders", [(3, ProduceResult(ErrorCode.none, 10, -1, 0))])]
    _learn(SimpleNamespace(templates=TemplateCache()), ctx, request, results)  # type: ignore[arg-type]
    (shape,) = conn.produce_shapes
    for correlation_id, base, start in ((8, 11, 0), (-5, 1 << 40, 1 << 33), (2**31 - 1, 0, 0)):
        frame = produce_frame(version, batch(300), correlation_id=correlation_id)
        later = decode_request(frame)[0]
        expected = encode_response(later, _response(request_context(later), [
            ("orders", [(3, ProduceResult(ErrorCode.none, base, -1, start))])], None))
        assert shape.answer(frame, base, start) == expected


def test_a_connection_keeps_a_few_shapes_and_learns_again_after_misses() -> None:
    conn = detached_connection()
    broker = SimpleNamespace(templates=TemplateCache())

    def learn(index: int) -> None:
        frame = produce_frame(9, batch(100), partitions=(("orders", (index,)),))
        header, request = decode_request(frame)
        ctx = request_context(header, frame, conn)
        _learn(broker, ctx, request, [("orders", [(index, ProduceResult(ErrorCode.none, 0, -1, 0))])])  # type: ignore[arg-type]

    for i in range(20):
        learn(i)
    assert [s.partition for s in conn.produce_shapes] == list(range(8))  # full: later ones are not learnt
    conn.produce_misses = 16  # a producer that moved on: the oldest shape gives way
    learn(30)
    assert [s.partition for s in conn.produce_shapes] == [*range(1, 8), 30] and conn.produce_misses == 0
