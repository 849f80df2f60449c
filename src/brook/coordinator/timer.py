"""Deadlines by key, as Kafka's coordinator timer keeps them: scheduling a key again replaces its deadline. The
coordinators only record deadlines; the broker asks for the next one and calls back when it is due."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Hashable


class Timer:
    def __init__(self) -> None:
        self._deadlines: dict[Hashable, int] = {}
        self._heap: list[tuple[int, int, Hashable]] = []
        self._seq = itertools.count()

    def schedule(self, key: Hashable, deadline_ms: int) -> None:
        old = self._deadlines.get(key)
        self._deadlines[key] = deadline_ms
        # A later deadline keeps the entry already in the heap (re-pushed when it surfaces), so a member that
        # heartbeats often costs one entry, not one per heartbeat.
        if old is None or deadline_ms < old:
            heapq.heappush(self._heap, (deadline_ms, next(self._seq), key))

    def cancel(self, key: Hashable) -> None:
        self._deadlines.pop(key, None)

    def cancel_where(self, predicate: Callable[[Hashable], bool]) -> None:
        for key in [k for k in self._deadlines if predicate(k)]:
            del self._deadlines[key]

    def deadline(self, key: Hashable) -> int | None:
        return self._deadlines.get(key)

    def next_deadline(self) -> int | None:
        heap = self._heap
        while heap:
            at, _, key = heap[0]
            actual = self._deadlines.get(key)
            if actual == at:
                return at
            heapq.heappop(heap)
            if actual is not None and actual > at:  # moved later: back in at its real deadline
                heapq.heappush(heap, (actual, next(self._seq), key))
        return None

    def pop_due(self, now_ms: int) -> list[Hashable]:
        """The keys due at now_ms, earliest first, removed from the timer."""
        due = []
        while (at := self.next_deadline()) is not None and at <= now_ms:
            key = heapq.heappop(self._heap)[2]
            del self._deadlines[key]
            due.append(key)
        return due

    def __len__(self) -> int:
        return len(self._deadlines)
