"""Committed offsets of groups (Kafka's OffsetMetadataManager): OffsetCommit, TxnOffsetCommit and its markers,
OffsetFetch (with require_stable), OffsetDelete, offsets.retention.minutes. The groups themselves (membership,
generation, state) are the GroupMetadataManager's; a commit is validated against them."""

from __future__ import annotations

from functools import partial

from brook.errors import ErrorCode
from brook.protocol.coordinator_records import OffsetCommitKey, OffsetCommitValue

from ..output import Output, Record
from .config import GroupConfig
from .group import Group, GroupState
from .membership import GroupMetadataManager, fenced

TopicPartition = tuple[str, int]
OffsetRequest = dict[TopicPartition, tuple[int, int, str | None]]  # (offset, leader epoch, metadata)


def _code(code: ErrorCode) -> ErrorCode:
    """The answer of a commit or delete whose records the log refused (NOT_COORDINATOR: the client retries)."""
    return code


class OffsetMetadataManager:
    def __init__(self, groups: GroupMetadataManager, config: GroupConfig, out: Output) -> None:
        self.membership = groups
        self.config = config
        self.out = out
        self.offsets: dict[str, dict[TopicPartition, OffsetCommitValue]] = {}
        # Offsets committed inside transactions: producer id -> group -> partition -> value, until the marker.
        self.pending_txn: dict[int, dict[str, dict[TopicPartition, OffsetCommitValue]]] = {}

    def _validate_member(self, group_id: str, generation: int, member_id: str,
                         instance_id: str | None) -> ErrorCode:
        group = self.membership.groups.get(group_id)
        if group is not None and fenced(group, member_id, instance_id):
            return ErrorCode.fenced_instance_id
        if group is None or member_id not in group.members:
            return ErrorCode.unknown_member_id
        if generation != group.generation:
            return ErrorCode.illegal_generation
        return ErrorCode.none

    # -- OffsetCommit --------------------------------------------------------------------------------------
    def commit(self, group_id: str, generation: int, member_id: str, instance_id: str | None,
               offsets: OffsetRequest, now_ms: int) -> ErrorCode:
        group = self.membership.groups.get(group_id)
        if group is None and generation >= 0:
            return ErrorCode.group_id_not_found  # Kafka: ILLEGAL_GENERATION before v9 (the handler maps it)
        if generation < 0 and not member_id:
            if group is not None and not group.is_(GroupState.EMPTY):
                return ErrorCode.unknown_member_id if group.members else ErrorCode.none
            if group is None:
                group = self.membership.get_or_create(group_id)  # a simple (admin / assign()) group: Empty
        else:
            error = self._validate_member(group_id, generation, member_id, instance_id)
            if error != ErrorCode.none:
                return error
            assert group is not None
            if group.is_(GroupState.COMPLETING_REBALANCE):
                return ErrorCode.rebalance_in_progress
            self.membership.touch(group, member_id, now_ms)
        values = {tp: OffsetCommitValue(offset, epoch, metadata or "", now_ms)
                  for tp, (offset, epoch, metadata) in offsets.items()}
        # committed once in the log, as Kafka's storeOffsets: a refused append commits nothing
        self.out.write([(OffsetCommitKey(group_id, t, p), v) for (t, p), v in values.items()],
                       apply=lambda: self.offsets.setdefault(group_id, {}).update(values), refused=_code)
        return ErrorCode.none

    # -- TxnOffsetCommit and the transaction's end ---------------------------------------------------------
    def txn_commit(self, group_id: str, producer_id: int, producer_epoch: int, generation: int, member_id: str,
                   instance_id: str | None, offsets: OffsetRequest, now_ms: int) -> ErrorCode:
        """Validate like OffsetCommit; the offsets go to the log in a transactional batch of the producer (Kafka's
        layout, so a restart before the marker still has them) and count once the COMMIT marker follows."""
        if generation >= 0 or member_id:
            error = self._validate_member(group_id, generation, member_id, instance_id)
            if error != ErrorCode.none:
                return error
        else:
            self.membership.get_or_create(group_id)  # an unknown group starts Empty (Kafka)
        values = {tp: OffsetCommitValue(offset, epoch, metadata or "", now_ms)
                  for tp, (offset, epoch, metadata) in offsets.items()}
        self.out.write([(OffsetCommitKey(group_id, t, p), v) for (t, p), v in values.items()], producer_id,
                       producer_epoch, refused=_code, apply=partial(self._hold, producer_id, group_id, values))
        return ErrorCode.none

    def _hold(self, producer_id: int, group_id: str, values: dict[TopicPartition, OffsetCommitValue]) -> None:
        self.pending_txn.setdefault(producer_id, {}).setdefault(group_id, {}).update(values)

    def complete_txn(self, producer_id: int, commit: bool) -> None:
        """The transaction marker reached this partition: its offsets become committed, or vanish."""
        for group_id, offsets in self.pending_txn.pop(producer_id, {}).items():
            if not commit or not offsets:
                continue
            self.membership.get_or_create(group_id)
            self.offsets.setdefault(group_id, {}).update(offsets)  # the marker in the log commits them on replay
            self.out.write([(OffsetCommitKey(group_id, t, p), v) for (t, p), v in offsets.items()])

    def has_pending_txn_offsets(self, group_id: str, tp: TopicPartition | None = None) -> bool:
        for groups in self.pending_txn.values():
            pending = groups.get(group_id)
            if pending and (tp is None or tp in pending):
                return True
        return False

    # -- OffsetFetch ---------------------------------------------------------------------------------------
    def fetch(self, group_id: str, partitions: list[TopicPartition] | None,
              require_stable: bool = False) -> dict[TopicPartition, OffsetCommitValue | ErrorCode | None]:
        """Each partition's committed offset, None without one, or UNSTABLE_OFFSET_COMMIT when require_stable and
        a transaction holds an offset for it (KIP-447)."""
        stored = self.offsets.get(group_id, {})
        wanted = list(stored) if partitions is None else partitions
        unstable = require_stable and self.has_pending_txn_offsets(group_id)
        return {tp: ErrorCode.unstable_offset_commit if unstable and self.has_pending_txn_offsets(group_id, tp)
                else stored.get(tp) for tp in wanted}

    # -- OffsetDelete, DeleteGroups, retention -------------------------------------------------------------
    def delete(self, group_id: str, partitions: list[TopicPartition]
               ) -> tuple[ErrorCode, dict[TopicPartition, ErrorCode]]:
        group = self.membership.groups.get(group_id)
        if group is None:
            return ErrorCode.group_id_not_found, {}
        subscribed = group.subscribed_topics() if not group.is_(GroupState.EMPTY) else set()
        if subscribed is None and not group.is_(GroupState.EMPTY):
            return ErrorCode.non_empty_group, {}
        stored = self.offsets.get(group_id, {})
        result: dict[TopicPartition, ErrorCode] = {}
        deleted: list[TopicPartition] = []
        for tp in partitions:
            if subscribed and tp[0] in subscribed:
                result[tp] = ErrorCode.group_subscribed_to_topic
                continue
            result[tp] = ErrorCode.none
            if tp in stored:
                deleted.append(tp)

        def apply() -> None:
            for tp in deleted:
                stored.pop(tp, None)

        self.out.write([(OffsetCommitKey(group_id, t, p), None) for t, p in deleted], apply=apply,
                       refused=lambda code: (code, {}))
        return ErrorCode.none, result

    def tombstones(self, group_id: str) -> list[Record]:
        """The records that delete the group's offsets from the log."""
        return [(OffsetCommitKey(group_id, t, p), None) for t, p in self.offsets.get(group_id, {})]

    def expire(self, group: Group, now_ms: int) -> list[TopicPartition]:
        """offsets.retention.minutes (GroupMetadata.removeExpiredOffsets): an Empty group's offsets once older than
        the retention (counted from when it became Empty, at the earliest); a Stable consumer group's offsets of
        topics it no longer subscribes to. Which ones; the caller deletes them once their tombstones are in."""
        stored = self.offsets.get(group.group_id)
        if not stored:
            return []
        retention = self.config.offsets_retention_ms
        if group.is_(GroupState.EMPTY):
            expired = [tp for tp, v in stored.items()
                       if now_ms - max(v.commit_timestamp, group.state_timestamp) >= retention]
        elif group.is_(GroupState.STABLE) and (subscribed := group.subscribed_topics()) is not None:
            expired = [tp for tp, v in stored.items()
                       if tp[0] not in subscribed and now_ms - v.commit_timestamp >= retention]
        else:
            return []
        return expired

    # -- loading -------------------------------------------------------------------------------------------
    def replay(self, key: OffsetCommitKey, value: OffsetCommitValue | None) -> None:
        self.membership.get_or_create(key.group)
        stored = self.offsets.setdefault(key.group, {})
        if value is None:
            stored.pop((key.topic, key.partition), None)
        else:
            stored[(key.topic, key.partition)] = value

    def replay_pending(self, producer_id: int, key: OffsetCommitKey, value: OffsetCommitValue) -> None:
        """An offset of a transaction with no marker yet in the log: pending again."""
        self.pending_txn.setdefault(producer_id, {}).setdefault(key.group, {})[(key.topic, key.partition)] = value
