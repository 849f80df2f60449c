"""The group coordinator: JoinGroup/SyncGroup/Heartbeat/LeaveGroup and committed offsets for classic groups.

Requests that must wait (a join until the rebalance completes, a follower's sync until the leader's) get
an asyncio future; every state change happens in these synchronous methods, on the broker's event loop.
Records for __consumer_offsets go through `persist(group_id, [(key, value)])`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from brook.errors import ErrorCode, KafkaError
from brook.protocol.coordinator_records import (
    GroupMetadataKey,
    GroupMetadataValue,
    MemberMetadata,
    OffsetCommitKey,
    OffsetCommitValue,
)

from .group import Group, GroupState, Member

Record = tuple[object, object | None]


@dataclass(slots=True)
class GroupConfig:
    min_session_timeout_ms: int = 6000
    max_session_timeout_ms: int = 1800000
    initial_rebalance_delay_ms: int = 3000
    max_size: int = 2**31 - 1
    offsets_retention_ms: int = 7 * 24 * 3600 * 1000


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


def _fenced(group: Group, member_id: str, instance_id: str | None) -> bool:
    """KIP-345: a static member whose instance id now belongs to another member id is fenced."""
    if instance_id is None:
        return False
    known = group.static_members.get(instance_id)
    return known is not None and known != member_id


class GroupCoordinator:
    def __init__(self, config: GroupConfig, persist: Callable[[str, list[Record]], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.persist = persist
        self.clock = clock
        self.groups: dict[str, Group] = {}
        # Offsets committed inside transactions: producer id -> group -> partition -> value, until the marker.
        self.pending_txn_offsets: dict[int, dict[str, dict[tuple[str, int], OffsetCommitValue]]] = {}
        # (group, producer id, producer epoch, records): appends them in a transactional batch, as Kafka does,
        # so a restart before the marker still has them (replayed as pending until the marker).
        self.persist_txn: Callable[[str, int, int, list[Record]], None] | None = None

    # -- helpers -------------------------------------------------------------------------------------------
    def _loop(self) -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def _join_result(self, group: Group, member: Member) -> JoinResult:
        members: tuple = ()
        if member.member_id == group.leader_id:
            members = tuple((m.member_id, m.group_instance_id, m.metadata_for(group.protocol_name))
                            for m in group.members.values())
        return JoinResult(ErrorCode.none, group.generation, group.protocol_type, group.protocol_name,
                          group.leader_id or "", member.member_id, members)

    def _store_group(self, group: Group) -> None:
        now_ms = int(time.time() * 1000)
        group.state_timestamp = now_ms
        value = GroupMetadataValue(
            group.protocol_type or "", group.generation, group.protocol_name, group.leader_id, now_ms,
            tuple(MemberMetadata(m.member_id, m.group_instance_id, m.client_id, m.client_host,
                                 m.rebalance_timeout_ms, m.session_timeout_ms,
                                 m.metadata_for(group.protocol_name), m.assignment)
                  for m in group.members.values()))
        try:
            self.persist(group.group_id, [(GroupMetadataKey(group.group_id), value)])
        except KafkaError:  # the log refused it (a full disk, logged there): membership lives on in memory,
            pass  # and the members rejoin after a restart as after a coordinator move

    # -- JoinGroup -----------------------------------------------------------------------------------------
    def join(self, group_id: str, member_id: str, instance_id: str | None, protocol_type: str,
             protocols: list[tuple[str, bytes]], session_timeout_ms: int, rebalance_timeout_ms: int,
             client_id: str, client_host: str, require_known_member: bool) -> JoinResult | asyncio.Future:
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
        now = self.clock()

        if not member_id:
            new_id = f"{client_id}-{uuid.uuid4()}"
            if instance_id is not None:
                return self._join_static(group, new_id, instance_id, protocol_type, protocols, session_timeout_ms,
                                         rebalance_timeout_ms, client_id, client_host)
            if len(group.members) + len(group.pending_members) >= cfg.max_size:
                return JoinResult(ErrorCode.group_max_size_reached, member_id="")
            if require_known_member:
                group.pending_members[new_id] = now + session_timeout_ms / 1000
                return JoinResult(ErrorCode.member_id_required, member_id=new_id)
            return self._add_member(group, new_id, None, protocol_type, protocols, session_timeout_ms,
                                    rebalance_timeout_ms, client_id, client_host)

        if member_id in group.pending_members:
            del group.pending_members[member_id]
            return self._add_member(group, member_id, instance_id, protocol_type, protocols, session_timeout_ms,
                                    rebalance_timeout_ms, client_id, client_host)
        if _fenced(group, member_id, instance_id):
            return JoinResult(ErrorCode.fenced_instance_id, member_id=member_id)
        member = group.members.get(member_id)
        if member is None:
            return JoinResult(ErrorCode.unknown_member_id, member_id=member_id)
        changed = member.protocols != protocols
        member.protocols = list(protocols)
        member.session_timeout_ms = session_timeout_ms
        member.rebalance_timeout_ms = rebalance_timeout_ms
        member.last_heartbeat = now
        fut = self._loop().create_future()
        if member.awaiting_join:
            member.join_future.set_result(JoinResult(ErrorCode.unknown_member_id, member_id=member_id))
        member.join_future = fut
        if group.is_(GroupState.PREPARING_REBALANCE):
            self._maybe_complete_join(group)
        elif not changed and (group.is_(GroupState.COMPLETING_REBALANCE) or
                              (group.is_(GroupState.STABLE) and member_id != group.leader_id)):
            # nothing changed: no rebalance (Kafka); a leader repeating its join while the group awaits its
            # SyncGroup gets the members again, only a Stable group's leader forces a rebalance
            fut.set_result(self._join_result(group, member))
        else:
            self._prepare_rebalance(group, f"Updating metadata for member {member_id}")
        return fut

    def _join_static(self, group: Group, new_id: str, instance_id: str, protocol_type: str,
                     protocols: list[tuple[str, bytes]], session_timeout_ms: int, rebalance_timeout_ms: int,
                     client_id: str, client_host: str) -> JoinResult | asyncio.Future:
        old_id = group.static_members.get(instance_id)
        old = group.members.get(old_id) if old_id else None
        if old is None:
            return self._add_member(group, new_id, instance_id, protocol_type, protocols, session_timeout_ms,
                                    rebalance_timeout_ms, client_id, client_host)
        # KIP-345: a known static member restarted. Replace its id (fencing the old one), keep its assignment.
        del group.members[old.member_id]
        if old.awaiting_join:
            old.join_future.set_result(JoinResult(ErrorCode.fenced_instance_id, member_id=old.member_id))
        if old.awaiting_sync:
            old.sync_future.set_result((ErrorCode.fenced_instance_id, b""))
        member = Member(new_id, instance_id, client_id, client_host, rebalance_timeout_ms, session_timeout_ms,
                        list(protocols), old.assignment, last_heartbeat=self.clock())
        group.members[new_id] = member
        group.static_members[instance_id] = new_id
        if group.leader_id == old.member_id:
            group.leader_id = new_id
        fut = self._loop().create_future()
        member.join_future = fut
        if group.is_(GroupState.STABLE) and old.protocols == member.protocols:
            self._store_group(group)
            result = self._join_result(group, member)  # the leader's carries the members (KIP-814)
            if member.member_id == group.leader_id:
                result.skip_assignment = True  # it must not reassign: a Stable group keeps its assignment
                result.previous_leader = old.member_id
            fut.set_result(result)
        elif group.is_(GroupState.PREPARING_REBALANCE):
            self._maybe_complete_join(group)
        else:
            self._prepare_rebalance(group, f"static member {instance_id} rejoined with new metadata")
        return fut

    def _add_member(self, group: Group, member_id: str, instance_id: str | None, protocol_type: str,
                    protocols: list[tuple[str, bytes]], session_timeout_ms: int, rebalance_timeout_ms: int,
                    client_id: str, client_host: str) -> asyncio.Future:
        member = Member(member_id, instance_id, client_id, client_host, rebalance_timeout_ms, session_timeout_ms,
                        list(protocols), last_heartbeat=self.clock())
        if not group.members:
            group.protocol_type = protocol_type
        group.members[member_id] = member
        if instance_id is not None:
            group.static_members[instance_id] = member_id
        fut = member.join_future = self._loop().create_future()
        if group.is_(GroupState.PREPARING_REBALANCE):
            self._maybe_complete_join(group)
        else:
            self._prepare_rebalance(group, f"Adding new member {member_id}")
        return fut

    # -- rebalancing ---------------------------------------------------------------------------------------
    def _prepare_rebalance(self, group: Group, reason: str) -> None:
        if group.is_(GroupState.COMPLETING_REBALANCE):
            for m in group.members.values():
                if m.awaiting_sync:
                    m.sync_future.set_result((ErrorCode.rebalance_in_progress, b""))
        was_empty = group.is_(GroupState.EMPTY)
        group.state = GroupState.PREPARING_REBALANCE
        timeout = max((m.rebalance_timeout_ms for m in group.members.values()), default=0) / 1000
        delay = timeout
        if was_empty and self.config.initial_rebalance_delay_ms > 0:
            delay = min(self.config.initial_rebalance_delay_ms / 1000, timeout)
            group.initial_delay_until = self.clock() + delay
        else:
            group.initial_delay_until = 0.0
        self._schedule(group, delay)
        self._maybe_complete_join(group)

    def _schedule(self, group: Group, delay: float) -> None:
        if group.rebalance_timer is not None:
            group.rebalance_timer.cancel()
        group.rebalance_timer = self._loop().call_later(delay, self._rebalance_deadline, group)

    def _rebalance_deadline(self, group: Group) -> None:
        group.rebalance_timer = None
        if not group.is_(GroupState.PREPARING_REBALANCE):
            return
        if group.initial_delay_until:
            group.initial_delay_until = 0.0
            if not all(m.awaiting_join for m in group.members.values()):
                timeout = max((m.rebalance_timeout_ms for m in group.members.values()), default=0) / 1000
                self._schedule(group, timeout)
                return
        self._complete_join(group)

    def _maybe_complete_join(self, group: Group) -> None:
        if not group.is_(GroupState.PREPARING_REBALANCE) or group.initial_delay_until:
            return
        if all(m.awaiting_join for m in group.members.values()) and not group.pending_members:
            self._complete_join(group)

    def _complete_join(self, group: Group) -> None:
        if group.rebalance_timer is not None:
            group.rebalance_timer.cancel()
            group.rebalance_timer = None
        for m in [m for m in group.members.values() if not m.awaiting_join and m.group_instance_id is None]:
            self._remove(group, m)  # did not rejoin in time; static members stay until their session expires
        joined = [m.member_id for m in group.members.values() if m.awaiting_join]
        if group.members and not joined:  # only static members, none rejoined: wait again (Kafka)
            self._schedule(group, max(m.rebalance_timeout_ms for m in group.members.values()) / 1000)
            return
        if group.leader_id not in joined:
            group.leader_id = joined[0] if joined else None  # the leader must be a member that rejoined
        group.pending_members.clear()
        group.generation += 1
        if not group.members:
            group.state = GroupState.EMPTY
            group.protocol_name = None
            group.leader_id = None
            self._store_group(group)
            return
        group.protocol_name = group.select_protocol()
        if group.leader_id not in group.members:
            group.leader_id = next(iter(group.members))
        group.state = GroupState.COMPLETING_REBALANCE
        now = self.clock()
        for m in group.members.values():
            m.last_heartbeat = now
            m.assignment = b""
            fut, m.join_future = m.join_future, None
            if fut is not None and not fut.done():
                fut.set_result(self._join_result(group, m))

    def _remove(self, group: Group, member: Member) -> None:
        group.members.pop(member.member_id, None)
        if member.group_instance_id is not None and \
                group.static_members.get(member.group_instance_id) == member.member_id:
            del group.static_members[member.group_instance_id]
        if member.awaiting_join:
            member.join_future.set_result(JoinResult(ErrorCode.unknown_member_id, member_id=member.member_id))
        if member.awaiting_sync:
            member.sync_future.set_result((ErrorCode.unknown_member_id, b""))
        if group.leader_id == member.member_id:
            group.leader_id = next(iter(group.members), None)

    def _member_gone(self, group: Group, member: Member, reason: str) -> None:
        self._remove(group, member)
        if group.is_(GroupState.STABLE, GroupState.COMPLETING_REBALANCE):
            self._prepare_rebalance(group, reason)
        elif group.is_(GroupState.PREPARING_REBALANCE):
            if not group.members:
                self._complete_join(group)
            else:
                self._maybe_complete_join(group)

    # -- SyncGroup -----------------------------------------------------------------------------------------
    def sync(self, group_id: str, generation: int, member_id: str, instance_id: str | None,
             protocol_type: str | None, protocol_name: str | None,
             assignments: dict[str, bytes]) -> tuple[ErrorCode, bytes] | asyncio.Future:
        group = self.groups.get(group_id)
        if group is not None and _fenced(group, member_id, instance_id):
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
        if group.is_(GroupState.STABLE):
            member.last_heartbeat = self.clock()
            return ErrorCode.none, member.assignment
        if not group.is_(GroupState.COMPLETING_REBALANCE):
            return ErrorCode.unknown_member_id, b""
        fut = self._loop().create_future()
        member.sync_future = fut
        member.last_heartbeat = self.clock()
        if member_id == group.leader_id:
            for m in group.members.values():
                m.assignment = assignments.get(m.member_id, b"")
            group.state = GroupState.STABLE
            self._store_group(group)
            for m in group.members.values():
                if m.awaiting_sync:
                    m.sync_future.set_result((ErrorCode.none, m.assignment))
        return fut

    # -- Heartbeat and LeaveGroup --------------------------------------------------------------------------
    def heartbeat(self, group_id: str, generation: int, member_id: str, instance_id: str | None) -> ErrorCode:
        group = self.groups.get(group_id)
        if group is not None and _fenced(group, member_id, instance_id):
            return ErrorCode.fenced_instance_id
        if group is None or member_id not in group.members:
            return ErrorCode.unknown_member_id
        if group.is_(GroupState.EMPTY, GroupState.DEAD):
            return ErrorCode.unknown_member_id
        group.members[member_id].last_heartbeat = self.clock()
        if generation != group.generation:
            return ErrorCode.illegal_generation
        if group.is_(GroupState.PREPARING_REBALANCE):
            return ErrorCode.rebalance_in_progress
        return ErrorCode.none

    def leave(self, group_id: str, members: list[tuple[str, str | None]]) -> tuple[ErrorCode, list[ErrorCode]]:
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
                del group.pending_members[member_id]
                self._maybe_complete_join(group)
                errors.append(ErrorCode.none)
                continue
            member = group.members.get(member_id)
            if member is None:
                errors.append(ErrorCode.unknown_member_id)
                continue
            self._member_gone(group, member, f"removing member {member_id} on LeaveGroup")
            errors.append(ErrorCode.none)
        return ErrorCode.none, errors

    def expire_sessions(self) -> float:
        """Called periodically: members whose session timed out leave; unclaimed pending ids are dropped.
        Returns the seconds until the next deadline (inf without one), so the caller can wake up right then, as
        Kafka's heartbeat purgatory expires a member at its deadline to the millisecond."""
        now = self.clock()
        return min((self._expire(group, now) for group in list(self.groups.values())), default=float("inf")) - now

    def expire_group(self, group_id: str) -> None:
        """Expire what is due in one group before a request looks at it (DeleteGroups, DescribeGroups), so the
        answer does not depend on when the periodic check last ran."""
        group = self.groups.get(group_id)
        if group is not None:
            self._expire(group, self.clock())

    def _expire(self, group: Group, now: float) -> float:
        """Expire the group's due members and pending ids; return its next deadline."""
        next_deadline = float("inf")
        for pid, deadline in list(group.pending_members.items()):
            if now > deadline:
                del group.pending_members[pid]
                self._maybe_complete_join(group)
            else:
                next_deadline = min(next_deadline, deadline)
        for m in list(group.members.values()):
            if m.awaiting_join or m.awaiting_sync:
                continue
            deadline = m.last_heartbeat + m.session_timeout_ms / 1000
            if now >= deadline:
                self._member_gone(group, m, f"removing member {m.member_id} on heartbeat expiration")
            else:
                next_deadline = min(next_deadline, deadline)
        return next_deadline

    # -- offsets -------------------------------------------------------------------------------------------
    def commit_offsets(self, group_id: str, generation: int, member_id: str, instance_id: str | None,
                       offsets: dict[tuple[str, int], tuple[int, int, str]]) -> ErrorCode:
        group = self.groups.get(group_id)
        if group is None and generation >= 0:
            return ErrorCode.group_id_not_found  # Kafka: ILLEGAL_GENERATION before v9 (the handler maps it)
        if generation < 0 and not member_id:
            if group is not None and not group.is_(GroupState.EMPTY):
                return ErrorCode.unknown_member_id if group.members else ErrorCode.none
            if group is None:
                group = self.groups[group_id] = Group(group_id)
        else:
            if group is not None and _fenced(group, member_id, instance_id):
                return ErrorCode.fenced_instance_id
            if group is None or member_id not in group.members:
                return ErrorCode.unknown_member_id
            if generation != group.generation:
                return ErrorCode.illegal_generation
            if group.is_(GroupState.COMPLETING_REBALANCE):
                return ErrorCode.rebalance_in_progress
            group.members[member_id].last_heartbeat = self.clock()
        now_ms = int(time.time() * 1000)
        values = {tp: OffsetCommitValue(offset, epoch, metadata or "", now_ms)
                  for tp, (offset, epoch, metadata) in offsets.items()}
        if values:
            try:  # committed once in the log, as Kafka's storeOffsets: a refused append commits nothing
                self.persist(group_id, [(OffsetCommitKey(group_id, t, p), v) for (t, p), v in values.items()])
            except KafkaError as e:
                return e.code
        group.offsets.update(values)
        return ErrorCode.none

    def txn_commit_offsets(self, group_id: str, producer_id: int, generation: int, member_id: str,
                           instance_id: str | None, offsets: dict[tuple[str, int], tuple[int, int, str]],
                           producer_epoch: int = -1) -> ErrorCode:
        """TxnOffsetCommit: validate like OffsetCommit, hold the offsets until the transaction ends."""
        group = self.groups.get(group_id)
        if generation >= 0 or member_id:
            if group is not None and _fenced(group, member_id, instance_id):
                return ErrorCode.fenced_instance_id
            if group is None or member_id not in group.members:
                return ErrorCode.unknown_member_id
            if generation != group.generation:
                return ErrorCode.illegal_generation
        now_ms = int(time.time() * 1000)
        values = {tp: OffsetCommitValue(offset, epoch, metadata or "", now_ms)
                  for tp, (offset, epoch, metadata) in offsets.items()}
        if self.persist_txn is not None and values:
            try:
                self.persist_txn(group_id, producer_id, producer_epoch,
                                 [(OffsetCommitKey(group_id, t, p), v) for (t, p), v in values.items()])
            except KafkaError as e:
                return e.code
        self.pending_txn_offsets.setdefault(producer_id, {}).setdefault(group_id, {}).update(values)
        return ErrorCode.none

    def complete_txn(self, producer_id: int, commit: bool) -> None:
        """The transaction marker reached __consumer_offsets: its offsets become committed, or vanish."""
        for group_id, offsets in self.pending_txn_offsets.pop(producer_id, {}).items():
            if not commit or not offsets:
                continue
            group = self.groups.setdefault(group_id, Group(group_id))
            group.offsets.update(offsets)
            try:
                self.persist(group_id, [(OffsetCommitKey(group_id, t, p), v) for (t, p), v in offsets.items()])
            except KafkaError:  # the marker already in the log commits them on replay too
                pass

    def has_pending_txn_offsets(self, group_id: str, partitions: list[tuple[str, int]] | None) -> bool:
        for groups in self.pending_txn_offsets.values():
            pending = groups.get(group_id)
            if pending and (partitions is None or any(tp in pending for tp in partitions)):
                return True
        return False

    def fetch_offsets(self, group_id: str, partitions: list[tuple[str, int]] | None
                      ) -> dict[tuple[str, int], OffsetCommitValue | None]:
        group = self.groups.get(group_id)
        stored = group.offsets if group else {}
        if partitions is None:
            return dict(stored)
        return {tp: stored.get(tp) for tp in partitions}

    def delete_group(self, group_id: str) -> ErrorCode:
        self.expire_group(group_id)
        group = self.groups.get(group_id)
        if group is None or group.is_(GroupState.DEAD):
            return ErrorCode.group_id_not_found
        if not group.is_(GroupState.EMPTY):
            return ErrorCode.non_empty_group
        records: list[Record] = [(OffsetCommitKey(group_id, t, p), None) for t, p in group.offsets]
        records.append((GroupMetadataKey(group_id), None))
        try:
            self.persist(group_id, records)
        except KafkaError as e:
            return e.code
        group.state = GroupState.DEAD
        del self.groups[group_id]
        return ErrorCode.none

    def delete_offsets(self, group_id: str, partitions: list[tuple[str, int]]
                       ) -> tuple[ErrorCode, dict[tuple[str, int], ErrorCode]]:
        group = self.groups.get(group_id)
        if group is None:
            return ErrorCode.group_id_not_found, {}
        subscribed = group.subscribed_topics() if not group.is_(GroupState.EMPTY) else set()
        if subscribed is None and not group.is_(GroupState.EMPTY):
            return ErrorCode.non_empty_group, {}
        result: dict[tuple[str, int], ErrorCode] = {}
        deleted: list[tuple[str, int]] = []
        for tp in partitions:
            if subscribed and tp[0] in subscribed:
                result[tp] = ErrorCode.group_subscribed_to_topic
                continue
            result[tp] = ErrorCode.none
            if tp in group.offsets:
                deleted.append(tp)
        if deleted:
            try:
                self.persist(group_id, [(OffsetCommitKey(group_id, t, p), None) for t, p in deleted])
            except KafkaError as e:
                return e.code, {}
            for tp in deleted:
                del group.offsets[tp]
        return ErrorCode.none, result

    def expire_offsets(self, now_ms: int) -> None:
        """offsets.retention.minutes: an empty group's offsets expire once they are older than the retention."""
        for group in list(self.groups.values()):
            if not group.is_(GroupState.EMPTY):
                continue
            base = group.state_timestamp
            expired = [tp for tp, v in group.offsets.items()
                       if now_ms - max(v.commit_timestamp, base) >= self.config.offsets_retention_ms]
            if expired:
                try:
                    self.persist(group.group_id, [(OffsetCommitKey(group.group_id, t, p), None) for t, p in expired])
                except KafkaError:  # a full disk: they expire at a later check
                    continue
                for tp in expired:
                    del group.offsets[tp]

    # -- replay --------------------------------------------------------------------------------------------
    def replay(self, key: object, value: object | None) -> None:
        """Rebuild state from one __consumer_offsets record (loading after a restart)."""
        if isinstance(key, OffsetCommitKey):
            group = self.groups.setdefault(key.group, Group(key.group))
            if value is None:
                group.offsets.pop((key.topic, key.partition), None)
            else:
                group.offsets[(key.topic, key.partition)] = value  # type: ignore[assignment]
        elif isinstance(key, GroupMetadataKey):
            if value is None:
                self.groups.pop(key.group, None)
                return
            v: GroupMetadataValue = value  # type: ignore[assignment]
            group = self.groups.setdefault(key.group, Group(key.group))
            group.protocol_type = v.protocol_type or None
            group.generation = v.generation
            group.protocol_name = v.protocol
            group.leader_id = v.leader
            group.state_timestamp = v.current_state_timestamp
            group.members.clear()
            group.static_members.clear()
            now = self.clock()
            for m in v.members:
                group.members[m.member_id] = Member(
                    m.member_id, m.group_instance_id, m.client_id, m.client_host, m.rebalance_timeout,
                    m.session_timeout, [(v.protocol or "", m.subscription)], m.assignment, last_heartbeat=now)
                if m.group_instance_id is not None:
                    group.static_members[m.group_instance_id] = m.member_id
            group.state = GroupState.STABLE if group.members else GroupState.EMPTY
