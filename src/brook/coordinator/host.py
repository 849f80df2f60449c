"""What the coordinators need from the broker that hosts them: its partitions of the internal topics, transaction
markers and producer ids. The broker passes an implementation in; nothing under coordinator/ knows the broker."""

from __future__ import annotations

from typing import Protocol

from brook.errors import ErrorCode


class CoordinatorHost(Protocol):
    def partition_count(self, topic: str) -> int | None:
        """The topic's partitions, None while it does not exist."""
        ...

    def create_internal_topic(self, topic: str, partitions: int, configs: dict[str, str]) -> None:
        ...

    def append(self, topic: str, partition: int, batch: bytes, now_ms: int) -> int:
        """Append one batch the coordinator built (AppendOrigin.COORDINATOR: no producer checks); the offset after
        it. The partition owns what follows from it (high watermark, waking fetches). A log that cannot take it
        (a full disk) raises KafkaError(NOT_COORDINATOR) with nothing appended."""
        ...

    def read(self, topic: str, partition: int, offset: int, max_bytes: int) -> bytes:
        """Whole batches from offset (or the log start, when later) up to the log end; b"" at the end."""
        ...

    def write_txn_markers(self, producer_id: int, producer_epoch: int, commit: bool, partitions: set[tuple[str, int]],
                          transactional_id: str, coordinator_epoch: int) -> dict[tuple[str, int], ErrorCode] | None:
        """The partitions' errors once written; None when they are sent to the partitions' leaders (a cluster):
        the coordinator's markers_written follows once all have them."""
        ...

    def new_producer_id(self) -> int:
        ...
