"""Property tests of the SASL handshake (hypothesis): a real Broker in this process with a SASL_PLAINTEXT listener;
each example feeds a sequence of frames (well-formed or not, in or out of order, tokens of any size) into a real
KafkaConnection over an in-memory transport. Whatever arrives, nothing escapes as an exception, every response is a
readable Kafka response (or a raw SASL token after a v0 handshake), a connection that misbehaves is closed, and no
sequence without the right password authenticates."""

from __future__ import annotations

import asyncio
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kafka_wire import request_frame
from kio.schema.api_versions.v3.request import ApiVersionsRequest
from kio.schema.metadata.v12.request import MetadataRequest
from kio.schema.sasl_authenticate.v2.request import SaslAuthenticateRequest
from kio.schema.sasl_handshake.v0.request import SaslHandshakeRequest as SaslHandshakeRequestV0
from kio.schema.sasl_handshake.v1.request import SaslHandshakeRequest

from brook.acl import ANONYMOUS
from brook.broker.connection import KafkaConnection
from brook.broker.server import Broker
from brook.config.broker import BrokerConfig

JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";'
GOOD_PLAIN = b"\x00alice\x00alice-secret"


class MemoryTransport:
    """What KafkaConnection uses of an asyncio transport, in memory."""

    def __init__(self) -> None:
        self.written = bytearray()
        self.closed = False
        self.paused = False

    def get_extra_info(self, name: str) -> object:
        return ("127.0.0.1", 50000) if name == "peername" else None

    def write(self, data: bytes) -> None:
        assert not self.closed, "a write after close"
        self.written += data

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory):
    loop = asyncio.new_event_loop()
    config = BrokerConfig({"log.dirs": str(tmp_path_factory.mktemp("fuzz-sasl") / "data"),
                           "listeners": "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
                           "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256", "sasl.server.max.receive.size": "4096",
                           "listener.name.sasl_plaintext.plain.sasl.jaas.config": JAAS,
                           "connection.failed.authentication.delay.ms": "0"})
    broker = Broker(config)
    loop.run_until_complete(broker.start())
    try:
        yield loop, broker
    finally:
        loop.run_until_complete(broker.stop())
        loop.close()


def _frames() -> st.SearchStrategy[bytes]:
    token = st.one_of(st.just(GOOD_PLAIN), st.binary(max_size=64), st.just(b"\x00alice\x00wrong"),
                      st.just(b"n,,n=alice,r=abc"), st.binary(min_size=5000, max_size=5000))
    return st.one_of(
        st.just(request_frame(ApiVersionsRequest(client_software_name="fuzz", client_software_version="1"))),
        st.sampled_from(["PLAIN", "SCRAM-SHA-256", "GSSAPI", ""]).map(
            lambda m: request_frame(SaslHandshakeRequest(mechanism=m))),
        st.sampled_from(["PLAIN", "SCRAM-SHA-256"]).map(lambda m: request_frame(SaslHandshakeRequestV0(mechanism=m))),
        token.map(lambda t: request_frame(SaslAuthenticateRequest(auth_bytes=t))),
        token.map(lambda t: struct.pack(">i", len(t)) + t),  # a raw (v0) token, or garbage where a request belongs
        st.just(request_frame(MetadataRequest(topics=None, allow_auto_topic_creation=False,
                                              include_topic_authorized_operations=False))),
        st.binary(min_size=1, max_size=40).map(lambda b: struct.pack(">i", len(b)) + b),
        st.just(struct.pack(">i", 1 << 30)),  # a huge announced size
    )


def _run(loop: asyncio.AbstractEventLoop, broker: Broker, frames: list[bytes]) -> tuple[KafkaConnection, bytes]:
    async def feed() -> tuple[KafkaConnection, bytes]:
        conn = KafkaConnection(broker, broker.security["SASL_PLAINTEXT"])
        transport = MemoryTransport()
        conn.connection_made(transport)  # type: ignore[arg-type]
        for data in frames:
            if transport.closed:
                break
            conn.data_received(data)
            for _ in range(5):  # delayed responses and closes (the delay is 0 here)
                await asyncio.sleep(0)
        conn.connection_lost(None)
        return conn, bytes(transport.written)

    return loop.run_until_complete(feed())


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(frames=st.lists(_frames(), min_size=1, max_size=6))
def test_any_sasl_exchange_is_answered_or_closed(sasl_broker, frames: list[bytes]) -> None:
    loop, broker = sasl_broker
    conn, written = _run(loop, broker, frames)
    pos = 0
    while pos < len(written):  # whatever was written is whole size-prefixed frames
        (size,) = struct.unpack_from(">i", written, pos)
        assert 0 <= size <= len(written) - pos - 4
        pos += 4 + size
    if conn.principal != ANONYMOUS:
        assert conn.principal == "User:alice" and any(GOOD_PLAIN in f for f in frames)
    assert not broker.connection_quotas.total


def test_the_right_password_authenticates_then_requests_flow(sasl_broker) -> None:
    loop, broker = sasl_broker
    frames = [request_frame(ApiVersionsRequest(client_software_name="t", client_software_version="1")),
              request_frame(SaslHandshakeRequest(mechanism="PLAIN")),
              request_frame(SaslAuthenticateRequest(auth_bytes=GOOD_PLAIN)),
              request_frame(MetadataRequest(topics=None, allow_auto_topic_creation=False,
                                            include_topic_authorized_operations=False))]
    conn, written = _run(loop, broker, frames)
    assert conn.principal == "User:alice"
    sizes = []
    pos = 0
    while pos < len(written):
        (size,) = struct.unpack_from(">i", written, pos)
        sizes.append(size)
        pos += 4 + size
    assert len(sizes) == 4  # ApiVersions, SaslHandshake, SaslAuthenticate and Metadata all answered


def test_v0_handshake_then_raw_tokens(sasl_broker) -> None:
    """SaslHandshake v0: the token follows size-prefixed without a Kafka header, and so does the (empty) answer."""
    loop, broker = sasl_broker
    handshake = request_frame(SaslHandshakeRequestV0(mechanism="PLAIN"))
    conn, written = _run(loop, broker, [handshake, struct.pack(">i", len(GOOD_PLAIN)) + GOOD_PLAIN])
    assert conn.principal == "User:alice"
    assert written.endswith(b"\x00\x00\x00\x00")  # the empty final PLAIN challenge
    conn, written = _run(loop, broker, [handshake, struct.pack(">i", 14) + b"\x00alice\x00wrong"])
    assert conn.principal == ANONYMOUS
