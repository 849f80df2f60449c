"""Transaction markers in a cluster (Kafka's TransactionMarkerChannelManager): the transaction coordinator's
COMMIT/ABORT markers go to each partition's leader, this broker included, in WriteTxnMarkers over the inter-broker
listener, and the transaction completes once every leader answered that its ISR has them.

One asyncio task per transaction: it first waits until the __transaction_state ISR has the PrepareCommit /
PrepareAbort (a coordinator elected after a crash must find it, or it would end the transaction the other way),
then writes, grouped by leader, and tries the partitions that failed again (NOT_LEADER_OR_FOLLOWER, no leader,
NOT_ENOUGH_REPLICAS, a lost connection) once the partition states had time to change. It stops when this broker
no longer coordinates the transactional id (its partition moved or was loaded again), as Kafka's channel drops the
markers of an unloaded partition, and on INVALID_PRODUCER_EPOCH / TRANSACTION_COORDINATOR_FENCED. A deleted
topic's partitions are dropped."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from kio.schema.write_txn_markers.v1.request import WritableTxnMarker, WritableTxnMarkerTopic, WriteTxnMarkersRequest
from kio.schema.write_txn_markers.v1.response import WriteTxnMarkersResponse

from brook.cluster.inter_broker import BrokerConnection
from brook.errors import ErrorCode
from brook.protocol.build import make

from .coordinators import REQUEST_TIMEOUT_MS, txn_log_replicated

if TYPE_CHECKING:
    from .server import Broker

log = logging.getLogger("kafka.coordinator.transaction.TransactionMarkerChannelManager")
RETRY_BACKOFF_S = 0.1  # Kafka's retry.backoff.ms
_FENCED = (ErrorCode.invalid_producer_epoch, ErrorCode.transaction_coordinator_fenced)
TopicPartition = tuple[str, int]


class TxnMarkerChannel:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._conns: dict[int, BrokerConnection] = {}
        self._tasks: set[asyncio.Task] = set()

    def send(self, txn_id: str, producer_id: int, producer_epoch: int, commit: bool,
             partitions: set[TopicPartition], coordinator_epoch: int) -> None:
        task = asyncio.get_running_loop().create_task(
            self._send(txn_id, producer_id, producer_epoch, commit, set(partitions), coordinator_epoch),
            name=f"txn-markers-{txn_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def stop(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()

    async def _send(self, txn_id: str, producer_id: int, producer_epoch: int, commit: bool,
                    remaining: set[TopicPartition], coordinator_epoch: int) -> None:
        coordinator = self.broker.txns.coordinator
        try:
            error = await txn_log_replicated(self.broker, txn_id)
            while error == ErrorCode.none and remaining:
                if coordinator.coordinator_epoch(txn_id) != coordinator_epoch:
                    error = ErrorCode.not_coordinator
                    break
                by_leader = self._leaders(remaining)
                answers = await asyncio.gather(*(
                    self._write(leader, tps, producer_id, producer_epoch, commit, coordinator_epoch)
                    for leader, tps in by_leader.items()))
                for codes in answers:
                    for tp, code in codes.items():
                        if code == ErrorCode.none:
                            remaining.discard(tp)
                        elif code in _FENCED:
                            error = code
                if remaining and error == ErrorCode.none:
                    await asyncio.sleep(RETRY_BACKOFF_S)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Sending the markers of %s failed", txn_id)
            error = ErrorCode.unknown_server_error
        if error == ErrorCode.none:
            coordinator.markers_written(txn_id, producer_id, producer_epoch, commit, coordinator_epoch)
            return
        log.info("Stopped sending the %s markers of %s (producer %d, epoch %d): %s", "COMMIT" if commit else "ABORT",
                 txn_id, producer_id, producer_epoch, error.name)
        coordinator.markers_abandoned(txn_id, coordinator_epoch)

    def _leaders(self, remaining: set[TopicPartition]) -> dict[int, list[TopicPartition]]:
        """The partitions by their live leader; those without one wait for the next round, a deleted topic's go."""
        replication = self.broker.replication
        assert replication is not None
        live = replication.live_ids()
        by_leader: dict[int, list[TopicPartition]] = {}
        for tp in sorted(remaining):
            info = self.broker.topics.get(tp[0])
            if info is None or tp[1] >= info.partitions:
                remaining.discard(tp)
                continue
            state = replication.states.get(*tp)
            if state is not None and state.leader in live:
                by_leader.setdefault(state.leader, []).append(tp)
        return by_leader

    async def _write(self, leader: int, tps: list[TopicPartition], producer_id: int, producer_epoch: int,
                     commit: bool, coordinator_epoch: int) -> dict[TopicPartition, ErrorCode]:
        if leader == self.broker.broker_id:  # this broker's own partitions: no round trip
            markers = self.broker.txn_markers
            return await markers.replicated(markers.write(producer_id, producer_epoch, commit, set(tps),
                                                          coordinator_epoch))
        topics: dict[str, list[int]] = {}
        for t, p in tps:
            topics.setdefault(t, []).append(p)
        request = make(WriteTxnMarkersRequest, markers=(make(
            WritableTxnMarker, producer_id=producer_id, producer_epoch=producer_epoch, transaction_result=commit,
            coordinator_epoch=coordinator_epoch, topics=tuple(
                make(WritableTxnMarkerTopic, name=t, partition_indexes=tuple(ps)) for t, ps in topics.items())),))
        try:
            conn = await self._connection(leader)
            response = await conn.call(request, WriteTxnMarkersResponse, REQUEST_TIMEOUT_MS / 1000 + 5)
        except ConnectionError as e:
            log.info("Failed to send WriteTxnMarkers to broker %d: %s", leader, e)
            return dict.fromkeys(tps, ErrorCode.network_exception)
        codes = dict.fromkeys(tps, ErrorCode.unknown_server_error)
        for marker in response.markers:
            for topic in marker.topics:
                for part in topic.partitions:
                    codes[(topic.name, part.partition_index)] = ErrorCode(part.error_code)
        return codes

    async def _connection(self, broker_id: int) -> BrokerConnection:
        conn = self._conns.get(broker_id)
        if conn is not None and conn.connected:
            return conn
        cluster = self.broker.cluster
        found = cluster.live.get(broker_id) if cluster is not None else None
        endpoint = None if found is None else found.on(self.broker.listener_config.inter_broker) or found
        if endpoint is None:
            raise ConnectionError(f"broker {broker_id} is not live")
        conn = BrokerConnection(endpoint.host, endpoint.port, f"broker-{self.broker.broker_id}-txn-marker-sender")
        try:
            await conn.connect(10)
        except (OSError, TimeoutError) as e:
            raise ConnectionError(str(e)) from None
        self._conns[broker_id] = conn
        return conn
