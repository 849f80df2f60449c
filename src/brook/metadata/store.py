"""The metadata store: what the broker knows about topics, configs, quotas, credentials, ACLs and producer ids,
behind one interface with change notifications (events.py).

Writers call one typed method per change; the store makes the change durable, updates its image and then tells
the subscribers (a topic's log config, the client quotas, the dynamic broker config, the authorizer's ACL cache,
this broker's logs), so no handler edits a table in place or calls a follow-up by hand. Readers get immutable
records (records.py) and read-only views of the live image.

The single broker keeps the store in a JSON file (json_store.py); a cluster keeps it in ZooKeeper. Each write is
one znode write of Kafka 3.9's ZooKeeper layout (create_topic: two, as Kafka writes them; plus, for configs and
ACLs, the sequential change-notification znode Kafka writes after it), so the ZooKeeper store implements this
interface znode by znode:

    create_topic(name, id, assignment, configs)  /config/topics/<name> {"version":1,"config":{...}} then
                                                 /brokers/topics/<name> {"version":3,"partitions":{"0":[1,2]},
                                                 "topic_id":"<base64 uuid>",...} (AdminZkClient's order: a broker
                                                 that sees the topic finds its config)
    add_partitions(name, replicas)               /brokers/topics/<name> (the whole assignment rewritten)
    delete_topic(name)                           /admin/delete_topics/<name> (the controller removes the topic's
                                                 znodes once its replicas are gone)
    set_topic_configs(name, configs)             /config/topics/<name>              + /config/changes/config_change_
    set_broker_configs(id or None, configs)      /config/brokers/<id> or <default> + /config/changes/config_change_
    set_client_quota(entity, values)             /config/users/<user>[/clients/<client-id>], /config/clients/<id>,
                                                 /config/ips/<ip> (names sanitized, <default> for a default entity;
                                                 the quota keys of the znode's "config")
                                                                                    + /config/changes/config_change_
    set_scram_credentials(user, credentials)     /config/users/<user> (the mechanism keys of the same "config":
                                                 "SCRAM-SHA-256": "salt=..,stored_key=..,server_key=..,iterations=..")
    update_acls(pattern, change)                 /kafka-acl/<ResourceType>/<name> (LITERAL) or
                                                 /kafka-acl-extended/prefixed/<ResourceType>/<name> (PREFIXED),
                                                 {"version":1,"acls":[...]}, conditional on the znode's version
                                                 (re-read and `change` applied again when it moved)
                                                 + /kafka-acl-changes/acl_changes_ (or -extended-)
    allocate_producer_ids(broker, size)          /latest_producer_id_block {"version":1,"broker":..,"block_start":
                                                 "..","block_end":".."}, conditional on the znode's version

An empty `configs`, `values`, `credentials` or ACL list removes what the znode held (Kafka deletes the ACL znode,
and leaves config znodes with an empty "config").

Subscribers are called synchronously, on the thread that writes; a ZooKeeper store hands the events of its watches
to the broker's event loop first."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence, ValuesView
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from brook.acl import AclBinding
from brook.errors import ErrorCode, KafkaError

from .events import (
    AclsChanged,
    BrokerConfigChanged,
    ClientQuotaChanged,
    Notifier,
    PartitionsAdded,
    ScramCredentialsChanged,
    TopicConfigChanged,
    TopicCreated,
    TopicDeleted,
)
from .records import AclPattern, ProducerIdBlock, QuotaEntity, ScramCredential, TopicInfo, frozen

_MISSING: Any = object()


class TopicsView(Mapping[str, TopicInfo]):
    """Topics by name (a read-only view of the live image), and `by_id`."""

    def __init__(self, by_name: dict[str, TopicInfo], by_id: dict[uuid.UUID, TopicInfo]) -> None:
        self._by_name = by_name
        self.by_id: Mapping[uuid.UUID, TopicInfo] = MappingProxyType(by_id)
        self.get = by_name.get  # type: ignore[assignment]  # hot path: dict.get itself (typeshed types its overloads apart from Mapping.get's)

    def __getitem__(self, name: str) -> TopicInfo:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def values(self) -> ValuesView[TopicInfo]:  # the dict's own view: no lookup per topic
        return self._by_name.values()


class MetadataStore(ABC):
    """The interface (see the module docstring for each write's znode)."""

    topics: TopicsView
    client_quotas: Mapping[QuotaEntity, Mapping[str, float]]
    scram_credentials: Mapping[str, Mapping[str, ScramCredential]]  # user -> mechanism name -> credential
    acls: Mapping[AclPattern, tuple[AclBinding, ...]]

    @abstractmethod
    def subscribe(self, event_type: type, callback: Callable[[Any], None]) -> None: ...

    @abstractmethod
    def broker_configs(self, broker_id: int | None) -> Mapping[str, str]:
        """A broker's dynamic configs, or (None) the cluster-wide dynamic defaults."""

    @abstractmethod
    def create_topic(self, name: str, topic_id: uuid.UUID, assignment: Sequence[Sequence[int]],
                     configs: Mapping[str, str]) -> TopicInfo: ...

    @abstractmethod
    def add_partitions(self, name: str, replicas: Sequence[Sequence[int]]) -> TopicInfo: ...

    @abstractmethod
    def delete_topic(self, name: str) -> TopicInfo: ...

    @abstractmethod
    def set_topic_configs(self, name: str, configs: Mapping[str, str]) -> None: ...

    @abstractmethod
    def set_broker_configs(self, broker_id: int | None, configs: Mapping[str, str]) -> None: ...

    @abstractmethod
    def set_client_quota(self, entity: QuotaEntity, values: Mapping[str, float]) -> None: ...

    @abstractmethod
    def set_scram_credentials(self, user: str, credentials: Mapping[str, ScramCredential]) -> None: ...

    @abstractmethod
    def update_acls(self, pattern: AclPattern, change: Callable[[tuple[AclBinding, ...]], Sequence[AclBinding]]
                    ) -> tuple[tuple[AclBinding, ...], tuple[AclBinding, ...]]:
        """A pattern's ACLs become change(current ACLs); (before, after). Nothing is written when they are equal.
        `change` may run more than once (a ZooKeeper store retries a write the znode's version refused)."""

    @abstractmethod
    def allocate_producer_ids(self, broker_id: int, size: int) -> ProducerIdBlock: ...


class MemoryMetadataStore(MetadataStore):
    """The image every store keeps, with the notifications; nothing durable. A subclass makes each change durable
    in `_persist` before the image commits it: a failed write changes nothing and notifies nobody."""

    def __init__(self) -> None:
        self._notifier = Notifier()
        self._topics: dict[str, TopicInfo] = {}
        self._topics_by_id: dict[uuid.UUID, TopicInfo] = {}
        self._broker_configs: dict[int | None, Mapping[str, str]] = {}
        self._quotas: dict[QuotaEntity, Mapping[str, float]] = {}
        self._scram: dict[str, Mapping[str, ScramCredential]] = {}
        self._acls: dict[AclPattern, tuple[AclBinding, ...]] = {}
        self._producer_ids_end = 0  # ids below it may have been handed out
        self.topics = TopicsView(self._topics, self._topics_by_id)
        self.client_quotas = MappingProxyType(self._quotas)
        self.scram_credentials = MappingProxyType(self._scram)
        self.acls = MappingProxyType(self._acls)

    # -- reads and subscriptions -------------------------------------------------------------------------------
    def subscribe(self, event_type: type, callback: Callable[[Any], None]) -> None:
        self._notifier.subscribe(event_type, callback)

    def broker_configs(self, broker_id: int | None) -> Mapping[str, str]:
        return self._broker_configs.get(broker_id) or MappingProxyType({})

    # -- writes ----------------------------------------------------------------------------------------------
    def create_topic(self, name: str, topic_id: uuid.UUID, assignment: Sequence[Sequence[int]],
                     configs: Mapping[str, str]) -> TopicInfo:
        if name in self._topics:
            raise KafkaError(ErrorCode.topic_already_exists, f"Topic '{name}' already exists.")
        info = TopicInfo(name, topic_id, tuple(tuple(r) for r in assignment), frozen(configs))
        self._commit([(self._topics, name, info), (self._topics_by_id, topic_id, info)], TopicCreated(info))
        return info

    def add_partitions(self, name: str, replicas: Sequence[Sequence[int]]) -> TopicInfo:
        old = self._topic(name)
        info = replace(old, assignment=old.assignment + tuple(tuple(r) for r in replicas))
        self._commit([(self._topics, name, info), (self._topics_by_id, info.topic_id, info)],
                     PartitionsAdded(info, old.partitions))
        return info

    def delete_topic(self, name: str) -> TopicInfo:
        info = self._topic(name)
        self._commit([(self._topics, name, _MISSING), (self._topics_by_id, info.topic_id, _MISSING)],
                     TopicDeleted(info))
        return info

    def set_topic_configs(self, name: str, configs: Mapping[str, str]) -> None:
        info = replace(self._topic(name), configs=frozen(configs))
        self._commit([(self._topics, name, info), (self._topics_by_id, info.topic_id, info)],
                     TopicConfigChanged(name))

    def set_broker_configs(self, broker_id: int | None, configs: Mapping[str, str]) -> None:
        self._commit([(self._broker_configs, broker_id, frozen(configs) if configs else _MISSING)],
                     BrokerConfigChanged(broker_id))

    def set_client_quota(self, entity: QuotaEntity, values: Mapping[str, float]) -> None:
        self._commit([(self._quotas, entity, frozen(values) if values else _MISSING)], ClientQuotaChanged(entity))

    def set_scram_credentials(self, user: str, credentials: Mapping[str, ScramCredential]) -> None:
        self._commit([(self._scram, user, frozen(credentials) if credentials else _MISSING)],
                     ScramCredentialsChanged(user))

    def update_acls(self, pattern: AclPattern, change: Callable[[tuple[AclBinding, ...]], Sequence[AclBinding]]
                    ) -> tuple[tuple[AclBinding, ...], tuple[AclBinding, ...]]:
        old = self._acls.get(pattern, ())
        new = tuple(change(old))
        if any(b.pattern != pattern for b in new):
            raise ValueError(f"ACL bindings outside their pattern {pattern}")
        if new != old:
            self._commit([(self._acls, pattern, new if new else _MISSING)], AclsChanged(pattern))
        return old, new

    def allocate_producer_ids(self, broker_id: int, size: int) -> ProducerIdBlock:
        block = ProducerIdBlock(broker_id, self._producer_ids_end, size)
        self._producer_ids_end = block.end
        try:
            self._persist()
        except BaseException:
            self._producer_ids_end = block.first
            raise
        return block

    # -- the commit ------------------------------------------------------------------------------------------
    def _topic(self, name: str) -> TopicInfo:
        info = self._topics.get(name)
        if info is None:
            raise KafkaError(ErrorCode.unknown_topic_or_partition, f"The topic '{name}' does not exist.")
        return info

    def _commit(self, updates: list[tuple[dict[Any, Any], Any, Any]], event: object) -> None:
        """Apply `updates` ((table, key, value or _MISSING to remove)) to the image, persist, and notify; if
        persisting fails, put the image back as it was and notify nobody."""
        olds = [(table, dict(table)) for table, _, _ in updates]  # copies keep the order a reader saw
        for table, key, value in updates:
            _put(table, key, value)
        try:
            self._persist()
        except BaseException:
            for table, old in olds:
                table.clear()
                table.update(old)
            raise
        self._notifier.publish(event)

    def _persist(self) -> None:
        """Make the image durable (the JSON store); here nothing is."""


def _put(table: dict[Any, Any], key: object, value: object) -> None:
    if value is _MISSING:
        table.pop(key, None)
    else:
        table[key] = value
