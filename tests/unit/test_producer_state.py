"""Idempotent producer state: duplicates acknowledged with their original offset, sequence gaps and stale
epochs rejected with Kafka's codes, snapshots that survive a restart."""

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


def batch(pid: int, epoch: int, seq: int, count: int = 3) -> bytes:
    now = datetime.datetime.now(datetime.UTC)
    buf = io.BytesIO()
    write_new_batch(buf, NewRecordBatch(producer_id=pid, producer_epoch=epoch, base_sequence=seq, attributes=0,
                                        records=tuple(Record(attributes=0, timestamp=now, offset=i, key=None,
                                                             value=b"v%d" % i, headers=()) for i in range(count))))
    return buf.getvalue()


def append(lg: Log, data: bytes):  # type: ignore[no-untyped-def]
    return lg.append(data, read_header(data), 0, int(time.time() * 1000))


@pytest.fixture
def lg(tmp_path) -> Log:
    return Log(tmp_path / "t-0", "t", 0, LogConfig())


def test_retried_batch_is_acknowledged_with_its_original_offset(lg):
    first = append(lg, batch(7, 0, 0))
    append(lg, batch(7, 0, 3))
    retry = append(lg, batch(7, 0, 0))
    assert retry.duplicate and retry.base_offset == first.base_offset == 0
    assert lg.log_end_offset == 6


def test_sequence_gap_is_out_of_order(lg):
    append(lg, batch(7, 0, 0))
    with pytest.raises(KafkaError) as e:
        append(lg, batch(7, 0, 5))
    assert e.value.code == ErrorCode.out_of_order_sequence_number
    assert lg.log_end_offset == 3


def test_stale_epoch_is_fenced_and_a_new_epoch_starts_at_zero(lg):
    append(lg, batch(7, 1, 0))
    with pytest.raises(KafkaError) as e:
        append(lg, batch(7, 0, 3))
    assert e.value.code == ErrorCode.invalid_producer_epoch
    with pytest.raises(KafkaError) as e:
        append(lg, batch(7, 2, 3))
    assert e.value.code == ErrorCode.out_of_order_sequence_number
    assert not append(lg, batch(7, 2, 0)).duplicate


def test_state_survives_restart_through_snapshot_and_replay(tmp_path):
    lg = Log(tmp_path / "t-0", "t", 0, LogConfig())
    append(lg, batch(7, 0, 0))
    lg.close(snapshot=True)
    lg = Log(tmp_path / "t-0", "t", 0, LogConfig())
    append(lg, batch(7, 0, 3))
    lg.close()  # no snapshot: as after kill -9, the last batch is replayed from the log
    lg = Log(tmp_path / "t-0", "t", 0, LogConfig(), clean_shutdown=False)
    assert append(lg, batch(7, 0, 3)).duplicate
    with pytest.raises(KafkaError):
        append(lg, batch(7, 0, 9))


def test_marker_checks_producer_and_coordinator_epochs(lg):
    # ProducerAppendInfo.appendEndTxnMarker: checkProducerEpoch, then checkCoordinatorEpoch; the marker's
    # coordinator epoch is kept (and snapshotted) for the next marker's check
    append(lg, batch(7, 2, 0))
    with pytest.raises(KafkaError) as e:
        lg.append_marker(7, 1, False, 0, 0, int(time.time() * 1000))
    assert e.value.code == ErrorCode.invalid_producer_epoch
    assert e.value.message == "Epoch of producer 7 at offset 3 in t-0 is 1, which is smaller than the last seen epoch 2"
    assert lg.append_marker(7, 2, False, 3, 0, int(time.time() * 1000)) == 3
    assert lg.producer_state.producers[7].coordinator_epoch == 3
    with pytest.raises(KafkaError) as e:
        lg.append_marker(7, 2, True, 2, 0, int(time.time() * 1000))
    assert e.value.code == ErrorCode.transaction_coordinator_fenced
    assert e.value.message == ("Invalid coordinator epoch for producerId 7 at offset 4 in partition t-0: 2 (zombie), "
                               "3 (current)")
    assert lg.log_end_offset == 4  # rejected markers write nothing
