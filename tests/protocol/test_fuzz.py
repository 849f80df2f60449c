"""Property tests of the protocol edge (hypothesis, modest example counts).

What each layer may raise, which the broker's dispatch relies on:

* FrameDecoder.feed raises only FrameTooLarge (a negative size, or one over socket.request.max.bytes), and it
  raises before buffering anything for the frame: memory never depends on the size a peer announces.
* decode_request raises MalformedRequest for bytes it cannot read as the request its header names, and
  kio.index.KioIndexError (UnknownAPIKey / UnknownEntity, RuntimeError subclasses, *not* KeyError) when kio has no
  class for the (api key, version). Broker.dispatch checks the registry first, so the second never reaches it.
* validate_produced raises only KafkaError (CORRUPT_MESSAGE, INVALID_RECORD, MESSAGE_TOO_LARGE,
  UNSUPPORTED_COMPRESSION_TYPE); what it accepts is one whole magic-2 batch with a good CRC.
* Dispatcher.dispatch never raises: it returns CLOSE, None (acks=0) or response bytes, or an awaitable of those.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import functools
import inspect
import struct
import tracemalloc
import types
import typing
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from kafka_wire import decode_response, encode, frame, huge_array_payload, record_batch, request_payload
from kio.index import KioIndexError
from kio.schema.index import api_key_map
from kio.schema.request_header.v1.header import RequestHeader as RequestHeaderV1
from kio.schema.request_header.v2.header import RequestHeader as RequestHeaderV2
from kio.serial.errors import OutOfBoundValue

from brook.broker.connection import CLOSE, KafkaConnection
from brook.broker.registry import build_registry
from brook.broker.server import Broker
from brook.config.broker import BrokerConfig
from brook.errors import ErrorCode, KafkaError
from brook.protocol.framing import FrameDecoder, FrameTooLarge
from brook.protocol.header import MalformedRequest, decode_request
from brook.protocol.records.batch import crc_ok, validate_produced
from brook.protocol.versions import request_class, response_class

GOLDEN = sorted((Path(__file__).resolve().parent / "golden").glob("*.bin"))
GOLDEN_FRAMES = [p.read_bytes() for p in GOLDEN]
REGISTRY = build_registry()
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
I32_MAX = 2**31 - 1


# -- FrameDecoder -------------------------------------------------------------------------------------------
@FAST
@given(limit=st.integers(0, 1 << 20), size=st.one_of(st.integers(-(2**31), -1), st.integers(0, I32_MAX)),
       tail=st.binary(max_size=64), split=st.integers(0, 68))
def test_frame_decoder_rejects_oversized_frames(limit: int, size: int, tail: bytes, split: int) -> None:
    assume(size < 0 or size > limit)
    data = struct.pack(">i", size) + tail
    decoder = FrameDecoder(limit)
    with pytest.raises(FrameTooLarge):
        decoder.feed(data[:split])
        decoder.feed(data[split:])
    assert decoder.buffered <= len(data)


def test_frame_decoder_never_allocates_the_announced_size() -> None:
    tracemalloc.start()
    try:
        over = FrameDecoder(100 * 1024 * 1024)
        with pytest.raises(FrameTooLarge):
            over.feed(struct.pack(">i", I32_MAX) + b"x" * 100)
        # Within the limit but not yet arrived: only the received bytes are held.
        pending = FrameDecoder(I32_MAX)
        assert pending.feed(struct.pack(">i", I32_MAX - 1) + b"y" * 100) == []
        assert pending.buffered == 104
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"peak {peak} bytes"


@FAST
@given(payloads=st.lists(st.binary(max_size=40), max_size=6), cuts=st.lists(st.integers(0, 300), max_size=8))
def test_frame_decoder_reassembles_any_split(payloads: list[bytes], cuts: list[int]) -> None:
    data = b"".join(frame(p) for p in payloads)
    decoder = FrameDecoder(64)
    out: list[bytes] = []
    prev = 0
    for cut in sorted(c for c in cuts if c <= len(data)) + [len(data)]:
        out += decoder.feed(data[prev:cut])
        prev = cut
    assert out == payloads and decoder.buffered == 0


# -- request bytes ------------------------------------------------------------------------------------------
KNOWN_KEYS = sorted(api_key_map)


@st.composite
def headed_frames(draw: st.DrawFn, keys: list[int] = KNOWN_KEYS) -> bytes:  # noqa: B006
    """A kio-written request header (either version) naming a real or bogus API, then random body bytes."""
    api_key = draw(st.one_of(st.sampled_from(keys), st.integers(-(2**15), 2**15 - 1)))
    version = draw(st.one_of(st.integers(-1, 20), st.integers(-(2**15), 2**15 - 1)))
    header_cls = draw(st.sampled_from([RequestHeaderV1, RequestHeaderV2]))
    client_id = draw(st.one_of(st.none(), st.text(max_size=12)))
    header = header_cls(request_api_key=api_key, request_api_version=version,
                        correlation_id=draw(st.integers(-(2**31), I32_MAX)), client_id=client_id)
    return encode(header) + draw(st.binary(max_size=120))


@st.composite
def mutated(draw: st.DrawFn, originals: list[bytes]) -> bytes:
    """A valid byte string with a few bytes flipped, inserted, deleted, or cut off."""
    data = bytearray(draw(st.sampled_from(originals)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[pos] = draw(st.sampled_from([0x00, 0x7F, 0x80, 0xFF]))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and data:
            del data[pos : pos + draw(st.integers(1, 8))]
        elif op == "truncate":
            del data[pos:]
    return bytes(data)


ARBITRARY_REQUESTS = st.one_of(st.binary(max_size=200), headed_frames(),
                               *([mutated(GOLDEN_FRAMES)] if GOLDEN_FRAMES else []))


@FAST
@given(data=ARBITRARY_REQUESTS)
def test_decode_request_raises_only_malformed_request_or_kio_index_error(data: bytes) -> None:
    try:
        header, body = decode_request(data)
    except (MalformedRequest, KioIndexError):
        return
    assert (header.api_key, header.api_version) == struct.unpack_from(">hh", data)
    assert type(body) is request_class(header.api_key, header.api_version)


def test_decode_request_unknown_key_is_a_kio_index_error_not_key_error() -> None:
    with pytest.raises(KioIndexError):
        decode_request(encode(RequestHeaderV1(request_api_key=9999, request_api_version=0, correlation_id=1,
                                              client_id=None)))
    with pytest.raises(MalformedRequest):
        decode_request(b"\x00\x12\x00")


def test_an_impossible_array_length_is_malformed_not_a_process_abort() -> None:
    """Regression: kio's native reader reserved capacity from the length field and aborted the process
    (a 33-byte request killed the broker). Kafka's rule: no more elements than bytes remaining."""
    with pytest.raises(MalformedRequest, match="Tried to allocate a collection of size 4294967294"):
        decode_request(huge_array_payload())


# -- record batches -----------------------------------------------------------------------------------------
VALID_BATCHES = [record_batch([b"v"]), record_batch([b"a" * 50, b"b", b""], [b"k1", None, b"k3"]),
                 record_batch([b"x" * 300], timestamp_ms=0)]


@FAST
@given(records=st.one_of(st.binary(max_size=200), mutated(VALID_BATCHES), st.sampled_from(VALID_BATCHES)),
       max_message_bytes=st.one_of(st.just(1048588), st.integers(0, 400)))
def test_validate_produced_raises_only_kafka_error(records: bytes, max_message_bytes: int) -> None:
    try:
        h = validate_produced(records, max_message_bytes)
    except KafkaError as e:
        assert e.code in (ErrorCode.corrupt_message, ErrorCode.invalid_record, ErrorCode.message_too_large,
                          ErrorCode.unsupported_compression_type), e.code
        return
    assert h.magic == 2 and h.size == len(records) <= max_message_bytes
    assert h.records_count == h.last_offset_delta + 1 > 0
    assert crc_ok(records, 0, len(records), h.crc)


def test_validate_produced_accepts_kio_batches() -> None:
    for batch in VALID_BATCHES:
        assert validate_produced(batch, 1 << 20).size == len(batch)


# -- structured requests: any value kio can write, for every API and version Brook advertises ---------------
TOPIC = "fuzz-topic"
SIZE_FIELDS = {"num_partitions", "count", "replication_factor"}  # bounded: a huge count is a huge create
MS = st.sampled_from([0, 1, 5, 20])


def _ints(bits: int) -> st.SearchStrategy[int]:
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return st.one_of(st.sampled_from([-2, -1, 0, 1, 2, 3]), st.integers(lo, hi), st.sampled_from([lo, hi]))


def _primitive(kafka_type: str, name: str, topic_ids: list[uuid.UUID]) -> st.SearchStrategy:
    if name in SIZE_FIELDS:
        return st.integers(-2, 4)
    return {
        "bool": st.booleans(),
        "int8": _ints(8),
        "int16": _ints(16),
        "int32": _ints(32),
        "int64": _ints(64),
        "uint16": st.integers(0, 2**16 - 1),
        "uint32": st.integers(0, 2**32 - 1),
        "float64": st.floats(allow_nan=False),
        "string": st.one_of(st.sampled_from([TOPIC, "__consumer_offsets", "", "x", "a.b-c_d"]),
                            st.text(max_size=12)),
        "bytes": st.binary(max_size=24),
        "records": st.one_of(st.sampled_from(VALID_BATCHES), mutated(VALID_BATCHES), st.binary(max_size=80)),
        "uuid": st.one_of(st.sampled_from([*topic_ids, uuid.UUID(int=0)]), st.uuids()),
        "timedelta_i32": MS.map(lambda ms: datetime.timedelta(milliseconds=ms)),
        "timedelta_i64": MS.map(lambda ms: datetime.timedelta(milliseconds=ms)),
        "datetime_i64": st.integers(0, 2**40).map(
            lambda ms: datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC)),
    }[kafka_type]


def _strategy(tp: object, kafka_type: str | None, name: str, topic_ids: list[uuid.UUID]) -> st.SearchStrategy:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return st.one_of(st.none(), _strategy(inner[0], kafka_type, name, topic_ids))
    if origin is tuple:
        return st.lists(_strategy(args[0], kafka_type, name, topic_ids), max_size=3).map(tuple)
    if dataclasses.is_dataclass(tp):
        return entity_strategy(tp, tuple(topic_ids))  # type: ignore[arg-type]
    assert kafka_type is not None, (tp, name)
    return _primitive(kafka_type, name, topic_ids)


@functools.cache
def entity_strategy(cls: type, topic_ids: tuple[uuid.UUID, ...]) -> st.SearchStrategy:
    hints = typing.get_type_hints(cls)
    fields = {f.name: _strategy(hints[f.name], f.metadata.get("kafka_type"), f.name, list(topic_ids))
              for f in dataclasses.fields(cls)}
    return st.builds(cls, **fields)


@st.composite
def valid_requests(draw: st.DrawFn, topic_ids: tuple[uuid.UUID, ...]) -> tuple[int, bytes]:
    api_key = draw(st.sampled_from(sorted(REGISTRY)))
    h = REGISTRY[api_key]
    version = draw(st.integers(h.min_version, h.max_version))
    body = draw(entity_strategy(request_class(api_key, version), topic_ids))
    return api_key, request_payload(body, draw(st.integers(0, I32_MAX)))


# -- Broker.dispatch ----------------------------------------------------------------------------------------
def _client(broker: Broker) -> KafkaConnection:
    """A PLAINTEXT client's connection, dispatched to directly (no socket)."""
    conn = KafkaConnection(broker, broker.security["PLAINTEXT"])
    conn.peer, conn.host = "127.0.0.1:54321", "127.0.0.1"
    return conn


@pytest.fixture
def live_broker(tmp_path):
    """A real Broker in this process (its own event loop), with a topic holding a few batches."""
    loop = asyncio.new_event_loop()
    config = BrokerConfig({"log.dirs": str(tmp_path / "data"), "listeners": "PLAINTEXT://127.0.0.1:0",
                           "group.initial.rebalance.delay.ms": "0"})
    broker = Broker(config)
    loop.run_until_complete(broker.start())
    broker.create_topic(TOPIC, 2, 1, {})
    for batch in VALID_BATCHES:
        assert broker.replicas.append(TOPIC, 0, batch, 1).error == 0
    try:
        yield loop, broker
    finally:
        loop.run_until_complete(broker.stop())
        loop.close()


AWAIT_BOUND = 5.0  # every delayed response in these requests is bounded by max wait / timeouts of <= 20 ms


def _dispatch(loop: asyncio.AbstractEventLoop, broker: Broker, data: bytes) -> object:
    async def run() -> object:
        result = broker.dispatcher.dispatch(_client(broker), data)
        if inspect.isawaitable(result):
            result = await asyncio.wait_for(result, AWAIT_BOUND)
        return result

    return loop.run_until_complete(run())


def _check_response(data: bytes, result: object) -> None:
    assert result is CLOSE or result is None or isinstance(result, bytes), type(result)
    if not isinstance(result, bytes):
        return
    (size,) = struct.unpack_from(">i", result)
    assert size == len(result) - 4
    api_key, version, corr = struct.unpack_from(">hhi", data)
    handler = REGISTRY[api_key]
    if not handler.min_version <= version <= handler.max_version:
        assert api_key == 18, "only ApiVersions answers a version it does not support"
        version = 0  # Kafka's answer: a v0 response with UNSUPPORTED_VERSION and the supported ranges
    try:
        assert decode_response(result[4:], response_class(api_key, version))[0] == corr
    except OutOfBoundValue:
        # Kafka's -1 "no start time" in DescribeTransactions is a datetime field kio cannot read back.
        assert api_key == 65 and struct.unpack_from(">i", result, 4)[0] == corr


def _few_partitions(data: bytes) -> bool:
    """False for a (mutated) CreateTopics / CreatePartitions asking for many partitions: each is a directory and
    three open files, so a few thousand are real work (and file descriptors), not what this test is about."""
    try:
        header, body = decode_request(data)
    except (MalformedRequest, KioIndexError):
        return True
    if header.api_key == 19:
        return all(t.num_partitions <= 16 for t in body.topics)
    if header.api_key == 37:
        return all(t.count <= 16 for t in body.topics)
    return True


@settings(FAST, max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=ARBITRARY_REQUESTS | headed_frames(sorted(REGISTRY)))
def test_dispatch_on_arbitrary_frames_never_raises(live_broker, data: bytes) -> None:
    loop, broker = live_broker
    assume(_few_partitions(data))
    _check_response(data, _dispatch(loop, broker, data))


def test_dispatch_structured_requests_are_answered(live_broker) -> None:
    """Requests kio can read, with arbitrary field values, always get a response Kafka clients can read."""
    loop, broker = live_broker
    ids = (broker.topics.get(TOPIC).topic_id,)

    @settings(FAST, max_examples=400)
    @given(request=valid_requests(ids))
    def check(request: tuple[int, bytes]) -> None:
        api_key, data = request
        result = _dispatch(loop, broker, data)
        _check_response(data, result)
        assert result is not CLOSE, f"{api_key_map[api_key]} request was dropped: {decode_request(data)[1]!r}"

    check()
