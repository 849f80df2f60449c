"""Transaction coordinator state machine (Kafka's TransactionCoordinator / TransactionMetadata).

A single broker writes the markers synchronously (`write_markers` answers their errors), so a transaction passes
through PrepareCommit/PrepareAbort and reaches CompleteCommit/CompleteAbort within one request. In a cluster the
markers go to the partitions' leaders over the network: `write_markers` answers None, the transaction waits in its
Prepare state (requests meanwhile answer CONCURRENT_TRANSACTIONS, as Kafka's) and the broker calls
`markers_written` once every leader has them (Kafka's TransactionMarkerChannelManager). Both steps are persisted,
so a new coordinator finishes the job after loading (`recover`).

In a cluster the coordinator owns the transactional ids of the __transaction_state partitions it leads
(`loading` / `unload_partition`, with the partition's leader epoch as the coordinator epoch); others
answer NOT_COORDINATOR.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from brook.errors import ErrorCode, KafkaError
from brook.protocol.coordinator_records import TransactionLogKey, TransactionLogValue

MAX_EPOCH = 32767 - 1  # Short.MaxValue - 1: one more bump needs a new producer id (KIP-360)


class TxnState(enum.Enum):
    EMPTY = 0
    ONGOING = 1
    PREPARE_COMMIT = 2
    PREPARE_ABORT = 3
    COMPLETE_COMMIT = 4
    COMPLETE_ABORT = 5
    DEAD = 6
    PREPARE_EPOCH_FENCE = 7

    @property
    def kafka_name(self) -> str:
        return "".join(w.capitalize() for w in self.name.split("_"))


@dataclass
class TxnMetadata:
    transactional_id: str
    producer_id: int
    producer_epoch: int
    timeout_ms: int
    state: TxnState = TxnState.EMPTY
    partitions: set[tuple[str, int]] = field(default_factory=set)
    last_producer_epoch: int = -1
    start_ms: int = -1
    last_update_ms: int = -1

    def value(self) -> TransactionLogValue:
        grouped: dict[str, list[int]] = {}
        for t, p in sorted(self.partitions):
            grouped.setdefault(t, []).append(p)
        parts = None if self.state is TxnState.EMPTY else tuple((t, tuple(ps)) for t, ps in grouped.items())
        return TransactionLogValue(self.producer_id, self.producer_epoch, self.timeout_ms, self.state.value, parts,
                                   self.last_update_ms, self.start_ms)


@dataclass(slots=True)
class TxnConfig:
    max_timeout_ms: int = 900000  # transaction.max.timeout.ms
    expiration_ms: int = 7 * 24 * 3600 * 1000  # transactional.id.expiration.ms
    abort_interval_ms: int = 10000  # transaction.abort.timed.out.transaction.cleanup.interval.ms
    num_partitions: int = 50  # transaction.state.log.num.partitions, when the topic does not exist yet

    @classmethod
    def from_broker(cls, num: Callable[[str], int]) -> TxnConfig:
        """num: the broker configs\' int getter."""
        return cls(max_timeout_ms=num("transaction.max.timeout.ms"),
                   expiration_ms=num("transactional.id.expiration.ms"),
                   abort_interval_ms=num("transaction.abort.timed.out.transaction.cleanup.interval.ms"),
                   num_partitions=num("transaction.state.log.num.partitions"))


# (producer id, producer epoch, commit, partitions, transactional id, coordinator epoch) -> the partitions' errors,
# or None when they are being written (markers_written follows)
WriteMarkers = Callable[[int, int, bool, set[tuple[str, int]], str, int], dict[tuple[str, int], ErrorCode] | None]
PREPARE = (TxnState.PREPARE_COMMIT, TxnState.PREPARE_ABORT)


class TransactionCoordinator:
    def __init__(self, config: TxnConfig, persist: Callable[[str, TransactionLogKey, TransactionLogValue | None], None],
                 write_markers: WriteMarkers, new_producer_id: Callable[[], int], clock: Callable[[], float],
                 partition_for: Callable[[str], int] | None = None) -> None:
        """clock: the wall clock in seconds (the broker's). partition_for: a transactional id's partition of
        __transaction_state (None: this coordinator owns every id)."""
        self.config = config
        self.partition_for = partition_for
        self.loaded: dict[int, int] = {}  # partition of __transaction_state -> coordinator epoch (its leader epoch)
        # transactional ids whose markers are being written -> the coordinator epoch they are sent with (a sending
        # that outlived an earlier leadership of the partition must not clear the flag of the current one)
        self.sending: dict[str, int] = {}
        self.persist = persist
        self.write_markers = write_markers
        self.new_producer_id = new_producer_id
        self.clock = clock
        self.txns: dict[str, TxnMetadata] = {}
        # what the log holds for each id (value, last producer epoch): a write the log refuses (a full disk) puts
        # the id back to it, as Kafka drops a pending transition whose append failed
        self._stored: dict[str, tuple[TransactionLogValue, int]] = {}

    def _now(self) -> int:
        return int(self.clock() * 1000)

    def _store(self, m: TxnMetadata) -> None:
        m.last_update_ms = self._now()
        value = m.value()
        try:
            self.persist(m.transactional_id, TransactionLogKey(m.transactional_id), value)
        except KafkaError:
            stored = self._stored.get(m.transactional_id)
            if stored is None:
                self.txns.pop(m.transactional_id, None)  # never written: as if never asked for
            else:
                _apply(m, stored[0])
                m.last_producer_epoch = stored[1]
            raise
        self._stored[m.transactional_id] = (value, m.last_producer_epoch)

    def owns(self, txn_id: str) -> bool:
        return self.partition_for is None or self.partition_for(txn_id) in self.loaded

    def coordinator_epoch(self, txn_id: str) -> int:
        return 0 if self.partition_for is None else self.loaded.get(self.partition_for(txn_id), -1)

    def _check(self, txn_id: str, producer_id: int, epoch: int) -> tuple[ErrorCode, TxnMetadata | None]:
        if not self.owns(txn_id):
            return ErrorCode.not_coordinator, None
        m = self.txns.get(txn_id)
        if m is None or m.producer_id != producer_id:
            return ErrorCode.invalid_producer_id_mapping, None
        if epoch != m.producer_epoch:
            return ErrorCode.producer_fenced, None
        return ErrorCode.none, m

    # -- InitProducerId --------------------------------------------------------------------------------------
    def init_producer_id(self, txn_id: str, timeout_ms: int, expected_pid: int = -1,
                         expected_epoch: int = -1) -> tuple[ErrorCode, int, int]:
        try:
            return self._init_producer_id(txn_id, timeout_ms, expected_pid, expected_epoch)
        except KafkaError as e:  # the log refused a write (NOT_COORDINATOR): the client retries
            return e.code, -1, -1

    def _init_producer_id(self, txn_id: str, timeout_ms: int, expected_pid: int,
                          expected_epoch: int) -> tuple[ErrorCode, int, int]:
        if not 0 < timeout_ms <= self.config.max_timeout_ms:
            return ErrorCode.invalid_transaction_timeout, -1, -1
        if not self.owns(txn_id):
            return ErrorCode.not_coordinator, -1, -1
        m = self.txns.get(txn_id)
        if m is None:
            m = TxnMetadata(txn_id, self.new_producer_id(), 0, timeout_ms)
            self.txns[txn_id] = m
            self._store(m)
            return ErrorCode.none, m.producer_id, m.producer_epoch
        if expected_pid >= 0 and not (
                expected_pid == m.producer_id and expected_epoch in (m.producer_epoch, m.last_producer_epoch)):
            return ErrorCode.producer_fenced, -1, -1
        if m.state is TxnState.ONGOING:
            self._end(m, commit=False, bump=True)  # fence the zombie: abort its transaction with a new epoch
        elif m.state in PREPARE:
            self._complete(m)
        if m.state in PREPARE:  # markers on their way to the leaders: the client retries (Kafka's answer)
            return ErrorCode.concurrent_transactions, -1, -1
        if expected_pid >= 0 and expected_epoch == m.last_producer_epoch and m.state is TxnState.EMPTY:
            return ErrorCode.none, m.producer_id, m.producer_epoch  # a retried bump: answer it again
        m.last_producer_epoch = m.producer_epoch
        if m.producer_epoch >= MAX_EPOCH:
            m.producer_id, m.producer_epoch, m.last_producer_epoch = self.new_producer_id(), 0, -1
        else:
            m.producer_epoch += 1
        m.timeout_ms = timeout_ms
        m.state = TxnState.EMPTY
        m.partitions.clear()
        m.start_ms = -1
        self._store(m)
        return ErrorCode.none, m.producer_id, m.producer_epoch

    # -- AddPartitionsToTxn / AddOffsetsToTxn ----------------------------------------------------------------
    def add_partitions(self, txn_id: str, producer_id: int, epoch: int,
                       partitions: list[tuple[str, int]]) -> ErrorCode:
        try:
            return self._add_partitions(txn_id, producer_id, epoch, partitions)
        except KafkaError as e:
            return e.code

    def _add_partitions(self, txn_id: str, producer_id: int, epoch: int,
                        partitions: list[tuple[str, int]]) -> ErrorCode:
        error, m = self._check(txn_id, producer_id, epoch)
        if m is None:
            return error
        if m.state in (TxnState.PREPARE_COMMIT, TxnState.PREPARE_ABORT, TxnState.PREPARE_EPOCH_FENCE):
            return ErrorCode.concurrent_transactions
        new = set(partitions) - m.partitions
        if not new and m.state is TxnState.ONGOING:
            return ErrorCode.none
        if m.state is not TxnState.ONGOING:
            m.start_ms = self._now()
        m.partitions |= new
        m.state = TxnState.ONGOING
        self._store(m)
        return ErrorCode.none

    # -- EndTxn ----------------------------------------------------------------------------------------------
    def end_txn(self, txn_id: str, producer_id: int, epoch: int, commit: bool) -> ErrorCode:
        try:
            return self._end_txn(txn_id, producer_id, epoch, commit)
        except KafkaError as e:
            return e.code

    def _end_txn(self, txn_id: str, producer_id: int, epoch: int, commit: bool) -> ErrorCode:
        error, m = self._check(txn_id, producer_id, epoch)
        if m is None:
            return error
        if m.state is TxnState.ONGOING:
            self._end(m, commit, bump=False)
            return ErrorCode.none
        done = TxnState.COMPLETE_COMMIT if commit else TxnState.COMPLETE_ABORT
        if m.state is done:
            return ErrorCode.none  # a retry of the request that completed it
        if m.state is (TxnState.PREPARE_COMMIT if commit else TxnState.PREPARE_ABORT):
            self._complete(m)  # a refused write left it here: the client's retry tries the markers again
            return ErrorCode.concurrent_transactions if m.state in PREPARE else ErrorCode.none
        if m.state in (TxnState.PREPARE_COMMIT, TxnState.PREPARE_ABORT):
            return ErrorCode.concurrent_transactions
        return ErrorCode.invalid_txn_state

    def _end(self, m: TxnMetadata, commit: bool, bump: bool) -> None:
        if bump:
            m.last_producer_epoch = m.producer_epoch
            m.producer_epoch += 1
        m.state = TxnState.PREPARE_COMMIT if commit else TxnState.PREPARE_ABORT
        self._store(m)
        self._complete(m)

    def _complete(self, m: TxnMetadata) -> None:
        if m.transactional_id in self.sending:
            return
        commit = m.state is TxnState.PREPARE_COMMIT
        errors = self.write_markers(m.producer_id, m.producer_epoch, commit, set(m.partitions), m.transactional_id,
                                    self.coordinator_epoch(m.transactional_id))
        if errors is None:  # on their way: markers_written completes the transaction
            self.sending[m.transactional_id] = self.coordinator_epoch(m.transactional_id)
            return
        if ErrorCode.kafka_storage_error in errors.values():  # Kafka retries the markers; so do retries here
            raise KafkaError(ErrorCode.not_coordinator, f"markers of {m.transactional_id} could not all be written")
        self._finish(m, commit)

    def _finish(self, m: TxnMetadata, commit: bool) -> None:
        m.state = TxnState.COMPLETE_COMMIT if commit else TxnState.COMPLETE_ABORT
        m.partitions.clear()
        self._store(m)

    def markers_written(self, txn_id: str, producer_id: int, producer_epoch: int, commit: bool,
                        coordinator_epoch: int) -> None:
        """Every leader has the transaction's markers: CompleteCommit / CompleteAbort (unless the transaction moved
        on meanwhile, or this coordinator lost it)."""
        if not self.markers_abandoned(txn_id, coordinator_epoch):
            return
        m = self.txns.get(txn_id)
        if m is None or not self.owns(txn_id) or (m.producer_id, m.producer_epoch) != (producer_id, producer_epoch) \
                or m.state is not (TxnState.PREPARE_COMMIT if commit else TxnState.PREPARE_ABORT):
            return
        try:
            self._finish(m, commit)
        except KafkaError:  # the log refused it: the periodic check sends the markers again
            pass

    def markers_abandoned(self, txn_id: str, coordinator_epoch: int) -> bool:
        """The markers' sending stopped (this coordinator was fenced or lost the partition). False when it was not
        the current sending of the transaction's markers."""
        if self.sending.get(txn_id) != coordinator_epoch:
            return False
        del self.sending[txn_id]
        return True

    # -- timeouts, recovery, replay --------------------------------------------------------------------------
    def abort_timed_out(self) -> list[str]:
        """Abort transactions open longer than their timeout, bumping the epoch to fence their producer."""
        now = self._now()
        aborted = []
        for m in list(self.txns.values()):
            try:
                if m.state is TxnState.ONGOING and m.start_ms >= 0 and now - m.start_ms > m.timeout_ms:
                    self._end(m, commit=False, bump=True)
                    aborted.append(m.transactional_id)
                elif m.state in PREPARE:
                    self._complete(m)  # markers refused (a full disk, a fenced send): tried again at each check
            except KafkaError:
                continue
        return aborted

    def expire_transactional_ids(self) -> list[str]:
        """transactional.id.expiration.ms: forget ids idle that long with no open transaction (a tombstone)."""
        now = self._now()
        idle = (TxnState.EMPTY, TxnState.COMPLETE_COMMIT, TxnState.COMPLETE_ABORT)
        expired = [m for m in self.txns.values()
                   if m.state in idle and now - m.last_update_ms >= self.config.expiration_ms]
        done = []
        for m in expired:
            try:
                self.persist(m.transactional_id, TransactionLogKey(m.transactional_id), None)
            except KafkaError:  # the log refused the tombstone: expired at a later check
                continue
            del self.txns[m.transactional_id]
            self._stored.pop(m.transactional_id, None)
            done.append(m.transactional_id)
        return done

    def recover(self, partition: int | None = None) -> list[TxnMetadata]:
        """After loading (the partition's ids, or all): finish transactions whose markers a crash or a failover
        interrupted (Kafka's TransactionStateManager hands PrepareCommit/PrepareAbort to the marker channel).
        Returns them."""
        resumed = [m for m in self.txns.values() if m.state in PREPARE and (
            partition is None or self.partition_for is None or self.partition_for(m.transactional_id) == partition)]
        for m in resumed:
            try:
                self._complete(m)
            except KafkaError:  # refused markers: the periodic check tries again
                continue
        return resumed

    def loading(self, partition: int, coordinator_epoch: int) -> None:
        """Before replaying the partition: drop what an earlier leadership of it left."""
        self.unload_partition(partition)
        self.loaded[partition] = coordinator_epoch

    def unload_partition(self, partition: int) -> list[str]:
        """Leadership of the partition moved away: forget its transactional ids (Kafka's
        removeTransactionsForTxnTopicPartition); the markers being sent stop at their next step."""
        self.loaded.pop(partition, None)
        if self.partition_for is None:
            return []
        gone = [t for t in self.txns if self.partition_for(t) == partition]
        for t in gone:
            del self.txns[t]
            self._stored.pop(t, None)
            self.sending.pop(t, None)
        return gone

    def replay(self, key: TransactionLogKey, value: TransactionLogValue | None) -> None:
        if value is None:
            self.txns.pop(key.transactional_id, None)
            self._stored.pop(key.transactional_id, None)
            return
        m = TxnMetadata(key.transactional_id, value.producer_id, value.producer_epoch, value.transaction_timeout_ms)
        _apply(m, value)
        self.txns[key.transactional_id] = m
        self._stored[key.transactional_id] = (value, -1)


def _apply(m: TxnMetadata, value: TransactionLogValue) -> None:
    """Set m to a TransactionLogValue's state."""
    m.producer_id, m.producer_epoch = value.producer_id, value.producer_epoch
    m.timeout_ms = value.transaction_timeout_ms
    m.state = TxnState(value.transaction_status)
    m.partitions = {(t, p) for t, ps in (value.transaction_partitions or ()) for p in ps}
    m.start_ms = value.transaction_start_timestamp_ms
    m.last_update_ms = value.transaction_last_update_timestamp_ms
