"""Listeners and connection limits with real sockets and a real client: max.connections.per.ip refuses a third
connection, connections.max.idle.ms closes quiet ones, Metadata answers per listener; KIP-368 session lifetimes
and re-authentication."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from conftest import module_broker
from kafka_wire import Conn, request_frame, wait_for
from kio.schema.api_versions.v3.request import ApiVersionsRequest
from kio.schema.api_versions.v3.response import ApiVersionsResponse
from kio.schema.sasl_authenticate.v2.request import SaslAuthenticateRequest
from kio.schema.sasl_authenticate.v2.response import SaslAuthenticateResponse
from kio.schema.sasl_handshake.v1.request import SaslHandshakeRequest
from kio.schema.sasl_handshake.v1.response import SaslHandshakeResponse


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    with module_broker(tmp_path_factory, "limited", {
            "listeners": "PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT",
            "inter.broker.listener.name": "INTERNAL",
            "max.connections.per.ip": "2", "connections.max.idle.ms": "1500"}) as b:
        yield b


def _api_versions(conn: Conn) -> object:
    return conn.request(ApiVersionsRequest(client_software_name="t", client_software_version="1"),
                        ApiVersionsResponse)


def test_max_connections_per_ip_and_idle_close(limited) -> None:
    with Conn(limited.port) as a, Conn(limited.ports["INTERNAL"]) as b:
        _api_versions(a)
        _api_versions(b)
        with Conn(limited.port) as c:  # a third from the same address: refused (the limit is broker-wide)
            assert c.closed_by_peer(10)
        wait_for(lambda: "address already has the configured maximum of 2 connections" in limited.log_text(), 10,
                 what="the refusal's log line")
        started = time.monotonic()
        assert a.closed_by_peer(10) and b.closed_by_peer(10)  # idle for connections.max.idle.ms
        assert time.monotonic() - started >= 1.0
    with Conn(limited.port) as d:  # closed connections no longer count
        _api_versions(d)


def test_metadata_endpoints_follow_the_listener(limited) -> None:
    for name in ("PLAINTEXT", "INTERNAL"):
        md = AdminClient({"bootstrap.servers": f"127.0.0.1:{limited.ports[name]}"}).list_topics(timeout=30)
        assert [(b.host, b.port) for b in md.brokers.values()] == [("127.0.0.1", limited.ports[name])]


def test_bad_listener_config_stops_the_start(tmp_path) -> None:
    from conftest import BrokerProcess

    b = BrokerProcess(tmp_path / "data", {"listeners": "PLAINTEXT://127.0.0.1:0,FOO://127.0.0.1:0"})
    with pytest.raises(RuntimeError, match="No security protocol defined for listener FOO"):
        b.start()


@pytest.fixture(scope="module")
def reauth(tmp_path_factory):
    jaas = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";'
    with module_broker(tmp_path_factory, "reauth", {
            "listeners": "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
            "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256", "connection.failed.authentication.delay.ms": "0",
            "listener.name.sasl_plaintext.plain.sasl.jaas.config": jaas,
            "connections.max.reauth.ms": "3000"}) as b:
        yield b


def _login(conn: Conn) -> SaslAuthenticateResponse:
    conn.request(SaslHandshakeRequest(mechanism="PLAIN"), SaslHandshakeResponse)
    response = conn.request(SaslAuthenticateRequest(auth_bytes=b"\x00alice\x00alice-secret"),
                            SaslAuthenticateResponse)
    assert isinstance(response, SaslAuthenticateResponse)
    return response


def test_session_lifetime_and_expiry(reauth) -> None:
    """KIP-368: SaslAuthenticate v1+ carries connections.max.reauth.ms; past it only a new handshake is served."""
    with Conn(reauth.ports["SASL_PLAINTEXT"]) as conn:
        response = _login(conn)
        assert response.error_code.name == "none" and response.session_lifetime.total_seconds() == 3.0
        started = time.monotonic()
        _api_versions(conn)  # authenticated: served
        wait_for(lambda: time.monotonic() - started > 3.2, 10, what="the session's end")
        conn.send(request_frame(ApiVersionsRequest(client_software_name="t", client_software_version="1")))
        assert conn.closed_by_peer(10)
    wait_for(lambda: "Disconnecting expired channel" in reauth.log_text(), 10, what="the expiry's log line")


def test_reauthentication_with_another_mechanism_fails(reauth) -> None:
    """Kafka accepts the handshake (the mechanism is enabled), then fails the re-authentication at the next packet,
    without a response."""
    with Conn(reauth.ports["SASL_PLAINTEXT"]) as conn:
        _login(conn)
        assert conn.request(SaslHandshakeRequest(mechanism="SCRAM-SHA-256"), SaslHandshakeResponse).error_code.name \
            == "none"
        conn.send(request_frame(SaslAuthenticateRequest(auth_bytes=b"n,,n=alice,r=abc"), 9))
        assert conn.closed_by_peer(10)
    wait_for(lambda: "Failed re-authentication with /127.0.0.1" in reauth.log_text() and "(SASL mechanism "
             "'SCRAM-SHA-256' requested by client is not supported for re-authentication of mechanism 'PLAIN')"
             in reauth.log_text(), 10, what="the failed re-authentication's log line")


def test_clients_reauthenticate_on_the_same_connection(reauth) -> None:
    with Conn(reauth.ports["SASL_PLAINTEXT"]) as conn:
        _login(conn)
        assert _login(conn).error_code.name == "none"  # a new exchange before the lifetime ends renews the session
        started = time.monotonic()
        # within a second of the last one, a handshake is not a re-authentication (KafkaChannel's limit): KafkaApis
        # answers it, and the SaslAuthenticate after it, with ILLEGAL_SASL_STATE; the session goes on
        assert conn.request(SaslHandshakeRequest(mechanism="PLAIN"), SaslHandshakeResponse).error_code.name == \
            "illegal_sasl_state"
        assert conn.request(SaslAuthenticateRequest(auth_bytes=b"\x00alice\x00alice-secret"),
                            SaslAuthenticateResponse).error_code.name == "illegal_sasl_state"
        wait_for(lambda: time.monotonic() - started > 1.05, 5, what="a second since the re-authentication")
        assert _login(conn).error_code.name == "none"
        _api_versions(conn)
    conf = {"bootstrap.servers": f"127.0.0.1:{reauth.ports['SASL_PLAINTEXT']}", "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "PLAIN", "sasl.username": "alice", "sasl.password": "alice-secret"}
    before = reauth.log_text().count("Disconnecting expired channel")
    p = Producer(conf)
    started = time.monotonic()
    sent = 0

    def produce_for_two_lifetimes() -> bool:
        nonlocal sent
        p.produce("reauth", f"{sent}".encode())
        sent += 1
        p.flush(5)
        return time.monotonic() - started > 6.5

    wait_for(produce_for_two_lifetimes, 30, interval=0.2, what="two session lifetimes of producing")
    assert p.flush(10) == 0
    assert reauth.log_text().count("Disconnecting expired channel") == before  # librdkafka re-authenticated
