"""A broker that is down at start, or goes away and comes back: clear errors in Confluent's shape, the registry
stays up, nothing registered is lost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from registry_helpers import RegistryProcess, wait_for


def test_broker_down_at_start(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = subprocess.run([sys.executable, "-m", "brook.registry.main", "--override", "listeners=http://127.0.0.1:0",
                             "--override", f"kafkastore.bootstrap.servers=127.0.0.1:{port}", "--override",
                             "kafkastore.init.timeout.ms=2000"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Error starting the schema registry: Timed out trying to create or validate schema topic" in result.stdout


def test_missing_bootstrap_servers():
    result = subprocess.run([sys.executable, "-m", "brook.registry.main", "--override", "listeners=http://127.0.0.1:0"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert 'Missing required configuration "kafkastore.bootstrap.servers"' in result.stderr


def test_broker_goes_away_and_comes_back(broker_factory, tmp_path):
    broker = broker_factory()
    # the bootstrap as Confluent's properties spell it, with the listener's protocol
    reg = RegistryProcess(tmp_path / "registry.log", f"PLAINTEXT://{broker.bootstrap}",
                          {"kafkastore.timeout.ms": "2000", "host.name": "127.0.0.1"}).start()
    try:
        assert reg.call("POST", "/subjects/o-value/versions", {"schema": '"string"'}) == (200, {"id": 1})
        broker.stop()
        status, body = reg.call("POST", "/subjects/q-value/versions", {"schema": '"long"', "schemaType": "AVRO"})
        assert status == 500 and body["error_code"] in (50001, 50002, 50003, 50004) and set(body) == {
            "error_code", "message"}
        # reads are served from the registry's state meanwhile
        assert reg.call("GET", "/schemas/ids/1") == (200, {"schema": '"string"'})
        assert reg.alive()
        broker.start()
        # the write waits for the clients to reconnect (and the group to elect the primary again)
        status, body = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(
            reg.call("POST", "/subjects/p-value/versions", {"schema": '"long"'})), timeout=60)
        assert body["id"] >= 2
        assert reg.call("GET", "/subjects/o-value/versions") == (200, [1])
    finally:
        reg.stop()


def test_shipped_properties_file(broker_factory, tmp_path):
    """config/schema-registry.properties as shipped, its Kafka address and port overridden."""
    broker = broker_factory()
    shipped = Path(__file__).resolve().parents[2] / "config" / "schema-registry.properties"
    reg = RegistryProcess(tmp_path / "registry.log", broker.bootstrap, {"schema.compatibility.level": "full"},
                          properties=shipped).start()
    try:
        assert reg.call("GET", "/config") == (200, {"compatibilityLevel": "FULL"})
        assert reg.call("POST", "/subjects/s-value/versions", {"schema": '"string"'}) == (200, {"id": 1})
    finally:
        reg.stop()
