"""Transaction markers on this broker's partitions: the one path for the transaction coordinator (one broker: no
WriteTxnMarkers round trip; a cluster's coordinator for the partitions it leads) and for WriteTxnMarkers requests
(other brokers' coordinators, kafka-transactions abort). In a cluster a marker is an acks=-1 append: answered once
the partition's ISR has it (`replicated`)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from brook.errors import ErrorCode, KafkaError
from brook.internal_topics import OFFSETS_TOPIC

from .coordinators import REQUEST_TIMEOUT_MS
from .replica_manager import ProduceResult

if TYPE_CHECKING:
    from .server import Broker

log = logging.getLogger("kafka.server.KafkaServer")
# errors the coordinator retries (leadership moving, a full disk, too small an ISR): not worth a warning each
_QUIET = (ErrorCode.unknown_topic_or_partition, ErrorCode.kafka_storage_error, ErrorCode.not_leader_or_follower,
          ErrorCode.not_enough_replicas)


class TxnMarkerWriter:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def write(self, producer_id: int, producer_epoch: int, commit: bool, partitions: set[tuple[str, int]],
              coordinator_epoch: int = 0) -> dict[tuple[str, int], ErrorCode]:
        """One COMMIT/ABORT marker to each local partition. Offsets committed in the transaction become visible
        (or vanish) once __consumer_offsets has its marker."""
        now = int(time.time() * 1000)
        replicas = self.broker.replicas
        errors: dict[tuple[str, int], ErrorCode] = {}
        for topic, p in sorted(partitions):
            try:
                replicas.append_marker(topic, p, producer_id, producer_epoch, commit, coordinator_epoch, now)
            except KafkaError as e:  # a stale producer epoch or a zombie coordinator: Kafka's per-partition error
                if e.code not in _QUIET:
                    log.warning("Rejected %s marker for producer %d on %s-%d: %s", "COMMIT" if commit else "ABORT",
                                producer_id, topic, p, e)
                errors[(topic, p)] = e.code  # KAFKA_STORAGE_ERROR (a full disk): the coordinator tries again
                continue
            errors[(topic, p)] = ErrorCode.none
        done = [p for (t, p), e in errors.items() if t == OFFSETS_TOPIC and e == ErrorCode.none]
        if done:
            self.broker.groups.complete_txn(producer_id, commit, done)
        return errors

    async def replicated(self, errors: dict[tuple[str, int], ErrorCode]) -> dict[tuple[str, int], ErrorCode]:
        """In a cluster, the written partitions' errors once their ISRs have the markers (Kafka's WriteTxnMarkers
        appends with acks=-1 within request.timeout.ms): NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS_AFTER_APPEND or
        REQUEST_TIMED_OUT instead of NONE when they did not get there."""
        replicas = self.broker.replicas
        if self.broker.replication is None:
            return errors
        waits: dict[tuple[str, int], ProduceResult] = {}
        for tp, code in errors.items():
            part = replicas.get_partition(*tp)
            if code == ErrorCode.none and part is not None:
                waits[tp] = ProduceResult(ErrorCode.none, required_offset=part.log.log_end_offset, partition=part)
        if waits:
            await replicas.wait_for_acks(list(waits.values()), REQUEST_TIMEOUT_MS / 1000)
        return {tp: waits[tp].error if tp in waits else code for tp, code in errors.items()}
