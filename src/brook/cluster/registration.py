"""A broker in a ZooKeeper cluster: the cluster id in /cluster/id, this broker's ephemeral /brokers/ids/<id>
(Kafka 3.9's BrokerIdZNode, version 5), and the live brokers followed through a watch on /brokers/ids.

As in KafkaZkClient: the cluster id is read from /cluster/id and created when absent (the first broker's wins a
race); registering an id another live session holds fails with ZooKeeper's NodeExists, which ends the broker's
start-up. The ephemeral znode goes when the session does (a clean stop closes it at once; a killed broker's lasts
until zookeeper.session.timeout.ms). When the session expires (a broker paused longer than the timeout), the
broker registers again on its new session, as KafkaController's RegisterBrokerAndReelect does; the broker epoch
(the czxid of its znode, which ControlledShutdown carries) is the new znode's."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import NodeExistsError, NoNodeError

from brook.cluster.endpoints import BrokerEndpoint, Endpoint

log = logging.getLogger("kafka.zk.KafkaZkClient")

BROKER_ZNODE_VERSION = 5


class DuplicateBrokerId(Exception):
    """KeeperException.NodeExistsException as Kafka's registration throws it."""

    def __init__(self, path: str) -> None:
        super().__init__(f"org.apache.zookeeper.KeeperException$NodeExistsException: KeeperErrorCode = NodeExists"
                         f" for {path}")


def broker_json(endpoints: Sequence[Endpoint], rack: str | None, timestamp_ms: int) -> bytes:
    """BrokerIdZNode.encode, version 5: host and port are the PLAINTEXT endpoint's ("" and -1 without one)."""
    plain = next((e for e in endpoints if e.protocol == "PLAINTEXT"), None)
    data: dict[str, object] = {
        "features": {},
        "listener_security_protocol_map": {e.listener: e.protocol for e in endpoints},
        "endpoints": [f"{e.listener}://{e.host}:{e.port}" for e in endpoints],
        "jmx_port": -1,
        "port": plain.port if plain else -1,
        "host": plain.host if plain else None,
        "version": BROKER_ZNODE_VERSION,
        "timestamp": str(timestamp_ms),
    }
    if rack is not None:
        data["rack"] = rack
    return json.dumps(data, separators=(",", ":")).encode()


def parse_broker(broker_id: int, data: bytes) -> BrokerEndpoint:
    d = json.loads(data)
    listeners = []
    for endpoint in d["endpoints"]:  # "NAME://host:port"
        name, _, hostport = endpoint.partition("://")
        host, _, port = hostport.rpartition(":")
        listeners.append((name, host.strip("[]"), int(port)))
    first = listeners[0]
    return BrokerEndpoint(broker_id, first[1], first[2], d.get("rack"), tuple(listeners))


def get_or_create_cluster_id(zk: KazooClient, new_id: Callable[[], str]) -> str:
    """KafkaZkClient.getOrCreateClusterId: /cluster/id {"version":"1","id":..}."""
    while True:
        try:
            data, _ = zk.get("/cluster/id")
            return str(json.loads(data)["id"])
        except NoNodeError:
            pass
        try:
            zk.create("/cluster/id", json.dumps({"version": "1", "id": new_id()}, separators=(",", ":")).encode(),
                      makepath=True)
        except NodeExistsError:
            pass  # another broker created it first: read theirs


class BrokerRegistry:
    """This broker's registration and the live brokers (Kafka's controller reads them the same way)."""

    def __init__(self, zk: KazooClient, deliver: Callable[[Callable[[], None]], None]) -> None:
        self.zk = zk
        self._deliver = deliver
        self.live: Mapping[int, BrokerEndpoint] = {}
        self.on_change: list[Callable[[], None]] = []
        self.broker_epoch = -1
        self._registration: tuple[int, Sequence[Endpoint], str | None] | None = None
        self._expired = False

    def register(self, broker_id: int, endpoints: Sequence[Endpoint], rack: str | None) -> None:
        self._create(broker_id, endpoints, rack)
        self._registration = (broker_id, endpoints, rack)
        self.zk.add_listener(self._session_state)
        self.zk.ChildrenWatch("/brokers/ids", self._ids_changed)

    def _session_state(self, state: str) -> None:
        if state == KazooState.LOST:
            self._expired = True
        elif state == KazooState.CONNECTED and self._expired:
            self._expired = False
            self.zk.handler.spawn(self._register_again)

    def _register_again(self) -> None:
        assert self._registration is not None
        try:
            self._create(*self._registration)
        except DuplicateBrokerId:
            pass  # the old session's znode is still there: it goes when ZooKeeper expires it

    def _create(self, broker_id: int, endpoints: Sequence[Endpoint], rack: str | None) -> None:
        path = f"/brokers/ids/{broker_id}"
        try:
            self.zk.create(path, broker_json(endpoints, rack, int(time.time() * 1000)), ephemeral=True,
                           makepath=True)
        except NodeExistsError:
            _, stat = self.zk.get(path)
            log.error("Error while creating ephemeral at %s, node already exists and owner '%d' does not match "
                      "current session '%d'", path, stat.ephemeralOwner, self.zk.client_id[0])
            raise DuplicateBrokerId(path) from None
        log.info("Registered broker %d at path %s with addresses: %s", broker_id, path,
                 ",".join(f"{e.listener}://{e.host}:{e.port}" for e in endpoints))
        stat = self.zk.exists(path)
        self.broker_epoch = stat.czxid if stat is not None else -1

    def _ids_changed(self, children: list[str]) -> None:
        live: dict[int, BrokerEndpoint] = {}
        for child in children:
            try:
                data, _ = self.zk.get(f"/brokers/ids/{child}")
            except NoNodeError:
                continue  # gone between the listing and the read
            live[int(child)] = parse_broker(int(child), data)
        self._deliver(lambda: self._set_live(live))

    def _set_live(self, live: dict[int, BrokerEndpoint]) -> None:
        self.live = dict(sorted(live.items()))
        for callback in self.on_change:
            callback()
