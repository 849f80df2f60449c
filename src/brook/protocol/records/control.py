"""Control batches: transaction markers (COMMIT / ABORT), Kafka's EndTransactionMarker records, built with kio.

A marker is a batch with the transactional and control attribute bits, one record whose key is
(version i16 = 0, type i16: 0 abort, 1 commit) and whose value is (version i16 = 0, coordinator epoch i32).
"""

from __future__ import annotations

import datetime
import io
import struct

from kio.records.schema import NewRecordBatch, Record
from kio.records.writers import write_new_batch

from .batch import CONTROL_FLAG, TRANSACTIONAL_FLAG

ABORT, COMMIT = 0, 1
_KEY = struct.Struct(">hh")
_VALUE = struct.Struct(">hi")


def marker_batch(producer_id: int, producer_epoch: int, commit: bool, coordinator_epoch: int = 0) -> bytes:
    now = datetime.datetime.now(datetime.UTC)
    record = Record(attributes=0, timestamp=now, offset=0, key=_KEY.pack(0, COMMIT if commit else ABORT),
                    value=_VALUE.pack(0, coordinator_epoch), headers=())
    buf = io.BytesIO()
    write_new_batch(buf, NewRecordBatch(producer_id=producer_id, producer_epoch=producer_epoch, base_sequence=-1,
                                        attributes=TRANSACTIONAL_FLAG | CONTROL_FLAG, records=(record,)))
    return buf.getvalue()


def marker_type(key: bytes) -> int:
    return _KEY.unpack_from(key, 0)[1]
