"""Retention picks whole non-active segments, oldest first, by time, size and log start offset."""

from __future__ import annotations

import io
import time

from kio.records.schema import NewRecordBatch, Record
from kio.records.writers import write_new_batch

from brook.log.config import LogConfig
from brook.log.log import Log
from brook.log.retention import apply_retention
from brook.protocol.records.batch import read_header


def _batch(ts_ms: int, size: int = 200) -> bytes:
    import datetime

    when = datetime.datetime.fromtimestamp(ts_ms / 1000, datetime.UTC)
    buf = io.BytesIO()
    write_new_batch(buf, NewRecordBatch(producer_id=-1, producer_epoch=-1, base_sequence=-1, attributes=0, records=(
        Record(attributes=0, timestamp=when, offset=0, key=b"k", value=b"v" * size, headers=()),)))
    return buf.getvalue()


def _log(tmp_path, **cfg) -> Log:
    return Log(tmp_path / "t-0", "t", 0, LogConfig(segment_bytes=600, **cfg))


def _fill(lg: Log, timestamps: list[int]) -> None:
    for ts in timestamps:
        data = _batch(ts)
        lg.append(data, read_header(data), 0, int(time.time() * 1000))
        lg.update_high_watermark(lg.log_end_offset)  # as the partition does: a lone replica is the whole ISR


def test_time_retention_deletes_only_expired_non_active_segments(tmp_path):
    now = int(time.time() * 1000)
    lg = _log(tmp_path, retention_ms=60_000)
    _fill(lg, [now - 600_000] * 4 + [now] * 4)  # two per segment: 4 segments, two of them old
    assert len(lg.segments) == 4
    assert apply_retention(lg, now) == 2
    assert lg.log_start_offset == 4 and lg.segments[0].base_offset == 4
    assert lg.read(4, 10_000, lg.log_end_offset)  # what is left still reads


def test_size_retention_keeps_the_newest_bytes(tmp_path):
    now = int(time.time() * 1000)
    lg = _log(tmp_path, retention_bytes=1000, retention_ms=-1)
    _fill(lg, [now] * 8)
    seg_size = lg.segments[0].size
    expected = 0
    total = lg.size
    while total - seg_size >= 1000:
        total -= seg_size
        expected += 1
    assert expected >= 1
    assert apply_retention(lg, now) == expected
    assert lg.size - lg.segments[0].size < 1000 <= lg.size


def test_active_segment_and_compacted_topics_are_kept(tmp_path):
    now = int(time.time() * 1000)
    lg = _log(tmp_path, retention_ms=1, cleanup_policy=("compact",))
    _fill(lg, [now - 600_000] * 4)
    assert apply_retention(lg, now) == 0
    lg.config.cleanup_policy = ("delete",)
    assert apply_retention(lg, now) == 1
    assert len(lg.segments) == 1 and lg.log_start_offset == 2


def test_segments_below_the_log_start_offset_go(tmp_path):
    now = int(time.time() * 1000)
    lg = _log(tmp_path, retention_ms=-1)
    _fill(lg, [now] * 6)
    lg.log_start_offset = 4  # as DeleteRecords leaves it
    assert apply_retention(lg, now) == 2
    assert lg.segments[0].base_offset == 4


def test_retired_segments_wait_file_delete_delay_then_go(tmp_path):
    now = int(time.time() * 1000)
    lg = _log(tmp_path, retention_ms=60_000, file_delete_delay_ms=30_000)
    _fill(lg, [now - 600_000] * 4 + [now] * 4)
    assert apply_retention(lg, now) == 2
    retired = sorted(p.name for p in (tmp_path / "t-0").glob("*.deleted"))
    assert retired and all(".log.deleted" in n or ".index.deleted" in n or "timeindex.deleted" in n for n in retired)
    assert lg.purge_deleted(now + 1_000) == 0  # file.delete.delay.ms not over yet
    assert lg.purge_deleted(time.time() * 1000 + 31_000) == len(retired)
    assert not list((tmp_path / "t-0").glob("*.deleted"))


def test_retention_keeps_segments_at_or_past_the_high_watermark(tmp_path):
    """Kafka deletes only segments wholly below the high watermark: what followers have not fetched stays."""
    now = int(time.time() * 1000)
    lg = _log(tmp_path, retention_ms=60_000)
    _fill(lg, [now - 600_000] * 6 + [now] * 2)
    lg.update_high_watermark(3)  # as if followers had fetched only the first three records
    assert apply_retention(lg, now) == 1  # [0, 2) goes; [2, 4) holds offset 3, not yet replicated
    assert lg.log_start_offset == 2
