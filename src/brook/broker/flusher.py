"""Group commit for flush.messages: producers waiting on an fsync share one, run off the event loop."""

from __future__ import annotations

import asyncio
import logging

from brook.log.log import Log

log = logging.getLogger("kafka.log.LogFlusher")


class GroupFlusher:
    def __init__(self) -> None:
        self._pending: dict[int, Log] = {}
        self._waiters: list[asyncio.Future] = []
        self._running = False
        self.fsyncs = 0

    def request(self, lg: Log) -> asyncio.Future:
        """A future that completes once everything appended to lg so far is on disk."""
        fut = asyncio.get_running_loop().create_future()
        self._pending[id(lg)] = lg
        self._waiters.append(fut)
        if not self._running:
            self._running = True
            asyncio.ensure_future(self._drain())
        return fut

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiters:
                logs, self._pending = list(self._pending.values()), {}
                waiters, self._waiters = self._waiters, []
                try:
                    await loop.run_in_executor(None, _flush_all, logs)
                    self.fsyncs += 1
                    for w in waiters:
                        if not w.done():
                            w.set_result(None)
                except Exception as e:  # a failed fsync must not be acknowledged (the waiter reports it, once)
                    log.debug("fsync failed: %s", e)
                    for w in waiters:
                        if not w.done():
                            w.set_exception(e)
        finally:
            self._running = False


def _flush_all(logs: list[Log]) -> None:
    for lg in logs:
        lg.flush()
