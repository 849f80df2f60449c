"""The SASL exchange out of order, as Kafka 3.9's SaslServerAuthenticator answers it, with a raw socket client
against a real broker: which requests get an error response (ILLEGAL_SASL_STATE in the request's own response
type, UNSUPPORTED_VERSION, INVALID_REQUEST), which are refused without one, and whether the close is the delayed
one of a failed authentication (connection.failed.authentication.delay.ms, "Failed authentication" in the log) or
an immediate one ("Unexpected error from")."""

from __future__ import annotations

import datetime
import struct
import time

import pytest
from conftest import module_broker
from kafka_wire import Conn, frame, record_batch, request_frame, wait_for
from kio.schema.api_versions.v3.request import ApiVersionsRequest
from kio.schema.api_versions.v3.response import ApiVersionsResponse
from kio.schema.metadata.v12.request import MetadataRequest, MetadataRequestTopic
from kio.schema.metadata.v12.response import MetadataResponse
from kio.schema.produce.v9.request import PartitionProduceData, ProduceRequest, TopicProduceData
from kio.schema.produce.v9.response import ProduceResponse
from kio.schema.sasl_authenticate.v2.request import SaslAuthenticateRequest
from kio.schema.sasl_authenticate.v2.response import SaslAuthenticateResponse
from kio.schema.sasl_handshake.v1.request import SaslHandshakeRequest
from kio.schema.sasl_handshake.v1.response import SaslHandshakeResponse

from brook.cli.kafka_rpc import decode_response

JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";'
GOOD = b"\x00alice\x00alice-secret"
DELAY_MS = 300


@pytest.fixture(scope="module")
def sasl(tmp_path_factory):
    with module_broker(tmp_path_factory, "sasl-states", {
            "listeners": "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
            "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256",
            "listener.name.sasl_plaintext.plain.sasl.jaas.config": JAAS,
            "connection.failed.authentication.delay.ms": str(DELAY_MS)}) as b:
        yield b


def _metadata(topic: str = "orders") -> MetadataRequest:
    return MetadataRequest(topics=(MetadataRequestTopic(name=topic, topic_id=None),), allow_auto_topic_creation=False,
                           include_topic_authorized_operations=False)


def _versions(name: str = "t") -> ApiVersionsRequest:
    return ApiVersionsRequest(client_software_name=name, client_software_version="1")


def _read(conn: Conn, cls: type) -> object:
    _, response = decode_response(conn.recv_payload(), cls)
    return response


def _closed_after_the_delay(conn: Conn, sent_at: float) -> None:
    assert conn.closed_by_peer(10)
    assert time.monotonic() - sent_at >= DELAY_MS / 1000 * 0.9


def _logged(b, text: str) -> None:
    wait_for(lambda: text in b.log_text(), 10, what=repr(text))


def test_a_request_before_the_handshake_is_refused_without_a_response(sasl) -> None:
    with Conn(sasl.ports["SASL_PLAINTEXT"]) as conn:
        sent = time.monotonic()
        conn.send(request_frame(_metadata()))
        _closed_after_the_delay(conn, sent)
    _logged(sasl, "(Unexpected Kafka request of type METADATA during SASL handshake.)")
    _logged(sasl, "Failed authentication with /127.0.0.1")


@pytest.mark.parametrize("request_body, response_cls", [
    (_metadata("sasl-orders"), MetadataResponse),
    (SaslHandshakeRequest(mechanism="PLAIN"), SaslHandshakeResponse),
    (_versions(), ApiVersionsResponse),
    (ProduceRequest(transactional_id=None, acks=1, timeout=datetime.timedelta(seconds=1), topic_data=(TopicProduceData(
        name="sasl-orders", partition_data=(PartitionProduceData(index=0, records=record_batch([b"x"])),)),)),
     ProduceResponse),
], ids=["metadata", "second-handshake", "api-versions", "produce"])
def test_a_request_in_the_middle_of_the_exchange_gets_illegal_sasl_state(sasl, request_body, response_cls) -> None:
    """After SaslHandshake v1 only SaslAuthenticate is read: any other request is answered in its own response type
    with ILLEGAL_SASL_STATE (the topics and partitions it named each carry it), after the delay; then the close."""
    with Conn(sasl.ports["SASL_PLAINTEXT"]) as conn:
        assert conn.request(SaslHandshakeRequest(mechanism="PLAIN"), SaslHandshakeResponse).error_code.name == "none"
        sent = time.monotonic()
        conn.send(request_frame(request_body, 7))
        corr, response = decode_response(conn.recv_payload(), response_cls)
        assert corr == 7 and time.monotonic() - sent >= DELAY_MS / 1000 * 0.9
        if isinstance(response, MetadataResponse):
            assert [(t.name, t.error_code.name) for t in response.topics] == [("sasl-orders", "illegal_sasl_state")]
        elif isinstance(response, ProduceResponse):
            assert [(t.name, [(p.index, p.error_code.name) for p in t.partition_responses])
                    for t in response.responses] == [("sasl-orders", [(0, "illegal_sasl_state")])]
        else:
            assert response.error_code.name == "illegal_sasl_state"
        if isinstance(response, SaslHandshakeResponse):
            assert response.mechanisms == ()
        if isinstance(response, ApiVersionsResponse):
            assert response.api_keys == ()
        assert conn.closed_by_peer(10)
    name = {MetadataResponse: "METADATA", SaslHandshakeResponse: "SASL_HANDSHAKE",
            ApiVersionsResponse: "API_VERSIONS", ProduceResponse: "PRODUCE"}[response_cls]
    _logged(sasl, f"(Unexpected Kafka request of type {name} during SASL authentication.)")


def test_api_versions_is_read_once_and_may_be_retried_after_an_error(sasl) -> None:
    with Conn(sasl.ports["SASL_PLAINTEXT"]) as conn:
        # an unsupported version: UNSUPPORTED_VERSION (v0) with the ranges; the client may ask again
        conn.send(frame(struct.pack(">hhih", 18, 99, 1, -1)))
        assert _read_v0_error(conn) == 35
        # an invalid client software name (v3+): INVALID_REQUEST, and again the client may ask again
        response = conn.request(_versions("-bad name-"), ApiVersionsResponse)
        assert response.error_code.name == "invalid_request" and response.api_keys == ()
        response = conn.request(_versions(), ApiVersionsResponse)
        assert response.error_code.name == "none" and response.api_keys
        assert conn.request(SaslHandshakeRequest(mechanism="PLAIN"), SaslHandshakeResponse).error_code.name == "none"
        response = conn.request(SaslAuthenticateRequest(auth_bytes=GOOD), SaslAuthenticateResponse)
        assert response.error_code.name == "none"
        assert conn.request(_metadata("sasl-after-login"), MetadataResponse).topics  # authenticated: served


def _read_v0_error(conn: Conn) -> int:
    payload = conn.recv_payload()
    return struct.unpack_from(">h", payload, 4)[0]  # after the correlation id


def test_a_second_api_versions_closes_at_once(sasl) -> None:
    with Conn(sasl.ports["SASL_PLAINTEXT"]) as conn:
        assert conn.request(_versions(), ApiVersionsResponse).error_code.name == "none"
        conn.send(request_frame(_versions(), 2))
        assert conn.closed_by_peer(10)  # no response: Kafka's IllegalStateException
    _logged(sasl, "Unexpected ApiVersions request received during SASL authentication state HANDSHAKE_REQUEST")


def test_garbage_first_is_a_failed_authentication_later_an_immediate_close(sasl) -> None:
    with Conn(sasl.ports["SASL_PLAINTEXT"]) as conn:  # not a Kafka request: taken for a GSSAPI token
        sent = time.monotonic()
        conn.send(frame(b"\x60\x81\x00\x01garbage"))
        _closed_after_the_delay(conn, sent)
    _logged(sasl, "(Exception handling first SASL packet from client, GSSAPI is not supported by server)")
    with Conn(sasl.ports["SASL_PLAINTEXT"]) as conn:
        assert conn.request(_versions(), ApiVersionsResponse).error_code.name == "none"
        conn.send(frame(struct.pack(">hhi", 17, 9, 2) + b"\xff\xff"))  # SaslHandshake v9: unreadable
        assert conn.closed_by_peer(10)
    _logged(sasl, "Error getting request for apiKey: SASL_HANDSHAKE, apiVersion: 9")


def test_after_login_handshake_and_authenticate_are_illegal_without_a_session_end(sasl) -> None:
    """No connections.max.reauth.ms: a new SaslHandshake is not a re-authentication; KafkaApis answers both
    SaslHandshake and SaslAuthenticate with ILLEGAL_SASL_STATE and the connection stays open."""
    with Conn(sasl.ports["SASL_PLAINTEXT"]) as conn:
        conn.request(SaslHandshakeRequest(mechanism="PLAIN"), SaslHandshakeResponse)
        assert conn.request(SaslAuthenticateRequest(auth_bytes=GOOD), SaslAuthenticateResponse).error_code.name == \
            "none"
        response = conn.request(SaslHandshakeRequest(mechanism="PLAIN"), SaslHandshakeResponse)
        assert response.error_code.name == "illegal_sasl_state"
        response = conn.request(SaslAuthenticateRequest(auth_bytes=GOOD), SaslAuthenticateResponse)
        assert response.error_code.name == "illegal_sasl_state"
        assert response.error_message == "SaslAuthenticate request received after successful authentication"
        assert conn.request(_versions(), ApiVersionsResponse).error_code.name == "none"
