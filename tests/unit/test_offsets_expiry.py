"""offsets.retention.minutes: an empty group's committed offsets expire (with tombstones written); a group
with members keeps them."""

from __future__ import annotations

import time

from brook.coordinator.group.coordinator import GroupConfig, GroupCoordinator
from brook.errors import ErrorCode
from brook.protocol.coordinator_records import OffsetCommitKey


def test_empty_groups_offsets_expire_after_retention():
    written: list[tuple[str, list]] = []
    coordinator = GroupCoordinator(GroupConfig(offsets_retention_ms=60_000), lambda g, r: written.append((g, r)))
    assert coordinator.commit_offsets("g", -1, "", None, {("t", 0): (5, -1, "m")}) == ErrorCode.none
    now = int(time.time() * 1000)
    coordinator.expire_offsets(now + 30_000)
    assert coordinator.fetch_offsets("g", [("t", 0)])[("t", 0)].offset == 5  # not yet
    coordinator.expire_offsets(now + 120_000)
    assert coordinator.fetch_offsets("g", [("t", 0)])[("t", 0)] is None
    assert written[-1] == ("g", [(OffsetCommitKey("g", "t", 0), None)])  # a tombstone in __consumer_offsets
