"""The replication data plane of a ZooKeeper cluster: brokers act on the partition states the controller writes.

Each state change (see partition_states.py, the equivalent of LeaderAndIsr) makes the local replica the leader
(Partition.make_leader: its fetcher stops) or a follower (make_follower: the fetcher for the new leader starts,
truncating first; acks=all produces waiting on the old leadership are answered NOT_LEADER_OR_FOLLOWER). ISR
changes are the leader's, as Kafka's AlterPartition: a follower that caught up is proposed into the ISR when its
fetch shows it, followers lagging more than `replica.lag.time.max.ms` are proposed out every half of it, and the
controller's broker writes the state znode (cluster/alter_partition.py). The answer (or, for anything else, the
state watch) makes the new ISR the partition's."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from kazoo.client import KazooClient
from kio.schema.alter_partition.v2 import request as alter_req
from kio.schema.alter_partition.v2.response import AlterPartitionResponse

from brook.broker.coordinators import follow_leadership
from brook.broker.partition import Partition
from brook.errors import ErrorCode
from brook.metadata import PartitionsAdded, ReplicasReassigned, TopicCreated, TopicDeleted
from brook.protocol.build import make

from .inter_broker import BrokerConnection
from .partition_states import PartitionState, PartitionStates
from .replica_fetcher import ReplicaFetcherManager

if TYPE_CHECKING:
    from collections.abc import Callable

    from brook.broker.server import Broker

log = logging.getLogger("kafka.cluster.Partition")


def now_ms() -> int:
    return int(time.time() * 1000)


class Replication:
    def __init__(self, broker: Broker, zk: KazooClient, deliver: Callable[[Callable[[], None]], None]) -> None:
        self.broker = broker
        self.states = PartitionStates(zk, deliver, self._state_changed)
        self.fetchers = ReplicaFetcherManager(broker)
        self.max_lag_ms = broker.config.get_int("replica.lag.time.max.ms")
        self._proposals: dict[tuple[str, int], tuple[Partition, frozenset[int]]] = {}
        self._refused: dict[tuple[str, int], float] = {}  # partition -> when its next expansion may be proposed
        self._backoff = broker.config.get_int("replica.fetch.backoff.ms") / 1000 or 0.1
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._controller_conn: tuple[int, BrokerConnection] | None = None
        self._following = True
        store = broker.metadata  # after the ReplicaManager's subscriptions: the partitions exist by then
        store.subscribe(TopicCreated, lambda e: self.states.watch(e.info.name, e.info.partitions))
        store.subscribe(PartitionsAdded, lambda e: self.states.watch(e.info.name, e.info.partitions))
        store.subscribe(TopicDeleted, lambda e: self._topic_deleted(e.info.name))
        store.subscribe(ReplicasReassigned, self._reassigned)

    def start(self) -> None:
        for info in list(self.broker.topics.values()):
            self.states.watch(info.name, info.partitions)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._shrink_loop(), name="isr-expiration"),
                       loop.create_task(self._alter_partition_loop(), name="alter-partition")]

    def stop_following(self) -> None:
        """The broker is stopping: its followers fetch no more (states applied from now on start no fetcher)."""
        self._following = False
        self.fetchers.stop()

    def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        self.fetchers.stop()
        if self._controller_conn is not None:
            self._controller_conn[1].close()

    def live_ids(self) -> set[int]:
        cluster = self.broker.cluster
        return set(cluster.live) if cluster is not None else set()

    # -- partition states (LeaderAndIsr) ---------------------------------------------------------------------
    def _topic_deleted(self, topic: str) -> None:
        for tp in [tp for tp in self.states.states if tp[0] == topic]:
            self.fetchers.remove(tp)
            self._proposals.pop(tp, None)
            self._refused.pop(tp, None)
        self.states.forget(topic)

    def _reassigned(self, event: ReplicasReassigned) -> None:
        """A replica added here follows (or leads) by the partition's current state, whichever of the assignment
        and the state change arrived first; a replica removed from here stops fetching."""
        me = self.broker.broker_id
        for p in range(event.info.partitions):
            tp = (event.info.name, p)
            if me in event.info.replicas(p):
                part, state = self.broker.replicas.partitions.get(tp), self.states.get(*tp)
                if part is not None and state is not None:
                    self.apply(part, state)
            elif me in event.previous.replicas(p):
                self.fetchers.remove(tp)
                self._proposals.pop(tp, None)

    def _state_changed(self, tp: tuple[str, int], state: PartitionState | None) -> None:
        part = self.broker.replicas.partitions.get(tp)
        if part is None or state is None:
            self.fetchers.remove(tp)
            return
        self.apply(part, state)

    def apply(self, part: Partition, state: PartitionState) -> None:
        """Kafka's becomeLeaderOrFollower for one partition this broker holds a replica of."""
        if state.partition_epoch < part.partition_epoch and state.leader_epoch <= part.leader_epoch:
            return  # older than what the partition has (an AlterPartition answer applied first)
        info = self.broker.topics.get(part.topic)
        replicas = info.replicas(part.index) if info is not None else part.replicas
        tp = (part.topic, part.index)
        me = self.broker.broker_id
        if me not in replicas:
            return
        if state.leader == me:
            was_leader = part.is_leader
            part.make_leader(state.leader_epoch, tuple(replicas), frozenset(state.isr), state.partition_epoch,
                             now_ms())
            if not was_leader:
                self.fetchers.remove(tp)
                follow_leadership(self.broker, part.topic, part.index, True)
                log.info("[Partition %s-%d broker=%d] %s starts at leader epoch %d from offset %d with partition "
                         "epoch %d, high watermark %d, ISR %s", part.topic, part.index, me, tp[0],
                         state.leader_epoch, part.log.log_end_offset, state.partition_epoch,
                         part.log.high_watermark, list(state.isr))
            self._proposals.pop(tp, None)
            self.broker.replicas.high_watermark_moved(part)
            return
        if part.make_follower(state.leader, state.leader_epoch, tuple(replicas), frozenset(state.isr),
                              state.partition_epoch):
            self._proposals.pop(tp, None)
            self.broker.replicas.leadership_lost(part)
            follow_leadership(self.broker, part.topic, part.index, False)
            self.fetchers.remove(tp)
            if state.leader >= 0 and self._following:
                self.fetchers.add(part)

    # -- ISR changes (AlterPartition) ------------------------------------------------------------------------
    def follower_fetched(self, part: Partition, replica_id: int) -> None:
        """After a follower's fetch: propose it into the ISR once it caught up (not again within the backoff of a
        refusal, so that a follower fetching fast does not turn into as many AlterPartition requests)."""
        isr = part.isr_expansion(replica_id)
        if isr is not None and self._refused.get((part.topic, part.index), 0) <= time.monotonic():
            self._propose(part, isr)

    def _propose(self, part: Partition, isr: frozenset[int]) -> None:
        part.pending_isr = isr
        self._proposals[(part.topic, part.index)] = (part, isr)
        self._wake.set()

    async def _shrink_loop(self) -> None:
        """Kafka's isr-expiration task, every replica.lag.time.max.ms / 2."""
        while True:
            await asyncio.sleep(self.max_lag_ms / 2000)
            now = now_ms()
            for part in self.broker.replicas.partitions.values():
                if part.leader_id == part.broker_id and len(part.isr) > 1:
                    out = part.out_of_sync_replicas(now, self.max_lag_ms)
                    if out:
                        log.info("[Partition %s-%d broker=%d] Shrinking ISR from %s to %s. Out of sync replicas: %s.",
                                 part.topic, part.index, part.broker_id, sorted(part.isr),
                                 sorted(part.isr - out), sorted(out))
                        self._propose(part, part.isr - out)

    async def _alter_partition_loop(self) -> None:
        """Sends the proposed ISRs in one AlterPartition to the controller's broker, as Kafka's
        AlterPartitionManager batches them; answers apply, failures are proposed again after a backoff."""
        backoff = self._backoff
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._proposals = self._proposals, {}
            batch = {tp: v for tp, v in batch.items() if v[0].is_leader and v[0].pending_isr == v[1]}
            if not batch:
                continue
            try:
                response = await self._send(batch)
            except ConnectionError as e:
                log.info("Failed to send AlterPartition to the controller: %s", e)
                response = None
            if response is None or response.error_code != ErrorCode.none:
                for tp, (part, isr) in batch.items():
                    if part.pending_isr == isr:
                        self._proposals.setdefault(tp, (part, isr))
                await asyncio.sleep(backoff)
                self._wake.set()
                continue
            self._answered(batch, response)

    async def _send(self, batch: dict[tuple[str, int], tuple[Partition, frozenset[int]]]) -> Any:
        controller = self.broker.controller_id
        cluster = self.broker.cluster
        endpoint = cluster.live.get(controller) if cluster is not None else None
        if endpoint is None:
            return None
        if self._controller_conn is None or self._controller_conn[0] != controller \
                or not self._controller_conn[1].connected:
            if self._controller_conn is not None:
                self._controller_conn[1].close()
            conn = BrokerConnection(endpoint.host, endpoint.port, f"broker-{self.broker.broker_id}-alter-partition")
            try:
                await conn.connect(10)
            except (OSError, TimeoutError) as e:
                raise ConnectionError(str(e)) from None
            self._controller_conn = (controller, conn)
        topics: dict[str, list] = {}
        for (topic, _), (part, isr) in batch.items():
            topics.setdefault(topic, []).append(make(alter_req.PartitionData,
                partition_index=part.index, leader_epoch=part.leader_epoch, new_isr=tuple(sorted(isr)),
                leader_recovery_state=0, partition_epoch=part.partition_epoch))
        ids = {name: info.topic_id for name in topics if (info := self.broker.topics.get(name)) is not None}
        cluster = self.broker.cluster
        epoch = cluster.broker_epoch if cluster is not None else -1  # the czxid of our /brokers/ids znode
        request = make(alter_req.AlterPartitionRequest, broker_id=self.broker.broker_id, broker_epoch=epoch,
                       topics=tuple(make(alter_req.TopicData, topic_id=ids[t], partitions=tuple(ps))
                                    for t, ps in topics.items() if t in ids))
        return await self._controller_conn[1].call(request, AlterPartitionResponse, 30)

    def _answered(self, batch: dict[tuple[str, int], tuple[Partition, frozenset[int]]], response) -> None:  # noqa: ANN001
        names = {info.topic_id: name for name in {tp[0] for tp in batch}
                 if (info := self.broker.topics.get(name)) is not None}
        for t in response.topics:
            name = names.get(t.topic_id)
            for r in t.partitions:
                entry = batch.get((name, r.partition_index)) if name is not None else None
                if entry is None:
                    continue
                part, isr = entry
                if part.pending_isr != isr:
                    continue
                if r.error_code != ErrorCode.none or r.leader_epoch != part.leader_epoch:
                    # FENCED_LEADER_EPOCH, INVALID_UPDATE_VERSION, ...: the state watch brings what is current
                    log.info("[Partition %s-%d broker=%d] Failed to alter partition to ISR %s: %s", part.topic,
                             part.index, part.broker_id, sorted(isr), ErrorCode(r.error_code).name)
                    part.pending_isr = None
                    self._refused[(part.topic, part.index)] = time.monotonic() + self._backoff
                    continue
                self._refused.pop((part.topic, part.index), None)
                log.info("[Partition %s-%d broker=%d] ISR updated to %s and version updated to %d", part.topic,
                         part.index, part.broker_id, ",".join(map(str, r.isr)), r.partition_epoch)
                part.isr_changed(frozenset(r.isr), r.partition_epoch)
                self.broker.replicas.high_watermark_moved(part)  # a shrink also answers acks=all waiting on it
