"""A group's members and state, with Kafka's state names and transitions."""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field

from kio._kio_native import read_int16, read_legacy_array_length, read_legacy_string

from brook.protocol.coordinator_records import OffsetCommitValue


class GroupState(enum.Enum):
    EMPTY = "Empty"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    STABLE = "Stable"
    DEAD = "Dead"


@dataclass
class Member:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout_ms: int
    session_timeout_ms: int
    protocols: list[tuple[str, bytes]]
    assignment: bytes = b""
    join_future: asyncio.Future | None = None
    sync_future: asyncio.Future | None = None
    last_heartbeat: float = 0.0

    def metadata_for(self, protocol: str | None) -> bytes:
        for name, metadata in self.protocols:
            if name == protocol:
                return metadata
        return b""

    @property
    def awaiting_join(self) -> bool:
        return self.join_future is not None and not self.join_future.done()

    @property
    def awaiting_sync(self) -> bool:
        return self.sync_future is not None and not self.sync_future.done()


@dataclass
class Group:
    group_id: str
    state: GroupState = GroupState.EMPTY
    protocol_type: str | None = None
    protocol_name: str | None = None
    generation: int = 0
    leader_id: str | None = None
    members: dict[str, Member] = field(default_factory=dict)
    static_members: dict[str, str] = field(default_factory=dict)  # group.instance.id -> member id
    pending_members: dict[str, float] = field(default_factory=dict)  # KIP-394: id -> deadline
    offsets: dict[tuple[str, int], OffsetCommitValue] = field(default_factory=dict)
    state_timestamp: int = -1
    rebalance_timer: asyncio.TimerHandle | None = None
    initial_delay_until: float = 0.0

    def is_(self, *states: GroupState) -> bool:
        return self.state in states

    def supports(self, protocol_type: str, protocols: list[tuple[str, bytes]]) -> bool:
        if not self.members:
            return bool(protocol_type) and bool(protocols)
        if protocol_type != self.protocol_type:
            return False
        names = {n for n, _ in protocols}
        return bool(self.candidate_protocols() & names)

    def candidate_protocols(self) -> set[str]:
        sets = [{n for n, _ in m.protocols} for m in self.members.values()]
        return set.intersection(*sets) if sets else set()

    def select_protocol(self) -> str | None:
        """Kafka's vote: each member votes for its most preferred protocol that every member supports."""
        candidates = self.candidate_protocols()
        votes: dict[str, int] = {}
        for m in self.members.values():
            for name, _ in m.protocols:
                if name in candidates:
                    votes[name] = votes.get(name, 0) + 1
                    break
        if not votes:
            return None
        first = next(iter(self.members.values()))
        order = [n for n, _ in first.protocols]
        return max(votes, key=lambda n: (votes[n], -order.index(n) if n in order else 0))

    def subscribed_topics(self) -> set[str] | None:
        """Topics from the consumer protocol's subscriptions (None if not a consumer group)."""
        if self.protocol_type != "consumer" or self.protocol_name is None:
            return None
        topics: set[str] = set()
        for m in self.members.values():
            data = m.metadata_for(self.protocol_name)
            try:
                pos = read_int16(data, 0)[1]
                n, size = read_legacy_array_length(data, pos)
                pos += size
                for _ in range(n):
                    name, size = read_legacy_string(data, pos)
                    pos += size
                    topics.add(name)
            except Exception:
                return None
        return topics
