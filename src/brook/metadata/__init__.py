"""Broker metadata behind one interface with change notifications: the interface and the in-memory image
(store.py, whose docstring maps each write onto Kafka's znodes), immutable records, events, and the single
broker's JSON store. Nothing here imports asyncio or the broker."""

from .events import (
    EVENT_TYPES,
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
from .json_store import JsonMetadataStore
from .records import (
    INTERNAL_TOPICS,
    AclPattern,
    ProducerIdBlock,
    QuotaEntity,
    ScramCredential,
    TopicInfo,
    uniform_assignment,
)
from .store import MemoryMetadataStore, MetadataStore, TopicsView

__all__ = ["EVENT_TYPES", "INTERNAL_TOPICS", "AclPattern", "AclsChanged", "BrokerConfigChanged", "ClientQuotaChanged",
           "JsonMetadataStore", "MemoryMetadataStore", "MetadataStore", "PartitionsAdded", "ProducerIdBlock",
           "QuotaEntity", "ReplicasReassigned", "ScramCredential", "ScramCredentialsChanged", "TopicConfigChanged",
           "TopicCreated", "TopicDeleted", "TopicInfo", "TopicsView", "uniform_assignment"]
