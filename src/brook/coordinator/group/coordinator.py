"""One __consumer_offsets partition's group coordinator (Kafka's GroupCoordinatorShard): membership and offsets of
the groups that hash to it, one Output for the records and late answers of each operation, replay for loading.

Callers run an operation on `membership` or `offsets` (or the few here that need both) and then take
`out.result(answer)`: the answer, the batches to append, the answers of requests that waited.
"""

from __future__ import annotations

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
        self.out.write(records)
        group.transition_to(GroupState.DEAD, now_ms)
        del self.groups[group_id]
        return ErrorCode.none

    def cleanup(self, now_ms: int) -> None:
        """offsets.retention.check.interval.ms (cleanupGroupMetadata): expire old offsets; an Empty group left with
        no offsets (committed or pending in a transaction) is Dead and goes, with a tombstone."""
        for group_id, group in list(self.groups.items()):
            records = self.offsets.expire(group, now_ms)
            if group.is_(GroupState.EMPTY) and not self.offsets.offsets.get(group_id) and \
                    not self.offsets.has_pending_txn_offsets(group_id):
                group.transition_to(GroupState.DEAD, now_ms)
                del self.groups[group_id]
                self.offsets.offsets.pop(group_id, None)
                records.append((GroupMetadataKey(group_id), None))
            self.out.write(records)

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
