"""Bad input over raw sockets against a real broker process: what Kafka answers (or that it hangs up), and that
the broker keeps serving, keeps its data, and logs what happened.

Kafka's rules followed here: a request it cannot read (oversized frame, garbage, truncated body, unknown API key,
unsupported version) closes the connection without a response, except ApiVersions, which answers an
unsupported version with a v0 response carrying UNSUPPORTED_VERSION and the supported ranges (KIP-511).
A bad batch in a readable Produce request is a per-partition error and the connection stays open
(ProduceRequest.validateRecords: not magic 2 -> INVALID_RECORD; LogValidator: size over max.message.bytes ->
MESSAGE_TOO_LARGE, bad CRC -> CORRUPT_MESSAGE).
"""

from __future__ import annotations

import datetime
import socket
import struct
import time

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from conftest import BrokerProcess
from kafka_wire import Conn, decode_response, encode, frame, huge_array_payload, record_batch, request_payload, wait_for
from kio.schema.api_versions.v0.response import ApiVersionsResponse as ApiVersionsResponseV0
from kio.schema.api_versions.v3.request import ApiVersionsRequest as ApiVersionsRequestV3
from kio.schema.api_versions.v3.response import ApiVersionsResponse as ApiVersionsResponseV3
from kio.schema.create_topics.v7.request import CreatableTopic, CreateTopicsRequest
from kio.schema.create_topics.v7.response import CreateTopicsResponse
from kio.schema.produce.v3.request import ProduceRequest as ProduceRequestV3
from kio.schema.produce.v9.request import PartitionProduceData, ProduceRequest, TopicProduceData
from kio.schema.produce.v9.response import ProduceResponse
from kio.schema.request_header.v1.header import RequestHeader as RequestHeaderV1
from kio.schema.request_header.v2.header import RequestHeader as RequestHeaderV2

from brook.broker.registry import build_registry
from brook.errors import ErrorCode

MAX_REQUEST = 64 * 1024
SEED = "seed"
SMALL = "small-batches"
SMALL_MAX = 300
SEEDED = [f"seeded-{i}".encode() for i in range(5)]
TIMEOUT = 15.0


def _admin_create(bootstrap: str, topics: list[NewTopic]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept alive until its futures complete
    for f in admin.create_topics(topics, request_timeout=TIMEOUT).values():
        f.result(TIMEOUT)


@pytest.fixture(scope="module")
def kafka(tmp_path_factory):
    """One broker for the module (a small socket.request.max.bytes), seeded through confluent-kafka."""
    b = BrokerProcess(tmp_path_factory.mktemp("bad-input") / "data",
                      {"socket.request.max.bytes": str(MAX_REQUEST)})
    b.start()
    try:
        _admin_create(b.bootstrap, [NewTopic(SEED, 2, 1),
                                    NewTopic(SMALL, 1, 1, config={"max.message.bytes": str(SMALL_MAX)})])
        with Conn(b.port) as conn:  # seed with a kio-written batch, through the normal produce path
            for value in SEEDED:
                assert _produce(conn, SEED, 0, record_batch([value])) == (ErrorCode.none, SEEDED.index(value))
        yield b
    finally:
        b.stop()


@pytest.fixture
def broker(kafka):
    """The module's broker; afterwards it must still serve new connections and hold the seeded data intact."""
    kafka.test_log_start = len(kafka.log_text())  # _logged() looks only at what this test made it write
    yield kafka
    assert kafka.alive(), kafka.log_text()[-2000:]
    _assert_serves_api_versions(kafka)
    assert _read_back(kafka.bootstrap, SEED, 0, len(SEEDED)) == SEEDED
    assert _high_watermark(kafka.bootstrap, SEED, 0) == len(SEEDED)


# -- helpers --------------------------------------------------------------------------------------------------
def _produce_request(topic: str, partition: int, records: bytes | None, acks: int = -1) -> ProduceRequest:
    return ProduceRequest(transactional_id=None, acks=acks, timeout=datetime.timedelta(seconds=10),
                          topic_data=(TopicProduceData(name=topic, partition_data=(
                              PartitionProduceData(index=partition, records=records),)),))


def _produce(conn: Conn, topic: str, partition: int, records: bytes) -> tuple[int, int]:
    response = conn.request(_produce_request(topic, partition, records), ProduceResponse)
    [t] = response.responses
    [p] = t.partition_responses
    assert (t.name, p.index) == (topic, partition)
    return p.error_code, p.base_offset


def _assert_serves_api_versions(b: BrokerProcess) -> None:
    with Conn(b.port) as conn:
        r = conn.request(ApiVersionsRequestV3(client_software_name="brook-tests", client_software_version="1"),
                         ApiVersionsResponseV3)
        assert r.error_code == ErrorCode.none and any(a.api_key == 0 for a in r.api_keys)


def _read_back(bootstrap: str, topic: str, partition: int, count: int) -> list[bytes]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bad-input-check",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        consumer.assign([TopicPartition(topic, partition, 0)])
        values: list[bytes] = []
        deadline = time.monotonic() + TIMEOUT
        while len(values) < count and time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is not None:
                assert not msg.error(), msg.error()
                values.append(msg.value())
        return values
    finally:
        consumer.close()


def _high_watermark(bootstrap: str, topic: str, partition: int) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bad-input-check"})
    try:
        return consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=TIMEOUT, cached=False)[1]
    finally:
        consumer.close()


def _logged(b: BrokerProcess, text: str) -> str:
    return wait_for(lambda: text in b.log_text()[b.test_log_start:] and text,  # type: ignore[attr-defined]
                    what=f"broker log line {text!r}")


def _assert_hung_up(b: BrokerProcess, data: bytes) -> None:
    with Conn(b.port) as conn:
        conn.send(data)
        assert conn.closed_by_peer(), "the broker kept the connection open"


# -- requests the broker cannot read: the connection is closed ------------------------------------------------
def test_frame_over_socket_request_max_bytes_closes_the_connection(broker) -> None:
    _assert_hung_up(broker, struct.pack(">i", MAX_REQUEST + 1) + b"\0" * 1024)
    _logged(broker, f"frame of {MAX_REQUEST + 1} bytes exceeds socket.request.max.bytes={MAX_REQUEST}")
    _assert_hung_up(broker, struct.pack(">i", -5) + b"\0" * 16)
    _logged(broker, "frame of -5 bytes")


def test_a_frame_of_exactly_the_limit_is_read(broker) -> None:
    """socket.request.max.bytes is inclusive: a Produce of exactly that size is read and answered."""

    def payload(value_size: int) -> bytes:
        return request_payload(_produce_request(SMALL, 0, record_batch([b"x" * value_size])), 7)

    guess = MAX_REQUEST - len(payload(0))
    data = next(p for p in map(payload, range(guess - 12, guess + 1)) if len(p) == MAX_REQUEST)
    with Conn(broker.port) as conn:
        conn.send(frame(data))
        corr, response = decode_response(conn.recv_payload(), ProduceResponse)
        assert corr == 7
        assert response.responses[0].partition_responses[0].error_code == ErrorCode.message_too_large


def test_garbage_bytes_close_the_connection(broker) -> None:
    _assert_hung_up(broker, frame(b"\xde\xad\xbe\xef" * 8))  # api key 0xdead: not an API
    _logged(broker, "unknown API key -8531")
    # An HTTP request on the Kafka port: "GET " read as a size of 1195725856 bytes.
    _assert_hung_up(broker, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    _logged(broker, "frame of 1195725856 bytes exceeds")
    _assert_hung_up(broker, frame(b"\x00\x12\x00"))  # shorter than a request header
    _logged(broker, "request shorter than its header")


def test_truncated_request_closes_the_connection(broker) -> None:
    payload = request_payload(_produce_request(SEED, 0, record_batch([b"never stored"])), 3)
    _assert_hung_up(broker, frame(payload[:-20]))  # a whole frame holding part of a request
    _logged(broker, "cannot read ProduceRequest v9")
    # A frame cut short by a client that then stops sending: the broker waits, then closes when the client does.
    with Conn(broker.port) as conn:
        conn.send(frame(payload)[:40])
        assert not conn.closed_by_peer(timeout=0.3)
        conn.sock.shutdown(socket.SHUT_WR)
        assert conn.closed_by_peer()


def test_impossible_array_length_closes_the_connection(broker) -> None:
    """Regression: this 33-byte request aborted the broker process (kio reserved 32 GiB for the array)."""
    _assert_hung_up(broker, frame(huge_array_payload()))
    _logged(broker, "Tried to allocate a collection of size 4294967294")
    assert broker.alive()


def test_unknown_api_key_closes_the_connection(broker) -> None:
    header = encode(RequestHeaderV1(request_api_key=9999, request_api_version=0, correlation_id=1,
                                    client_id="brook-tests"))
    _assert_hung_up(broker, frame(header))
    _logged(broker, "unknown API key 9999")


def test_produce_v99_closes_the_connection(broker) -> None:
    body = encode(_produce_request(SEED, 0, record_batch([b"never stored"])))
    header = encode(RequestHeaderV2(request_api_key=0, request_api_version=99, correlation_id=1,
                                    client_id="brook-tests"))
    _assert_hung_up(broker, frame(header + body))
    _logged(broker, "produce v99 is not supported")


def test_produce_below_kip_896_floor_closes_the_connection(broker) -> None:
    """Produce v0-v2 are refused although ApiVersions lists Produce from v0 (KAFKA-18659)."""
    header = encode(RequestHeaderV1(request_api_key=0, request_api_version=2, correlation_id=1,
                                    client_id="brook-tests"))
    body = encode(ProduceRequestV3(transactional_id=None, acks=1, timeout=datetime.timedelta(seconds=10),
                                   topic_data=()))  # never read: the version is refused first
    _assert_hung_up(broker, frame(header + body))
    _logged(broker, "produce v2 is not supported")


def test_api_versions_v99_answers_unsupported_version_with_the_api_list(broker) -> None:
    """Kafka's answer, and no log line: a client newer than the broker negotiates this way on every connection."""
    header = encode(RequestHeaderV2(request_api_key=18, request_api_version=99, correlation_id=4242,
                                    client_id="brook-tests"))
    with Conn(broker.port) as conn:
        conn.send(frame(header + b"\x00"))
        corr, response = decode_response(conn.recv_payload(), ApiVersionsResponseV0)  # v0 header, v0 body
        assert corr == 4242
        assert response.error_code == ErrorCode.unsupported_version == 35
        registry = build_registry()
        assert {a.api_key for a in response.api_keys} == set(registry)
        versions = next(a for a in response.api_keys if a.api_key == 18)
        assert (versions.min_version, versions.max_version) == (registry[18].min_version, registry[18].max_version)
        # The client retries with a version the broker listed, on the same connection.
        r = conn.request(ApiVersionsRequestV3(client_software_name="brook-tests", client_software_version="1"),
                         ApiVersionsResponseV3)
        assert r.error_code == ErrorCode.none


# -- readable Produce requests with bad batches: a per-partition error, the connection stays open ------------
def _corrupt_crc(batch: bytes) -> bytes:
    data = bytearray(batch)
    data[-3] ^= 0x01  # inside the last record: covered by the CRC, the header still reads
    return bytes(data)


def test_wrong_crc_is_corrupt_message(broker) -> None:
    with Conn(broker.port) as conn:
        assert _produce(conn, SEED, 0, _corrupt_crc(record_batch([b"flipped"])))[0] == ErrorCode.corrupt_message == 2
        assert _produce(conn, SEED, 1, record_batch([b"fine"])) == (ErrorCode.none, 0)  # same connection
    _logged(broker, f"Rejected produce to {SEED}-0: record batch CRC mismatch")


def test_batch_over_topic_max_message_bytes_is_message_too_large(broker) -> None:
    with Conn(broker.port) as conn:
        small = record_batch([b"s" * 10])
        assert len(small) <= SMALL_MAX
        err, base = _produce(conn, SMALL, 0, small)
        assert err == ErrorCode.none
        big = record_batch([b"b" * SMALL_MAX])
        assert _produce(conn, SMALL, 0, big)[0] == ErrorCode.message_too_large == 10
        assert _produce(conn, SMALL, 0, small) == (ErrorCode.none, base + 1)  # nothing was stored in between
    _logged(broker, f"Rejected produce to {SMALL}-0: the batch size {len(big)} is larger than the max message size")


def test_produce_to_a_missing_partition_is_unknown_topic_or_partition(broker) -> None:
    with Conn(broker.port) as conn:
        assert _produce(conn, SEED, 7, record_batch([b"nowhere"]))[0] == ErrorCode.unknown_topic_or_partition == 3
        assert _produce(conn, "no-such-topic", 0, record_batch([b"nowhere"]))[0] == 3  # Produce never auto-creates
    _logged(broker, f"Rejected produce to {SEED}-7")
    _logged(broker, "Rejected produce to no-such-topic-0")


def test_produce_to_an_internal_topic_is_invalid_topic(broker) -> None:
    """ReplicaManager.appendToLocalLog: "Cannot append to internal topic" (only the coordinators write there)."""
    with Conn(broker.port) as conn:
        err, _ = _produce(conn, "__consumer_offsets", 0, record_batch([b"forged"], [b"\x00\x01"]))
        assert err == ErrorCode.invalid_topic_exception == 17
    _logged(broker, "Cannot append to internal topic __consumer_offsets")


def test_magic_v1_batch_is_invalid_record(broker) -> None:
    batch = bytearray(record_batch([b"old format"]))
    batch[16] = 1  # the magic byte; Kafka checks it before anything else in a produced batch
    with Conn(broker.port) as conn:
        assert _produce(conn, SEED, 0, bytes(batch))[0] == ErrorCode.invalid_record == 87
        assert _produce(conn, SEED, 1, record_batch([b"fine"]))[0] == ErrorCode.none
    _logged(broker, "magic v2 batches, got magic 1")


def test_two_batches_in_one_partition_is_invalid_record(broker) -> None:
    """validateRecords: "Produce requests ... are only allowed to contain exactly one record batch"."""
    with Conn(broker.port) as conn:
        two = record_batch([b"one"]) + record_batch([b"two"])
        assert _produce(conn, SEED, 0, two)[0] == ErrorCode.invalid_record
    _logged(broker, "exactly one record batch")


def test_requests_after_a_closed_connection_work_on_a_new_one(broker) -> None:
    """Many bad connections in a row do not leak: each is closed and the next one is served."""
    for i in range(20):
        _assert_hung_up(broker, frame(b"\xff" * (8 + i)))
    with Conn(broker.port) as conn:
        assert conn.request(ApiVersionsRequestV3(client_software_name="brook-tests", client_software_version="1"),
                            ApiVersionsResponseV3).error_code == 0


def test_create_topics_with_a_million_partitions_is_a_policy_violation(broker) -> None:
    """Kafka's controller refuses an operation of more than 10000 records (POLICY_VIOLATION) instead of trying."""
    request = CreateTopicsRequest(topics=(CreatableTopic(name="huge", num_partitions=1_000_000, replication_factor=1,
                                                         assignments=(), configs=()),),
                                  timeout=datetime.timedelta(seconds=10), validate_only=False)
    with Conn(broker.port) as conn:
        [t] = conn.request(request, CreateTopicsResponse).topics
    assert (t.name, t.error_code) == ("huge", ErrorCode.policy_violation)
    assert t.error_message == "Unable to perform excessively large batch operation."
    assert not list(broker.data_dir.glob("huge-*"))
