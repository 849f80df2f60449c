"""A classic group's members and state, with Kafka's state names and allowed transitions (GroupMetadata)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from brook.protocol.consumer_protocol import PROTOCOL_TYPE, subscribed_topics


class GroupState(enum.Enum):
    EMPTY = "Empty"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    STABLE = "Stable"
    DEAD = "Dead"


# GroupMetadata's validPreviousStates: the states each state may be entered from.
VALID_PREVIOUS_STATES: dict[GroupState, frozenset[GroupState]] = {
    GroupState.EMPTY: frozenset({GroupState.PREPARING_REBALANCE}),
    GroupState.PREPARING_REBALANCE: frozenset({GroupState.STABLE, GroupState.COMPLETING_REBALANCE, GroupState.EMPTY}),
    GroupState.COMPLETING_REBALANCE: frozenset({GroupState.PREPARING_REBALANCE}),
    GroupState.STABLE: frozenset({GroupState.COMPLETING_REBALANCE}),
    GroupState.DEAD: frozenset(GroupState),
}


class IllegalGroupTransition(Exception):
    """GroupMetadata.assertValidTransition's IllegalStateException: a bug, never a client's error."""


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
    # The driver's handle of a JoinGroup / SyncGroup request that waits for the rebalance (None: none waits).
    join_token: int | None = None
    sync_token: int | None = None
    last_heartbeat_ms: int = 0

    def metadata_for(self, protocol: str | None) -> bytes:
        for name, metadata in self.protocols:
            if name == protocol:
                return metadata
        return b""

    @property
    def awaiting_join(self) -> bool:
        return self.join_token is not None

    @property
    def awaiting_sync(self) -> bool:
        return self.sync_token is not None


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
    pending_members: set[str] = field(default_factory=set)  # KIP-394: ids given out, not joined yet
    pending_sync: set[str] = field(default_factory=set)  # joined this generation, no SyncGroup seen yet
    state_timestamp: int = -1
    # group.initial.rebalance.delay.ms (InitialDelayedJoin): (the current delay, the rebalance time left after it)
    # while a new group's first rebalance waits for members; whether a member joined during the delay.
    initial_delay: tuple[int, int] | None = None
    new_member_added: bool = False

    def is_(self, *states: GroupState) -> bool:
        return self.state in states

    def transition_to(self, state: GroupState, now_ms: int) -> None:
        if self.state not in VALID_PREVIOUS_STATES[state]:
            raise IllegalGroupTransition(f"Group {self.group_id} should be in one of "
                                         f"{sorted(s.value for s in VALID_PREVIOUS_STATES[state])} before moving to "
                                         f"{state.value} state. Instead it is in {self.state.value} state")
        self.state = state
        self.state_timestamp = now_ms

    @property
    def rebalance_timeout_ms(self) -> int:
        return max((m.rebalance_timeout_ms for m in self.members.values()), default=0)

    def all_joined(self) -> bool:
        """GroupMetadata.hasAllMembersJoined: every member's join waits and no given-out id is still to come."""
        return all(m.awaiting_join for m in self.members.values()) and not self.pending_members

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
        """Topics from the consumer protocol's subscriptions (None if not a consumer group or unreadable)."""
        if self.protocol_type != PROTOCOL_TYPE or self.protocol_name is None:
            return None
        topics: set[str] = set()
        for m in self.members.values():
            try:
                topics.update(subscribed_topics(m.metadata_for(self.protocol_name)))
            except Exception:
                return None
        return topics
