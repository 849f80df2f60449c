"""Listeners and connection limits with real sockets and a real client: max.connections.per.ip refuses a third
connection, connections.max.idle.ms closes quiet ones, advertised.listeners are what Metadata returns."""

from __future__ import annotations

import time

import pytest
from confluent_kafka.admin import AdminClient
from conftest import module_broker
from kafka_wire import Conn, wait_for
from kio.schema.api_versions.v3.request import ApiVersionsRequest
from kio.schema.api_versions.v3.response import ApiVersionsResponse


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
