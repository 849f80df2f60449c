"""The Partition on its own, over a real log in a temporary directory: the high watermark's single owner, leader
epochs (stamped, checked, answered from the cache), leader-epoch-checkpoint round trips and crash recovery."""

from __future__ import annotations

from pathlib import Path

import pytest
from kafka_wire import record_batch

from brook.broker.partition import Partition
from brook.errors import ErrorCode, KafkaError
from brook.log.config import LogConfig
from brook.log.log import Log
from brook.protocol.records.batch import iter_batch_positions, read_header, validate_produced

NOW = 1_700_000_000_000
ME = 0
CHECKPOINT = "leader-epoch-checkpoint"


def _log(path: Path, clean: bool = True, high_watermark: int | None = None, **config: object) -> Log:
    return Log(path, "t", 0, LogConfig(**config), clean_shutdown=clean, high_watermark=high_watermark)  # type: ignore[arg-type]


def _partition(path: Path, clean: bool = True, high_watermark: int | None = None, **config: object) -> Partition:
    return Partition.lone_leader("t", 0, _log(path, clean, high_watermark, **config), ME)


def _append(part: Partition, values: list[bytes]) -> int:
    batch = record_batch(values, timestamp_ms=NOW)
    return part.append_records_to_leader(batch, validate_produced(batch, 1 << 20), NOW).base_offset


def _epochs_on_disk(part: Partition) -> list[int]:
    data = part.log.read(part.log.log_start_offset, 1 << 20, part.log.log_end_offset)
    return [read_header(data, pos).partition_leader_epoch for pos, _b, _s in iter_batch_positions(data)]


def test_a_new_partition_leads_in_epoch_zero_from_offset_zero(tmp_path: Path) -> None:
    part = _partition(tmp_path / "t-0")
    assert part.is_leader and part.leader_epoch == 0 and part.isr == {ME} and part.replicas == (ME,)
    assert (tmp_path / "t-0" / CHECKPOINT).read_text() == "0\n1\n0 0\n"  # Kafka's file after makeLeader
    assert part.log.high_watermark == 0


def test_the_high_watermark_follows_every_append_of_a_lone_leader(tmp_path: Path) -> None:
    part = _partition(tmp_path / "t-0")
    assert _append(part, [b"a", b"b"]) == 0
    assert part.log.high_watermark == 2 == part.log.log_end_offset
    offset = part.append_marker(producer_id=7, producer_epoch=0, commit=False, coordinator_epoch=0, now_ms=NOW)
    assert offset == 2 and part.log.high_watermark == 3
    coordinator = record_batch([b"group record"], timestamp_ms=NOW)
    info = part.append_records_to_leader(coordinator, read_header(coordinator), NOW, validate=False)
    assert info.base_offset == 3 and part.log.high_watermark == 4
    with pytest.raises(AttributeError):
        part.log.high_watermark = 0  # type: ignore[misc]  # only the partition moves it, through the log's methods


def test_followers_hold_the_high_watermark_back(tmp_path: Path) -> None:
    """The cluster's seam: with a follower in the ISR the HW is the smallest log end offset in it, never lower."""
    part = Partition("t", 0, _log(tmp_path / "t-0"), ME)
    part.make_leader(1, replicas=(ME, 1), isr=frozenset({ME, 1}))
    _append(part, [b"a", b"b", b"c"])
    assert part.log.high_watermark == 0
    assert part.update_follower_fetch_state(1, 2) and part.log.high_watermark == 2
    assert not part.update_follower_fetch_state(1, 1) and part.log.high_watermark == 2  # never backwards
    part.update_follower_fetch_state(1, 3)
    assert part.log.high_watermark == 3
    assert part.delete_records_on_leader(-1) == 3


def test_min_insync_replicas_refuses_acks_all_with_kafkas_message(tmp_path: Path) -> None:
    part = _partition(tmp_path / "t-0", min_insync_replicas=2)
    part.check_min_isr(1)  # acks=1 does not care
    with pytest.raises(KafkaError) as e:
        part.check_min_isr(-1)
    assert e.value.code == ErrorCode.not_enough_replicas
    assert e.value.message == ("The size of the current ISR Set(0) is insufficient to satisfy the min.isr "
                               "requirement of 2 for partition t-0")


def test_a_new_leader_epoch_starts_at_the_log_end_and_stamps_batches(tmp_path: Path) -> None:
    part = _partition(tmp_path / "t-0")
    _append(part, [b"a", b"b"])
    part.make_leader(3)
    # written before anything is appended in epoch 3, so a follower asking about epoch 3 is answered
    assert (tmp_path / "t-0" / CHECKPOINT).read_text() == "0\n2\n0 0\n3 2\n"
    _append(part, [b"c"])
    part.make_leader(5)
    _append(part, [b"d"])
    assert _epochs_on_disk(part) == [0, 3, 5]
    assert part.log.leader_epochs.entries == [(0, 0), (3, 2), (5, 3)]


def test_client_leader_epochs_are_checked_as_kafka(tmp_path: Path) -> None:
    part = _partition(tmp_path / "t-0")
    part.make_leader(4)
    assert part.check_leader_epoch(-1) == ErrorCode.none  # no epoch given: nothing to check
    assert part.check_leader_epoch(4) == ErrorCode.none
    assert part.check_leader_epoch(3) == ErrorCode.fenced_leader_epoch
    assert part.check_leader_epoch(5) == ErrorCode.unknown_leader_epoch
    assert part.last_offset_for_leader_epoch(3, 0)[0] == ErrorCode.fenced_leader_epoch
    assert part.last_offset_for_leader_epoch(9, 0)[0] == ErrorCode.unknown_leader_epoch


def test_offset_for_leader_epoch_answers_from_the_cache(tmp_path: Path) -> None:
    part = _partition(tmp_path / "t-0")
    _append(part, [b"a", b"b"])  # epoch 0: [0, 2)
    part.make_leader(2)
    _append(part, [b"c", b"d", b"e"])  # epoch 2: [2, 5)
    part.make_leader(4)
    _append(part, [b"f"])  # epoch 4: [5, 6)
    ask = part.last_offset_for_leader_epoch
    assert ask(4, 0) == (ErrorCode.none, 0, 2)
    assert ask(4, 1) == (ErrorCode.none, 0, 2)  # no epoch 1: the largest below it, ending where epoch 2 starts
    assert ask(-1, 2) == (ErrorCode.none, 2, 5)
    assert ask(4, 4) == (ErrorCode.none, 4, 6)  # the current epoch ends at the log end
    assert ask(4, 7) == (ErrorCode.none, -1, -1)  # above every epoch


def test_diverging_epoch_for_a_follower_ahead_of_the_leader(tmp_path: Path) -> None:
    part = _partition(tmp_path / "t-0")
    _append(part, [b"a", b"b"])
    part.make_leader(2)
    _append(part, [b"c"])
    assert part.diverging_epoch(2, 0, 2) is None  # fetched epoch 0 up to 2: where epoch 0 ends here
    assert part.diverging_epoch(2, 0, 4) == (0, 2)  # wrote epoch 0 past offset 2: truncate to 2
    assert part.diverging_epoch(2, 1, 3) == (0, 2)  # an epoch this leader never had
    assert part.diverging_epoch(2, 2, 3) is None


def test_epochs_and_the_checkpoint_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "t-0"
    part = _partition(path)
    _append(part, [b"a"])
    part.make_leader(2)
    _append(part, [b"b", b"c"])
    part.make_leader(7)  # a new epoch with nothing written in it yet
    part.log.close()
    again = _partition(path)
    assert again.leader_epoch == 7
    assert again.log.leader_epochs.entries == [(0, 0), (2, 1), (7, 3)]
    assert again.last_offset_for_leader_epoch(7, 2) == (ErrorCode.none, 2, 3)
    _append(again, [b"d"])
    assert _epochs_on_disk(again) == [0, 2, 7]
    assert (path / CHECKPOINT).read_text() == "0\n3\n0 0\n2 1\n7 3\n"


def test_recovery_drops_epochs_past_a_torn_tail(tmp_path: Path) -> None:
    """kill -9 after an epoch's first batch reached the checkpoint but not the disk: the entry goes with the tail;
    an epoch starting exactly at the recovered end stays, so the leader epoch never goes backwards."""
    path = tmp_path / "t-0"
    part = _partition(path)
    _append(part, [b"a", b"b"])
    part.make_leader(3)
    _append(part, [b"c"])
    _append(part, [b"d"])
    part.make_leader(5)
    _append(part, [b"e"])
    assert part.log.leader_epochs.entries == [(0, 0), (3, 2), (5, 4)]
    part.log.close()
    seg = path / "00000000000000000000.log"
    data = seg.read_bytes()
    last_two = len(data) - sum(size for _p, _b, size in list(iter_batch_positions(data))[-2:])
    seg.write_bytes(data[: last_two + 10])  # offset 3 and 4 are torn
    again = _partition(path, clean=False, high_watermark=5)
    assert again.log.log_end_offset == 3
    assert again.log.leader_epochs.entries == [(0, 0), (3, 2)]
    assert again.leader_epoch == 3
    assert (path / CHECKPOINT).read_text() == "0\n2\n0 0\n3 2\n"
    assert again.log.high_watermark == 3  # the checkpointed HW, bounded by the recovered log end


def test_an_epoch_taken_at_the_log_end_survives_recovery(tmp_path: Path) -> None:
    path = tmp_path / "t-0"
    part = _partition(path)
    _append(part, [b"a"])
    part.make_leader(6)
    part.log.close()
    again = _partition(path, clean=False)
    assert again.leader_epoch == 6 and again.log.leader_epochs.entries == [(0, 0), (6, 1)]


def test_recovery_drops_epochs_before_the_log_start(tmp_path: Path) -> None:
    path = tmp_path / "t-0"
    part = _partition(path, segment_bytes=200)
    for i in range(6):
        if i == 3:
            part.make_leader(1)
        _append(part, [bytes([65 + i]) * 50])
    assert len(part.log.segments) > 2
    low = part.delete_records_on_leader(4)
    assert low == 4 and part.log.leader_epochs.entries == [(1, 4)]
    part.log.close()
    again = Partition.lone_leader("t", 0, Log(path, "t", 0, LogConfig(segment_bytes=200), log_start_offset=4), ME)
    assert again.log.leader_epochs.entries == [(1, 4)] and again.leader_epoch == 1


def test_delete_records_moves_the_low_watermark_up_to_the_high_watermark(tmp_path: Path) -> None:
    part = _partition(tmp_path / "t-0")
    _append(part, [b"a", b"b", b"c"])
    assert part.delete_records_on_leader(1) == 1
    assert part.delete_records_on_leader(-1) == 3  # -1: the high watermark
    with pytest.raises(KafkaError) as e:
        part.delete_records_on_leader(4)
    assert e.value.code == ErrorCode.offset_out_of_range


def test_a_partition_that_does_not_lead_refuses_writes(tmp_path: Path) -> None:
    part = Partition("t", 0, _log(tmp_path / "t-0"), ME)  # no make_leader yet: the cluster's follower state
    batch = record_batch([b"x"], timestamp_ms=NOW)
    with pytest.raises(KafkaError) as e:
        part.append_records_to_leader(batch, validate_produced(batch, 1 << 20), NOW)
    assert e.value.code == ErrorCode.not_leader_or_follower
    assert part.last_offset_for_leader_epoch(-1, 0)[0] == ErrorCode.not_leader_or_follower
