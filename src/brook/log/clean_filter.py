"""What the cleaner keeps of one batch (Kafka's LogCleaner.cleanInto filter and MemoryRecords.filterTo), with
KIP-534's delete horizon.

The first time a cleaning keeps a tombstone, or a transaction marker whose transaction has no data left, the batch
is rewritten with deleteHorizonMs = now + delete.retention.ms in its base timestamp field and attribute bit 6 set
(the records' timestamp deltas become relative to the horizon, so every record keeps its timestamp). A later
cleaning at or past the horizon drops the tombstones, and the marker batch. A batch rewritten without a horizon
starts at its first kept record's timestamp, as Kafka's MemoryRecordsBuilder does.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from crc32c import crc32c
from kio.serial.writers import write_signed_varint, write_signed_varlong

from brook.protocol.records.batch import (
    ATTRIBUTES_OFFSET,
    COMPRESSION_MASK,
    CONTROL_FLAG,
    CRC_OFFSET,
    DELETE_HORIZON_FLAG,
    HEADER_SIZE,
    LOG_OVERHEAD,
    TIMESTAMP_TYPE_FLAG,
    TRANSACTIONAL_FLAG,
    BatchHeader,
    pack_header,
)
from brook.protocol.records.compression import compress, decompress
from brook.protocol.records.control import ABORT, COMMIT, marker_type
from brook.protocol.records.records import read_varint, record_spans

from .txn_index import AbortedTxn


class CleanedTxns:
    """Kafka's CleanedTransactionMetadata, fed every batch of a pass in offset order: tells whether a data batch
    belongs to an aborted transaction and whether a marker's transaction has no batch left (so the marker may go
    once its horizon passes); collects the aborted-transaction index entries the cleaned segments keep."""

    def __init__(self, aborted: list[AbortedTxn]) -> None:
        self._pending = sorted(aborted, key=lambda t: t.first_offset)
        self._next = 0
        self._committed: set[int] = set()  # producers whose open committed transaction still has batches
        self._aborted: dict[int, list] = {}  # producer id -> [its open aborted txn, whether a batch of it was seen]
        self.index_out: list[AbortedTxn] = []  # entries for the group being cleaned (drained by clean_group)

    def _consume(self, offset: int) -> None:
        pending = self._pending
        while self._next < len(pending) and pending[self._next].first_offset <= offset:
            t = pending[self._next]
            self._aborted.setdefault(t.producer_id, [t, False])
            self._next += 1

    def on_batch(self, h: BatchHeader) -> bool:
        """A data batch; True when it belongs to an aborted transaction (it may be discarded)."""
        self._consume(h.last_offset)
        if not h.is_transactional:
            return False
        open_abort = self._aborted.get(h.producer_id)
        if open_abort is not None:
            open_abort[1] = True
            return True
        self._committed.add(h.producer_id)
        return False

    def on_marker(self, h: BatchHeader, key: bytes | None) -> bool:
        """A control batch (key: its first record's, None when it has none); True when it may be discarded."""
        self._consume(h.last_offset)
        if key is None:
            return True  # emptied by an earlier cleaning
        kind = marker_type(key)
        if kind == ABORT:
            open_abort = self._aborted.pop(h.producer_id, None)
            if open_abort is not None and open_abort[1]:
                self.index_out.append(open_abort[0])  # its (emptied) batches are still there: the entry stays
                return False
            return True
        if kind == COMMIT:
            if h.producer_id in self._committed:
                self._committed.discard(h.producer_id)
                return False
            return True
        return False


@dataclass(slots=True)
class FilterContext:
    offset_map: dict[bytes, int]
    now_ms: int
    delete_retention_ms: int
    producer_last_offsets: dict[int, int]  # producer id -> last offset of its newest data batch
    producer_marker_epochs: dict[int, int]  # producers with no data batch: the epoch of their newest marker
    txns: CleanedTxns = field(default_factory=lambda: CleanedTxns([]))

    def last_of_producer(self, h: BatchHeader) -> bool:
        """Kafka's isBatchLastRecordOfProducer: the batch holding an active producer's last sequence (or, with no
        data batch left, its newest marker) stays, maybe emptied, so its state survives a reload."""
        last = self.producer_last_offsets.get(h.producer_id)
        if last is not None:
            return h.last_offset == last
        return h.is_control and self.producer_marker_epochs.get(h.producer_id) == h.producer_epoch


def delete_horizon(h: BatchHeader) -> int | None:
    return h.base_timestamp if h.attributes & DELETE_HORIZON_FLAG else None


def filter_batch(ctx: FilterContext, h: BatchHeader, batch: memoryview) -> tuple[memoryview | bytes | None, int | None]:
    """(what to write: the batch itself when unchanged, a rebuilt batch, or None; the delete horizon of what is
    written when a tombstone or a removable marker waits for it, else None)."""
    horizon = delete_horizon(h)
    body: bytes = b""
    spans: list = []
    if h.is_control:
        if h.records_count:
            body, spans = _records(h, batch)
        can_discard = ctx.txns.on_marker(h, spans[0][4] if spans else None)
        discard_records = can_discard and horizon is not None and horizon <= ctx.now_ms
    else:
        can_discard = discard_records = ctx.txns.on_batch(h)
    retain_empty = h.producer_id >= 0 and ctx.last_of_producer(h)
    if discard_records and not retain_empty:
        return None, None
    kept: list = []
    tombstone = False
    if not discard_records and h.records_count:
        if not spans:
            body, spans = _records(h, batch)
        if h.is_control:
            kept = spans
        else:
            m = ctx.offset_map
            base = h.base_offset
            drop_tombstones = horizon is not None and ctx.now_ms >= horizon
            for span in spans:
                key = span[4]
                if key is None:  # a compacted log keeps keyed records only (Kafka counts these as invalid)
                    continue
                latest = m.get(key)
                if latest is not None and base + span[2] < latest:
                    continue
                if span[5]:
                    if drop_tombstones:
                        continue
                    tombstone = True
                kept.append(span)
    if kept:
        waits = tombstone or (can_discard and h.is_control)
        if waits and horizon is None:
            horizon = ctx.now_ms + ctx.delete_retention_ms
            return _rebuild(h, body, kept, horizon), horizon
        out = batch if len(kept) == h.records_count else _rebuild(h, body, kept, horizon)
        return out, horizon if waits else None
    if retain_empty:
        return (batch if h.records_count == 0 and horizon is None else _empty(h)), None
    return None, None


def _records(h: BatchHeader, batch: memoryview) -> tuple[bytes, list]:
    body = decompress(h.attributes & COMPRESSION_MASK, bytes(batch[HEADER_SIZE:]))
    return body, record_spans(body, h.records_count)


def _zigzag(write, n: int) -> bytes:
    buf = io.BytesIO()
    write(buf, n)
    return buf.getvalue()


def _with_crc(header: BatchHeader, payload: bytes) -> bytes:
    buf = bytearray(pack_header(header))
    buf += payload
    buf[CRC_OFFSET:ATTRIBUTES_OFFSET] = crc32c(memoryview(buf)[ATTRIBUTES_OFFSET:]).to_bytes(4, "big")
    return bytes(buf)


def _rebuild(h: BatchHeader, body: bytes, kept: list, horizon: int | None) -> bytes:
    """Kafka's buildRetainedRecordsInto: the kept records, the base timestamp the horizon (bit 6 set) or else the
    first kept record's timestamp, each record's timestamp delta relative to it (a record is copied byte for byte
    when its delta does not change); same base offset, last offset delta (a producer's sequence numbers stay valid),
    producer fields and codec."""
    append_time = h.log_append_time
    first_ts = h.max_timestamp if append_time else h.base_timestamp + kept[0][3]
    new_base = horizon if horizon is not None else first_ts
    parts = []
    max_ts = -1
    for start, end, _delta, ts_delta, _key, _dead in kept:
        ts = h.max_timestamp if append_time else h.base_timestamp + ts_delta
        max_ts = max(max_ts, ts)
        new_delta = ts - new_base
        if new_delta == ts_delta:
            parts.append(body[start:end])
            continue
        _length, p = read_varint(body, start)
        _old, rest = read_varint(body, p + 1)  # after the record's attributes byte
        inner = body[p : p + 1] + _zigzag(write_signed_varlong, new_delta) + body[rest:end]  # a varlong
        parts.append(_zigzag(write_signed_varint, len(inner)) + inner)
    payload = compress(h.attributes & COMPRESSION_MASK, b"".join(parts))
    attributes = h.attributes & ~DELETE_HORIZON_FLAG | (DELETE_HORIZON_FLAG if horizon is not None else 0)
    new = BatchHeader(h.base_offset, HEADER_SIZE - LOG_OVERHEAD + len(payload), h.partition_leader_epoch, 2, 0,
                      attributes, h.last_offset_delta, new_base, h.max_timestamp if append_time else max_ts,
                      h.producer_id, h.producer_epoch, h.base_sequence, len(kept))
    return _with_crc(new, payload)


def _empty(h: BatchHeader) -> bytes:
    """Kafka's writeEmptyHeader: a producer's last batch keeps its header (and so its sequence numbers) when all
    its records are cleaned away, or the producer's next retry would look out of sequence after a reload. No codec,
    no horizon; both timestamps the batch's max timestamp."""
    attributes = h.attributes & (TIMESTAMP_TYPE_FLAG | TRANSACTIONAL_FLAG | CONTROL_FLAG)
    new = BatchHeader(h.base_offset, HEADER_SIZE - LOG_OVERHEAD, h.partition_leader_epoch, 2, 0, attributes,
                      h.last_offset_delta, h.max_timestamp, h.max_timestamp, h.producer_id, h.producer_epoch,
                      h.base_sequence, 0)
    return _with_crc(new, b"")
