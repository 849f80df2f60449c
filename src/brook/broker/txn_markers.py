"""Transaction markers on this broker's partitions: the one path for the transaction coordinator (one broker: no
WriteTxnMarkers round trip) and for WriteTxnMarkers requests (kafka-transactions abort)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from brook.errors import ErrorCode, KafkaError
from brook.internal_topics import OFFSETS_TOPIC

if TYPE_CHECKING:
    from .server import Broker

log = logging.getLogger("kafka.server.KafkaServer")


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
                if e.code not in (ErrorCode.unknown_topic_or_partition, ErrorCode.kafka_storage_error):
                    log.warning("Rejected %s marker for producer %d on %s-%d: %s", "COMMIT" if commit else "ABORT",
                                producer_id, topic, p, e)
                errors[(topic, p)] = e.code  # KAFKA_STORAGE_ERROR (a full disk): the coordinator tries again
                continue
            errors[(topic, p)] = ErrorCode.none
        done = [p for (t, p), e in errors.items() if t == OFFSETS_TOPIC and e == ErrorCode.none]
        if done:
            self.broker.groups.complete_txn(producer_id, commit, done)
        return errors
