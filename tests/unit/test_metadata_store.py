"""The metadata store without sockets: one event per write, read-only views, the JSON file's persistence,
crash safety and the upgrade of a file the broker wrote before the store existed; the authorizer and the topic
administration following the store's notifications."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from brook.acl import AclBinding, AclOperation, AclPermissionType, PatternType, ResourceType
from brook.broker.authorizer import Authorizer
from brook.broker.topics import TopicAdmin
from brook.config.broker import BrokerConfig
from brook.errors import ErrorCode, KafkaError
from brook.log.config import LogConfig
from brook.log.manager import LogManager
from brook.metadata import (
    EVENT_TYPES,
    AclsChanged,
    BrokerConfigChanged,
    ClientQuotaChanged,
    JsonMetadataStore,
    MemoryMetadataStore,
    MetadataStore,
    PartitionsAdded,
    ScramCredential,
    ScramCredentialsChanged,
    TopicConfigChanged,
    TopicCreated,
    TopicDeleted,
)
from brook.metadata.json_store import FILE

ID = uuid.UUID("6e1f5c1a-0000-4000-8000-000000000001")
CRED = ScramCredential("c2FsdA==", "c3RvcmVk", "c2VydmVy", 4096)
QUOTA = (("client-id", "c"), ("user", None))


def acl(name: str, op: AclOperation = AclOperation.READ, ptype: PatternType = PatternType.LITERAL) -> AclBinding:
    return AclBinding(ResourceType.TOPIC, name, ptype, "User:alice", "*", op, AclPermissionType.ALLOW)


def recorder(store: MetadataStore) -> list[object]:
    seen: list[object] = []
    for event_type in EVENT_TYPES:
        store.subscribe(event_type, seen.append)
    return seen


def fill(store: MetadataStore) -> None:
    store.create_topic("t", ID, [[1], [1]], {"retention.ms": "1000"})
    store.add_partitions("t", [[1]])
    store.set_topic_configs("t", {"cleanup.policy": "compact"})
    store.create_topic("gone", uuid.uuid4(), [[1]], {})
    store.delete_topic("gone")
    store.set_broker_configs(1, {"log.retention.ms": "5"})
    store.set_broker_configs(None, {"log.retention.bytes": "7"})
    store.set_client_quota(QUOTA, {"producer_byte_rate": 1000.0})
    store.set_scram_credentials("alice", {"SCRAM-SHA-256": CRED})
    store.update_acls(acl("t").pattern, lambda _: [acl("t"), acl("t", AclOperation.WRITE)])
    store.update_acls(acl("p-", ptype=PatternType.PREFIXED).pattern,
                      lambda acls: (*acls, acl("p-", ptype=PatternType.PREFIXED)))


def state(store: MetadataStore) -> tuple[object, ...]:
    return ([(t.name, t.topic_id, t.assignment, dict(t.configs)) for t in store.topics.values()],
            dict(store.broker_configs(1)), dict(store.broker_configs(None)),
            {e: dict(v) for e, v in store.client_quotas.items()},
            {u: dict(c) for u, c in store.scram_credentials.items()}, list(store.acls.items()))


def test_each_write_notifies_once_after_the_change() -> None:
    store = MemoryMetadataStore()
    seen = recorder(store)
    at_notification = []
    store.subscribe(TopicConfigChanged, lambda e: at_notification.append(dict(store.topics[e.name].configs)))
    fill(store)
    assert [type(e) for e in seen] == [TopicCreated, PartitionsAdded, TopicConfigChanged, TopicCreated,
                                       TopicDeleted, BrokerConfigChanged, BrokerConfigChanged, ClientQuotaChanged,
                                       ScramCredentialsChanged, AclsChanged, AclsChanged]
    assert at_notification == [{"cleanup.policy": "compact"}]  # subscribers read the new state
    added = seen[1]
    assert isinstance(added, PartitionsAdded) and (added.info.partitions, added.previous) == (3, 2)
    assert seen[5] == BrokerConfigChanged(1)
    info = store.topics["t"]
    assert (info.partitions, info.replication_factor, info.assignment) == (3, 1, ((1,), (1,), (1,)))
    assert store.topics.by_id[ID] is info and "gone" not in store.topics
    store.set_client_quota(QUOTA, {})  # empty: removed
    assert store.update_acls(acl("t").pattern, lambda acls: acls[1:]) == ((acl("t"), acl("t", AclOperation.WRITE)),
                                                                          (acl("t", AclOperation.WRITE),))
    store.update_acls(acl("t").pattern, lambda acls: acls)  # unchanged: no write, no event
    store.update_acls(acl("t").pattern, lambda _: [])
    assert QUOTA not in store.client_quotas and acl("t").pattern not in store.acls
    assert [type(e) for e in seen[11:]] == [ClientQuotaChanged, AclsChanged, AclsChanged]


def test_readers_cannot_edit() -> None:
    store = MemoryMetadataStore()
    fill(store)
    info = store.topics["t"]
    with pytest.raises(AttributeError):
        info.configs = {}  # type: ignore[misc]
    for view in (info.configs, store.topics.by_id, store.client_quotas, store.client_quotas[QUOTA],
                 store.scram_credentials, store.acls, store.broker_configs(1)):
        with pytest.raises(TypeError):
            view["x"] = "y"  # type: ignore[index]
    with pytest.raises(TypeError):
        store.topics["x"] = info  # type: ignore[index]


def test_bad_writes_are_refused() -> None:
    store = MemoryMetadataStore()
    store.create_topic("t", ID, [[1]], {})
    with pytest.raises(KafkaError) as e:
        store.create_topic("t", uuid.uuid4(), [[1]], {})
    assert e.value.code == ErrorCode.topic_already_exists
    for write in (lambda: store.delete_topic("x"), lambda: store.set_topic_configs("x", {}),
                  lambda: store.add_partitions("x", [[1]])):
        with pytest.raises(KafkaError) as e:
            write()
        assert e.value.code == ErrorCode.unknown_topic_or_partition
    with pytest.raises(ValueError):
        store.update_acls(acl("t").pattern, lambda _: [acl("u")])


def test_json_store_persists_everything(tmp_path: Path) -> None:
    store = JsonMetadataStore(tmp_path, 1)
    fill(store)
    assert store.allocate_producer_ids(1, 1000).first == 0
    reopened = JsonMetadataStore(tmp_path, 1)
    assert state(reopened) == state(store)
    assert reopened.allocate_producer_ids(1, 1000).first == 1000  # blocks never handed out twice
    assert JsonMetadataStore(tmp_path, 1).allocate_producer_ids(1, 10) == (1, 2000, 10)
    data = json.loads((tmp_path / FILE).read_text())
    assert data["version"] == 2 and data["topics"][0]["assignment"] == [[1], [1], [1]]
    assert not (tmp_path / (FILE + ".tmp")).exists()


def test_a_failed_write_changes_nothing(tmp_path: Path) -> None:
    store = JsonMetadataStore(tmp_path, 1)
    store.create_topic("t", ID, [[1]], {})
    seen = recorder(store)
    before = (tmp_path / FILE).read_bytes()
    (tmp_path / (FILE + ".tmp")).mkdir()  # the new image cannot be written
    for write in (lambda: store.set_topic_configs("t", {"retention.ms": "1"}), lambda: store.delete_topic("t"),
                  lambda: store.create_topic("u", uuid.uuid4(), [[1]], {}),
                  lambda: store.set_client_quota(QUOTA, {"producer_byte_rate": 1.0}),
                  lambda: store.allocate_producer_ids(1, 1000)):
        with pytest.raises(OSError):
            write()
    assert seen == [] and (tmp_path / FILE).read_bytes() == before
    assert list(store.topics) == ["t"] and not store.topics["t"].configs and not store.client_quotas
    (tmp_path / (FILE + ".tmp")).rmdir()
    assert store.allocate_producer_ids(1, 1000).first == 0


def test_a_torn_temporary_file_is_ignored(tmp_path: Path) -> None:
    """A crash before the rename leaves the previous file whole and a torn .tmp beside it."""
    store = JsonMetadataStore(tmp_path, 1)
    fill(store)
    (tmp_path / (FILE + ".tmp")).write_text('{"version": 2, "topics": [{"na')
    reopened = JsonMetadataStore(tmp_path, 1)
    assert state(reopened) == state(store)
    reopened.set_topic_configs("t", {})  # and the next write replaces it
    assert json.loads((tmp_path / FILE).read_text())["topics"][0]["configs"] == {}


def test_a_version_1_file_is_upgraded_in_place(tmp_path: Path) -> None:
    """The file as the broker wrote it before the metadata store (TopicTable.save)."""
    old = {"version": 1,
           "topics": [{"name": "t", "id": str(ID), "partitions": 2, "replication_factor": 1,
                       "configs": {"retention.ms": "1000"}}],
           "broker_configs": {"log.retention.ms": "5"}, "broker_default_configs": {"log.retention.bytes": "7"},
           "client_quotas": [{"entity": [{"type": "client-id", "name": "c"}, {"type": "user", "name": None}],
                              "values": {"producer_byte_rate": 1000.0}}],
           "scram_credentials": {"alice": {"SCRAM-SHA-256": CRED._asdict()}},
           "acls": [acl("t").to_json(), acl("t", AclOperation.WRITE).to_json()],
           "producer_id_block_end": 3000}
    (tmp_path / FILE).write_text(json.dumps(old))
    store = JsonMetadataStore(tmp_path, 7)
    assert store.topics["t"].assignment == ((7,), (7,))  # every replica on this broker
    assert dict(store.topics["t"].configs) == {"retention.ms": "1000"}
    assert dict(store.broker_configs(7)) == {"log.retention.ms": "5"}  # this broker's
    assert dict(store.broker_configs(None)) == {"log.retention.bytes": "7"}
    assert dict(store.client_quotas[QUOTA]) == {"producer_byte_rate": 1000.0}
    assert store.scram_credentials["alice"]["SCRAM-SHA-256"] == CRED
    assert store.acls[acl("t").pattern] == (acl("t"), acl("t", AclOperation.WRITE))
    data = json.loads((tmp_path / FILE).read_text())
    assert data["version"] == 2 and data["broker_configs"] == {"7": {"log.retention.ms": "5"}}
    assert state(JsonMetadataStore(tmp_path, 7)) == state(store)
    assert store.allocate_producer_ids(7, 1000).first == 3000


def test_a_newer_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / FILE).write_text('{"version": 3}')
    with pytest.raises(ValueError, match="version 3"):
        JsonMetadataStore(tmp_path, 1)


def test_the_authorizer_follows_the_store() -> None:
    """A change written by someone else (another broker, in a cluster) reaches the authorizer's cache."""
    store = MemoryMetadataStore()
    a = Authorizer(store=store)
    b = Authorizer(store=store)
    assert a.create_acls([acl("p-", AclOperation.WRITE, PatternType.PREFIXED)]) == [None]
    assert b.authorize("User:alice", "h", AclOperation.WRITE, ResourceType.TOPIC, "p-1")
    store.update_acls(acl("p-", ptype=PatternType.PREFIXED).pattern, lambda _: [])
    assert not a.authorize("User:alice", "h", AclOperation.WRITE, ResourceType.TOPIC, "p-1")
    assert not a.has_prefixed and a.bindings() == []


def log_config(logs: LogManager, topic: str, partition: int) -> LogConfig:
    lg = logs.get(topic, partition)
    assert lg is not None
    return lg.config


def test_topic_admin_keeps_the_logs_and_configs_in_step(tmp_path: Path) -> None:
    config = BrokerConfig({"log.dirs": str(tmp_path / "logs"), "broker.id": "1"})
    logs = LogManager(config.log_dirs, 1, "")
    store = JsonMetadataStore(logs.dirs[0], 1)
    admin = TopicAdmin(config, 1, store, logs)
    logs.startup(admin.log_config_for)
    admin.create_topic("t", 2, 1, {"segment.bytes": "1048576"})
    assert logs.get("t", 0) is not None and store.topics["t"].assignment == ((1,), (1,))
    assert log_config(logs, "t", 1).segment_bytes == 1048576
    admin.add_partitions("t", 3, validate_only=False)
    assert logs.get("t", 2) is not None and store.topics["t"].assignment == ((1,), (1,), (1,))
    store.set_topic_configs("t", {"segment.bytes": "2097152"})
    assert log_config(logs, "t", 0).segment_bytes == 2097152
    store.set_broker_configs(None, {"log.retention.ms": "1234"})
    assert config.get("log.retention.ms") == 1234 and log_config(logs, "t", 2).retention_ms == 1234
    admin.delete_topic("t")
    assert logs.get("t", 0) is None and "t" not in store.topics
    logs.shutdown()
