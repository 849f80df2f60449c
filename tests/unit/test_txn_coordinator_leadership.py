"""The transaction coordinator as a cluster runs it: it owns the transactional ids of the __transaction_state
partitions it loaded (NOT_COORDINATOR for the others, and after unloading), markers are sent to the partitions'
leaders asynchronously (the transaction waits in PrepareCommit, requests meanwhile answer CONCURRENT_TRANSACTIONS),
and a partition loaded with a transaction in PrepareCommit sends its markers again and completes it."""

from __future__ import annotations

import time

from brook.coordinator.txn.coordinator import TransactionCoordinator, TxnConfig, TxnState
from brook.errors import ErrorCode


class Sender:
    """write_markers of a cluster: records what was asked, answers None (the markers are on their way)."""

    def __init__(self) -> None:
        self.sent: list[tuple] = []

    def __call__(self, pid: int, epoch: int, commit: bool, partitions: set, txn_id: str, coordinator_epoch: int):
        self.sent.append((txn_id, pid, epoch, commit, frozenset(partitions), coordinator_epoch))


def coordinator(log: list, sender: Sender) -> TransactionCoordinator:
    ids = iter(range(1000, 2000))
    return TransactionCoordinator(TxnConfig(), lambda t, k, v: log.append((k, v)), sender, lambda: next(ids),
                                  time.time, partition_for=lambda txn_id: 0 if txn_id.startswith("a") else 1)


def test_only_loaded_partitions_are_coordinated_and_markers_complete_later() -> None:
    log: list = []
    sender = Sender()
    c = coordinator(log, sender)
    c.loading(0, coordinator_epoch=4)
    assert c.init_producer_id("b-txn", 10_000) == (ErrorCode.not_coordinator, -1, -1)  # partition 1: elsewhere
    err, pid, epoch = c.init_producer_id("a-txn", 10_000)
    assert err == ErrorCode.none
    assert c.add_partitions("a-txn", pid, epoch, [("t", 0), ("t", 1)]) == ErrorCode.none
    assert c.end_txn("a-txn", pid, epoch, commit=True) == ErrorCode.none  # answered once PrepareCommit is stored
    assert c.txns["a-txn"].state is TxnState.PREPARE_COMMIT
    assert sender.sent == [("a-txn", pid, epoch, True, frozenset({("t", 0), ("t", 1)}), 4)]
    assert c.add_partitions("a-txn", pid, epoch, [("t", 0)]) == ErrorCode.concurrent_transactions
    assert c.end_txn("a-txn", pid, epoch, commit=True) == ErrorCode.concurrent_transactions  # no second send
    assert c.init_producer_id("a-txn", 10_000)[0] == ErrorCode.concurrent_transactions
    assert len(sender.sent) == 1
    c.markers_written("a-txn", pid, epoch, commit=True, coordinator_epoch=4)
    assert c.txns["a-txn"].state is TxnState.COMPLETE_COMMIT
    assert c.end_txn("a-txn", pid, epoch, commit=True) == ErrorCode.none  # a retry of the completed commit
    assert c.unload_partition(0) == ["a-txn"]
    assert c.end_txn("a-txn", pid, epoch, commit=True) == ErrorCode.not_coordinator


def test_a_new_coordinator_finishes_a_prepared_transaction_after_loading() -> None:
    log: list = []
    old_sender = Sender()
    old = coordinator(log, old_sender)
    old.loading(0, coordinator_epoch=0)
    _, pid, epoch = old.init_producer_id("a-txn", 10_000)
    old.add_partitions("a-txn", pid, epoch, [("t", 2)])
    old.end_txn("a-txn", pid, epoch, commit=False)  # PrepareAbort stored; then the broker dies
    sender = Sender()
    new = coordinator([], sender)
    new.loading(0, coordinator_epoch=1)
    for key, value in log:  # what the new leader's replica of the partition holds
        new.replay(key, value)
    new.recover(0)
    assert sender.sent == [("a-txn", pid, epoch, False, frozenset({("t", 2)}), 1)]  # the new coordinator epoch
    new.markers_written("a-txn", pid, epoch, commit=False, coordinator_epoch=0)  # an old sending's answer: ignored
    assert new.txns["a-txn"].state is TxnState.PREPARE_ABORT and "a-txn" in new.sending
    new.markers_written("a-txn", pid, epoch, commit=False, coordinator_epoch=1)
    assert new.txns["a-txn"].state is TxnState.COMPLETE_ABORT
    err, pid2, epoch2 = new.init_producer_id("a-txn", 10_000)  # the producer carries on with a bumped epoch
    assert (err, pid2, epoch2) == (ErrorCode.none, pid, epoch + 1)


def test_markers_of_a_partition_lost_meanwhile_do_not_complete_the_transaction() -> None:
    sender = Sender()
    c = coordinator([], sender)
    c.loading(0, coordinator_epoch=2)
    _, pid, epoch = c.init_producer_id("a-txn", 10_000)
    c.add_partitions("a-txn", pid, epoch, [("t", 0)])
    c.end_txn("a-txn", pid, epoch, commit=True)
    c.unload_partition(0)
    c.markers_written("a-txn", pid, epoch, commit=True, coordinator_epoch=2)  # too late: coordinated elsewhere now
    assert "a-txn" not in c.txns and not c.sending
