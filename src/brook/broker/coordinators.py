"""The asyncio side of the coordinators: the broker's CoordinatorHost (its partitions of the internal topics), and
the group coordinator's driver, which turns the state machine's "answered later" into futures and its deadlines
into one event-loop timer, armed at the earliest deadline (Kafka's purgatory precision)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from brook.coordinator.group.config import GroupConfig
from brook.coordinator.group.coordinator import GroupCoordinatorShard
from brook.coordinator.group.group import Group
from brook.coordinator.group.membership import JoinResult, SyncResult
from brook.coordinator.output import CoordinatorResult
from brook.coordinator.runtime import GroupCoordinatorRuntime, TransactionCoordinatorRuntime
from brook.coordinator.txn.coordinator import TxnConfig
from brook.errors import ErrorCode, KafkaError
from brook.internal_topics import OFFSETS_TOPIC, TRANSACTION_TOPIC
from brook.protocol.coordinator_records import OffsetCommitValue
from brook.protocol.records.batch import read_header

from .replica_manager import ProduceResult

if TYPE_CHECKING:
    from .server import Broker

T = TypeVar("T")
log = logging.getLogger("kafka.coordinator.group.GroupCoordinator")


def now_ms() -> int:
    return int(time.time() * 1000)


class BrokerPartitions:
    """CoordinatorHost on the single broker's logs."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def partition_count(self, topic: str) -> int | None:
        info = self.broker.topics.get(topic)
        return None if info is None else info.partitions

    def create_internal_topic(self, topic: str, partitions: int, configs: dict[str, str]) -> None:
        """A single broker's internal topics have one replica; a cluster's, offsets.topic.replication.factor or
        transaction.state.log.replication.factor (too few live brokers: KafkaError, as Kafka's creation fails)."""
        rf = 1
        if self.broker.cluster is not None:
            rf = self.broker.config.get_int("offsets.topic.replication.factor" if topic == OFFSETS_TOPIC
                                            else "transaction.state.log.replication.factor")
            if topic == TRANSACTION_TOPIC:  # Kafka's transactionTopicConfigs
                configs = {**configs, "min.insync.replicas": str(self.broker.config.get_int(
                    "transaction.state.log.min.isr"))}
        self.broker.create_topic(topic, partitions, rf, configs)

    def append(self, topic: str, partition: int, batch: bytes, now_ms: int) -> int:
        """Through the partition, which owns the high watermark and the leader epoch."""
        try:
            base = self.broker.replicas.append_coordinator_records(topic, partition, batch)
        except KafkaError as e:
            # a full disk (KAFKA_STORAGE_ERROR, logged once per episode) or no local replica: nothing was appended.
            # GroupMetadataManager and TransactionStateManager answer an append error from their log as
            # NOT_COORDINATOR (the client finds the coordinator again, retries), too small an ISR as
            # COORDINATOR_NOT_AVAILABLE
            code = ErrorCode.coordinator_not_available if e.code == ErrorCode.not_enough_replicas \
                else ErrorCode.not_coordinator
            raise KafkaError(code, e.message) from None
        return base + read_header(batch).last_offset_delta + 1

    def read(self, topic: str, partition: int, offset: int, max_bytes: int) -> bytes:
        lg = self.broker.log_manager.get(topic, partition)
        if lg is None:
            return b""
        offset = max(offset, lg.log_start_offset)
        return lg.read(offset, max_bytes, lg.log_end_offset) if offset < lg.log_end_offset else b""

    def write_txn_markers(self, producer_id: int, producer_epoch: int, commit: bool, partitions: set[tuple[str, int]],
                          transactional_id: str, coordinator_epoch: int) -> dict[tuple[str, int], ErrorCode] | None:
        """A single broker writes them here and now; a cluster's go to the partitions' leaders (marker channel)."""
        if self.broker.replication is None:
            return self.broker.txn_markers.write(producer_id, producer_epoch, commit, partitions, coordinator_epoch)
        self.broker.marker_channel.send(transactional_id, producer_id, producer_epoch, commit, partitions,
                                        coordinator_epoch)
        return None

    def new_producer_id(self) -> int:
        return self.broker.producer_ids.generate()


class GroupCoordinatorDriver:
    """What the group handlers call. Each call runs one operation of the runtime (which appends its records before
    returning), resolves the futures of requests it answered, and re-arms the timer."""

    def __init__(self, runtime: GroupCoordinatorRuntime) -> None:
        self.runtime = runtime
        self._tokens = itertools.count(1)
        self._waiting: dict[int, asyncio.Future] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._armed_at: int | None = None

    # -- the machinery -------------------------------------------------------------------------------------
    def _settle(self, result: CoordinatorResult) -> None:
        for token, response in result.completions:
            fut = self._waiting.pop(token, None)
            if fut is not None and not fut.done():
                fut.set_result(response)
        self._arm()

    def _run(self, group_id: str, op: Callable[[GroupCoordinatorShard], T], missing: T) -> T:
        result = self.runtime.write(group_id, op, missing, now_ms())
        self._settle(result)
        return result.response

    def _wait(self, group_id: str, op: Callable[[GroupCoordinatorShard, int], T | None], missing: T
              ) -> T | asyncio.Future:
        """An operation that may answer later: its answer, or a future of it."""
        token = next(self._tokens)
        fut = asyncio.get_running_loop().create_future()
        self._waiting[token] = fut
        result: CoordinatorResult[T | None] = self.runtime.write(group_id, lambda s: op(s, token), missing, now_ms())
        self._settle(result)
        if result.response is not None:
            self._waiting.pop(token, None)
            return result.response
        if fut.done():  # answered within the same operation (the leader's SyncGroup)
            return fut.result()
        return fut

    def _arm(self) -> None:
        deadline = self.runtime.next_deadline()
        if deadline is None:
            return
        if self._timer is not None and self._armed_at is not None and self._armed_at <= deadline:
            return  # an earlier wake-up is set; it re-arms for this one
        if self._timer is not None:
            self._timer.cancel()
        self._armed_at = deadline
        self._timer = asyncio.get_running_loop().call_later(max(0, deadline - now_ms()) / 1000, self._fire)

    def _fire(self) -> None:
        self._timer = self._armed_at = None
        self.poll()

    def poll(self) -> None:
        """Run the deadlines due now; also before a request looks at groups, so that its answer does not depend on
        how late the event loop ran the timer."""
        if (d := self.runtime.next_deadline()) is not None and d <= now_ms():
            self._settle(self.runtime.poll(now_ms()))
        elif self._timer is None:
            self._arm()

    # -- lifecycle -----------------------------------------------------------------------------------------
    def load(self) -> None:
        """Load every partition (a single broker coordinates them all); the loaded members' sessions run from now."""
        self.runtime.load(now_ms())
        self._arm()

    def load_partition(self, partition: int) -> None:
        self.runtime.load_partition(partition, now_ms())
        self._arm()

    def unload_partition(self, partition: int) -> None:
        self._settle(self.runtime.unload_partition(partition, now_ms()))

    async def expire_offsets_loop(self) -> None:
        """offsets.retention.check.interval.ms: expire old offsets; forget Empty groups left without any."""
        while True:
            await asyncio.sleep(self.runtime.config.offsets_retention_check_interval_ms / 1000)
            self._settle(self.runtime.cleanup(now_ms()))

    # -- reads ---------------------------------------------------------------------------------------------
    def ensure_topic(self) -> None:
        self.runtime.ensure_topic()

    def partition_for(self, group_id: str) -> int:
        return self.runtime.partition_for(group_id)

    def describe(self, group_id: str) -> tuple[ErrorCode, Group | None]:
        self.poll()
        shard = self.runtime.shard(group_id)
        if shard is None:
            return ErrorCode.not_coordinator, None
        return ErrorCode.none, shard.groups.get(group_id)

    def group(self, group_id: str) -> Group | None:
        shard = self.runtime.shard(group_id)
        return None if shard is None else shard.groups.get(group_id)

    def groups(self) -> list[Group]:
        self.poll()
        return list(self.runtime.groups())

    def fetch_offsets(self, group_id: str, partitions: list[tuple[str, int]] | None, require_stable: bool
                      ) -> tuple[ErrorCode, dict[tuple[str, int], OffsetCommitValue | ErrorCode | None]]:
        shard = self.runtime.shard(group_id)
        if shard is None:
            return ErrorCode.not_coordinator, {}
        return ErrorCode.none, shard.offsets.fetch(group_id, partitions, require_stable)

    # -- writes --------------------------------------------------------------------------------------------
    def join(self, group_id: str, member_id: str, instance_id: str | None, protocol_type: str,
             protocols: list[tuple[str, bytes]], session_timeout_ms: int, rebalance_timeout_ms: int,
             client_id: str, client_host: str, require_known_member: bool) -> JoinResult | asyncio.Future:
        return self._wait(group_id, lambda s, token: s.membership.join(
            token, group_id, member_id, instance_id, protocol_type, protocols, session_timeout_ms,
            rebalance_timeout_ms, client_id, client_host, require_known_member, now_ms()),
            JoinResult(ErrorCode.not_coordinator, member_id=member_id))

    def sync(self, group_id: str, generation: int, member_id: str, instance_id: str | None,
             protocol_type: str | None, protocol_name: str | None,
             assignments: dict[str, bytes]) -> SyncResult | asyncio.Future:
        return self._wait(group_id, lambda s, token: s.membership.sync(
            token, group_id, generation, member_id, instance_id, protocol_type, protocol_name, assignments,
            now_ms()), (ErrorCode.not_coordinator, b""))

    def heartbeat(self, group_id: str, generation: int, member_id: str, instance_id: str | None) -> ErrorCode:
        return self._run(group_id, lambda s: s.membership.heartbeat(group_id, generation, member_id, instance_id,
                                                                      now_ms()), ErrorCode.not_coordinator)

    def leave(self, group_id: str, members: list[tuple[str, str | None]]) -> tuple[ErrorCode, list[ErrorCode]]:
        return self._run(group_id, lambda s: s.membership.leave(group_id, members, now_ms()),
                         (ErrorCode.not_coordinator, [ErrorCode.not_coordinator] * len(members)))

    def delete_group(self, group_id: str) -> ErrorCode:
        self.poll()
        return self._run(group_id, lambda s: s.delete_group(group_id, now_ms()), ErrorCode.not_coordinator)

    def commit_offsets(self, group_id: str, generation: int, member_id: str, instance_id: str | None,
                       offsets: dict[tuple[str, int], tuple[int, int, str | None]]) -> ErrorCode:
        return self._run(group_id, lambda s: s.offsets.commit(group_id, generation, member_id, instance_id, offsets,
                                                               now_ms()), ErrorCode.not_coordinator)

    def txn_commit_offsets(self, group_id: str, producer_id: int, producer_epoch: int, generation: int,
                           member_id: str, instance_id: str | None,
                           offsets: dict[tuple[str, int], tuple[int, int, str | None]]) -> ErrorCode:
        return self._run(group_id, lambda s: s.offsets.txn_commit(
            group_id, producer_id, producer_epoch, generation, member_id, instance_id, offsets, now_ms()),
            ErrorCode.not_coordinator)

    def delete_offsets(self, group_id: str, partitions: list[tuple[str, int]]
                       ) -> tuple[ErrorCode, dict[tuple[str, int], ErrorCode]]:
        missing: tuple[ErrorCode, dict[tuple[str, int], ErrorCode]] = (ErrorCode.not_coordinator, {})
        return self._run(group_id, lambda s: s.offsets.delete(group_id, partitions), missing)

    def complete_txn(self, producer_id: int, commit: bool, partitions: list[int]) -> None:
        self._settle(self.runtime.complete_txn(producer_id, commit, partitions, now_ms()))


# Kafka's mapping of a coordinator's acks=-1 append errors (GroupMetadataManager.storeOffsets,
# TransactionStateManager.appendTransactionToLog)
_REPLICATION_ERRORS = {ErrorCode.not_leader_or_follower: ErrorCode.not_coordinator,
                       ErrorCode.not_enough_replicas_after_append: ErrorCode.coordinator_not_available,
                       ErrorCode.request_timed_out: ErrorCode.coordinator_not_available}
REQUEST_TIMEOUT_MS = 30000  # Kafka's request.timeout.ms, which bounds the transaction coordinator's appends


async def replicated(broker: Broker, topic: str, partition: int, timeout_ms: int) -> ErrorCode:
    """Once the partition's ISR has everything this broker's log holds of it now (a coordinator's write just
    appended): NONE, or the error the coordinator answers."""
    part = broker.replicas.get_partition(topic, partition)
    if part is None or not part.is_leader:
        return ErrorCode.not_coordinator
    result = ProduceResult(ErrorCode.none, required_offset=part.log.log_end_offset, partition=part)
    await broker.replicas.wait_for_acks([result], timeout_ms / 1000)
    return _REPLICATION_ERRORS.get(result.error, result.error)


async def offsets_replicated(broker: Broker, group_id: str) -> ErrorCode:
    """In a cluster, an offset commit (or group metadata) is answered once its __consumer_offsets partition's ISR
    has it (Kafka appends it with acks=-1, bounded by offsets.commit.timeout.ms)."""
    return await replicated(broker, OFFSETS_TOPIC, broker.groups.partition_for(group_id),
                            broker.config.get_int("offsets.commit.timeout.ms"))


async def txn_log_replicated(broker: Broker, txn_id: str) -> ErrorCode:
    """In a cluster, a transaction state change is answered once its __transaction_state partition's ISR has it."""
    return await replicated(broker, TRANSACTION_TOPIC, broker.txns.partition_for(txn_id), REQUEST_TIMEOUT_MS)


def follow_leadership(broker: Broker, topic: str, partition: int, leader: bool) -> None:
    """In a cluster, the coordinator of a __consumer_offsets or __transaction_state partition is its leader's broker
    (Kafka's onLeadershipChange -> onElection / onResignation): it loads the partition's groups or transactional ids
    on becoming leader and unloads them (waiting requests answered NOT_COORDINATOR) when leadership moves away."""
    if topic == TRANSACTION_TOPIC:
        if leader:
            broker.txns.load_partition(partition, broker.replicas.leader_epoch(topic, partition))
        elif partition in broker.txns.coordinator.loaded:
            broker.txns.unload_partition(partition)
        return
    if topic != OFFSETS_TOPIC:
        return
    if leader:
        broker.groups.load_partition(partition)
        log.info("Elected as the group coordinator for partition %d of %s", partition, OFFSETS_TOPIC)
    elif partition in broker.groups.runtime.shards:
        broker.groups.unload_partition(partition)
        log.info("Resigned as the group coordinator for partition %d of %s", partition, OFFSETS_TOPIC)


def build_coordinators(broker: Broker) -> tuple[TransactionCoordinatorRuntime, GroupCoordinatorDriver]:
    host = BrokerPartitions(broker)
    txns = TransactionCoordinatorRuntime(host, TxnConfig.from_broker(broker.config.get_int), time.time)
    groups = GroupCoordinatorRuntime(host, GroupConfig.from_broker(broker.config.get_int), time.time)
    return txns, GroupCoordinatorDriver(groups)
