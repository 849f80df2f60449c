"""The LogCleaner on its own, on logs in a temporary directory: what compaction keeps, what it drops, and that a
crash anywhere in a swap leaves a log that loads with either the old or the new segments."""

from __future__ import annotations

import datetime
import io
import os
from pathlib import Path

import pytest
from crc32c import crc32c
from kio.records.schema import NewRecordBatch, Record
from kio.records.writers import write_new_batch

from brook.log import swap
from brook.log.checkpoint import read_offsets
from brook.log.cleaner import CHECKPOINT_FILE, CleanerConfig, LogCleaner
from brook.log.config import LogConfig
from brook.log.log import Log
from brook.protocol.records.batch import (
    ATTRIBUTES_OFFSET,
    CODECS,
    CRC_OFFSET,
    DELETE_HORIZON_FLAG,
    HEADER_SIZE,
    LOG_OVERHEAD,
    TRANSACTIONAL_FLAG,
    BatchHeader,
    crc_ok,
    iter_batch_positions,
    pack_header,
    read_header,
)
from brook.protocol.records.compression import compress
from brook.protocol.records.control import marker_type
from brook.protocol.records.records import iter_records, offsets_and_timestamps

NOW = 1_700_000_000_000
DAY = 86_400_000


class _Logs:
    """The two things the cleaner asks of a LogManager."""

    def __init__(self, d: Path) -> None:
        self.dirs = [d]
        self.logs: dict[tuple[str, int], Log] = {}

    def dir_of(self, topic: str, partition: int) -> Path:
        return self.dirs[0]


def _batch(pairs: list[tuple[bytes, bytes | None]], ts: int = NOW, codec: int = 0, producer_id: int = -1,
           base_sequence: int = -1, attributes: int = 0) -> bytes:
    when = datetime.datetime.fromtimestamp(ts / 1000, datetime.UTC)
    buf = io.BytesIO()
    write_new_batch(buf, NewRecordBatch(
        producer_id=producer_id, producer_epoch=0 if producer_id >= 0 else -1, base_sequence=base_sequence,
        attributes=attributes, records=tuple(
            Record(attributes=0, timestamp=when + datetime.timedelta(milliseconds=i), offset=i, key=k, value=v,
                   headers=()) for i, (k, v) in enumerate(pairs))))
    data = buf.getvalue()
    if not codec:
        return data
    h = read_header(data)  # kio writes records uncompressed: compress them here, as a client would
    payload = compress(codec, data[HEADER_SIZE:])
    h2 = BatchHeader(h.base_offset, HEADER_SIZE - LOG_OVERHEAD + len(payload), h.partition_leader_epoch, 2, 0,
                     h.attributes | codec, h.last_offset_delta, h.base_timestamp, h.max_timestamp, h.producer_id,
                     h.producer_epoch, h.base_sequence, h.records_count)
    out = bytearray(pack_header(h2) + payload)
    out[CRC_OFFSET:ATTRIBUTES_OFFSET] = crc32c(bytes(out[ATTRIBUTES_OFFSET:])).to_bytes(4, "big")
    return bytes(out)


def _setup(tmp_path: Path, **cfg: object) -> tuple[_Logs, Log, LogCleaner]:
    logs = _Logs(tmp_path)
    config = {"segment_bytes": 1000, "cleanup_policy": ("compact",), "min_cleanable_dirty_ratio": 0.01, **cfg}
    lg = Log(tmp_path / "t-0", "t", 0, LogConfig(**config))  # type: ignore[arg-type]
    logs.logs[("t", 0)] = lg
    return logs, lg, LogCleaner(logs, CleanerConfig(step_bytes=1 << 20))


def _append(lg: Log, data: bytes) -> int:
    base = lg.append(data, read_header(data), 0, NOW).base_offset
    lg.update_high_watermark(lg.log_end_offset)
    return base


def _write(lg: Log, rounds: int, keys: int, codec: int = 0, per_batch: int = 1) -> dict[bytes, tuple[int, bytes]]:
    """rounds x keys records (key kN, value vN-round); returns the latest (offset, value) per key."""
    latest: dict[bytes, tuple[int, bytes]] = {}
    pending: list[tuple[bytes, bytes | None]] = []
    for r in range(rounds):
        for k in range(keys):
            pending.append((b"k%d" % k, b"v%d-%d" % (k, r)))
            if len(pending) == per_batch:
                base = _append(lg, _batch(pending, codec=codec))
                for i, (key, value) in enumerate(pending):
                    latest[key] = (base + i, value)  # type: ignore[assignment]
                pending = []
    return latest


def _records(lg: Log) -> list[tuple[int, bytes, bytes | None]]:
    """(offset, key, value) of every record, reading as a fetch does; every batch's CRC must hold."""
    out = []
    offset = lg.log_start_offset
    while offset < lg.log_end_offset:
        data = lg.read(offset, 1 << 20, lg.log_end_offset)
        if not data:
            break
        for pos, _base, size in iter_batch_positions(data):
            h = read_header(data, pos)
            assert crc_ok(data, pos, size, h.crc)
            out += [(r.offset, r.key, r.value) for r in iter_records(data[pos : pos + size])]
            offset = h.next_offset
    return out


def _cleaned_view(lg: Log) -> dict[bytes, tuple[int, bytes | None]]:
    """Key -> (offset, value) of the last record per key: what a consumer reading everything ends up with."""
    return {k: (o, v) for o, k, v in _records(lg)}


def test_latest_value_per_key_survives_with_its_offset(tmp_path: Path) -> None:
    logs, lg, cleaner = _setup(tmp_path)
    latest = _write(lg, rounds=10, keys=20)
    before = _cleaned_view(lg)
    size_before = lg.size
    assert cleaner.clean_once(NOW)
    records = _records(lg)
    non_active = [r for r in records if r[0] < lg.active.base_offset]
    assert len({k for _o, k, _v in non_active}) == len(non_active)  # one record per key outside the active segment
    assert _cleaned_view(lg) == before == {k: (o, v) for k, (o, v) in latest.items()}
    assert lg.size < size_before / 2
    offsets = [o for o, _k, _v in records]
    assert offsets == sorted(offsets) and lg.log_end_offset == 200 and lg.log_start_offset == 0
    assert read_offsets(tmp_path / CHECKPOINT_FILE) == {("t", 0): lg.active.base_offset}
    assert not cleaner.clean_once(NOW)  # nothing dirty left
    lg.close()
    reopened = Log(tmp_path / "t-0", "t", 0, lg.config)
    assert _cleaned_view(reopened) == before and reopened.log_end_offset == 200


def test_active_segment_is_never_touched(tmp_path: Path) -> None:
    logs, lg, cleaner = _setup(tmp_path, segment_bytes=100_000)
    _write(lg, rounds=5, keys=10)
    active_bytes = lg.active.log_path.read_bytes()
    assert not cleaner.clean_once(NOW)  # one segment, the active one: nothing to clean
    assert lg.active.log_path.read_bytes() == active_bytes
    lg.roll()
    _write(lg, rounds=3, keys=10)
    active = lg.active
    active_bytes = active.log_path.read_bytes()
    assert cleaner.clean_once(NOW)
    assert lg.active is active and active.log_path.read_bytes() == active_bytes
    assert len([r for r in _records(lg) if r[0] >= active.base_offset]) == 30  # its duplicates stay


def _headers(lg: Log) -> list[BatchHeader]:
    """Every batch header of the non-active segments, as stored."""
    out = []
    for seg in lg.segments[:-1]:
        data = seg.read(0, seg.size)
        out += [read_header(data, pos) for pos, _b, _s in iter_batch_positions(data)]
    return out


def _stamps(lg: Log) -> dict[int, int]:
    """Offset -> record timestamp as a fetch reader computes it (base timestamp + the record's delta)."""
    out: dict[int, int] = {}
    for seg in lg.segments:
        data = seg.read(0, seg.size)
        for pos, _b, size in iter_batch_positions(data):
            out.update(offsets_and_timestamps(data[pos : pos + size]))
    return out


def test_tombstones_get_a_delete_horizon_then_go_after_it(tmp_path: Path) -> None:
    """KIP-534 (Kafka's MemoryRecords.filterTo, LogCleaner.shouldRetainRecord): the first cleaning keeps a tombstone
    and stamps its batch with deleteHorizonMs = now + delete.retention.ms (base timestamp, attribute bit 6); a
    cleaning at or past the horizon drops it. The clock is the one given to the cleaner: no sleeps."""
    logs, lg, cleaner = _setup(tmp_path, delete_retention_ms=DAY)
    _write(lg, rounds=3, keys=10)
    dead = [b"k1", b"k2", b"k3"]
    for k in dead:
        _append(lg, _batch([(k, None), (b"x" + k, b"live")]))
    _write(lg, rounds=1, keys=1)  # k0 again: not a tombstone
    lg.roll()
    _append(lg, _batch([(b"other", b"x")]))
    stamps = _stamps(lg)
    now = NOW + 3 * DAY  # however old the segment, a tombstone survives the cleaning that first sees it
    assert cleaner.clean_once(now)
    view = _cleaned_view(lg)
    assert all(view[k][1] is None for k in dead)  # the tombstones are still there...
    assert sum(1 for _o, k, _v in _records(lg) if k in dead) == 3  # ...and nothing older for their keys
    marked = [h for h in _headers(lg) if h.attributes & DELETE_HORIZON_FLAG]
    assert len(marked) == 3 and all(h.base_timestamp == now + DAY for h in marked)
    assert all(h.max_timestamp == NOW + 1 for h in marked)  # the max timestamp stays the records' own
    assert _stamps(lg).items() <= stamps.items()  # every kept record keeps its timestamp (deltas rebased)
    unmarked = [h for h in _headers(lg) if not h.attributes & DELETE_HORIZON_FLAG]
    assert all(h.base_timestamp == NOW for h in unmarked)  # rebuilt without a horizon: the first kept record's
    # ListOffsets by timestamp and max timestamp read the records' own timestamps, not the horizon
    first_marked = marked[0].base_offset
    assert lg.offset_for_timestamp(NOW + 1) == (first_marked + 1, NOW + 1)
    assert lg.max_timestamp() == (NOW + 1, first_marked + 1)

    assert not cleaner.clean_once(now + DAY - 1)  # before the horizon nothing is due
    assert cleaner.clean_once(now + DAY)  # a quiet log: the horizon pass runs by itself
    view = _cleaned_view(lg)
    assert not any(k in view for k in dead)
    live = {b"k%d" % i for i in range(10) if b"k%d" % i not in dead}
    assert set(view) == live | {b"x" + k for k in dead} | {b"other"}
    # the rebuilt batches keep the horizon they carry (Kafka keeps deleteHorizonMs when it rewrites a batch)
    assert [h.base_timestamp for h in _headers(lg) if h.attributes & DELETE_HORIZON_FLAG] == [now + DAY] * 3
    assert _stamps(lg).items() <= stamps.items()
    assert not cleaner.clean_once(now + 10 * DAY)  # nothing waits for a horizon any more


def test_a_horizon_stamped_before_a_restart_is_found_again(tmp_path: Path) -> None:
    logs, lg, cleaner = _setup(tmp_path, delete_retention_ms=DAY)
    _write(lg, rounds=2, keys=4)
    _append(lg, _batch([(b"k1", None)]))
    lg.roll()
    _append(lg, _batch([(b"z", b"z")]))
    assert cleaner.clean_once(NOW)
    cleaner = LogCleaner(logs, CleanerConfig(step_bytes=1 << 20))  # a restart: the horizons are only on disk
    assert not cleaner.clean_once(NOW + DAY // 2)  # unknown horizons: the first horizon pass is a retention away
    assert cleaner.clean_once(NOW + 3 * DAY // 2)
    assert b"k1" not in _cleaned_view(lg)


def test_compacted_log_append_time_batches_keep_their_timestamps(tmp_path: Path) -> None:
    logs, lg, cleaner = _setup(tmp_path, delete_retention_ms=DAY, message_timestamp_type="LogAppendTime")
    _write(lg, rounds=2, keys=3)
    _append(lg, _batch([(b"k0", None), (b"k1", b"new")]))
    lg.roll()
    _append(lg, _batch([(b"z", b"z")]))
    stamps = _stamps(lg)
    assert cleaner.clean_once(NOW + 5)
    assert _stamps(lg).items() <= stamps.items()
    marked = [h for h in _headers(lg) if h.attributes & DELETE_HORIZON_FLAG]
    assert [h.base_timestamp for h in marked] == [NOW + 5 + DAY] and marked[0].log_append_time


@pytest.mark.parametrize("codec", [1, 2, 3, 4])
def test_compressed_batches_stay_compressed(tmp_path: Path, codec: int) -> None:
    logs, lg, cleaner = _setup(tmp_path, segment_bytes=1500)
    latest = _write(lg, rounds=6, keys=8, codec=codec, per_batch=4)
    lg.roll()
    assert cleaner.clean_once(NOW)
    seen_rebuilt = False
    for seg in lg.segments[:-1]:
        data = seg.read(0, seg.size)
        for pos, _base, size in iter_batch_positions(data):
            h = read_header(data, pos)
            assert h.compression == CODECS[codec] and crc_ok(data, pos, size, h.crc)
            seen_rebuilt = seen_rebuilt or h.records_count < 4
            # the kept records keep their own timestamps; the batch's max timestamp is recomputed from them
            stamps = [ts for _o, ts in offsets_and_timestamps(data[pos : pos + size])]
            assert h.max_timestamp == max(stamps) and h.last_offset_delta == 3
    assert _cleaned_view(lg) == {k: (o, v) for k, (o, v) in latest.items()}
    assert len(_records(lg)) == 8


def test_idempotent_producer_keeps_its_last_batch_and_markers_stay(tmp_path: Path) -> None:
    logs, lg, cleaner = _setup(tmp_path)
    _append(lg, _batch([(b"a", b"1"), (b"b", b"1")], producer_id=7, base_sequence=0))
    _append(lg, _batch([(b"a", b"2"), (b"b", b"2")], producer_id=7, base_sequence=2))
    # an aborted transaction: its records go, its marker stays
    _append(lg, _batch([(b"c", b"aborted")], producer_id=9, base_sequence=0, attributes=TRANSACTIONAL_FLAG))
    lg.append_marker(9, 0, False, 0, 0, NOW)
    lg.update_high_watermark(lg.log_end_offset)
    _append(lg, _batch([(b"a", b"3"), (b"b", b"3")]))  # supersedes producer 7's newest batch entirely
    lg.roll()
    _append(lg, _batch([(b"z", b"z")]))
    assert cleaner.clean_once(NOW)
    headers = []
    for seg in lg.segments[:-1]:
        data = seg.read(0, seg.size)
        headers += [read_header(data, pos) for pos, _b, _s in iter_batch_positions(data)]
    kept7 = [h for h in headers if h.producer_id == 7]
    assert [(h.base_offset, h.records_count, h.last_offset_delta, h.base_sequence) for h in kept7] == [(2, 0, 1, 2)]
    assert [h.records_count for h in headers if h.producer_id == 9 and h.is_control] == [1]
    assert not [h for h in headers if h.producer_id == 9 and not h.is_control and h.records_count]
    view = _cleaned_view(lg)
    assert b"c" not in view and view[b"a"][1] == b"3"
    lg.close()
    reopened = Log(tmp_path / "t-0", "t", 0, lg.config)
    assert reopened.producer_state.producers[7].last_seq == 3  # the empty batch carries the sequence across


def _markers(lg: Log) -> list[tuple[int, int, int | None]]:
    """(offset, type, delete horizon or None) of every marker outside the active segment."""
    out = []
    for seg in lg.segments[:-1]:
        data = seg.read(0, seg.size)
        for pos, _b, size in iter_batch_positions(data):
            h = read_header(data, pos)
            if h.is_control and h.records_count:
                kind = marker_type(next(iter_records(data[pos : pos + size])).key or b"")
                out.append((h.base_offset, kind, h.base_timestamp if h.attributes & DELETE_HORIZON_FLAG else None))
    return out


def test_markers_of_transactions_with_no_data_left_go_after_their_horizon(tmp_path: Path) -> None:
    """Kafka's CleanedTransactionMetadata: an abort marker stays while batches of its transaction remain (with its
    aborted-transaction index entry); a marker whose transaction has no batch left gets a delete horizon, and goes
    at the first cleaning past it."""
    logs, lg, cleaner = _setup(tmp_path, delete_retention_ms=DAY)
    txn = TRANSACTIONAL_FLAG
    _append(lg, _batch([(b"c", b"aborted")], producer_id=9, base_sequence=0, attributes=txn))
    abort_at = lg.append_marker(9, 0, False, 0, 0, NOW)
    _append(lg, _batch([(b"d", b"old")], producer_id=9, base_sequence=1, attributes=txn))
    commit_at = lg.append_marker(9, 0, True, 0, 0, NOW)
    _append(lg, _batch([(b"e", b"kept")], producer_id=9, base_sequence=2, attributes=txn))
    last_at = lg.append_marker(9, 0, True, 0, 0, NOW)
    lg.update_high_watermark(lg.log_end_offset)
    _append(lg, _batch([(b"d", b"new")]))
    lg.roll()
    _append(lg, _batch([(b"z", b"z")]))

    assert cleaner.clean_once(NOW)  # the aborted and superseded data go; every marker still had batches
    assert _markers(lg) == [(abort_at, 0, None), (commit_at, 1, None), (last_at, 1, None)]
    assert [(e.producer_id, e.last_offset) for s in lg.segments for e in s.txn_index.entries] == [(9, abort_at)]

    _append(lg, _batch([(b"z", b"z2")]))  # dirty again: the next pass finds those markers' transactions empty
    lg.roll()
    assert cleaner.clean_once(NOW + 1)
    horizon = NOW + 1 + DAY
    assert _markers(lg) == [(abort_at, 0, horizon), (commit_at, 1, horizon), (last_at, 1, None)]
    assert not [e for s in lg.segments for e in s.txn_index.entries]  # no data to filter: no index entry
    assert not cleaner.clean_once(horizon - 1)
    assert cleaner.clean_once(horizon)
    assert _markers(lg) == [(last_at, 1, None)]  # the newest transaction's data is there: its marker stays
    assert _cleaned_view(lg)[b"e"][1] == b"kept"


def test_min_compaction_lag_keeps_recent_segments_dirty(tmp_path: Path) -> None:
    logs, lg, cleaner = _setup(tmp_path, min_compaction_lag_ms=60_000)
    _write(lg, rounds=6, keys=10)
    lg.roll()
    _append(lg, _batch([(b"x", b"x")]))
    before = lg.size
    assert not cleaner.clean_once(NOW + 1000)  # every record is younger than the lag
    assert lg.size == before
    assert cleaner.clean_once(NOW + 120_000)
    assert lg.size < before


def test_small_dedupe_buffer_cleans_in_several_passes(tmp_path: Path) -> None:
    logs, lg, cleaner = _setup(tmp_path)
    cleaner.config.dedupe_buffer_size = 1500  # about one segment's keys per pass
    latest = _write(lg, rounds=10, keys=20)
    lg.roll()
    passes = 0
    while cleaner.clean_once(NOW):
        passes += 1
        assert passes < 50
    assert passes > 1
    assert _cleaned_view(lg) == {k: (o, v) for k, (o, v) in latest.items()} and len(_records(lg)) == 20


def test_appends_and_rolls_between_run_and_apply(tmp_path: Path) -> None:
    """The broker appends (and rolls) while a step runs on the worker thread: the swap must still fit."""
    logs, lg, cleaner = _setup(tmp_path)
    _write(lg, rounds=5, keys=20)
    step = cleaner.prepare(NOW)
    assert step is not None
    cleaner.run(step)
    latest = _write(lg, rounds=3, keys=20)  # rolls several new segments meanwhile
    cleaner.apply(step)
    assert _cleaned_view(lg) == {k: (o, v) for k, (o, v) in latest.items()}
    assert cleaner.clean_once(NOW)
    assert _cleaned_view(lg) == {k: (o, v) for k, (o, v) in latest.items()}


def test_segments_deleted_under_a_running_step_drop_the_job(tmp_path: Path) -> None:
    logs, lg, cleaner = _setup(tmp_path, cleanup_policy=("compact", "delete"))
    _write(lg, rounds=5, keys=20)
    step = cleaner.prepare(NOW)
    assert step is not None
    cleaner.run(step)
    lg.delete_oldest_segment()  # retention, on the event loop, between run() and apply()
    cleaner.apply(step)
    assert not list(lg.directory.glob("*.cleaned")) and not list(lg.directory.glob("*.swap"))
    view = _cleaned_view(lg)
    assert cleaner.clean_once(NOW)
    assert _cleaned_view(lg) == view


@pytest.mark.parametrize("crash_after", ["write", "commit", "retire", "finish"])
def test_a_crash_anywhere_in_the_swap_loads_a_consistent_log(tmp_path: Path, crash_after: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    logs, lg, cleaner = _setup(tmp_path, segment_bytes=3000)
    for i in range(10):  # keys written once: the first group keeps them
        _append(lg, _batch([(b"u%d" % i, b"u")]))
    latest = {}
    for _ in range(6):  # small segments (rolled by hand), so groups hold several of them
        lg.roll()
        latest.update(_write(lg, rounds=1, keys=20))
    lg.roll()
    lg.flush()
    assert len(lg.segments) == 8
    expected = _cleaned_view(lg)
    assert len(expected) == 30 and all(expected[k] == latest[k] for k in latest)

    class Crash(BaseException):  # not an Exception: nothing handles it, as nothing outlives a kill -9
        pass

    def crash(*_a: object) -> None:
        raise Crash

    real_retire = swap.retire
    if crash_after == "write":  # the .cleaned files are written, the commit never happens
        monkeypatch.setattr(swap, "commit", crash)
    elif crash_after == "commit":  # the .swap files exist, the old segments are all still there
        monkeypatch.setattr(swap, "retire", crash)
    elif crash_after == "retire":  # part-way through retiring: only the first old segment renamed
        def half_retire(directory: Path, bases: list[int]) -> list[Path]:
            real_retire(directory, bases[:1])
            raise Crash
        monkeypatch.setattr(swap, "retire", half_retire)
    else:
        def half_finish(directory: Path, base: int) -> None:  # the index files renamed, not the .log
            for suffix in swap.SEGMENT_SUFFIXES[:-1]:
                p = swap.segment_path(directory, base, suffix, swap.SWAP)
                if p.exists():
                    os.replace(p, swap.segment_path(directory, base, suffix))
            raise Crash
        monkeypatch.setattr(swap, "finish", half_finish)
    with pytest.raises(Crash):
        cleaner.clean_once(NOW)
    monkeypatch.undo()
    # kill -9 here: nothing closed, nothing flushed beyond what the swap itself fsynced
    reopened = Log(tmp_path / "t-0", "t", 0, lg.config, clean_shutdown=False, recovery_point=0)
    assert _cleaned_view(reopened) == expected
    assert reopened.log_end_offset == 130
    names = [p.name for p in reopened.directory.iterdir()]
    assert not [n for n in names if n.endswith((".cleaned", ".swap", ".deleted"))]
    logs.logs[("t", 0)] = reopened
    fresh = LogCleaner(logs, CleanerConfig())
    fresh.clean_once(NOW)
    assert _cleaned_view(reopened) == expected
    assert len([r for r in _records(reopened) if r[0] < reopened.active.base_offset]) == 30


def test_non_compacted_logs_are_left_alone(tmp_path: Path) -> None:
    logs, lg, cleaner = _setup(tmp_path, cleanup_policy=("delete",))
    _write(lg, rounds=5, keys=10)
    size = lg.size
    assert not cleaner.clean_once(NOW)
    assert lg.size == size


def test_checkpoint_survives_a_restart_and_dies_with_its_partition(tmp_path: Path) -> None:
    logs, lg, cleaner = _setup(tmp_path)
    _write(lg, rounds=5, keys=20)
    assert cleaner.clean_once(NOW)
    again = LogCleaner(logs, CleanerConfig())
    assert not again.clean_once(NOW)  # the checkpoint says everything below the active segment is clean
    assert again.checkpoints[("t", 0)] == lg.active.base_offset
    lg.delete_files()
    logs.logs[("t", 0)] = Log(tmp_path / "t-0", "t", 0, lg.config)  # the topic, deleted and created again
    assert again.prepare(NOW) is None
    assert ("t", 0) not in again.checkpoints and read_offsets(tmp_path / CHECKPOINT_FILE) == {}


def test_a_failed_swap_marks_the_log_uncleanable_and_keeps_it_readable(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    logs, lg, cleaner = _setup(tmp_path)
    latest = _write(lg, rounds=5, keys=20)

    def disk_full(directory: Path, base: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(swap, "commit", disk_full)
    cleaner.clean_once(NOW)
    assert ("t", 0) in cleaner.uncleanable
    assert not cleaner.clean_once(NOW)  # no retry until a restart
    assert _cleaned_view(lg) == {k: (o, v) for k, (o, v) in latest.items()}
    assert not list(lg.directory.glob("*.cleaned"))


def test_io_max_bytes_per_second_paces_the_cleaner() -> None:
    import time

    from brook.log.cleaning import Throttler

    t = Throttler(1_000_000)
    start = time.monotonic()
    for _ in range(50):
        t.note(10_000)  # 500 kB at 1 MB/s
    assert time.monotonic() - start >= 0.45


@pytest.mark.parametrize("seed", range(6))
def test_random_workloads_match_a_model(tmp_path: Path, seed: int) -> None:
    """Random batches (codecs, tombstones, batch sizes), rolls, restarts and passes at random times: a consumer
    reading everything always ends with the model's latest value for every live key, at that value's offset."""
    import random
    import time

    rng = random.Random(seed)
    logs, lg, cleaner = _setup(tmp_path, segment_bytes=rng.choice([600, 1500, 4000]), delete_retention_ms=DAY)
    model: dict[bytes, tuple[int, bytes | None]] = {}
    real_now = int(time.time() * 1000)
    for _ in range(120):
        op = rng.random()
        if op < 0.75:
            pairs = [(b"k%d" % rng.randrange(30), None if rng.random() < 0.15 else b"v%d" % rng.randrange(10**6))
                     for _ in range(rng.randrange(1, 6))]
            base = _append(lg, _batch(pairs, codec=rng.choice([0, 0, 1, 2, 3, 4])))
            for i, (k, v) in enumerate(pairs):
                model[k] = (base + i, v)
        elif op < 0.85:
            lg.roll()
        elif op < 0.97:
            cleaner.clean_once(real_now + rng.choice([0, 0, 2 * DAY]))
        else:
            lg.close()
            lg = Log(tmp_path / "t-0", "t", 0, lg.config)
            lg.update_high_watermark(lg.log_end_offset)
            logs.logs[("t", 0)] = lg
        view = _cleaned_view(lg)
        assert {k: ov for k, ov in view.items() if ov[1] is not None} == \
            {k: ov for k, ov in model.items() if ov[1] is not None}
        assert all(view[k] == model[k] for k in view if view[k][1] is None)  # a tombstone shown is the latest
    offsets = [o for o, _k, _v in _records(lg)]
    assert offsets == sorted(set(offsets))
