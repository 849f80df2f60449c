"""Expiry of idle transactional ids (transactional.id.expiration.ms) and producer ids (producer.id.expiration.ms)."""

from __future__ import annotations

from brook.coordinator.txn.coordinator import TransactionCoordinator, TxnConfig
from brook.errors import ErrorCode
from brook.log.producer_state import BatchMetadata, ProducerEntry, ProducerStateManager


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_idle_transactional_ids_expire_open_ones_stay(tmp_path):
    clock = Clock()
    written = []
    ids = iter(range(100))
    c = TransactionCoordinator(TxnConfig(expiration_ms=60_000), lambda t, k, v: written.append((t, v)),
                               lambda *a: None, lambda: next(ids), clock)
    assert c.init_producer_id("idle", 10_000)[0] == ErrorCode.none
    err, pid, epoch = c.init_producer_id("open", 10_000)
    assert c.add_partitions("open", pid, epoch, [("t", 0)]) == ErrorCode.none
    clock.now += 120
    assert c.expire_transactional_ids() == ["idle"]
    assert "idle" not in c.txns and "open" in c.txns
    assert written[-1] == ("idle", None)  # a tombstone in __transaction_state


def test_idle_producer_ids_expire_unless_in_a_transaction(tmp_path):
    m = ProducerStateManager(tmp_path)
    m.producers[1] = ProducerEntry(1, 0)
    m.producers[1].batches.append(BatchMetadata(0, 0, 0, 0, 1_000))
    m.producers[2] = ProducerEntry(2, 0, current_txn_first_offset=5)
    m.producers[2].batches.append(BatchMetadata(0, 0, 5, 0, 1_000))
    m.expire(now_ms=100_000, expiration_ms=50_000)
    assert list(m.producers) == [2]
