"""Control batches: transaction markers (COMMIT / ABORT), Kafka's EndTransactionMarker records, built with kio.

A marker is a batch with the transactional and control attribute bits, one record whose key is
(version i16 = 0, type i16: 0 abort, 1 commit) and whose value is (version i16 = 0, coordinator epoch i32).
"""

from __future__ import annotations

import struct
import time

from .batch import CONTROL_FLAG, TRANSACTIONAL_FLAG
from .builder import build_batch

ABORT, COMMIT = 0, 1
_KEY = struct.Struct(">hh")
_VALUE = struct.Struct(">hi")


def marker_batch(producer_id: int, producer_epoch: int, commit: bool, coordinator_epoch: int = 0) -> bytes:
    return build_batch([(_KEY.pack(0, COMMIT if commit else ABORT), _VALUE.pack(0, coordinator_epoch))],
                       int(time.time() * 1000), TRANSACTIONAL_FLAG | CONTROL_FLAG, producer_id, producer_epoch)


def marker_type(key: bytes) -> int:
    return _KEY.unpack_from(key, 0)[1]
