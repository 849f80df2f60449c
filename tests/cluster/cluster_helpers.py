"""Three real brokers on the session's ZooKeeper under a chroot of their own, and the znodes the controller
writes, for the cluster tests."""

from __future__ import annotations

import contextlib
import functools
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import kafka_wire
from confluent_kafka.admin import AdminClient, NewTopic
from conftest import BrokerProcess
from kazoo.client import KazooClient

# kafka_wire's bounded poll, with the default that ZooKeeper session changes need
wait_for = functools.partial(kafka_wire.wait_for, timeout=30, interval=0.05)
IDS = ["1", "2", "3"]


@contextlib.contextmanager
def three_brokers(zookeeper, base: Path, overrides: dict[str, str],  # noqa: ANN001 - conftest's ZooKeeperProcess
                  per_broker: dict[int, dict[str, str]] | None = None
                  ) -> Iterator[tuple[dict[int, BrokerProcess], KazooClient]]:
    """Brokers 1, 2, 3 (`overrides` for all, `per_broker` by id) and a raw ZooKeeper client on their chroot."""
    chroot = f"/brook-{base.name}-{uuid.uuid4().hex[:8]}"
    brokers = {i: BrokerProcess(base / f"b{i}", {"broker.id": str(i), "zookeeper.connect": zookeeper.connect + chroot,
                                                 **overrides, **(per_broker or {}).get(i, {})}) for i in (1, 2, 3)}
    raw = KazooClient(hosts=zookeeper.connect + chroot)
    try:
        for b in brokers.values():
            b.start()
        raw.start(timeout=15)
        wait_for(lambda: sorted(raw.get_children("/brokers/ids")) == IDS and raw.exists("/controller"))
        yield brokers, raw
    finally:
        raw.stop()
        raw.close()
        for b in brokers.values():
            b.stop()


def all_running(brokers: dict[int, BrokerProcess], raw: KazooClient) -> None:
    """Every broker up, registered, and seen by every other (each assigns replicas over the brokers it knows)."""
    for b in brokers.values():
        if not b.alive():
            b.start()
    wait_for(lambda: sorted(raw.get_children("/brokers/ids")) == IDS and raw.exists("/controller"))
    for b in brokers.values():
        client = AdminClient({"bootstrap.servers": b.bootstrap})
        wait_for(lambda c=client: len(c.list_topics(timeout=10).brokers) == len(IDS))


def controller_id(raw: KazooClient) -> int:
    return json.loads(raw.get("/controller")[0])["brokerid"]


def current_controller(raw: KazooClient) -> int | None:
    """The controller's id, or None while there is none (the node may go between two reads: an expiring session)."""
    from kazoo.exceptions import NoNodeError

    try:
        return controller_id(raw)
    except NoNodeError:
        return None


def state(raw: KazooClient, topic: str, p: int) -> dict:
    return json.loads(raw.get(f"/brokers/topics/{topic}/partitions/{p}/state")[0])


def assignment(raw: KazooClient, topic: str) -> dict[int, list[int]]:
    return {int(p): r for p, r in json.loads(raw.get(f"/brokers/topics/{topic}")[0])["partitions"].items()}


def create(client: AdminClient, raw: KazooClient, topic: str, partitions: int | list[list[int]], rf: int = -1,
           config: dict[str, str] | None = None) -> dict[int, list[int]]:
    """A topic (a partition count and replication factor, or an explicit assignment) and its partition states."""
    new = NewTopic(topic, partitions, rf, config=config or {}) if isinstance(partitions, int) else \
        NewTopic(topic, len(partitions), replica_assignment=partitions, config=config or {})
    client.create_topics([new])[topic].result(15)
    count = partitions if isinstance(partitions, int) else len(partitions)
    wait_for(lambda: all(raw.exists(f"/brokers/topics/{topic}/partitions/{p}/state") for p in range(count)))
    return assignment(raw, topic)


def set_state(raw: KazooClient, topic: str, p: int, **changes: object) -> dict:
    """Rewrite a partition state as another writer would (the leader's AlterPartition, a failover): the old one."""
    data, stat = raw.get(f"/brokers/topics/{topic}/partitions/{p}/state")
    old = json.loads(data)
    raw.set(f"/brokers/topics/{topic}/partitions/{p}/state", json.dumps({**old, **changes}).encode(),
            version=stat.version)
    return old
