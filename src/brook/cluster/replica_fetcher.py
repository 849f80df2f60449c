"""Followers fetching from their leaders (Kafka's ReplicaFetcherManager / ReplicaFetcherThread).

A partition this broker follows is given to the fetcher for (its leader, hash of the partition modulo
`num.replica.fetchers`). Each fetcher is one asyncio task on one connection to the leader. A partition first
truncates: OffsetForLeaderEpoch for the latest epoch in its leader-epoch-checkpoint tells where its log and the
leader's part, and the divergent tail goes (Log.truncate_to), as Kafka's fetcher does before its first fetch.
Then Fetch v12 with this broker's id as replica id (the leader reads up to its log end and counts the fetch offset
as this follower's position), `replica.fetch.max.bytes` per partition, `replica.fetch.response.max.bytes`,
`replica.fetch.wait.max.ms` and `replica.fetch.min.bytes`, and the last fetched epoch (a diverging epoch in the
answer truncates again). Fetched batches are appended as they are, per batch. Errors delay the partition by
`replica.fetch.backoff.ms`; a new partition state (a new leader or epoch) moves it to another fetcher."""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
import zlib
from typing import TYPE_CHECKING

from kio.schema.fetch.v12 import request as fetch_req
from kio.schema.fetch.v12.response import FetchResponse
from kio.schema.offset_for_leader_epoch.v4 import request as epoch_req
from kio.schema.offset_for_leader_epoch.v4.response import OffsetForLeaderEpochResponse

from brook.errors import ErrorCode
from brook.log.leader_epoch import UNDEFINED_EPOCH
from brook.protocol.build import make

from .inter_broker import BrokerConnection

if TYPE_CHECKING:
    from brook.broker.partition import Partition
    from brook.broker.server import Broker

log = logging.getLogger("kafka.server.ReplicaFetcherThread")
_SESSIONLESS = -1  # FINAL_EPOCH with session id 0: a fetch without a session


class FetchState:
    __slots__ = ("partition", "truncating", "delayed_until", "lag")

    def __init__(self, partition: Partition) -> None:
        self.partition = partition
        self.truncating = True
        self.delayed_until = 0.0
        self.lag = -1  # the leader's high watermark minus our log end after the last fetch; -1 before one

    def in_sync(self) -> bool:
        """PartitionFetchState.isReplicaInSync: caught up with the leader's high watermark."""
        return self.lag == 0


class ReplicaFetcher:
    def __init__(self, broker: Broker, leader_id: int, fetcher_id: int) -> None:
        self.broker = broker
        self.leader_id = leader_id
        self.name = f"ReplicaFetcherThread-{fetcher_id}-{leader_id}"
        self.partitions: dict[tuple[str, int], FetchState] = {}
        self.task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        cfg = broker.config
        self.backoff = cfg.get_int("replica.fetch.backoff.ms") / 1000
        self.max_wait = datetime.timedelta(milliseconds=cfg.get_int("replica.fetch.wait.max.ms"))
        self.min_bytes = cfg.get_int("replica.fetch.min.bytes")
        self.max_bytes = cfg.get_int("replica.fetch.response.max.bytes")
        self.partition_max_bytes = cfg.get_int("replica.fetch.max.bytes")
        self.timeout = cfg.get_int("replica.socket.timeout.ms") / 1000
        self._conn: BrokerConnection | None = None

    def add(self, part: Partition) -> None:
        self.partitions[(part.topic, part.index)] = FetchState(part)
        self._wake.set()
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    def remove(self, tp: tuple[str, int]) -> None:
        self.partitions.pop(tp, None)

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self._conn is not None:
            self._conn.close()

    async def _run(self) -> None:
        while self.partitions:
            try:
                conn = await self._connect()
                while self.partitions:
                    now = time.monotonic()
                    truncating = [s for s in self.partitions.values() if s.truncating and s.delayed_until <= now]
                    if truncating:
                        await self._truncate(conn, truncating)
                    if not await self._fetch(conn):
                        self._wake.clear()
                        try:  # every partition delayed: until the earliest is due, or a new one arrives
                            await asyncio.wait_for(self._wake.wait(), self.backoff)
                        except TimeoutError:
                            pass
            except ConnectionError as e:
                log.info("[%s]: Error sending fetch request to broker %d: %s", self.name, self.leader_id, e)
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
                await asyncio.sleep(self.backoff)

    async def _connect(self) -> BrokerConnection:
        if self._conn is not None and self._conn.connected:
            return self._conn
        cluster = self.broker.cluster
        endpoint = cluster.live.get(self.leader_id) if cluster is not None else None
        if endpoint is None:
            raise ConnectionError(f"broker {self.leader_id} is not live")
        conn = BrokerConnection(endpoint.host, endpoint.port, f"broker-{self.broker.broker_id}-fetcher")
        try:
            await conn.connect(self.timeout)
        except (OSError, TimeoutError) as e:
            raise ConnectionError(str(e)) from None
        self._conn = conn
        return conn

    # -- truncation ------------------------------------------------------------------------------------------
    async def _truncate(self, conn: BrokerConnection, states: list[FetchState]) -> None:
        """OffsetForLeaderEpoch for each partition's latest epoch, then the divergent tail goes (Kafka's
        truncateToEpochEndOffsets)."""
        by_topic: dict[str, list] = {}
        for s in states:
            part = s.partition
            by_topic.setdefault(part.topic, []).append(make(epoch_req.OffsetForLeaderPartition,
                partition=part.index, current_leader_epoch=part.leader_epoch,
                leader_epoch=part.log.leader_epochs.latest_epoch))
        request = make(epoch_req.OffsetForLeaderEpochRequest, replica_id=self.broker.broker_id, topics=tuple(
            make(epoch_req.OffsetForLeaderTopic, topic=t, partitions=tuple(ps)) for t, ps in by_topic.items()))
        response = await conn.call(request, OffsetForLeaderEpochResponse, self.timeout)
        for t in response.topics:
            for r in t.partitions:
                state = self.partitions.get((t.topic, r.partition))
                if state is None or not state.truncating:
                    continue
                if r.error_code != ErrorCode.none:
                    state.delayed_until = time.monotonic() + self.backoff
                    continue
                self._truncate_to_epoch_end(state.partition, r.leader_epoch, r.end_offset)
                state.truncating = False

    def _truncate_to_epoch_end(self, part: Partition, leader_epoch: int, end_offset: int) -> None:
        lg = part.log
        if leader_epoch == UNDEFINED_EPOCH or end_offset < 0:
            offset = lg.high_watermark  # the leader knows no such epoch: keep what is committed (Kafka)
        elif leader_epoch == lg.leader_epochs.latest_epoch:
            offset = min(end_offset, lg.log_end_offset)
        else:
            _, ours = lg.leader_epochs.end_offset_for(leader_epoch, lg.log_end_offset)
            offset = min(end_offset, ours if ours >= 0 else lg.log_end_offset)
        if offset < lg.log_end_offset:
            log.info("[%s]: Truncating partition %s-%d with TruncationState(offset=%d, completed=true) due to "
                     "leader epoch and offset EpochEndOffset(leaderEpoch=%d, endOffset=%d)", self.name, part.topic,
                     part.index, offset, leader_epoch, end_offset)
            lg.truncate_to(offset)

    # -- fetching --------------------------------------------------------------------------------------------
    async def _fetch(self, conn: BrokerConnection) -> bool:
        """One Fetch for the partitions that are ready; False when none is."""
        now = time.monotonic()
        ready = [s for s in self.partitions.values() if not s.truncating and s.delayed_until <= now]
        quota = self.broker.replication_quotas.follower
        if ready and quota.exceeded(int(time.time() * 1000)):  # shouldFollowerThrottle: leave them out for now
            ready = [s for s in ready if s.in_sync() or not quota.is_throttled(s.partition.topic, s.partition.index)]
        if not ready:
            return False
        by_topic: dict[str, list] = {}
        for s in ready:
            part = s.partition
            lg = part.log
            by_topic.setdefault(part.topic, []).append(make(fetch_req.FetchPartition,
                partition=part.index, current_leader_epoch=part.leader_epoch, fetch_offset=lg.log_end_offset,
                last_fetched_epoch=lg.leader_epochs.latest_epoch, log_start_offset=lg.log_start_offset,
                partition_max_bytes=self.partition_max_bytes))
        request = make(fetch_req.FetchRequest,
            cluster_id=None, replica_id=self.broker.broker_id, max_wait=self.max_wait, min_bytes=self.min_bytes,
            max_bytes=self.max_bytes, isolation_level=0, session_id=0, session_epoch=_SESSIONLESS,
            topics=tuple(make(fetch_req.FetchTopic, topic=t, partitions=tuple(ps)) for t, ps in by_topic.items()),
            forgotten_topics_data=(), rack_id="")
        timeout = self.timeout + self.max_wait.total_seconds()
        response = await conn.call(request, FetchResponse, timeout)
        if response.error_code != ErrorCode.none:
            for s in ready:
                s.delayed_until = time.monotonic() + self.backoff
            return True
        for t in response.responses:
            for r in t.partitions:
                state = self.partitions.get((t.topic, r.partition_index))
                if state is not None and state in ready:
                    self._process(state, r)
        return True

    def _process(self, state: FetchState, r) -> None:  # noqa: ANN001 - kio's PartitionData
        part = state.partition
        lg = part.log
        if r.error_code == ErrorCode.none:
            diverging = r.diverging_epoch
            if diverging is not None and diverging.epoch >= 0:
                self._truncate_to_epoch_end(part, diverging.epoch, diverging.end_offset)
                return
            records = bytes(r.records) if r.records else b""
            quota = self.broker.replication_quotas.follower
            if records and quota.is_throttled(part.topic, part.index):
                quota.record(len(records), int(time.time() * 1000))
            try:
                part.append_records_as_follower(records, r.high_watermark, r.log_start_offset, int(time.time() * 1000))
                state.lag = max(0, r.high_watermark - lg.log_end_offset)
                self.broker.replicas.notify(part.topic, part.index)  # consumers waiting on this follower (KIP-392)
            except Exception as e:  # noqa: BLE001 - a batch that does not fit: fetch it again after the backoff
                log.error("[%s]: Unexpected error appending to %s-%d: %s", self.name, part.topic, part.index, e)
                state.delayed_until = time.monotonic() + self.backoff
            return
        if r.error_code == ErrorCode.offset_out_of_range:
            if lg.log_end_offset < r.log_start_offset:  # the leader deleted what we lack: start at its start
                lg.truncate_fully_and_start_at(r.log_start_offset)
            else:
                state.truncating = True
            return
        # NOT_LEADER_OR_FOLLOWER, FENCED / UNKNOWN_LEADER_EPOCH, ...: a new state is on its way through the watch
        state.delayed_until = time.monotonic() + self.backoff


class ReplicaFetcherManager:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.num_fetchers = max(1, broker.config.get_int("num.replica.fetchers"))
        self.fetchers: dict[tuple[int, int], ReplicaFetcher] = {}
        self._owner: dict[tuple[str, int], ReplicaFetcher] = {}

    def fetcher_id(self, topic: str, partition: int) -> int:
        """Kafka's getFetcherId: Utils.abs(31 * topic.hashCode + partition) % numFetchers, stable across runs."""
        return (31 * zlib.crc32(topic.encode()) + partition) % self.num_fetchers

    def add(self, part: Partition) -> None:
        tp = (part.topic, part.index)
        self.remove(tp)
        key = (part.leader_id, self.fetcher_id(*tp))
        fetcher = self.fetchers.get(key)
        if fetcher is None:
            fetcher = self.fetchers[key] = ReplicaFetcher(self.broker, part.leader_id, key[1])
        fetcher.add(part)
        self._owner[tp] = fetcher

    def remove(self, tp: tuple[str, int]) -> None:
        fetcher = self._owner.pop(tp, None)
        if fetcher is not None:
            fetcher.remove(tp)

    def stop(self) -> None:
        for f in self.fetchers.values():
            f.stop()
        self.fetchers.clear()
        self._owner.clear()
