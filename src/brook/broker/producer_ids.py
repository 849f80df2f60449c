"""Producer id allocation: blocks of 1000 ids, the block's end persisted before any id of it is handed out,
so ids stay unique across restarts (Kafka's ProducerIdManager with /latest_producer_id_block)."""

from __future__ import annotations

from .topics import TopicTable

BLOCK_SIZE = 1000


class ProducerIdManager:
    def __init__(self, table: TopicTable) -> None:
        self.table = table
        self._next = table.producer_id_block_end
        self._end = table.producer_id_block_end

    def generate(self) -> int:
        if self._next >= self._end:
            self._next = self.table.producer_id_block_end
            self._end = self._next + BLOCK_SIZE
            self.table.producer_id_block_end = self._end
            self.table.save()
        pid = self._next
        self._next += 1
        return pid
