"""Change notifications: what a write to the metadata store tells the broker's parts that subscribed.

Each event names what changed (one znode's worth); a subscriber reads the new state from the store. Kafka's
brokers learn the same things from ZooKeeper watches and /config/changes, /kafka-acl-changes notifications."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .records import AclPattern, QuotaEntity, TopicInfo


@dataclass(frozen=True)
class TopicCreated:
    info: TopicInfo


@dataclass(frozen=True)
class TopicDeleted:
    info: TopicInfo  # as it was


@dataclass(frozen=True)
class PartitionsAdded:
    info: TopicInfo
    previous: int  # the partition count before


@dataclass(frozen=True)
class ReplicasReassigned:
    """The controller changed partitions' replicas (a reassignment starting, completing or cancelled)."""

    info: TopicInfo
    previous: TopicInfo


@dataclass(frozen=True)
class TopicConfigChanged:
    name: str


@dataclass(frozen=True)
class BrokerConfigChanged:
    broker_id: int | None  # None: the cluster-wide default (<default>)


@dataclass(frozen=True)
class ClientQuotaChanged:
    entity: QuotaEntity


@dataclass(frozen=True)
class ScramCredentialsChanged:
    user: str


@dataclass(frozen=True)
class AclsChanged:
    pattern: AclPattern


# Every change a store announces (what a subscriber to all of them, or a test of all of them, walks).
EVENT_TYPES = (TopicCreated, TopicDeleted, PartitionsAdded, ReplicasReassigned, TopicConfigChanged,
               BrokerConfigChanged, ClientQuotaChanged, ScramCredentialsChanged, AclsChanged)


class Notifier:
    """Subscribers per event type, called in subscription order once the change is durable."""

    def __init__(self) -> None:
        self._subscribers: dict[type, list[Callable[[Any], None]]] = {}

    def subscribe(self, event_type: type, callback: Callable[[Any], None]) -> None:
        self._subscribers.setdefault(event_type, []).append(callback)

    def publish(self, event: object) -> None:
        for callback in self._subscribers.get(type(event), ()):
            callback(event)
