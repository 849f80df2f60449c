"""What the metadata store holds, as immutable values: readers may keep them, nobody can edit them in place."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

from brook.acl import PatternType, ResourceType
from brook.internal_topics import INTERNAL_TOPICS

# A client-quota entity: ((entity type, name, or None for the default entity), ...) sorted by type, as Kafka's
# ClientQuotaEntity ("user", "client-id", "ip")
QuotaEntity = tuple[tuple[str, str | None], ...]
# A resource pattern an ACL znode holds: (resource type, name, LITERAL or PREFIXED)
AclPattern = tuple[ResourceType, str, PatternType]

_EMPTY: Mapping[str, str] = MappingProxyType({})
K = TypeVar("K")
V = TypeVar("V")


def frozen(values: Mapping[K, V]) -> Mapping[K, V]:
    """A read-only copy."""
    return MappingProxyType(dict(values))


@dataclass(frozen=True, eq=False)
class TopicInfo:
    """A topic: /brokers/topics/<name> (id, replica assignment) and /config/topics/<name> (overrides)."""

    name: str
    topic_id: uuid.UUID
    assignment: tuple[tuple[int, ...], ...]  # partition index -> replica broker ids, preferred leader first
    configs: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    @property
    def partitions(self) -> int:
        return len(self.assignment)

    @property
    def replication_factor(self) -> int:
        return len(self.assignment[0]) if self.assignment else 0

    @property
    def internal(self) -> bool:
        return self.name in INTERNAL_TOPICS

    def replicas(self, partition: int) -> tuple[int, ...]:
        return self.assignment[partition]


def uniform_assignment(partitions: int, broker_id: int, first: int = 0) -> tuple[tuple[int, ...], ...]:
    """Partitions first..partitions-1, each on the one broker (the single-broker assignment)."""
    return tuple((broker_id,) for _ in range(first, partitions))


class ScramCredential(NamedTuple):
    """ScramCredential as ScramFormatter stores it (base64 fields); never the password."""

    salt: str
    stored_key: str
    server_key: str
    iterations: int

    def to_json(self) -> dict[str, object]:
        return self._asdict()

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ScramCredential:
        return cls(d["salt"], d["stored_key"], d["server_key"], int(d["iterations"]))


class ProducerIdBlock(NamedTuple):
    """ProducerIdsBlock: `size` ids from `first`, handed to `broker_id` (/latest_producer_id_block)."""

    broker_id: int
    first: int
    size: int

    @property
    def end(self) -> int:
        """One past the last id (Kafka's block_end is the last id itself)."""
        return self.first + self.size

