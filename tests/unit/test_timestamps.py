"""message.timestamp.type and KIP-937's timestamp bounds, at append time."""

from __future__ import annotations

import datetime
import io
import time

import pytest
from kio.records.schema import NewRecordBatch, Record
from kio.records.writers import write_new_batch

from brook.errors import ErrorCode, KafkaError
from brook.log.config import LogConfig
from brook.log.log import Log
from brook.protocol.records.batch import read_header


def batch_at(ts_ms: int) -> bytes:
    when = datetime.datetime.fromtimestamp(ts_ms / 1000, datetime.UTC)
    buf = io.BytesIO()
    write_new_batch(buf, NewRecordBatch(producer_id=-1, producer_epoch=-1, base_sequence=-1, attributes=0, records=(
        Record(attributes=0, timestamp=when, offset=0, key=b"k", value=b"v", headers=()),)))
    return buf.getvalue()


def append(lg: Log, data: bytes, now: int):  # type: ignore[no-untyped-def]
    return lg.append(data, read_header(data), 0, now)


def test_before_and_after_bounds_reject_out_of_range_create_times(tmp_path):
    lg = Log(tmp_path / "t-0", "t", 0, LogConfig(message_timestamp_before_max_ms=60_000,
                                                  message_timestamp_after_max_ms=1_000))
    now = int(time.time() * 1000)
    append(lg, batch_at(now - 30_000), now)
    for ts in (now - 120_000, now + 10_000):
        with pytest.raises(KafkaError) as e:
            append(lg, batch_at(ts), now)
        assert e.value.code == ErrorCode.invalid_timestamp
    assert lg.log_end_offset == 1


def test_difference_max_ms_stands_in_for_both_bounds(tmp_path):
    lg = Log(tmp_path / "t-0", "t", 0, LogConfig(message_timestamp_difference_max_ms=5_000))
    now = int(time.time() * 1000)
    with pytest.raises(KafkaError):
        append(lg, batch_at(now + 60_000), now)
    append(lg, batch_at(now + 1_000), now)


def test_log_append_time_rewrites_the_batch_timestamp_and_keeps_a_valid_crc(tmp_path):
    from brook.protocol.records.batch import validate_produced

    lg = Log(tmp_path / "t-0", "t", 0, LogConfig(message_timestamp_type="LogAppendTime"))
    now = int(time.time() * 1000)
    info = append(lg, batch_at(1000), now)
    assert info.log_append_time == now
    stored = lg.read(0, 10_000, lg.log_end_offset)
    h = validate_produced(stored, 10**6)  # CRC still right after the rewrite
    assert h.max_timestamp == now and h.log_append_time
