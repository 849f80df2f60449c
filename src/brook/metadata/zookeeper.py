"""The cluster's metadata store: Kafka 3.9's znodes in ZooKeeper (kazoo), the paths and JSON of store.py's map.

Each write goes to ZooKeeper first (one znode, plus the change notification Kafka writes after it), then the
image in memory changes and local subscribers hear of it, as with the JSON store. Another broker's writes arrive
through watches: /brokers/topics (children, and each topic's data), /config/changes and /kafka-acl-changes,
/kafka-acl-extended-changes (sequential notification znodes naming what changed). A watch fires on kazoo's thread,
which reads the new state there and hands the image change to `deliver` (the broker passes its event loop's
call_soon_threadsafe), so the image changes and subscribers run only on the thread that owns them. A change that
is already in the image (this store's own write coming back) notifies nobody.

delete_topic marks /admin/delete_topics/<name> as Kafka's DeleteTopics does; the controller removes the topic's
znodes, and `when_deleted` tells the request when they are gone."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, unquote

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError

from brook.acl import AclBinding, AclOperation, AclPermissionType, PatternType, ResourceType
from brook.errors import ErrorCode, KafkaError

from .events import (
    AclsChanged,
    BrokerConfigChanged,
    ClientQuotaChanged,
    PartitionsAdded,
    ReplicasReassigned,
    ScramCredentialsChanged,
    TopicConfigChanged,
    TopicCreated,
    TopicDeleted,
)
from .records import AclPattern, ProducerIdBlock, QuotaEntity, ScramCredential, TopicInfo, frozen
from .store import _MISSING, MemoryMetadataStore, _put

log = logging.getLogger("kafka.zk.KafkaZkClient")

DEFAULT = "<default>"
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
# KafkaZkClient.createTopLevelPaths: ZkData.PersistentZkPaths and one path per ConfigType
PERSISTENT_PATHS = ("/consumers", "/brokers/ids", "/brokers/topics", "/config/changes", "/admin/delete_topics",
                    "/brokers/seqid", "/isr_change_notification", "/latest_producer_id_block",
                    "/log_dir_event_notification", "/config/topics", "/config/clients", "/config/users",
                    "/config/brokers", "/config/ips")
CHANGE_PREFIX = "config_change_"
ACL_CHANGES = "/kafka-acl-changes"  # LITERAL patterns: "ResourceType:name"
ACL_EXTENDED_CHANGES = "/kafka-acl-extended-changes"  # others: JSON
ACL_CHANGE_PREFIX = "acl_changes_"
# store.py's QuotaEntity types -> the /config/<type> path segments
_ENTITY_PATHS = {"user": "users", "client-id": "clients", "ip": "ips"}
_ENTITY_TYPES = {v: k for k, v in _ENTITY_PATHS.items()}


# -- Kafka's names and JSON ------------------------------------------------------------------------------------
def camel(name: str) -> str:
    """Kafka's names in ZooKeeper's JSON: TRANSACTIONAL_ID -> TransactionalId."""
    return "".join(w.capitalize() for w in name.split("_"))


def _uncamel(enum: Any, name: str) -> Any:
    return next(m for m in enum if camel(m.name) == name)


def topic_id_string(topic_id: uuid.UUID) -> str:
    """Kafka's Uuid.toString: URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(topic_id.bytes).decode().rstrip("=")


def parse_topic_id(s: str) -> uuid.UUID:
    return uuid.UUID(bytes=base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))


def sanitize(name: str | None) -> str:
    """Kafka's Sanitizer for quota entity names (URL encoding, '*' and space escaped); None is <default>."""
    return DEFAULT if name is None else quote(name, safe="").replace("~", "%7E")


def desanitize(segment: str) -> str | None:
    return None if segment == DEFAULT else unquote(segment)


def topic_json(info: TopicInfo) -> bytes:
    return _json({"partitions": {str(p): list(r) for p, r in enumerate(info.assignment)},
                  "topic_id": topic_id_string(info.topic_id), "adding_replicas": {}, "removing_replicas": {},
                  "version": 3})


def config_json(configs: Mapping[str, str]) -> bytes:
    return _json({"version": 1, "config": dict(configs)})


def acls_json(bindings: Sequence[AclBinding]) -> bytes:
    return _json({"version": 1, "acls": [{"principal": b.principal, "permissionType": camel(b.permission.name),
                                          "operation": camel(b.operation.name), "host": b.host}
                                         for b in bindings]})


def acl_path(pattern: AclPattern) -> str:
    rtype, name, ptype = pattern
    if ptype == PatternType.LITERAL:
        return f"/kafka-acl/{camel(rtype.name)}/{name}"
    return f"/kafka-acl-extended/{ptype.name.lower()}/{camel(rtype.name)}/{name}"


def quota_path(entity: QuotaEntity) -> str:
    """/config/users/<u>[/clients/<c>], /config/clients/<c>, /config/ips/<ip> (the user first, as Kafka)."""
    parts = dict(entity)
    if "user" in parts:
        path = f"users/{sanitize(parts['user'])}"
        return path + (f"/clients/{sanitize(parts['client-id'])}" if "client-id" in parts else "")
    (etype, name), = entity
    return f"{_ENTITY_PATHS[etype]}/{sanitize(name)}"


def quota_entity(entity_path: str) -> QuotaEntity:
    segments = entity_path.split("/")
    pairs = [(_ENTITY_TYPES[segments[i]], desanitize(segments[i + 1])) for i in range(0, len(segments), 2)]
    return tuple(sorted(pairs))


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _scram_string(c: ScramCredential) -> str:
    return f"salt={c.salt},stored_key={c.stored_key},server_key={c.server_key},iterations={c.iterations}"


def _scram_parse(s: str) -> ScramCredential:
    fields = dict(kv.split("=", 1) for kv in s.split(","))
    return ScramCredential(fields["salt"], fields["stored_key"], fields["server_key"], int(fields["iterations"]))


def _quota_string(value: float) -> str:
    return repr(float(value))  # Java's Double.toString of a whole number: "1024.0"


def split_chroot(connect: str) -> tuple[str, str]:
    """zookeeper.connect "h1:2181,h2:2181/chroot" -> (hosts, "/chroot" or "")."""
    slash = connect.find("/")
    return (connect, "") if slash < 0 else (connect[:slash], connect[slash:].rstrip("/"))


def connect_client(connect: str, timeout_s: float, session_timeout_s: float = 18.0) -> KazooClient:
    """A started client on zookeeper.connect, its chroot created first when missing (as Kafka does)."""
    hosts, chroot = split_chroot(connect)
    if chroot:
        boot = KazooClient(hosts=hosts, timeout=session_timeout_s)
        _start(boot, timeout_s)
        try:
            boot.ensure_path(chroot)
        finally:
            boot.stop()
            boot.close()
    client = KazooClient(hosts=hosts + chroot, timeout=session_timeout_s)
    _start(client, timeout_s)
    return client


def _start(client: KazooClient, timeout_s: float) -> None:
    try:
        client.start(timeout=timeout_s)
    except KazooTimeoutError:
        client.close()
        raise TimeoutError("kafka.zookeeper.ZooKeeperClientTimeoutException: Timed out waiting for connection "
                           "while in state: CONNECTING") from None


class ZkMetadataStore(MemoryMetadataStore):
    def __init__(self, client: KazooClient, deliver: Callable[[Callable[[], None]], None]) -> None:
        super().__init__()
        self.zk = client
        self._deliver = deliver
        self._lock = threading.Lock()  # the watches' bookkeeping (kazoo's thread)
        self._watched: set[str] = set()
        self._seen: dict[str, int] = {}  # notification path -> the last sequence number processed
        self._deletion_waiters: dict[str, list[Callable[[], None]]] = {}  # topic -> called once its znode is gone
        # ZkNodeChangeNotificationListener's changeExpirationMs: a notification older than this is deleted by the
        # next broker that processes a notification on the same path
        self.change_expiration_ms = 15 * 60 * 1000
        for path in PERSISTENT_PATHS:
            self.zk.ensure_path(path)
        self._load()
        self._watch()

    def close(self) -> None:
        self.zk.stop()
        self.zk.close()

    # -- reading ZooKeeper ---------------------------------------------------------------------------------
    def _get_json(self, path: str) -> tuple[Any, Any]:
        """(parsed data or None when absent or empty, stat or None)."""
        try:
            data, stat = self.zk.get(path)
        except NoNodeError:
            return None, None
        return (json.loads(data) if data else None), stat

    def _children(self, path: str) -> list[str]:
        try:
            return self.zk.get_children(path)
        except NoNodeError:
            return []

    def _config(self, entity_path: str) -> dict[str, str]:
        data, _ = self._get_json(f"/config/{entity_path}")
        return dict((data or {}).get("config", {}))

    def _read_topic(self, name: str) -> TopicInfo | None:
        data, _ = self._get_json(f"/brokers/topics/{name}")
        if data is None:
            return None
        partitions = data["partitions"]
        assignment = tuple(tuple(partitions[str(p)]) for p in range(len(partitions)))
        return TopicInfo(name, parse_topic_id(data["topic_id"]), assignment, frozen(self._config(f"topics/{name}")))

    def _read_acls(self, pattern: AclPattern) -> tuple[tuple[AclBinding, ...], Any]:
        data, stat = self._get_json(acl_path(pattern))
        rtype, name, ptype = pattern
        return tuple(AclBinding(rtype, name, ptype, a["principal"], a["host"], _uncamel(AclOperation, a["operation"]),
                                _uncamel(AclPermissionType, a["permissionType"]))
                     for a in (data or {}).get("acls", ())), stat

    def _quota_entities(self) -> list[str]:
        paths = [f"clients/{c}" for c in self._children("/config/clients")]
        paths += [f"ips/{i}" for i in self._children("/config/ips")]
        for u in self._children("/config/users"):
            paths.append(f"users/{u}")
            paths += [f"users/{u}/clients/{c}" for c in self._children(f"/config/users/{u}/clients")]
        return paths

    def _acl_patterns(self) -> list[AclPattern]:
        patterns: list[AclPattern] = []
        for rtype in self._children("/kafka-acl"):
            patterns += [(_uncamel(ResourceType, rtype), n, PatternType.LITERAL)
                         for n in self._children(f"/kafka-acl/{rtype}")]
        for ptype in self._children("/kafka-acl-extended"):
            for rtype in self._children(f"/kafka-acl-extended/{ptype}"):
                patterns += [(_uncamel(ResourceType, rtype), n, PatternType[ptype.upper()])
                             for n in self._children(f"/kafka-acl-extended/{ptype}/{rtype}")]
        return patterns

    def _load(self) -> None:
        for name in self._children("/brokers/topics"):
            info = self._read_topic(name)
            if info is not None:
                self._topics[name] = self._topics_by_id[info.topic_id] = info
        for b in self._children("/config/brokers"):
            configs = self._config(f"brokers/{b}")
            if configs:
                self._broker_configs[None if b == DEFAULT else int(b)] = frozen(configs)
        for path in self._quota_entities():
            self._apply_entity(path, publish=False)
        for pattern in self._acl_patterns():
            bindings, _ = self._read_acls(pattern)
            if bindings:
                self._acls[pattern] = bindings

    # -- watches (kazoo's thread) --------------------------------------------------------------------------
    def _watch(self) -> None:
        for path in ("/config/changes", ACL_CHANGES, ACL_EXTENDED_CHANGES):
            self.zk.ensure_path(path)
            self._seen[path] = max((_seq(c) for c in self._children(path)), default=-1)
        self.zk.ChildrenWatch("/brokers/topics", self._topics_changed)
        self.zk.ChildrenWatch("/config/changes", lambda c: self._notified("/config/changes", c))
        self.zk.ChildrenWatch(ACL_CHANGES, lambda c: self._notified(ACL_CHANGES, c))
        self.zk.ChildrenWatch(ACL_EXTENDED_CHANGES, lambda c: self._notified(ACL_EXTENDED_CHANGES, c))

    def _topics_changed(self, children: list[str]) -> None:
        with self._lock:
            new = [c for c in children if c not in self._watched]
            self._watched.update(new)
        for name in new:
            self.zk.DataWatch(f"/brokers/topics/{name}", self._topic_watch(name))

    def _topic_watch(self, name: str) -> Callable[[bytes | None, Any], bool | None]:
        # two arguments exactly: kazoo passes the event too to a function that takes a third
        return lambda data, stat: self._topic_data(name, data)

    def _topic_data(self, name: str, data: bytes | None) -> bool | None:
        info = self._read_topic(name) if data else None
        self._deliver(lambda: self._apply_topic(name, info))
        if data is None:
            with self._lock:
                self._watched.discard(name)
                waiters = self._deletion_waiters.pop(name, [])
            for waiter in waiters:
                self._deliver(waiter)
            return False  # a topic created again gets a new watch
        return None

    def _notified(self, path: str, children: list[str]) -> None:
        with self._lock:
            fresh = sorted((c for c in children if _seq(c) > self._seen[path]), key=_seq)
            if fresh:
                self._seen[path] = _seq(fresh[-1])
        for child in fresh:
            try:
                data, _ = self.zk.get(f"{path}/{child}")
            except NoNodeError:
                continue
            if path == "/config/changes":
                self._config_changed(json.loads(data)["entity_path"])
            else:
                self._acls_changed(path, data.decode())
        if fresh:
            self._purge_obsolete(path, children)

    def _purge_obsolete(self, path: str, children: list[str]) -> None:
        """purgeObsoleteNotifications: the notifications created more than change_expiration_ms ago go."""
        now = time.time() * 1000
        for child in sorted(children, key=_seq):
            try:
                stat = self.zk.exists(f"{path}/{child}")
                if stat is not None and now - stat.ctime > self.change_expiration_ms:
                    self.zk.delete(f"{path}/{child}")
            except NoNodeError:
                continue  # another broker purged it first

    def _config_changed(self, entity_path: str) -> None:
        kind, _, rest = entity_path.partition("/")
        if kind == "topics":
            configs = self._config(entity_path)
            self._deliver(lambda: self._apply_topic_configs(rest, configs))
        elif kind == "brokers":
            configs = self._config(entity_path)
            broker_id = None if rest == DEFAULT else int(rest)
            self._deliver(lambda: self._apply_broker_configs(broker_id, configs))
        else:
            configs = self._config(entity_path)
            self._deliver(lambda: self._apply_entity(entity_path, configs))

    def _acls_changed(self, path: str, data: str) -> None:
        if path == ACL_CHANGES:
            rtype, _, name = data.partition(":")
            pattern: AclPattern = (_uncamel(ResourceType, rtype), name, PatternType.LITERAL)
        else:
            d = json.loads(data)
            pattern = (_uncamel(ResourceType, d["resourceType"]), d["name"], PatternType[d["patternType"].upper()])
        bindings, _ = self._read_acls(pattern)
        self._deliver(lambda: self._apply_acls(pattern, bindings))

    # -- image changes from ZooKeeper (the owner's thread) -------------------------------------------------
    def _apply_topic(self, name: str, info: TopicInfo | None) -> None:
        old = self._topics.get(name)
        if old is not None and (info is None or info.topic_id != old.topic_id):
            removals: list[tuple[dict[Any, Any], Any, Any]] = [(self._topics, name, _MISSING),
                                                                (self._topics_by_id, old.topic_id, _MISSING)]
            self._commit(removals, TopicDeleted(old))
            old = None
        if info is None:
            return
        updates: list[tuple[dict[Any, Any], Any, Any]] = [(self._topics, name, info),
                                                           (self._topics_by_id, info.topic_id, info)]
        if old is None:
            self._commit(updates, TopicCreated(info))
        elif info.assignment[:old.partitions] == old.assignment and info.partitions > old.partitions:
            self._commit(updates, PartitionsAdded(info, old.partitions))
        elif info.assignment != old.assignment:  # the controller reassigned replicas
            self._commit(updates, ReplicasReassigned(info, old))

    def _apply_topic_configs(self, name: str, configs: dict[str, str]) -> None:
        old = self._topics.get(name)
        if old is not None and dict(old.configs) != configs:
            info = TopicInfo(name, old.topic_id, old.assignment, frozen(configs))
            self._commit([(self._topics, name, info), (self._topics_by_id, info.topic_id, info)],
                         TopicConfigChanged(name))

    def _apply_broker_configs(self, broker_id: int | None, configs: dict[str, str]) -> None:
        if dict(self._broker_configs.get(broker_id, {})) != configs:
            self._commit([(self._broker_configs, broker_id, frozen(configs) if configs else _MISSING)],
                         BrokerConfigChanged(broker_id))

    def _apply_entity(self, entity_path: str, configs: dict[str, str] | None = None, publish: bool = True) -> None:
        """A /config/users|clients|ips znode: its quota keys and (users) its SCRAM credentials."""
        if configs is None:
            configs = self._config(entity_path)
        entity = quota_entity(entity_path)
        quotas = {k: float(v) for k, v in configs.items() if k not in SCRAM_MECHANISMS}
        if dict(self._quotas.get(entity, {})) != quotas:
            update = (self._quotas, entity, frozen(quotas) if quotas else _MISSING)
            self._commit([update], ClientQuotaChanged(entity)) if publish else _put(*update)
        segments = entity_path.split("/")
        if segments[0] == "users" and len(segments) == 2 and segments[1] != DEFAULT:
            user = unquote(segments[1])
            creds = {m: _scram_parse(v) for m, v in configs.items() if m in SCRAM_MECHANISMS}
            if dict(self._scram.get(user, {})) != creds:
                scram_update = (self._scram, user, frozen(creds) if creds else _MISSING)
                self._commit([scram_update], ScramCredentialsChanged(user)) if publish else _put(*scram_update)

    def _apply_acls(self, pattern: AclPattern, bindings: tuple[AclBinding, ...]) -> None:
        if self._acls.get(pattern, ()) != bindings:
            self._commit([(self._acls, pattern, bindings if bindings else _MISSING)], AclsChanged(pattern))

    # -- writes: ZooKeeper first, then the image (MemoryMetadataStore) ---------------------------------------
    def create_topic(self, name: str, topic_id: uuid.UUID, assignment: Sequence[Sequence[int]],
                     configs: Mapping[str, str]) -> TopicInfo:
        info = TopicInfo(name, topic_id, tuple(tuple(r) for r in assignment), frozen(configs))
        if self.zk.exists(f"/brokers/topics/{name}"):
            raise KafkaError(ErrorCode.topic_already_exists, f"Topic '{name}' already exists.")
        self._set_or_create(f"/config/topics/{name}", config_json(configs))
        try:
            self.zk.create(f"/brokers/topics/{name}", topic_json(info))
        except NodeExistsError:
            raise KafkaError(ErrorCode.topic_already_exists, f"Topic '{name}' already exists.") from None
        if name in self._topics:  # another broker's topic of that name, not yet delivered here
            self._apply_topic(name, None)
        return super().create_topic(name, topic_id, assignment, configs)

    def add_partitions(self, name: str, replicas: Sequence[Sequence[int]]) -> TopicInfo:
        old = self._topic(name)
        new = TopicInfo(name, old.topic_id, old.assignment + tuple(tuple(r) for r in replicas), old.configs)
        self.zk.set(f"/brokers/topics/{name}", topic_json(new))
        return super().add_partitions(name, replicas)

    def delete_topic(self, name: str) -> TopicInfo:
        self._topic(name)
        self._set_or_create(f"/admin/delete_topics/{name}", b"")  # the controller does the rest
        return super().delete_topic(name)

    def when_deleted(self, name: str, callback: Callable[[], None]) -> None:
        """`callback` on the owner's thread once /brokers/topics/<name> is gone (at once when it is)."""
        with self._lock:
            self._deletion_waiters.setdefault(name, []).append(callback)
        if self.zk.exists(f"/brokers/topics/{name}") is None:
            with self._lock:
                waiters = self._deletion_waiters.pop(name, [])
            for waiter in waiters:
                self._deliver(waiter)

    def set_topic_configs(self, name: str, configs: Mapping[str, str]) -> None:
        self._topic(name)
        self._write_config(f"topics/{name}", configs)
        super().set_topic_configs(name, configs)

    def set_broker_configs(self, broker_id: int | None, configs: Mapping[str, str]) -> None:
        self._write_config(f"brokers/{DEFAULT if broker_id is None else broker_id}", configs)
        super().set_broker_configs(broker_id, configs)

    def set_client_quota(self, entity: QuotaEntity, values: Mapping[str, float]) -> None:
        path = quota_path(entity)
        kept = {k: v for k, v in self._config(path).items() if k in SCRAM_MECHANISMS}
        self._write_config(path, {**kept, **{k: _quota_string(v) for k, v in values.items()}})
        super().set_client_quota(entity, values)

    def set_scram_credentials(self, user: str, credentials: Mapping[str, ScramCredential]) -> None:
        path = f"users/{sanitize(user)}"
        kept = {k: v for k, v in self._config(path).items() if k not in SCRAM_MECHANISMS}
        self._write_config(path, {**kept, **{m: _scram_string(c) for m, c in credentials.items()}})
        super().set_scram_credentials(user, credentials)

    def update_acls(self, pattern: AclPattern, change: Callable[[tuple[AclBinding, ...]], Sequence[AclBinding]]
                    ) -> tuple[tuple[AclBinding, ...], tuple[AclBinding, ...]]:
        path = acl_path(pattern)
        while True:
            old, stat = self._read_acls(pattern)
            new = tuple(change(old))
            if any(b.pattern != pattern for b in new):
                raise ValueError(f"ACL bindings outside their pattern {pattern}")
            if new == old:
                break
            try:
                if stat is None:
                    self.zk.create(path, acls_json(new), makepath=True)
                elif new:
                    self.zk.set(path, acls_json(new), version=stat.version)
                else:
                    self.zk.delete(path, version=stat.version)
            except (BadVersionError, NodeExistsError, NoNodeError):
                continue  # another broker wrote first: apply `change` to what it wrote
            self._notify_acls(pattern)
            break
        image = self._acls.get(pattern, ())
        if image != new:
            self._commit([(self._acls, pattern, new if new else _MISSING)], AclsChanged(pattern))
        return old, new

    def allocate_producer_ids(self, broker_id: int, size: int) -> ProducerIdBlock:
        """ProducerIdManager's ZooKeeper path: the next block after /latest_producer_id_block's, written
        conditionally on the znode's version (another broker may take a block at the same time)."""
        while True:
            data, stat = self._get_json("/latest_producer_id_block")
            first = int(data["block_end"]) + 1 if data else 0
            block = ProducerIdBlock(broker_id, first, size)
            value = _json({"version": 1, "broker": broker_id, "block_start": str(first),
                           "block_end": str(block.end - 1)})
            try:
                self.zk.set("/latest_producer_id_block", value, version=stat.version)
            except BadVersionError:
                continue
            self._producer_ids_end = block.end
            return block

    # -- helpers -------------------------------------------------------------------------------------------
    def _set_or_create(self, path: str, data: bytes) -> None:
        try:
            self.zk.set(path, data)
        except NoNodeError:
            self.zk.create(path, data, makepath=True)

    def _delete_if_exists(self, path: str) -> None:
        try:
            self.zk.delete(path)
        except NoNodeError:
            pass

    def _write_config(self, entity_path: str, configs: Mapping[str, str]) -> None:
        """AdminZkClient.changeConfigs: the entity's znode, then a config_change_ notification naming it."""
        self._set_or_create(f"/config/{entity_path}", config_json(configs))
        self.zk.create(f"/config/changes/{CHANGE_PREFIX}", _json({"version": 2, "entity_path": entity_path}),
                       sequence=True)

    def _notify_acls(self, pattern: AclPattern) -> None:
        rtype, name, ptype = pattern
        if ptype == PatternType.LITERAL:
            self.zk.create(f"{ACL_CHANGES}/{ACL_CHANGE_PREFIX}", f"{camel(rtype.name)}:{name}".encode(),
                           sequence=True, makepath=True)
        else:
            self.zk.create(f"{ACL_EXTENDED_CHANGES}/{ACL_CHANGE_PREFIX}",
                           _json({"version": 1, "resourceType": camel(rtype.name), "name": name,
                                  "patternType": camel(ptype.name)}), sequence=True, makepath=True)


def _seq(child: str) -> int:
    return int(child[-10:])

