"""Replication's pieces without processes, over real logs in temporary directories: a follower appends its
leader's batches as they are (offsets, epochs, bytes), truncates a divergent tail by leader epoch, and a leader
keeps its followers' positions, the high watermark over the ISR, and the ISR changes to propose."""

from __future__ import annotations

from pathlib import Path

from kafka_wire import record_batch

from brook.broker.partition import Partition
from brook.errors import ErrorCode
from brook.log.config import LogConfig
from brook.log.log import Log
from brook.protocol.records.batch import validate_produced

NOW = 1_700_000_000_000
LEADER, F1, F2 = 1, 2, 3


def _partition(path: Path, me: int, **config: object) -> Partition:
    return Partition("t", 0, Log(path, "t", 0, LogConfig(**config)), me)  # type: ignore[arg-type]


def _append(part: Partition, *values: bytes) -> None:
    batch = record_batch(list(values), timestamp_ms=NOW)
    part.append_records_to_leader(batch, validate_produced(batch, 1 << 20), NOW)


def _segment_bytes(part: Partition) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(part.log.directory.glob("*.log")))


def _copy(leader: Partition, follower: Partition, now_ms: int = NOW) -> None:
    """One follower fetch: the leader's batches from the follower's log end, appended as they are."""
    lg = leader.log
    data = lg.read(follower.log.log_end_offset, 1 << 20, lg.log_end_offset)
    follower.append_records_as_follower(data, lg.high_watermark, lg.log_start_offset, now_ms)


def test_a_follower_appends_its_leaders_batches_as_they_are(tmp_path: Path) -> None:
    leader, follower = _partition(tmp_path / "l" / "t-0", LEADER), _partition(tmp_path / "f" / "t-0", F1)
    leader.make_leader(3, (LEADER, F1), frozenset({LEADER}), 0, NOW)
    follower.make_follower(LEADER, 3, (LEADER, F1), frozenset({LEADER}), 0)
    _append(leader, b"a", b"b")
    _append(leader, b"c")
    _copy(leader, follower)
    assert _segment_bytes(follower) == _segment_bytes(leader)
    assert follower.log.log_end_offset == 3 and follower.log.leader_epochs.entries == [(3, 0)]
    assert follower.log.high_watermark == 3  # the leader's (alone in its ISR)
    _copy(leader, follower)  # nothing new: nothing changes
    assert _segment_bytes(follower) == _segment_bytes(leader)


def test_a_followers_segments_roll_by_segment_ms_too(tmp_path: Path) -> None:
    """LocalLog.maybeRoll applies to a follower's appends as to the leader's: a segment older than segment.ms
    rolls before the next batch."""
    leader = _partition(tmp_path / "l" / "t-0", LEADER)
    follower = _partition(tmp_path / "f" / "t-0", F1, segment_ms=60_000)
    leader.make_leader(3, (LEADER, F1), frozenset({LEADER}), 0, NOW)
    follower.make_follower(LEADER, 3, (LEADER, F1), frozenset({LEADER}), 0)
    _append(leader, b"a", b"b")
    created = follower.log.active.created_ms
    _copy(leader, follower, created + 1_000)
    _append(leader, b"c")
    _copy(leader, follower, created + 61_000)
    assert [seg.base_offset for seg in follower.log.segments] == [0, 2]
    assert follower.log.log_end_offset == 3


def test_a_returning_replica_truncates_its_divergent_tail_by_leader_epoch(tmp_path: Path) -> None:
    old, new = _partition(tmp_path / "old" / "t-0", F1), _partition(tmp_path / "new" / "t-0", LEADER)
    old.make_leader(1, (F1, LEADER), frozenset({F1, LEADER}), 0, NOW)
    new.make_follower(F1, 1, (F1, LEADER), frozenset({F1, LEADER}), 0)
    _append(old, b"a", b"b")
    _copy(old, new)
    _append(old, b"lost-1")  # written by the old leader alone, never replicated
    _append(old, b"lost-2")
    new.make_leader(2, (F1, LEADER), frozenset({LEADER}), 1, NOW)
    _append(new, b"c")
    assert old.make_follower(LEADER, 2, (F1, LEADER), frozenset({LEADER}), 1)
    # OffsetForLeaderEpoch for the old replica's latest epoch: the new leader ends epoch 1 at offset 2
    err, epoch, end = new.last_offset_for_leader_epoch(2, old.log.leader_epochs.latest_epoch)
    assert (err, epoch, end) == (ErrorCode.none, 1, 2)
    old.log.truncate_to(end)
    assert old.log.log_end_offset == 2 and old.log.leader_epochs.entries == [(1, 0)]
    _copy(new, old)
    assert _segment_bytes(old) == _segment_bytes(new)
    assert old.log.leader_epochs.entries == new.log.leader_epochs.entries == [(1, 0), (2, 2)]


def test_truncating_below_the_log_start_starts_the_log_over(tmp_path: Path) -> None:
    part = _partition(tmp_path / "t-0", F1)
    part.make_leader(0, (F1,), frozenset({F1}), 0, NOW)
    _append(part, b"a")
    _append(part, b"b")
    part.log.truncate_fully_and_start_at(10)
    assert (part.log.log_start_offset, part.log.log_end_offset, part.log.high_watermark) == (10, 10, 10)
    assert sorted(p.name for p in part.log.directory.glob("*.log")) == [f"{10:020d}.log"]


def test_the_high_watermark_is_the_smallest_log_end_in_the_isr_and_followers_join_and_leave(tmp_path: Path) -> None:
    part = _partition(tmp_path / "t-0", LEADER, min_insync_replicas=2)
    part.make_leader(1, (LEADER, F1, F2), frozenset({LEADER, F1}), 5, NOW)
    for v in (b"a", b"b", b"c"):
        _append(part, v)
    assert part.log.high_watermark == 0 and part.enough_replicas_reached(3) is None  # acks=all still waits
    assert part.update_follower_fetch_state(F1, 3, NOW + 10) and part.log.high_watermark == 3
    assert part.enough_replicas_reached(3) == ErrorCode.none
    assert part.isr_expansion(F1) is None  # already in the ISR
    part.update_follower_fetch_state(F2, 1, NOW + 10)
    assert part.isr_expansion(F2) is None  # below the high watermark
    part.update_follower_fetch_state(F2, 3, NOW + 20)
    assert part.isr_expansion(F2) == {LEADER, F1, F2}
    part.pending_isr = frozenset({LEADER, F1, F2})  # proposed: counted for the high watermark (maximal ISR)
    _append(part, b"d")
    part.update_follower_fetch_state(F1, 4, NOW + 30)
    assert part.log.high_watermark == 3  # F2 holds it back
    part.isr_changed(frozenset({LEADER, F1, F2}), 6)
    assert part.partition_epoch == 6 and part.pending_isr is None
    # F2 stops fetching: out of sync once replica.lag.time.max.ms passed since it was last caught up
    assert part.out_of_sync_replicas(NOW + 1000, 5000) == frozenset()
    assert part.out_of_sync_replicas(NOW + 20 + 5001, 5000) == {F2}
    part.isr_changed(frozenset({LEADER, F1}), 7)
    assert part.log.high_watermark == 4
    part.isr_changed(frozenset({LEADER}), 8)
    _append(part, b"e")
    assert part.enough_replicas_reached(5) == ErrorCode.not_enough_replicas_after_append
    part.make_follower(F1, 2, (LEADER, F1, F2), frozenset({F1}), 9)
    assert part.enough_replicas_reached(5) == ErrorCode.not_leader_or_follower
