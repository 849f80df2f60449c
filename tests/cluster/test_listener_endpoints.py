"""In a cluster, a client on a second listener is sent to the other brokers' endpoints on that listener: the group
and transaction coordinators FindCoordinator names (another broker's, as MetadataCache.getAliveBrokerNode(id,
listener) finds it) and the brokers Metadata lists."""

from __future__ import annotations

from cluster_helpers import three_brokers, wait_for
from confluent_kafka.admin import AdminClient
from kafka_wire import Conn
from kio.schema.find_coordinator.v3.request import FindCoordinatorRequest
from kio.schema.find_coordinator.v3.response import FindCoordinatorResponse


def test_find_coordinator_and_metadata_answer_on_the_clients_listener(zookeeper, tmp_path) -> None:
    overrides = {"listeners": "PLAINTEXT://127.0.0.1:0,EXTERNAL://127.0.0.1:0",
                 "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT",
                 "inter.broker.listener.name": "PLAINTEXT", "offsets.topic.num.partitions": "6",
                 "transaction.state.log.num.partitions": "6"}
    with three_brokers(zookeeper, tmp_path, overrides) as (brokers, _):
        external = {i: b.ports["EXTERNAL"] for i, b in brokers.items()}
        md = AdminClient({"bootstrap.servers": f"127.0.0.1:{external[1]}"})
        wait_for(lambda: {b.id: b.port for b in md.list_topics(timeout=10).brokers.values()} == external)
        for key_type in (0, 1):  # groups, transactional ids
            assert _coordinators(external[1], key_type) == external  # at EXTERNAL ports, never PLAINTEXT ones


def _coordinators(port: int, key_type: int) -> dict[int, int]:
    """node id -> port of the coordinators FindCoordinator names for many keys (the internal topic's leaders spread
    over the brokers), once all three brokers coordinate some."""
    found: dict[int, int] = {}
    with Conn(port) as conn:
        def ask() -> bool:
            for n in range(30):
                r = conn.request(FindCoordinatorRequest(key=f"k{n}", key_type=key_type), FindCoordinatorResponse)
                if r.error_code.name == "none":
                    found[r.node_id] = r.port
            return len(found) == 3

        wait_for(ask, what="coordinators on all three brokers")
    return found
