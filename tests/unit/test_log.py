"""The log layer on its own, in a temporary directory: segments, indexes, recovery, checkpoints, leader epochs."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from kafka_wire import record_batch

from brook.errors import ErrorCode, KafkaError
from brook.log.checkpoint import read_lines, read_offsets, write_lines, write_offsets
from brook.log.config import LogConfig
from brook.log.index import OffsetIndex, TimeIndex
from brook.log.leader_epoch import LeaderEpochCache
from brook.log.log import Log
from brook.log.segment import segment_name
from brook.protocol.records.batch import crc_ok, iter_batch_positions, read_header, validate_produced
from brook.protocol.records.records import iter_records

NOW = 1_700_000_000_000


def _open(path: Path, clean: bool = True, recovery_point: int = 0, **config: object) -> Log:
    return Log(path, "t", 0, LogConfig(**config), clean_shutdown=clean, recovery_point=recovery_point)  # type: ignore[arg-type]


def _append(lg: Log, values: list[bytes], ts: int = NOW, epoch: int = 0) -> int:
    batch = record_batch(values, timestamp_ms=ts)
    base = lg.append(batch, validate_produced(batch, 1 << 20), epoch, NOW).base_offset
    lg.update_high_watermark(lg.log_end_offset)  # as the replica manager does: a single replica is the whole ISR
    return base


def _batches(data: bytes) -> list[tuple[int, int, list[bytes]]]:
    """(base offset, last offset, values) of each batch; every batch's CRC must still hold."""
    out = []
    for pos, _base, size in iter_batch_positions(data):
        h = read_header(data, pos)
        assert crc_ok(data, pos, size, h.crc)
        out.append((h.base_offset, h.last_offset, [r.value for r in iter_records(data[pos : pos + size])]))
    return out


def _values(lg: Log, start: int = 0) -> list[bytes]:
    out: list[bytes] = []
    offset = start
    while offset < lg.log_end_offset:
        data = lg.read(offset, 1 << 20)
        for base, last, values in _batches(data):
            out += values[max(0, offset - base):]
            offset = last + 1
    return out


# -- append and read ----------------------------------------------------------------------------------------
def test_append_assigns_offsets_and_reads_back(tmp_path: Path) -> None:
    lg = _open(tmp_path / "t-0")
    assert (lg.log_start_offset, lg.log_end_offset) == (0, 0)
    assert _append(lg, [b"a"]) == 0
    assert _append(lg, [b"b", b"c"]) == 1
    assert _append(lg, [b"d"]) == 3
    assert lg.log_end_offset == 4
    assert _batches(lg.read(0, 1 << 20)) == [(0, 0, [b"a"]), (1, 2, [b"b", b"c"]), (3, 3, [b"d"])]
    # A read from inside a batch starts at that batch (Kafka returns whole batches).
    assert _batches(lg.read(2, 1 << 20))[0] == (1, 2, [b"b", b"c"])
    assert lg.read(4, 1 << 20) == b""  # at the log end: nothing yet, not an error
    lg.close()


def test_read_limits_and_out_of_range(tmp_path: Path) -> None:
    lg = _open(tmp_path / "t-0")
    for i in range(5):
        _append(lg, [bytes([65 + i]) * 100])
    one = len(lg.read(0, 1))
    assert len(_batches(lg.read(0, 1))) == 1  # at least one whole batch, even over max_bytes
    assert len(_batches(lg.read(0, 2 * one + 10))) == 2  # then only whole batches within max_bytes
    assert _batches(lg.read(0, 1 << 20, max_offset=2)) == [(0, 0, [b"A" * 100]), (1, 1, [b"B" * 100])]
    for bad in (-1, 6):
        with pytest.raises(KafkaError) as e:
            lg.read(bad, 100)
        assert e.value.code == ErrorCode.offset_out_of_range
    lg.close()


def test_reads_of_many_small_batches_cut_where_a_walk_of_every_batch_would(tmp_path: Path) -> None:
    """Log.read starts its walk of batch headers at an offset index entry (an entry every index.interval.bytes):
    the bytes it returns are those of a walk over every batch, for any offset, max_bytes and limit."""
    lg = _open(tmp_path / "t-0", index_interval_bytes=300)
    for i in range(120):  # batches of 1 to 3 records of varying size: index entries land mid-read
        _append(lg, [bytes([65 + i % 26]) * (20 + 37 * (i % 5))] * (1 + i % 3))
    everything = lg.read(0, 1 << 20)
    batches = list(iter_batch_positions(everything))
    assert len(lg.segments[0].index) > 10

    def expected(offset: int, max_bytes: int, limit: int) -> bytes:
        first = next(i for i, (p, base, size) in enumerate(batches)
                     if read_header(everything, p).last_offset >= offset)
        start = batches[first][0]
        end = start
        for p, base, size in batches[first:]:
            if base >= limit or (p > start and p + size - start > max_bytes):
                break
            end = p + size
        return everything[start:end]

    end_offset = lg.log_end_offset
    for offset in (0, 1, 7, 50, 99, 150, end_offset - 1):
        for max_bytes in (1, 100, 333, 1000, 4096, 1 << 20):
            for limit in (offset + 1, offset + 5, offset + 40, end_offset):
                case = (offset, max_bytes, limit)
                assert lg.read(*case) == expected(*case), case
    lg.close()


def test_segment_files_use_kafka_names(tmp_path: Path) -> None:
    lg = _open(tmp_path / "t-0")
    _append(lg, [b"x"])
    lg.flush()
    names = sorted(p.name for p in (tmp_path / "t-0").iterdir())
    assert names == ["00000000000000000000.index", "00000000000000000000.log", "00000000000000000000.timeindex",
                     "leader-epoch-checkpoint"]
    assert segment_name(1234, ".log") == "00000000000000001234.log"
    stored = (tmp_path / "t-0" / "00000000000000000000.log").read_bytes()
    assert stored == lg.read(0, 1 << 20)
    lg.close()


# -- segments and indexes -----------------------------------------------------------------------------------
def test_segment_roll_by_segment_bytes(tmp_path: Path) -> None:
    lg = _open(tmp_path / "t-0", segment_bytes=300)
    values = [bytes([97 + i % 26]) * 60 for i in range(12)]
    for v in values:
        _append(lg, [v])
    assert len(lg.segments) > 3
    assert all(s.size <= 300 for s in lg.segments)
    bases = [s.base_offset for s in lg.segments]
    assert bases[0] == 0 and bases == sorted(bases)
    for prev, nxt in zip(lg.segments, lg.segments[1:], strict=False):
        assert prev.next_offset == nxt.base_offset  # no gaps, no overlaps
    assert sorted(p.name for p in (tmp_path / "t-0").glob("*.log")) == [segment_name(b, ".log") for b in bases]
    assert _values(lg) == values
    assert _values(lg, 7) == values[7:]
    lg.close()


def test_offset_index_entries_and_lookup(tmp_path: Path) -> None:
    lg = _open(tmp_path / "t-0", index_interval_bytes=100)
    for i in range(20):
        _append(lg, [b"v" * 50, b"w" * 50] if i % 2 else [b"u" * 80])
    seg = lg.active
    idx = seg.index
    assert len(idx.offsets) >= 5
    # Each entry is (last offset of a batch, that batch's position), as Kafka's LogSegment.append writes them.
    data = lg.read(0, 1 << 20)
    starts = {pos: read_header(data, pos).last_offset for pos, _, _ in iter_batch_positions(data)}
    for offset, pos in zip(idx.offsets, idx.positions, strict=True):
        assert starts[pos] == offset
    # On disk: big-endian (relative offset int32, position int32) pairs.
    raw = idx.path.read_bytes()
    assert [(o, p) for o, p in struct.iter_unpack(">ii", raw)] == list(zip(idx.offsets, idx.positions, strict=True))
    # lookup: the greatest entry at or below the offset, else (base offset, 0)
    assert idx.lookup(-5) == (0, 0)
    for target in range(lg.log_end_offset):
        off, pos = idx.lookup(target)
        assert off <= target or (off, pos) == (0, 0)
        found = seg.find_position(target)
        assert found is not None and found[1].base_offset <= target <= found[1].last_offset
    lg.close()


def test_time_index_lookup(tmp_path: Path) -> None:
    lg = _open(tmp_path / "t-0", index_interval_bytes=0)
    for i in range(10):
        _append(lg, [b"m%d" % i], ts=NOW + 1000 * i)
    ti = lg.active.time_index
    assert list(ti.timestamps) == sorted(ti.timestamps) and len(ti.timestamps) >= 5
    assert lg.offset_for_timestamp(NOW) == (0, NOW)
    assert lg.offset_for_timestamp(NOW + 4500) == (5, NOW + 5000)  # first batch at or after the time
    assert lg.offset_for_timestamp(NOW + 9000) == (9, NOW + 9000)
    assert lg.offset_for_timestamp(NOW + 9001) is None
    assert lg.max_timestamp() == (NOW + 9000, 9)
    lg.close()


def test_index_unit_lookups(tmp_path: Path) -> None:
    idx = OffsetIndex(tmp_path / "x.index", 100)
    idx.open()
    for off, pos in ((110, 0), (120, 500), (130, 900)):
        idx.append(off, pos)
    assert idx.lookup(99) == (100, 0)
    assert idx.lookup(125) == (120, 500)
    assert idx.lookup(10**9) == (130, 900)
    idx.truncate_to_position(500)
    assert list(idx.offsets) == [110] and idx.path.stat().st_size == 8
    idx.close()
    ti = TimeIndex(tmp_path / "x.timeindex", 100)
    ti.open()
    ti.maybe_append(1000, 105)
    ti.maybe_append(1000, 106)  # not increasing: ignored
    ti.maybe_append(2000, 120)
    assert (ti.lookup(999), ti.lookup(1500), ti.lookup(5000)) == (100, 105, 120)
    assert ti.path.stat().st_size == 24
    ti.close()


# -- recovery -----------------------------------------------------------------------------------------------
def _filled(path: Path, n: int = 6, **config: object) -> tuple[list[bytes], int]:
    lg = _open(path, index_interval_bytes=50, **config)
    values = [b"value-%d" % i * 5 for i in range(n)]
    for v in values:
        _append(lg, [v])
    lg.flush()
    end = lg.log_end_offset
    lg.close()
    return values, end


def test_recovery_truncates_a_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "t-0"
    values, end = _filled(path)
    log_file = path / segment_name(0, ".log")
    good_size = log_file.stat().st_size
    partial = record_batch([b"torn"], timestamp_ms=NOW)[:30]  # a batch cut off mid-write
    with open(log_file, "ab") as f:
        f.write(partial)
    lg = _open(path, clean=False, index_interval_bytes=50)
    assert lg.recovered_bytes == len(partial)
    assert log_file.stat().st_size == good_size
    assert lg.log_end_offset == end and _values(lg) == values
    assert _append(lg, [b"after"]) == end  # appends continue at the right offset
    lg.close()


def test_recovery_drops_a_batch_with_a_bad_crc_and_everything_after(tmp_path: Path) -> None:
    path = tmp_path / "t-0"
    values, _ = _filled(path)
    log_file = path / segment_name(0, ".log")
    data = bytearray(log_file.read_bytes())
    positions = [pos for pos, _, _ in iter_batch_positions(bytes(data))]
    data[positions[4] + 70] ^= 0xFF  # inside the fifth batch's records
    log_file.write_bytes(bytes(data))
    lg = _open(path, clean=False, index_interval_bytes=50)
    assert lg.recovered_bytes == len(data) - positions[4]
    assert lg.log_end_offset == 4 and _values(lg) == values[:4]
    lg.close()


def test_clean_open_trusts_indexes_but_rebuilds_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "t-0"
    values, end = _filled(path, n=12)
    index_file = path / segment_name(0, ".index")
    before = index_file.read_bytes()
    assert before
    index_file.unlink()
    lg = _open(path, clean=True, index_interval_bytes=50)
    assert index_file.read_bytes() == before
    assert lg.log_end_offset == end and _values(lg, 5) == values[5:]
    lg.close()


def test_a_corrupt_index_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "t-0"
    values, end = _filled(path, n=12)
    index_file = path / segment_name(0, ".index")
    time_file = path / segment_name(0, ".timeindex")
    before, time_before = index_file.read_bytes(), time_file.read_bytes()
    index_file.write_bytes(before[:-3])  # not a whole number of entries
    time_file.write_bytes(b"\x01" * 7)
    lg = _open(path, clean=True, index_interval_bytes=50)
    assert index_file.read_bytes() == before and time_file.read_bytes() == time_before
    assert lg.log_end_offset == end and _values(lg) == values
    lg.close()


def test_rebuilt_time_index_finds_the_first_offset_of_a_timestamp(tmp_path: Path) -> None:
    """Regression: recovery indexed (max timestamp so far, *this* batch's last offset), so after a crash a
    ListOffsets by timestamp skipped the earlier records carrying that timestamp."""
    path = tmp_path / "t-0"
    _filled(path, n=12)  # every batch has the same timestamp
    lg = _open(path, clean=False, index_interval_bytes=50)
    assert lg.offset_for_timestamp(NOW) == (0, NOW)
    assert list(lg.active.time_index.offsets) == [0]
    lg.close()


def test_unclean_open_beyond_the_recovery_point_rescans_only_later_segments(tmp_path: Path) -> None:
    path = tmp_path / "t-0"
    values, end = _filled(path, n=10, segment_bytes=250)
    segments = sorted(path.glob("*.log"))
    assert len(segments) >= 3
    with open(segments[-1], "ab") as f:
        f.write(b"\x00" * 20)  # junk a crash left after the last batch
    lg = _open(path, clean=False, recovery_point=int(segments[-1].stem), index_interval_bytes=50, segment_bytes=250)
    assert lg.recovered_bytes == 20
    assert lg.log_end_offset == end and _values(lg) == values
    lg.close()


# -- start offset, flush ------------------------------------------------------------------------------------
def test_advance_log_start_offset_deletes_whole_segments_below_it(tmp_path: Path) -> None:
    path = tmp_path / "t-0"
    lg = _open(path, segment_bytes=250)
    values = [b"%02d" % i * 20 for i in range(12)]
    for i, v in enumerate(values):
        _append(lg, [v], epoch=i // 4)
    bases = [s.base_offset for s in lg.segments]
    target = bases[2] + 1
    lg.advance_log_start_offset(target)
    assert lg.log_start_offset == target
    assert lg.segments[0].base_offset == bases[2]
    assert sorted(p.stem for p in path.glob("*.log")) == [segment_name(b, "") for b in bases[2:]]
    with pytest.raises(KafkaError) as e:
        lg.read(target - 1, 100)
    assert e.value.code == ErrorCode.offset_out_of_range
    assert _values(lg, target) == values[target:]
    # The epoch cache now starts at the new log start offset.
    assert lg.leader_epochs.entries[0][1] == target
    lg.advance_log_start_offset(1)  # moving backwards is a no-op
    assert lg.log_start_offset == target
    lg.close()


def test_flush_moves_the_recovery_point(tmp_path: Path) -> None:
    lg = _open(tmp_path / "t-0", flush_messages=3)
    _append(lg, [b"a", b"b"])
    assert not lg.needs_flush and lg.unflushed_messages == 2
    _append(lg, [b"c"])
    assert lg.needs_flush
    assert lg.flush() == 3 == lg.recovery_point
    assert lg.unflushed_messages == 0
    lg.close()


def test_log_append_time_rewrites_timestamps_and_crc(tmp_path: Path) -> None:
    lg = _open(tmp_path / "t-0", message_timestamp_type="LogAppendTime")
    batch = record_batch([b"x"], timestamp_ms=1000)
    info = lg.append(batch, validate_produced(batch, 1 << 20), 0, NOW)
    lg.update_high_watermark(lg.log_end_offset)
    assert info.log_append_time == NOW
    stored = lg.read(0, 1 << 20)
    h = read_header(stored)
    assert h.log_append_time and h.max_timestamp == NOW
    assert crc_ok(stored, 0, len(stored), h.crc)
    lg.close()


# -- checkpoints and leader epochs --------------------------------------------------------------------------
def test_offset_checkpoint_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "recovery-point-offset-checkpoint"
    assert read_offsets(path) == {}
    offsets = {("orders", 0): 42, ("orders", 1): 0, ("with-dash-3", 12): 2**40}
    write_offsets(path, offsets)
    assert read_offsets(path) == offsets
    assert path.read_text() == "0\n3\norders 0 42\norders 1 0\nwith-dash-3 12 1099511627776\n"  # Kafka's format
    assert not path.with_name(path.name + ".tmp").exists()
    write_offsets(path, {})
    assert read_offsets(path) == {}


@pytest.mark.parametrize("text", ["1\n0\n", "0\n2\na 0 1\n", "", "0\n"])
def test_malformed_checkpoint_files_are_rejected(tmp_path: Path, text: str) -> None:
    path = tmp_path / "cp"
    path.write_text(text)
    with pytest.raises(ValueError):
        read_lines(path)


def test_write_lines_replaces_atomically(tmp_path: Path) -> None:
    path = tmp_path / "cp"
    write_lines(path, ["a 1"])
    inode = os.stat(path).st_ino
    write_lines(path, ["b 2", "c 3"], fsync=False)
    assert read_lines(path) == [["b", "2"], ["c", "3"]]
    assert os.stat(path).st_ino != inode  # a new file renamed over the old one


def test_leader_epoch_cache(tmp_path: Path) -> None:
    """Kafka's LeaderEpochFileCache: assign, endOffsetFor, truncateFromStart, and the checkpoint's format."""
    cache = LeaderEpochCache(tmp_path)
    assert cache.latest_epoch == -1 and cache.end_offset_for(0, 10) == (-1, -1)
    cache.assign(0, 0)
    cache.assign(0, 5)  # same epoch, later start: nothing new
    cache.assign(2, 10)
    cache.assign(5, 20)
    assert cache.entries == [(0, 0), (2, 10), (5, 20)]
    assert (tmp_path / "leader-epoch-checkpoint").read_text() == "0\n3\n0 0\n2 10\n5 20\n"
    log_end = 30
    assert cache.end_offset_for(5, log_end) == (5, 30)  # the latest epoch ends at the log end
    assert cache.end_offset_for(2, log_end) == (2, 20)
    assert cache.end_offset_for(3, log_end) == (2, 20)  # largest epoch <= requested, next epoch's start
    assert cache.end_offset_for(1, log_end) == (0, 10)
    assert cache.end_offset_for(9, log_end) == (-1, -1)  # above every epoch: undefined
    assert cache.end_offset_for(-1, log_end) == (-1, -1)
    assert [cache.epoch_for_offset(o) for o in (0, 9, 10, 19, 20, 99)] == [0, 0, 2, 2, 5, 5]
    assert LeaderEpochCache(tmp_path).entries == cache.entries  # reloaded from the checkpoint file
    cache.truncate_from_start(15)
    assert cache.entries == [(2, 15), (5, 20)]
    assert LeaderEpochCache(tmp_path).entries == [(2, 15), (5, 20)]
    assert cache.end_offset_for(1, log_end) == (1, 15)  # older than every cached epoch: the first start
    cache.truncate_from_start(20)  # an entry exactly at the new start replaces the older ones
    assert cache.entries == [(5, 20)]


def test_leader_epoch_cache_replaces_what_a_new_entry_contradicts(tmp_path: Path) -> None:
    cache = LeaderEpochCache(tmp_path)
    for e, o in ((0, 0), (2, 10), (4, 20)):
        cache.assign(e, o)
    cache.assign(3, 15)  # an older epoch starting earlier: epoch 4's entry goes (Kafka's non-monotonic removal)
    assert cache.entries == [(0, 0), (2, 10), (3, 15)]
    cache.assign(3, 12)  # the same epoch, earlier: moved back
    assert cache.entries == [(0, 0), (2, 10), (3, 12)]
    cache.truncate_from_end(10)
    assert cache.entries == [(0, 0)]
    assert LeaderEpochCache(tmp_path).entries == [(0, 0)]
    with pytest.raises(ValueError):
        cache.assign(-1, 3)


def test_log_records_leader_epochs_as_it_appends(tmp_path: Path) -> None:
    lg = _open(tmp_path / "t-0")
    _append(lg, [b"a"], epoch=0)
    _append(lg, [b"b"], epoch=0)
    _append(lg, [b"c"], epoch=3)
    assert lg.leader_epochs.entries == [(0, 0), (3, 2)]
    assert [read_header(lg.read(o, 100)).partition_leader_epoch for o in range(3)] == [0, 0, 3]
    lg.close()
