"""Several registries on one `_schemas` topic: one primary elected through a Kafka group (leader.eligibility),
writes sent to a secondary forwarded to it, ids agreed by all."""

from __future__ import annotations

import pytest
from registry_helpers import RegistryProcess, wait_for


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    from conftest import module_broker

    with module_broker(tmp_path_factory, "registry-election") as b:
        yield b


def test_primary_forwarding_and_failover(broker, tmp_path):
    def registry(name: str, eligible: bool) -> RegistryProcess:
        return RegistryProcess(tmp_path / f"{name}.log", broker.bootstrap,
                               {"host.name": "127.0.0.1", "leader.eligibility": str(eligible).lower()})

    primary, follower, successor = registry("a", True), registry("b", False), registry("c", True)
    started = [primary.start(), follower.start()]
    try:
        wait_for(lambda: "this node is a follower" in follower.log_path.read_text())
        assert "this node is the leader" in primary.log_path.read_text()
        # a write sent to the follower is forwarded; both answer reads with the same id
        status, body = follower.call("POST", "/subjects/e-value/versions", {"schema": '"string"'})
        assert status == 200
        first = body["id"]
        assert primary.call("POST", "/subjects/other-value/versions", {"schema": '"string"'}) == (200, {"id": first})
        wait_for(lambda: follower.call("GET", "/subjects/other-value/versions")[0] == 200)
        assert follower.call("GET", f"/schemas/ids/{first}") == (200, {"schema": '"string"'})
        assert follower.call("PUT", "/config", {"compatibility": "FULL"}) == (200, {"compatibility": "FULL"})
        wait_for(lambda: primary.call("GET", "/config")[1] == {"compatibilityLevel": "FULL"})
        # without an eligible member there is no primary: writes fail in Confluent's shape, reads go on
        primary.stop()
        wait_for(lambda: follower.call("POST", "/subjects/e-value/versions", {"schema": '"int"'})[1].get(
            "error_code") == 50004)
        assert follower.call("GET", "/subjects/e-value/versions") == (200, [1])
        # a new eligible registry takes over; ids go on above every id used so far
        started.append(successor.start())
        wait_for(lambda: "this node is the leader" in successor.log_path.read_text())
        status, body = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(
            follower.call("POST", "/subjects/f-value/versions", {"schema": '"int"', "schemaType": "AVRO"})))
        assert body["id"] > first
        assert successor.call("GET", "/subjects/f-value/versions") == (200, [1])
    finally:
        for r in started:
            r.stop()
