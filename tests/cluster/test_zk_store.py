"""The ZooKeeper metadata store against a real ZooKeeper: every write lands at Kafka 3.9's znode in Kafka's JSON,
a second store sees the first's writes through its watches (the same events, once each), a store opened later
loads everything, and zookeeper.connect's chroot is created and kept to."""

from __future__ import annotations

import json
import queue
import time
import uuid
from collections.abc import Callable

import pytest
from kazoo.client import KazooClient

from brook.acl import AclBinding, AclOperation, AclPermissionType, PatternType, ResourceType
from brook.cluster.controller import Controller
from brook.config.broker import BrokerConfig
from brook.errors import ErrorCode, KafkaError
from brook.metadata import (
    EVENT_TYPES,
    AclsChanged,
    BrokerConfigChanged,
    ClientQuotaChanged,
    PartitionsAdded,
    ScramCredential,
    ScramCredentialsChanged,
    TopicConfigChanged,
    TopicCreated,
    TopicDeleted,
)
from brook.metadata.zookeeper import ZkMetadataStore, connect_client, topic_id_string

ID = uuid.UUID("6e1f5c1a-0000-4000-8000-000000000001")
CRED = ScramCredential("c2FsdA==", "c3RvcmVk", "c2VydmVy", 4096)


class Inbox:
    """The store's `deliver`: watch results queued by kazoo's thread, applied on the test's thread (as the broker's
    event loop applies them)."""

    def __init__(self) -> None:
        self.q: queue.Queue[Callable[[], None]] = queue.Queue()

    def __call__(self, fn: Callable[[], None]) -> None:
        self.q.put(fn)

    def until(self, cond: Callable[[], bool], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            remaining = deadline - time.monotonic()
            assert remaining > 0, "condition not reached"
            try:
                self.q.get(timeout=min(remaining, 0.2))()
            except queue.Empty:
                pass

    def drain(self) -> None:
        while True:
            try:
                self.q.get_nowait()()
            except queue.Empty:
                return


def acl(name: str, ptype: PatternType = PatternType.LITERAL, op: AclOperation = AclOperation.READ) -> AclBinding:
    return AclBinding(ResourceType.TOPIC, name, ptype, "User:alice", "*", op, AclPermissionType.ALLOW)


def recorder(store: ZkMetadataStore) -> list[object]:
    seen: list[object] = []
    for event_type in EVENT_TYPES:
        store.subscribe(event_type, seen.append)
    return seen


def fill(store: ZkMetadataStore) -> None:
    """One write of each kind (the same list as the JSON store's tests)."""
    store.create_topic("t", ID, [[1, 2], [2, 1]], {"retention.ms": "1000"})
    store.add_partitions("t", [[1, 2]])
    store.set_topic_configs("t", {"cleanup.policy": "compact"})
    store.create_topic("gone", uuid.uuid4(), [[1]], {})
    store.delete_topic("gone")
    store.set_broker_configs(1, {"log.retention.ms": "5"})
    store.set_broker_configs(None, {"log.cleaner.threads": "2"})
    store.set_client_quota((("client-id", "c"), ("user", "alice")), {"producer_byte_rate": 1024.0})
    store.set_client_quota((("client-id", None),), {"consumer_byte_rate": 2048.0})
    store.set_scram_credentials("alice", {"SCRAM-SHA-256": CRED})
    store.update_acls(acl("t").pattern, lambda old: (*old, acl("t")))
    store.update_acls(acl("pre", PatternType.PREFIXED).pattern,
                      lambda old: (*old, acl("pre", PatternType.PREFIXED, AclOperation.WRITE)))


def image(store: ZkMetadataStore) -> dict[str, object]:
    return {"topics": {n: (t.topic_id, t.assignment, dict(t.configs)) for n, t in store.topics.items()},
            "brokers": {b: dict(store.broker_configs(b)) for b in (None, 1, 2)},
            "quotas": {e: dict(v) for e, v in store.client_quotas.items()},
            "scram": {u: dict(c) for u, c in store.scram_credentials.items()},
            "acls": dict(store.acls)}


@pytest.fixture(scope="module")
def raw(zookeeper):
    client = KazooClient(hosts=zookeeper.connect)
    client.start(timeout=15)
    yield client
    client.stop()
    client.close()


@pytest.fixture
def chroot(request, zookeeper) -> str:
    return f"{zookeeper.connect}/brook-test/{request.node.name}"


def open_store(connect: str) -> tuple[ZkMetadataStore, Inbox]:
    inbox = Inbox()
    return ZkMetadataStore(connect_client(connect, 15), inbox), inbox


def get(raw: KazooClient, path: str) -> object:
    data, _ = raw.get(path)
    return json.loads(data) if data and data[:1] in (b"{", b"[") else data.decode()


def test_writes_land_at_kafkas_znodes_in_kafkas_json(raw, chroot):
    root = "/" + chroot.split("/", 1)[1]
    store, inbox = open_store(chroot)
    try:
        seen = recorder(store)
        fill(store)
        assert [type(e) for e in seen] == [TopicCreated, PartitionsAdded, TopicConfigChanged, TopicCreated,
                                           TopicDeleted, BrokerConfigChanged, BrokerConfigChanged,
                                           ClientQuotaChanged, ClientQuotaChanged, ScramCredentialsChanged,
                                           AclsChanged, AclsChanged]
        block = store.allocate_producer_ids(1, 1000)
        assert (block.first, store.allocate_producer_ids(2, 1000).first) == (0, 1000)
    finally:
        store.close()
    for path in ("/brokers/ids", "/brokers/topics", "/config/changes", "/admin/delete_topics", "/brokers/seqid",
                 "/isr_change_notification", "/config/topics", "/config/clients", "/config/users",
                 "/config/brokers", "/config/ips", "/consumers", "/log_dir_event_notification"):
        assert raw.exists(root + path), path
    assert get(raw, f"{root}/brokers/topics/t") == {
        "partitions": {"0": [1, 2], "1": [2, 1], "2": [1, 2]}, "topic_id": topic_id_string(ID),
        "adding_replicas": {}, "removing_replicas": {}, "version": 3}
    assert topic_id_string(ID) == "bh9cGgAAQACAAAAAAAAAAQ"  # Kafka's Uuid.toString
    assert get(raw, f"{root}/config/topics/t") == {"version": 1, "config": {"cleanup.policy": "compact"}}
    assert raw.exists(f"{root}/admin/delete_topics/gone")  # marked: without a controller the znodes stay
    assert get(raw, f"{root}/config/brokers/1") == {"version": 1, "config": {"log.retention.ms": "5"}}
    assert get(raw, f"{root}/config/brokers/<default>") == {"version": 1, "config": {"log.cleaner.threads": "2"}}
    assert get(raw, f"{root}/config/users/alice/clients/c") == {"version": 1,
                                                                "config": {"producer_byte_rate": "1024.0"}}
    assert get(raw, f"{root}/config/clients/<default>") == {"version": 1, "config": {"consumer_byte_rate": "2048.0"}}
    assert get(raw, f"{root}/config/users/alice") == {"version": 1, "config": {
        "SCRAM-SHA-256": "salt=c2FsdA==,stored_key=c3RvcmVk,server_key=c2VydmVy,iterations=4096"}}
    changes = sorted(raw.get_children(f"{root}/config/changes"))
    assert changes[0] == "config_change_0000000000"
    assert [get(raw, f"{root}/config/changes/{c}")["entity_path"] for c in changes] == [
        "topics/t", "brokers/1", "brokers/<default>", "users/alice/clients/c", "clients/<default>", "users/alice"]
    assert get(raw, f"{root}/config/changes/{changes[0]}") == {"version": 2, "entity_path": "topics/t"}
    assert get(raw, f"{root}/kafka-acl/Topic/t") == {"version": 1, "acls": [
        {"principal": "User:alice", "permissionType": "Allow", "operation": "Read", "host": "*"}]}
    assert get(raw, f"{root}/kafka-acl-extended/prefixed/Topic/pre") == {"version": 1, "acls": [
        {"principal": "User:alice", "permissionType": "Allow", "operation": "Write", "host": "*"}]}
    assert get(raw, f"{root}/kafka-acl-changes/acl_changes_0000000000") == "Topic:t"
    assert get(raw, f"{root}/kafka-acl-extended-changes/acl_changes_0000000000") == {
        "version": 1, "resourceType": "Topic", "name": "pre", "patternType": "Prefixed"}
    assert get(raw, f"{root}/latest_producer_id_block") == {"version": 1, "broker": 2, "block_start": "1000",
                                                             "block_end": "1999"}


def test_a_second_store_follows_through_watches_and_a_later_one_loads(chroot):
    a, inbox_a = open_store(chroot)
    b, inbox_b = open_store(chroot)
    Controller(a.zk, 1, BrokerConfig(), inbox_a).start()  # deletes the topics the stores mark for deletion
    try:
        seen_a, seen_b = recorder(a), recorder(b)
        fill(a)
        inbox_b.until(lambda: image(b) == image(a))
        assert image(a)["topics"]["t"][1] == ((1, 2), (2, 1), (1, 2))
        assert {type(e) for e in seen_b} >= {TopicCreated, BrokerConfigChanged, ClientQuotaChanged,
                                             ScramCredentialsChanged, AclsChanged}
        # b may see the topic's first state or a later one (a watch reads the znode when it fires): step by step
        a.add_partitions("t", [[2, 1]])
        inbox_b.until(lambda: any(isinstance(e, PartitionsAdded) and e.previous == 3 for e in seen_b))
        a.set_topic_configs("t", {"cleanup.policy": "delete"})
        inbox_b.until(lambda: b.topics["t"].configs == {"cleanup.policy": "delete"})
        assert isinstance(seen_b[-1], TopicConfigChanged) and image(a) == image(b)
        # b's writes reach a the same way, ACL changes merging with what a wrote
        b.update_acls(acl("t").pattern, lambda old: (*old, acl("t", op=AclOperation.DESCRIBE)))
        b.set_scram_credentials("alice", {})
        b.delete_topic("t")
        inbox_a.until(lambda: image(a) == image(b) and "t" not in a.topics)
        assert len(a.acls[acl("t").pattern]) == 2 and "alice" not in a.scram_credentials
        assert any(isinstance(e, TopicDeleted) and e.info.name == "t" for e in seen_a)
        # a store's own writes come back through its watches without a second notification
        n = len(seen_a)
        a.set_broker_configs(2, {"log.retention.ms": "7"})
        inbox_b.until(lambda: b.broker_configs(2) == {"log.retention.ms": "7"})
        inbox_a.until(lambda: a._seen["/config/changes"] >= b._seen["/config/changes"] and inbox_a.q.empty())
        assert [type(e) for e in seen_a[n:]] == [BrokerConfigChanged]
        later, _ = open_store(chroot)
        try:
            assert image(later) == image(a)
        finally:
            later.close()
    finally:
        a.close()
        b.close()


def test_old_notifications_are_purged(raw, chroot):
    """A notification older than 15 minutes (here: the store's setting lowered to 0) is deleted once a store has
    processed a newer one on the same path, as Kafka's ZkNodeChangeNotificationListener does."""
    a, _ = open_store(chroot)
    b, inbox_b = open_store(chroot)
    try:
        b.change_expiration_ms = 0
        a.set_broker_configs(1, {"log.retention.ms": "5"})
        a.update_acls(acl("t").pattern, lambda old: (*old, acl("t")))
        # b applied both changes (their notifications were read), then deleted the notifications
        inbox_b.until(lambda: b.broker_configs(1) == {"log.retention.ms": "5"} and acl("t").pattern in b.acls
                      and not _children(raw, chroot, "/config/changes")
                      and not _children(raw, chroot, "/kafka-acl-changes"))
        assert b._seen["/config/changes"] >= 0 and b._seen["/kafka-acl-changes"] >= 0
    finally:
        a.close()
        b.close()


def _children(raw: KazooClient, chroot: str, path: str) -> list[str]:
    return raw.get_children("/" + chroot.split("/", 1)[1] + path)


def test_errors_and_the_chroot(raw, chroot):
    store, _ = open_store(chroot)
    try:
        store.create_topic("x", uuid.uuid4(), [[0]], {})
        with pytest.raises(KafkaError) as e:
            store.create_topic("x", uuid.uuid4(), [[0]], {})
        assert e.value.code == ErrorCode.topic_already_exists
        with pytest.raises(KafkaError) as e:
            store.delete_topic("nope")
        assert e.value.code == ErrorCode.unknown_topic_or_partition
    finally:
        store.close()
    root = "/" + chroot.split("/", 1)[1]
    assert raw.exists(f"{root}/brokers/topics/x") and not raw.exists("/brokers/topics/x")
