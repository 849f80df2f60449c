"""One __consumer_offsets partition's group coordinator (Kafka's GroupCoordinatorShard): membership and offsets of
the groups that hash to it, one Output for the records and late answers of each operation, replay for loading.

Callers run an operation on `membership` or `offsets` (or the few here that need both) and then take
`out.result(answer)`: the answer, the batches to append, the answers of requests that waited.
"""

from __future__ import annotations

from functools import partial

from brook.errors import ErrorCode
from brook.protocol.coordinator_records import GroupMetadataKey, GroupMetadataValue, OffsetCommitKey, OffsetCommitValue

from ..output import Output, Record
from ..timer import Timer
from .config import GroupConfig
from .group import Group, GroupState
from .membership import GroupMetadataManager
from .offsets import OffsetMetadataManager


class GroupCoordinatorShard:
    def __init__(self, partition: int, config: GroupConfig, timer: Timer) -> None:
        self.partition = partition
        self.out = Output()
        self.membership = GroupMetadataManager(config, timer, self.out, partition)
        self.offsets = OffsetMetadataManager(self.membership, config, self.out)

    @property
    def groups(self) -> dict[str, Group]:
        return self.membership.groups

    def on_timer(self, key: tuple, now_ms: int) -> None:
        self.membership.on_timer(key, now_ms)

    def delete_group(self, group_id: str, now_ms: int) -> ErrorCode:
        """DeleteGroups: only an Empty group; tombstones for its offsets and its metadata, in one batch."""
        group = self.groups.get(group_id)
        if group is None or group.is_(GroupState.DEAD):
            return ErrorCode.group_id_not_found
        if not group.is_(GroupState.EMPTY):
            return ErrorCode.non_empty_group
        records: list[Record] = self.offsets.tombstones(group_id)
        records.append((GroupMetadataKey(group_id), None))
        self.out.write(records, apply=lambda: self._forget(group, now_ms), refused=lambda code: code)
        return ErrorCode.none

    def _forget(self, group: Group, now_ms: int) -> None:
        """The group is Dead and gone, its offsets too (its tombstones are in the log)."""
        group.transition_to(GroupState.DEAD, now_ms)
        del self.groups[group.group_id]
        self.offsets.offsets.pop(group.group_id, None)

    def cleanup(self, now_ms: int) -> None:
        """offsets.retention.check.interval.ms (cleanupGroupMetadata): expire old offsets; an Empty group left with
        no offsets (committed or pending in a transaction) is Dead and goes, with a tombstone."""
        for group_id, group in list(self.groups.items()):
            stored = self.offsets.offsets.get(group_id, {})
            expired = self.offsets.expire(group, now_ms)
            records: list[Record] = [(OffsetCommitKey(group_id, t, p), None) for t, p in expired]
            dead = group.is_(GroupState.EMPTY) and len(expired) == len(stored) and \
                not self.offsets.has_pending_txn_offsets(group_id)
            if dead:
                records.append((GroupMetadataKey(group_id), None))
            # a refused append leaves them for a later check
            self.out.write(records, apply=partial(self._expired, group, expired, dead, now_ms))

    def _expired(self, group: Group, expired: list[tuple[str, int]], dead: bool, now_ms: int) -> None:
        stored = self.offsets.offsets.get(group.group_id, {})
        for tp in expired:
            stored.pop(tp, None)
        if dead:
            self._forget(group, now_ms)

    def replay(self, key: object, value: object | None) -> None:
        """One record of this partition of __consumer_offsets (loading)."""
        if isinstance(key, OffsetCommitKey):
            assert value is None or isinstance(value, OffsetCommitValue)
            self.offsets.replay(key, value)
        elif isinstance(key, GroupMetadataKey):
            assert value is None or isinstance(value, GroupMetadataValue)
            if value is None:
                self.offsets.offsets.pop(key.group, None)
            self.membership.replay(key, value)

    def unload(self, now_ms: int) -> None:
        self.membership.unload(now_ms)
        self.offsets.offsets.clear()
        self.offsets.pending_txn.clear()
