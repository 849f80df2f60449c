"""Coordinators on a log that refuses writes (a full disk): Kafka's GroupMetadataManager and
TransactionStateManager answer NOT_COORDINATOR and keep only what their log holds, so a retry after the disk
has room again starts from the stored state."""

from __future__ import annotations

import time

from brook.coordinator.txn.coordinator import TransactionCoordinator, TxnConfig, TxnState
from brook.errors import ErrorCode, KafkaError


class Log:
    """The coordinator runtime's append as the coordinators see it: KafkaError(NOT_COORDINATOR) while full."""

    def __init__(self) -> None:
        self.full = False
        self.records: list[tuple] = []

    def __call__(self, *record: object) -> None:
        if self.full:
            raise KafkaError(ErrorCode.not_coordinator, "Error while appending records to t-0 in dir /d")
        self.records.append(record)


class Markers:
    def __init__(self) -> None:
        self.full = False
        self.written: list[tuple] = []

    def __call__(self, pid: int, epoch: int, commit: bool, partitions: set, *_: object) -> dict:
        if self.full:
            return {tp: ErrorCode.kafka_storage_error for tp in partitions}
        self.written.append((pid, commit, frozenset(partitions)))
        return {tp: ErrorCode.none for tp in partitions}


def test_transaction_state_follows_what_the_log_holds() -> None:
    log, markers, ids = Log(), Markers(), iter(range(100))
    c = TransactionCoordinator(TxnConfig(), log, markers, lambda: next(ids), time.time)
    log.full = True
    assert c.init_producer_id("new", 10_000) == (ErrorCode.not_coordinator, -1, -1)
    assert "new" not in c.txns  # never stored: unknown, as if never asked
    log.full = False
    err, pid, epoch = c.init_producer_id("tx", 10_000)
    assert err == ErrorCode.none
    assert c.add_partitions("tx", pid, epoch, [("t", 0)]) == ErrorCode.none
    log.full = True
    assert c.add_partitions("tx", pid, epoch, [("t", 1)]) == ErrorCode.not_coordinator
    assert c.txns["tx"].partitions == {("t", 0)}
    assert c.end_txn("tx", pid, epoch, commit=True) == ErrorCode.not_coordinator
    assert c.txns["tx"].state is TxnState.ONGOING and not markers.written
    log.full = False
    markers.full = True  # PrepareCommit is stored, a marker is refused: the transaction waits in PrepareCommit
    assert c.end_txn("tx", pid, epoch, commit=True) == ErrorCode.not_coordinator
    assert c.txns["tx"].state is TxnState.PREPARE_COMMIT
    assert c.end_txn("tx", pid, epoch, commit=False) == ErrorCode.concurrent_transactions
    markers.full = False
    assert c.end_txn("tx", pid, epoch, commit=True) == ErrorCode.none  # the client's retry writes the markers
    assert c.txns["tx"].state is TxnState.COMPLETE_COMMIT
    assert markers.written == [(pid, True, frozenset({("t", 0)}))]


def test_stuck_markers_are_retried_by_the_periodic_check() -> None:
    log, markers, ids = Log(), Markers(), iter(range(100))
    c = TransactionCoordinator(TxnConfig(), log, markers, lambda: next(ids), time.time)
    _, pid, epoch = c.init_producer_id("tx", 10_000)
    c.add_partitions("tx", pid, epoch, [("t", 0)])
    markers.full = True
    assert c.end_txn("tx", pid, epoch, commit=False) == ErrorCode.not_coordinator
    assert c.abort_timed_out() == []  # still refused: nothing raised out of the check
    markers.full = False
    c.abort_timed_out()
    assert c.txns["tx"].state is TxnState.COMPLETE_ABORT


# The group coordinator's side: tests/unit/test_group_coordinator.py (a log that refuses writes).
