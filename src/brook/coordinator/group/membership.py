"""Membership and rebalancing of classic groups (Kafka's GroupMetadataManager, classic protocol): JoinGroup,
SyncGroup, Heartbeat, LeaveGroup, and the deadlines that drive them.

Plain synchronous state: every call takes `now_ms`; records go to the shard's Output, and so do the answers of
JoinGroup / SyncGroup requests that waited (by the token the caller gave them). Deadlines go to the Timer
under the keys ("join", group), ("sync", group), ("heartbeat", group, member) and ("pending", group,
member); the caller calls `on_timer` when one is due.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from brook.errors import ErrorCode
from brook.protocol.coordinator_records import GroupMetadataKey, GroupMetadataValue, MemberMetadata

from ..output import Output
from ..timer import Timer
from .config import GroupConfig
from .group import Group, GroupState, Member

SyncResult = tuple[ErrorCode, bytes]


@dataclass(slots=True)
class JoinResult:
    error: ErrorCode
    generation: int = -1
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader: str = ""
    member_id: str = ""
    members: tuple[tuple[str, str | None, bytes], ...] = ()
    skip_assignment: bool = False
    previous_leader: str = ""  # KIP-814: the leader id JoinGroup v0-v8 get when a static leader is replaced


def _new_member_id(client_id: str) -> str:
    return f"{client_id}-{uuid.uuid4()}"


def fenced(group: Group, member_id: str, instance_id: str | None) -> bool:
    """KIP-345: a static member whose instance id now belongs to another member id is fenced."""
    if instance_id is None:
        return False
    known = group.static_members.get(instance_id)
    return known is not None and known != member_id


class GroupMetadataManager:
    def __init__(self, config: GroupConfig, timer: Timer, out: Output, key_prefix: Hashable = (),
                 new_member_id: Callable[[str], str] = _new_member_id) -> None:
        self.config = config
        self.timer = timer
        self.out = out
        self.prefix = key_prefix  # the shard's part of every timer key (its partition)
        self.new_member_id = new_member_id
        self.groups: dict[str, Group] = {}

    # -- helpers -------------------------------------------------------------------------------------------
    def _key(self, kind: str, *parts: str) -> tuple:
        return (self.prefix, kind, *parts)

    def _join_result(self, group: Group, member: Member) -> JoinResult:
        members: tuple = ()
        if member.member_id == group.leader_id:
            members = tuple((m.member_id, m.group_instance_id, m.metadata_for(group.protocol_name))
                            for m in group.members.values())
        return JoinResult(ErrorCode.none, group.generation, group.protocol_type, group.protocol_name,
                          group.leader_id or "", member.member_id, members)

    def store_group(self, group: Group) -> None:
        value = GroupMetadataValue(
            group.protocol_type or "", group.generation, group.protocol_name, group.leader_id, group.state_timestamp,
            tuple(MemberMetadata(m.member_id, m.group_instance_id, m.client_id, m.client_host,
                                 m.rebalance_timeout_ms, m.session_timeout_ms,
                                 m.metadata_for(group.protocol_name), m.assignment)
                  for m in group.members.values()))
        self.out.write([(GroupMetadataKey(group.group_id), value)])

    def _heartbeat(self, group: Group, member: Member, now_ms: int) -> None:
        """completeAndScheduleNextHeartbeatExpiration: the session runs from now."""
        member.last_heartbeat_ms = now_ms
        self.timer.schedule(self._key("heartbeat", group.group_id, member.member_id),
                            now_ms + member.session_timeout_ms)

    def _finish_join(self, group: Group, member: Member, response: JoinResult, now_ms: int) -> None:
        token, member.join_token = member.join_token, None
        if token is not None:
            self.out.complete(token, response)
        self._heartbeat(group, member, now_ms)

    def _finish_sync(self, group: Group, member: Member, response: SyncResult, now_ms: int) -> None:
        token, member.sync_token = member.sync_token, None
        if token is not None:
            self.out.complete(token, response)
        self._heartbeat(group, member, now_ms)

    def _fail_waiting(self, member: Member, error: ErrorCode) -> None:
        """Answer the member's waiting JoinGroup / SyncGroup with an error."""
        if member.join_token is not None:
            self.out.complete(member.join_token, JoinResult(error, member_id=member.member_id))
            member.join_token = None
        if member.sync_token is not None:
            self.out.complete(member.sync_token, (error, b""))
            member.sync_token = None

    def get_or_create(self, group_id: str) -> Group:
        group = self.groups.get(group_id)
        if group is None:
            group = self.groups[group_id] = Group(group_id)
        return group

    # -- JoinGroup -----------------------------------------------------------------------------------------
    def join(self, token: int, group_id: str, member_id: str, instance_id: str | None, protocol_type: str,
             protocols: list[tuple[str, bytes]], session_timeout_ms: int, rebalance_timeout_ms: int,
             client_id: str, client_host: str, require_known_member: bool, now_ms: int) -> JoinResult | None:
        """The answer, or None when it comes later (an Output completion under `token`)."""
        cfg = self.config
        if not cfg.min_session_timeout_ms <= session_timeout_ms <= cfg.max_session_timeout_ms:
            return JoinResult(ErrorCode.invalid_session_timeout, member_id=member_id)
        group = self.groups.get(group_id)
        if group is None:
            if member_id:
                return JoinResult(ErrorCode.unknown_member_id, member_id=member_id)
            group = self.groups[group_id] = Group(group_id)
        if group.state is GroupState.DEAD:
            return JoinResult(ErrorCode.coordinator_not_available, member_id=member_id)
        if not group.supports(protocol_type, protocols):
            return JoinResult(ErrorCode.inconsistent_group_protocol, member_id=member_id)
        if rebalance_timeout_ms < 0:
            rebalance_timeout_ms = session_timeout_ms
        args = (protocol_type, protocols, session_timeout_ms, rebalance_timeout_ms, client_id, client_host)

        if not member_id:
            new_id = self.new_member_id(client_id)
            if instance_id is not None:
                return self._join_static(token, group, new_id, instance_id, *args, now_ms=now_ms)
            if len(group.members) + len(group.pending_members) >= cfg.max_size:
                return JoinResult(ErrorCode.group_max_size_reached, member_id="")
            if require_known_member:  # KIP-394: the id comes back with MEMBER_ID_REQUIRED, the join follows
                group.pending_members.add(new_id)
                self.timer.schedule(self._key("pending", group_id, new_id), now_ms + session_timeout_ms)
                return JoinResult(ErrorCode.member_id_required, member_id=new_id)
            self._add_member(token, group, new_id, None, *args, now_ms=now_ms)
            return None

        if member_id in group.pending_members:
            group.pending_members.discard(member_id)
            self.timer.cancel(self._key("pending", group_id, member_id))
            self._add_member(token, group, member_id, instance_id, *args, now_ms=now_ms)
            return None
        if fenced(group, member_id, instance_id):
            return JoinResult(ErrorCode.fenced_instance_id, member_id=member_id)
        member = group.members.get(member_id)
        if member is None:
            return JoinResult(ErrorCode.unknown_member_id, member_id=member_id)
        changed = member.protocols != protocols
        member.protocols = list(protocols)
        member.session_timeout_ms = session_timeout_ms
        member.rebalance_timeout_ms = rebalance_timeout_ms
        member.last_heartbeat_ms = now_ms
        if member.join_token is not None:  # a newer join replaces the waiting one
            self.out.complete(member.join_token, JoinResult(ErrorCode.unknown_member_id, member_id=member_id))
        member.join_token = token
        if group.is_(GroupState.PREPARING_REBALANCE):
            self._maybe_complete_join(group, now_ms)
        elif not changed and (group.is_(GroupState.COMPLETING_REBALANCE) or
                              (group.is_(GroupState.STABLE) and member_id != group.leader_id)):
            # nothing changed: no rebalance (Kafka); a leader repeating its join while the group awaits its
            # SyncGroup gets the members again, only a Stable group's leader forces a rebalance
            member.join_token = None
            self._heartbeat(group, member, now_ms)
            return self._join_result(group, member)
        else:
            self.prepare_rebalance(group, f"Updating metadata for member {member_id}", now_ms)
        return None

    def _join_static(self, token: int, group: Group, new_id: str, instance_id: str, protocol_type: str,
                     protocols: list[tuple[str, bytes]], session_timeout_ms: int, rebalance_timeout_ms: int,
                     client_id: str, client_host: str, now_ms: int) -> JoinResult | None:
        old_id = group.static_members.get(instance_id)
        old = group.members.get(old_id) if old_id else None
        if old is None:
            self._add_member(token, group, new_id, instance_id, protocol_type, protocols, session_timeout_ms,
                             rebalance_timeout_ms, client_id, client_host, now_ms)
            return None
        # KIP-345: a known static member restarted. Replace its id (fencing the old one), keep its assignment.
        del group.members[old.member_id]
        self.timer.cancel(self._key("heartbeat", group.group_id, old.member_id))
        self._fail_waiting(old, ErrorCode.fenced_instance_id)
        member = Member(new_id, instance_id, client_id, client_host, rebalance_timeout_ms, session_timeout_ms,
                        list(protocols), old.assignment, join_token=token, last_heartbeat_ms=now_ms)
        group.members[new_id] = member
        group.static_members[instance_id] = new_id
        if old.member_id in group.pending_sync:
            group.pending_sync.discard(old.member_id)
            group.pending_sync.add(new_id)
        if group.leader_id == old.member_id:
            group.leader_id = new_id
        if group.is_(GroupState.STABLE) and old.protocols == member.protocols:
            self.store_group(group)
            result = self._join_result(group, member)  # the leader's carries the members (KIP-814)
            if member.member_id == group.leader_id:
                result.skip_assignment = True  # it must not reassign: a Stable group keeps its assignment
                result.previous_leader = old.member_id
            member.join_token = None
            self._heartbeat(group, member, now_ms)
            return result
        if group.is_(GroupState.PREPARING_REBALANCE):
            self._maybe_complete_join(group, now_ms)
        else:
            self.prepare_rebalance(group, f"static member {instance_id} rejoined with new metadata", now_ms)
        return None

    def _add_member(self, token: int, group: Group, member_id: str, instance_id: str | None, protocol_type: str,
                    protocols: list[tuple[str, bytes]], session_timeout_ms: int, rebalance_timeout_ms: int,
                    client_id: str, client_host: str, now_ms: int) -> None:
        member = Member(member_id, instance_id, client_id, client_host, rebalance_timeout_ms, session_timeout_ms,
                        list(protocols), join_token=token, last_heartbeat_ms=now_ms)
        if not group.members:
            group.protocol_type = protocol_type
        if group.is_(GroupState.PREPARING_REBALANCE) and group.generation == 0:
            group.new_member_added = True  # a new group's initial delay may be extended (InitialDelayedJoin)
        group.members[member_id] = member
        if instance_id is not None:
            group.static_members[instance_id] = member_id
        if group.is_(GroupState.PREPARING_REBALANCE):
            self._maybe_complete_join(group, now_ms)
        else:
            self.prepare_rebalance(group, f"Adding new member {member_id}", now_ms)
        return None

    # -- rebalancing ---------------------------------------------------------------------------------------
    def prepare_rebalance(self, group: Group, reason: str, now_ms: int) -> None:
        if group.is_(GroupState.COMPLETING_REBALANCE):  # resetAndPropagateAssignmentError
            for m in group.members.values():
                if m.awaiting_sync:
                    self._finish_sync(group, m, (ErrorCode.rebalance_in_progress, b""), now_ms)
        was_empty = group.is_(GroupState.EMPTY)
        group.transition_to(GroupState.PREPARING_REBALANCE, now_ms)
        group.pending_sync.clear()
        self.timer.cancel(self._key("sync", group.group_id))
        initial = self.config.initial_rebalance_delay_ms
        if was_empty and initial > 0:
            # InitialDelayedJoin: a new group waits the whole delay, however early its members are all in
            group.new_member_added = False
            group.initial_delay = (initial, max(group.rebalance_timeout_ms - initial, 0))
            self.timer.schedule(self._key("join", group.group_id), now_ms + initial)
            return
        group.initial_delay = None
        self.timer.schedule(self._key("join", group.group_id), now_ms + group.rebalance_timeout_ms)
        self._maybe_complete_join(group, now_ms)

    def _join_deadline(self, group: Group, now_ms: int) -> None:
        if not group.is_(GroupState.PREPARING_REBALANCE):
            return
        if group.initial_delay is not None:
            delay, remaining = group.initial_delay
            if group.new_member_added and remaining:  # members still arriving: wait once more, within the timeout
                group.new_member_added = False
                next_delay = min(self.config.initial_rebalance_delay_ms, remaining)
                group.initial_delay = (next_delay, max(remaining - delay, 0))
                self.timer.schedule(self._key("join", group.group_id), now_ms + next_delay)
                return
        self.complete_join(group, now_ms)

    def _sync_deadline(self, group: Group, now_ms: int) -> None:
        """onExpirePendingSync: members that joined but never synced leave, and the group rebalances."""
        if not group.is_(GroupState.COMPLETING_REBALANCE, GroupState.STABLE) or not group.pending_sync:
            return
        for member_id in sorted(group.pending_sync):
            member = group.members.get(member_id)
            if member is not None:
                self._remove(group, member, now_ms)
        group.pending_sync.clear()
        self.prepare_rebalance(group, "Removing members on pending sync request expiration", now_ms)

    def _maybe_complete_join(self, group: Group, now_ms: int) -> None:
        if not group.is_(GroupState.PREPARING_REBALANCE) or group.initial_delay is not None:
            return
        if group.all_joined():
            self.complete_join(group, now_ms)

    def complete_join(self, group: Group, now_ms: int) -> None:
        group.initial_delay = None
        self.timer.cancel(self._key("join", group.group_id))
        for m in [m for m in group.members.values() if not m.awaiting_join and m.group_instance_id is None]:
            self._remove(group, m, now_ms)  # did not rejoin in time; static members stay until their session expires
        joined = [m.member_id for m in group.members.values() if m.awaiting_join]
        if group.members and not joined:  # only static members, none rejoined: wait again (Kafka)
            self.timer.schedule(self._key("join", group.group_id), now_ms + group.rebalance_timeout_ms)
            return
        if group.leader_id not in joined:
            group.leader_id = joined[0] if joined else None  # the leader must be a member that rejoined
        for pending in group.pending_members:
            self.timer.cancel(self._key("pending", group.group_id, pending))
        group.pending_members.clear()
        group.generation += 1
        if not group.members:
            group.transition_to(GroupState.EMPTY, now_ms)
            group.protocol_name = None
            group.leader_id = None
            self.store_group(group)
            return
        group.protocol_name = group.select_protocol()
        if group.leader_id not in group.members:
            group.leader_id = next(iter(group.members))
        group.transition_to(GroupState.COMPLETING_REBALANCE, now_ms)
        # Kafka 3.x (KAFKA-13419): members that send no SyncGroup within the rebalance timeout are removed
        group.pending_sync = set(group.members)
        self.timer.schedule(self._key("sync", group.group_id), now_ms + group.rebalance_timeout_ms)
        for m in group.members.values():
            m.assignment = b""
            if m.awaiting_join:
                self._finish_join(group, m, self._join_result(group, m), now_ms)
            else:
                self._heartbeat(group, m, now_ms)

    def _remove(self, group: Group, member: Member, now_ms: int) -> None:
        group.members.pop(member.member_id, None)
        group.pending_sync.discard(member.member_id)
        self.timer.cancel(self._key("heartbeat", group.group_id, member.member_id))
        if member.group_instance_id is not None and \
                group.static_members.get(member.group_instance_id) == member.member_id:
            del group.static_members[member.group_instance_id]
        self._fail_waiting(member, ErrorCode.unknown_member_id)
        if group.leader_id == member.member_id:
            group.leader_id = next(iter(group.members), None)

    def _member_gone(self, group: Group, member: Member, reason: str, now_ms: int) -> None:
        self._remove(group, member, now_ms)
        if group.is_(GroupState.STABLE, GroupState.COMPLETING_REBALANCE):
            self.prepare_rebalance(group, reason, now_ms)
        elif group.is_(GroupState.PREPARING_REBALANCE):
            if not group.members:
                self.complete_join(group, now_ms)
            else:
                self._maybe_complete_join(group, now_ms)

    # -- SyncGroup -----------------------------------------------------------------------------------------
    def sync(self, token: int, group_id: str, generation: int, member_id: str, instance_id: str | None,
             protocol_type: str | None, protocol_name: str | None, assignments: dict[str, bytes],
             now_ms: int) -> SyncResult | None:
        group = self.groups.get(group_id)
        if group is not None and fenced(group, member_id, instance_id):
            return ErrorCode.fenced_instance_id, b""
        if group is None or member_id not in group.members:
            return ErrorCode.unknown_member_id, b""
        if generation != group.generation:
            return ErrorCode.illegal_generation, b""
        if (protocol_type is not None and protocol_type != group.protocol_type) or \
                (protocol_name is not None and protocol_name != group.protocol_name):
            return ErrorCode.inconsistent_group_protocol, b""
        member = group.members[member_id]
        if group.is_(GroupState.PREPARING_REBALANCE):
            return ErrorCode.rebalance_in_progress, b""
        group.pending_sync.discard(member_id)
        if group.is_(GroupState.STABLE):
            self._heartbeat(group, member, now_ms)
            return ErrorCode.none, member.assignment
        if not group.is_(GroupState.COMPLETING_REBALANCE):
            return ErrorCode.unknown_member_id, b""
        member.sync_token = token
        self._heartbeat(group, member, now_ms)
        if member_id == group.leader_id:
            for m in group.members.values():
                m.assignment = assignments.get(m.member_id, b"")
            group.transition_to(GroupState.STABLE, now_ms)
            self.store_group(group)
            for m in group.members.values():
                if m.awaiting_sync:
                    self._finish_sync(group, m, (ErrorCode.none, m.assignment), now_ms)
        return None

    # -- Heartbeat and LeaveGroup --------------------------------------------------------------------------
    def heartbeat(self, group_id: str, generation: int, member_id: str, instance_id: str | None,
                  now_ms: int) -> ErrorCode:
        group = self.groups.get(group_id)
        if group is not None and fenced(group, member_id, instance_id):
            return ErrorCode.fenced_instance_id
        if group is None or member_id not in group.members:
            return ErrorCode.unknown_member_id
        if group.is_(GroupState.EMPTY, GroupState.DEAD):
            return ErrorCode.unknown_member_id
        self._heartbeat(group, group.members[member_id], now_ms)
        if generation != group.generation:
            return ErrorCode.illegal_generation
        if group.is_(GroupState.PREPARING_REBALANCE):
            return ErrorCode.rebalance_in_progress
        return ErrorCode.none

    def leave(self, group_id: str, members: list[tuple[str, str | None]],
              now_ms: int) -> tuple[ErrorCode, list[ErrorCode]]:
        group = self.groups.get(group_id)
        if group is None:
            return ErrorCode.unknown_member_id, [ErrorCode.unknown_member_id] * len(members)
        errors = []
        for member_id, instance_id in members:
            if instance_id is not None:
                known = group.static_members.get(instance_id)
                if known is None:
                    errors.append(ErrorCode.unknown_member_id)
                    continue
                if member_id and member_id != known:
                    errors.append(ErrorCode.fenced_instance_id)
                    continue
                member_id = known
            if member_id in group.pending_members:
                group.pending_members.discard(member_id)
                self.timer.cancel(self._key("pending", group_id, member_id))
                self._maybe_complete_join(group, now_ms)
                errors.append(ErrorCode.none)
                continue
            member = group.members.get(member_id)
            if member is None:
                errors.append(ErrorCode.unknown_member_id)
                continue
            self._member_gone(group, member, f"removing member {member_id} on LeaveGroup", now_ms)
            errors.append(ErrorCode.none)
        return ErrorCode.none, errors

    def touch(self, group: Group, member_id: str, now_ms: int) -> None:
        """An OffsetCommit from a member counts as a heartbeat (Kafka)."""
        self._heartbeat(group, group.members[member_id], now_ms)

    # -- deadlines -----------------------------------------------------------------------------------------
    def on_timer(self, key: tuple, now_ms: int) -> None:
        kind, group_id = key[1], key[2]
        group = self.groups.get(group_id)
        if group is None:
            return
        if kind == "join":
            self._join_deadline(group, now_ms)
        elif kind == "sync":
            self._sync_deadline(group, now_ms)
        elif kind == "heartbeat":
            member = group.members.get(key[3])
            # a member whose join or sync waits is kept alive; its session restarts when that completes
            if member is not None and not member.awaiting_join and not member.awaiting_sync:
                self._member_gone(group, member, f"removing member {member.member_id} on heartbeat expiration",
                                  now_ms)
        elif kind == "pending" and key[3] in group.pending_members:
            group.pending_members.discard(key[3])
            self._maybe_complete_join(group, now_ms)

    # -- loading and unloading -----------------------------------------------------------------------------
    def replay(self, key: GroupMetadataKey, value: GroupMetadataValue | None) -> None:
        """Rebuild a group from its record (GroupMetadata.loadGroup): Stable with members, else Empty."""
        if value is None:
            self.groups.pop(key.group, None)
            return
        group = self.get_or_create(key.group)
        group.protocol_type = value.protocol_type or None
        group.generation = value.generation
        group.protocol_name = value.protocol
        group.leader_id = value.leader
        group.state_timestamp = value.current_state_timestamp
        group.members.clear()
        group.static_members.clear()
        for m in value.members:
            group.members[m.member_id] = Member(
                m.member_id, m.group_instance_id, m.client_id, m.client_host, m.rebalance_timeout,
                m.session_timeout, [(value.protocol or "", m.subscription)], m.assignment)
            if m.group_instance_id is not None:
                group.static_members[m.group_instance_id] = m.member_id
        group.state = GroupState.STABLE if group.members else GroupState.EMPTY

    def loaded(self, now_ms: int) -> None:
        """After replay: every loaded member's session starts now (Kafka schedules them on load)."""
        for group in self.groups.values():
            for m in group.members.values():
                self._heartbeat(group, m, now_ms)

    def unload(self, now_ms: int) -> None:
        """The partition's groups go (onGroupUnloaded): Dead, and whoever waits is told NOT_COORDINATOR."""
        for group in self.groups.values():
            for m in group.members.values():
                self._fail_waiting(m, ErrorCode.not_coordinator)
            group.transition_to(GroupState.DEAD, now_ms)
        self.groups.clear()
        self.timer.cancel_where(lambda k: isinstance(k, tuple) and k[0] == self.prefix)
