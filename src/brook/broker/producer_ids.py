"""Producer id allocation: blocks of 1000 ids, each block allocated in the metadata store before any id of it is
handed out, so ids stay unique across restarts (Kafka's ProducerIdManager with /latest_producer_id_block)."""

from __future__ import annotations

from brook.metadata import MetadataStore

BLOCK_SIZE = 1000


class ProducerIdManager:
    def __init__(self, store: MetadataStore, broker_id: int) -> None:
        self.store = store
        self.broker_id = broker_id
        self._next = self._end = 0  # no block yet

    def generate(self) -> int:
        if self._next >= self._end:
            block = self.store.allocate_producer_ids(self.broker_id, BLOCK_SIZE)
            self._next, self._end = block.first, block.end
        pid = self._next
        self._next += 1
        return pid
