"""The broker's periodic work, one asyncio task per Kafka scheduler job: offset checkpoints, flush.ms, retention,
the log cleaner, transaction timeouts and producer-id expiry, and the group coordinator's offset expiry. Each loop
only schedules; what a round does belongs to the log manager, the cleaner or the coordinators."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from brook.log.retention import apply_retention

if TYPE_CHECKING:
    from .server import Broker

log = logging.getLogger("kafka.server.KafkaServer")


def _now_ms() -> int:
    return int(time.time() * 1000)


class BackgroundTasks:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loops: list[Coroutine[Any, Any, None]] = [
            self._checkpoint_loop(), self._flush_ms_loop(), self.broker.groups.expire_offsets_loop(),
            self._retention_loop(), self._txn_timeout_loop(), self._idle_connections_loop()]
        if self.broker.cleaner.config.enable:
            loops.append(self._cleaner_loop())
        self._tasks = [asyncio.ensure_future(c) for c in loops]

    def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        self._tasks = []

    async def _checkpoint_loop(self) -> None:
        """log.flush.offset.checkpoint.interval.ms: write the recovery-point and log-start-offset checkpoints."""
        broker = self.broker
        interval = broker.config.get_int("log.flush.offset.checkpoint.interval.ms") / 1000
        while True:
            await asyncio.sleep(interval)
            try:
                broker.log_manager.checkpoint()
            except OSError as e:  # a full disk: the next round tries again (recovery replays what is missing)
                broker.log_dir_failures.failed(broker.log_manager.dirs[0], "writing checkpoint files", e)

    async def _idle_connections_loop(self) -> None:
        """connections.max.idle.ms: close connections that received nothing for that long. A connection counts
        the sweeps since its last bytes (reset on receipt), so nothing is timed per request; ten sweeps per idle
        period close it between 1 and 1.1 times connections.max.idle.ms (Kafka's check is as approximate)."""
        broker = self.broker
        idle_ms = broker.config.get_long("connections.max.idle.ms")
        if idle_ms < 0:
            return
        while True:
            await asyncio.sleep(idle_ms / 10_000)
            for conn in list(broker.connections):
                if conn.busy:  # a delayed request (a long poll) in flight
                    continue
                conn.idle_sweeps += 1
                if conn.idle_sweeps > 10:
                    log.debug("Closing idle connection %s (connections.max.idle.ms=%d)", conn.peer, idle_ms)
                    conn.close()

    async def _txn_timeout_loop(self) -> None:
        """transaction.abort.timed.out.transaction.cleanup.interval.ms: abort transactions past their timeout;
        also expire idle transactional ids and producer ids (transactional.id / producer.id.expiration.ms)."""
        broker = self.broker
        producer_expiration = broker.config.get_int("producer.id.expiration.ms")
        while True:
            await asyncio.sleep(broker.txns.abort_interval_s)
            broker.txns.expire()
            broker.log_manager.expire_producers(_now_ms(), producer_expiration)

    async def _retention_loop(self) -> None:
        """log.retention.check.interval.ms: delete segments past retention.ms / retention.bytes."""
        broker = self.broker
        while True:
            await asyncio.sleep(broker.config.get_long("log.retention.check.interval.ms") / 1000)
            now = _now_ms()
            deleted = 0
            for (topic, p), lg in list(broker.log_manager.logs.items()):
                lg.purge_deleted(now)
                n = apply_retention(lg, now)
                if n:
                    deleted += n
                    log.info("Deleted %d segment(s) of %s-%d by retention; log start offset is now %d", n, topic,
                             p, lg.log_start_offset)
            if deleted:
                broker.log_manager.checkpoint()

    async def _cleaner_loop(self) -> None:
        """log.cleaner.backoff.ms: compact cleanup.policy=compact logs. The reading and rewriting run on a worker
        thread in bounded steps; only the short segment swap between steps runs here, so a fetch or a produce
        never sees a half-swapped log and the event loop is never blocked for long."""
        cleaner = self.broker.cleaner
        loop = asyncio.get_running_loop()
        pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kafka-log-cleaner-thread-0")
        backoff = cleaner.config.backoff_ms / 1000
        try:
            while True:
                try:
                    step = cleaner.prepare()
                    if step is not None:
                        await loop.run_in_executor(pool, cleaner.run, step)
                        cleaner.apply(step)
                except Exception:  # the cleaner must not take the broker down; Kafka's thread logs and goes on
                    log.exception("Log cleaner step failed")
                    step = None
                await asyncio.sleep(backoff if step is None else 0)
        finally:
            cleaner.abort()
            pool.shutdown(wait=False)

    async def _flush_ms_loop(self) -> None:
        """flush.ms: fsync logs whose last flush is older than their flush.ms (checked every second)."""
        broker = self.broker
        while True:
            await asyncio.sleep(1.0)
            now = _now_ms()
            for lg in list(broker.log_manager.logs.values()):
                due = now - lg.last_flush_ms >= lg.config.flush_ms
                if lg.config.flush_ms < 2**62 and lg.unflushed_messages and due:
                    lg.last_flush_ms = now
                    try:
                        await asyncio.get_running_loop().run_in_executor(None, lg.flush)
                    except OSError as e:  # tried again at the next flush.ms
                        broker.log_dir_failures.failed(lg.directory.parent, "flushing records", e)
