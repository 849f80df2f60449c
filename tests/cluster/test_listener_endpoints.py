"""In a cluster, a client on a second listener is sent to the other brokers' endpoints on that listener: the
group coordinator FindCoordinator names (another broker's, as MetadataCache.getAliveBrokerNode(id, listener)
finds it) and the brokers Metadata lists."""

from __future__ import annotations

from cluster_helpers import three_brokers, wait_for
from confluent_kafka.admin import AdminClient
from kafka_wire import Conn
from kio.schema.find_coordinator.v3.request import FindCoordinatorRequest
from kio.schema.find_coordinator.v3.response import FindCoordinatorResponse


def test_find_coordinator_and_metadata_answer_on_the_clients_listener(zookeeper, tmp_path) -> None:
    overrides = {"listeners": "PLAINTEXT://127.0.0.1:0,EXTERNAL://127.0.0.1:0",
                 "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT",
                 "inter.broker.listener.name": "PLAINTEXT", "offsets.topic.num.partitions": "6"}
    with three_brokers(zookeeper, tmp_path, overrides) as (brokers, _):
        external = {i: b.ports["EXTERNAL"] for i, b in brokers.items()}
        md = AdminClient({"bootstrap.servers": f"127.0.0.1:{external[1]}"})
        wait_for(lambda: {b.id: b.port for b in md.list_topics(timeout=10).brokers.values()} == external)
        with Conn(external[1]) as conn:
            found: dict[int, int] = {}

            def coordinators() -> bool:  # __consumer_offsets' leaders spread over the brokers: ask for groups
                for n in range(30):
                    r = conn.request(FindCoordinatorRequest(key=f"g{n}", key_type=0), FindCoordinatorResponse)
                    if r.error_code.name == "none":
                        found[r.node_id] = r.port
                return len(found) == 3

            wait_for(coordinators, what="coordinators on all three brokers")
        assert found == external  # each coordinator at its EXTERNAL port, never its PLAINTEXT one
