"""The broker: lifecycle (start-up, serve, shutdown), listeners, request dispatch; topic administration is
`topics.TopicAdmin`'s, over the metadata store."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import inspect
import logging
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from brook.config.broker import BrokerConfig
from brook.errors import ErrorCode, KafkaError
from brook.internal_topics import OFFSETS_TOPIC
from brook.log.cleaner import CleanerConfig, LogCleaner
from brook.log.config import LogConfig
from brook.log.manager import LogManager
from brook.log.retention import apply_retention
from brook.metadata import JsonMetadataStore
from brook.protocol.header import (
    MalformedRequest,
    RequestHeader,
    decode_request,
    encode_response,
    peek_correlation_id,
)
from brook.protocol.templates import TemplateCache
from brook.protocol.versions import api_name

from .authz import authorizer_from_config
from .connection import CLOSE, KafkaConnection
from .coordinators import build_coordinators
from .fetch_sessions import FetchSessionCache
from .flusher import GroupFlusher
from .log_dir_failures import LogDirFailures
from .log_levels import RuntimeLoggerManager
from .producer_ids import ProducerIdManager
from .quotas import ClientQuotas
from .registry import build_registry
from .replica_manager import ReplicaManager
from .topics import TopicAdmin, TopicInfo

log = logging.getLogger("kafka.server.KafkaServer")
req_log = logging.getLogger("kafka.request.logger")


@dataclass(slots=True)
class Listener:
    name: str
    host: str
    port: int


@dataclass(slots=True)
class RequestContext:
    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None
    connection: KafkaConnection
    header: RequestHeader
    size: int = 0  # of the request (header and body), what Kafka's produce quota counts


def parse_listener(uri: str) -> Listener:
    parts = urlsplit(uri)
    return Listener(parts.scheme.upper(), parts.hostname or "", 9092 if parts.port is None else parts.port)


def new_cluster_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


class Broker:
    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.broker_id = int(config.get("broker.id"))  # type: ignore[arg-type]
        self.max_request_bytes = int(config.get("socket.request.max.bytes"))  # type: ignore[arg-type]
        self.listeners = [parse_listener(u) for u in config.get("listeners")]  # type: ignore[union-attr]
        self.log_manager = LogManager(config.log_dirs, self.broker_id, "")
        self.metadata = JsonMetadataStore(self.log_manager.dirs[0], self.broker_id)
        self.topics = self.metadata.topics  # read-only view: name -> TopicInfo, and by_id
        self.admin = TopicAdmin(config, self.broker_id, self.metadata, self.log_manager)
        self.cluster_id = str(config.get("cluster.id") or self.log_manager.read_cluster_id() or new_cluster_id())
        self.log_manager.cluster_id = self.cluster_id
        self.registry = build_registry()
        self.authorizer = authorizer_from_config(config, self.metadata)  # None: no authorizer, nothing checked
        self.loggers = RuntimeLoggerManager(self.broker_id)
        self.replicas = ReplicaManager(self)
        self.flusher = GroupFlusher()
        self.log_dir_failures = LogDirFailures()  # dirs whose writes fail (a full disk): one log line each
        self.fetch_sessions = FetchSessionCache()
        self.quotas = ClientQuotas.following(self.metadata)
        self.templates = TemplateCache()
        self.producer_ids = ProducerIdManager(self.metadata, self.broker_id)
        self.cleaner = LogCleaner(self.log_manager, CleanerConfig.from_broker(config))
        self.txns, self.groups = build_coordinators(self)
        self.connections: set[KafkaConnection] = set()
        self.servers: list[asyncio.base_events.Server] = []
        self.bound: list[Listener] = []
        self._tasks: list[asyncio.Task] = []
        self.started_ms = int(time.time() * 1000)

    # -- topics (delegates for the coordinators) -------------------------------------------------------
    def log_config_for(self, topic: str) -> LogConfig:
        return self.admin.log_config_for(topic)

    def create_topic(self, name: str, partitions: int, replication_factor: int, configs: dict[str, str],
                     validate_only: bool = False) -> TopicInfo | None:
        return self.admin.create_topic(name, partitions, replication_factor, configs, validate_only)

    def log_bad_produce(self, topic: str, partition: int, e: KafkaError) -> None:
        log.warning("Rejected produce to %s-%d: %s (%s)", topic, partition, e.message or e.code.name, e.code.name)

    # -- requests ------------------------------------------------------------------------------------------
    def dispatch(self, conn: KafkaConnection, frame: bytes):  # type: ignore[no-untyped-def]
        """One request frame -> response bytes, None (acks=0), an awaitable of bytes, or CLOSE."""
        try:
            if len(frame) < 8:
                raise MalformedRequest("request shorter than its header")
            api_key = int.from_bytes(frame[0:2], "big", signed=True)
            version = int.from_bytes(frame[2:4], "big", signed=True)
            handler = self.registry.get(api_key)
            if handler is None:
                log.warning("Closing connection from %s: unknown API key %d", conn.peer, api_key)
                return CLOSE
            if not handler.min_version <= version <= handler.max_version:
                if api_key == 18:
                    from .handlers.api_versions import unsupported_version_response

                    return unsupported_version_response(self, peek_correlation_id(frame))
                log.warning("Closing connection from %s: %s v%d is not supported (supported %d-%d)",
                            conn.peer, api_name(api_key), version, handler.min_version, handler.max_version)
                return CLOSE
            header, body = decode_request(frame)
        except MalformedRequest as e:
            log.warning("Closing connection from %s: %s", conn.peer, e)
            return CLOSE
        ctx = RequestContext(api_key, version, header.correlation_id, header.client_id, conn, header, len(frame))
        try:
            result = handler.handle(self, ctx, body)
        except Exception:
            log.exception("Error handling %s v%d from %s", api_name(api_key), version, conn.peer)
            return CLOSE
        if result is None or result.__class__ is bytes:
            return result
        if inspect.isawaitable(result):
            return self._encode_later(header, result)
        try:
            return encode_response(header, result)
        except Exception:  # a response kio cannot write must not escape into the connection
            log.exception("Error encoding the %s v%d response to %s", api_name(api_key), version, conn.peer)
            return CLOSE

    async def _encode_later(self, header, pending):  # type: ignore[no-untyped-def]
        result = await pending
        return result if result is None or result.__class__ is bytes else encode_response(header, result)

    # -- lifecycle -----------------------------------------------------------------------------------------
    async def start(self) -> None:
        t0 = time.monotonic()
        log.info("starting")
        self.log_manager.startup(self.log_config_for)
        self.admin.reconcile_logs()
        self.replicas.load()
        self.log_manager.checkpoint()
        self.groups.load()
        self.txns.load()
        loop = asyncio.get_running_loop()
        for listener in self.listeners:
            server = await loop.create_server(lambda: KafkaConnection(self), listener.host or None,
                                              listener.port, reuse_address=True, backlog=512)
            self.servers.append(server)
            port = server.sockets[0].getsockname()[1]
            self.bound.append(Listener(listener.name, listener.host or "localhost", port))
        self._tasks.append(asyncio.ensure_future(self._checkpoint_loop()))
        self._tasks.append(asyncio.ensure_future(self._flush_ms_loop()))
        self._tasks.append(asyncio.ensure_future(self.groups.expire_offsets_loop()))
        self._tasks.append(asyncio.ensure_future(self._retention_loop()))
        if self.cleaner.config.enable:
            self._tasks.append(asyncio.ensure_future(self._cleaner_loop()))
        self._tasks.append(asyncio.ensure_future(self._txn_timeout_loop()))
        addrs = ",".join(f"{b.name}://{b.host}:{b.port}" for b in self.bound)
        log.info("[KafkaServer id=%d] started (kafka.server.KafkaServer) on %s in %d ms", self.broker_id, addrs,
                 (time.monotonic() - t0) * 1000)

    @property
    def advertised(self) -> Listener:
        adv = self.config.get("advertised.listeners")
        if adv:
            return parse_listener(adv[0])  # type: ignore[index]
        return self.bound[0]

    async def _checkpoint_loop(self) -> None:
        interval = int(self.config.get("log.flush.offset.checkpoint.interval.ms")) / 1000  # type: ignore[arg-type]
        while True:
            await asyncio.sleep(interval)
            try:
                self.log_manager.checkpoint()
            except OSError as e:  # a full disk: the next round tries again (recovery replays what is missing)
                self.log_dir_failures.failed(self.log_manager.dirs[0], "writing checkpoint files", e)

    def write_txn_markers(self, producer_id: int, producer_epoch: int, commit: bool,
                          partitions: set[tuple[str, int]],
                          coordinator_epoch: int = 0) -> dict[tuple[str, int], ErrorCode]:
        """Write one COMMIT/ABORT marker to each local partition: the one path for the transaction coordinator
        (one broker: no WriteTxnMarkers round trip) and for WriteTxnMarkers requests (kafka-transactions abort).
        Offsets committed in the transaction become visible (or vanish) once __consumer_offsets has its marker."""
        now = int(time.time() * 1000)
        errors: dict[tuple[str, int], ErrorCode] = {}
        for topic, p in sorted(partitions):
            try:
                self.replicas.append_marker(topic, p, producer_id, producer_epoch, commit, coordinator_epoch, now)
            except KafkaError as e:  # a stale producer epoch or a zombie coordinator: Kafka's per-partition error
                if e.code not in (ErrorCode.unknown_topic_or_partition, ErrorCode.kafka_storage_error):
                    log.warning("Rejected %s marker for producer %d on %s-%d: %s", "COMMIT" if commit else "ABORT",
                                producer_id, topic, p, e)
                errors[(topic, p)] = e.code  # KAFKA_STORAGE_ERROR (a full disk): the coordinator tries again
                continue
            errors[(topic, p)] = ErrorCode.none
        done = [p for (t, p), e in errors.items() if t == OFFSETS_TOPIC and e == ErrorCode.none]
        if done:
            self.groups.complete_txn(producer_id, commit, done)
        return errors

    async def _txn_timeout_loop(self) -> None:
        """transaction.abort.timed.out.transaction.cleanup.interval.ms: abort transactions past their timeout;
        also expire idle transactional ids and producer ids (transactional.id / producer.id.expiration.ms)."""
        producer_expiration = int(self.config.get("producer.id.expiration.ms"))  # type: ignore[arg-type]
        while True:
            await asyncio.sleep(self.txns.abort_interval_s)
            for txn_id in self.txns.coordinator.abort_timed_out():
                log.info("Aborted transaction of %s: it exceeded its timeout", txn_id)
            for txn_id in self.txns.coordinator.expire_transactional_ids():
                log.info("Expired transactional id %s", txn_id)
            now = int(time.time() * 1000)
            for lg in list(self.log_manager.logs.values()):
                if lg.producer_state.producers:
                    lg.producer_state.expire(now, producer_expiration)

    async def _retention_loop(self) -> None:
        """log.retention.check.interval.ms: delete segments past retention.ms / retention.bytes."""
        while True:
            await asyncio.sleep(int(self.config.get("log.retention.check.interval.ms")) / 1000)  # type: ignore[arg-type]
            now = int(time.time() * 1000)
            deleted = 0
            for (topic, p), lg in list(self.log_manager.logs.items()):
                lg.purge_deleted(now)
                n = apply_retention(lg, now)
                if n:
                    deleted += n
                    log.info("Deleted %d segment(s) of %s-%d by retention; log start offset is now %d", n, topic,
                             p, lg.log_start_offset)
            if deleted:
                self.log_manager.checkpoint()

    async def _cleaner_loop(self) -> None:
        """log.cleaner.backoff.ms: compact cleanup.policy=compact logs. The reading and rewriting run on a worker
        thread in bounded steps; only the short segment swap between steps runs here, so a fetch or a produce
        never sees a half-swapped log and the event loop is never blocked for long."""
        loop = asyncio.get_running_loop()
        pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kafka-log-cleaner-thread-0")
        backoff = self.cleaner.config.backoff_ms / 1000
        try:
            while True:
                try:
                    step = self.cleaner.prepare()
                    if step is not None:
                        await loop.run_in_executor(pool, self.cleaner.run, step)
                        self.cleaner.apply(step)
                except Exception:  # the cleaner must not take the broker down; Kafka's thread logs and goes on
                    log.exception("Log cleaner step failed")
                    step = None
                await asyncio.sleep(backoff if step is None else 0)
        finally:
            self.cleaner.abort()
            pool.shutdown(wait=False)

    async def _flush_ms_loop(self) -> None:
        """flush.ms: fsync logs whose last flush is older than their flush.ms (checked every second)."""
        while True:
            await asyncio.sleep(1.0)
            now = int(time.time() * 1000)
            for lg in list(self.log_manager.logs.values()):
                due = now - lg.last_flush_ms >= lg.config.flush_ms
                if lg.config.flush_ms < 2**62 and lg.unflushed_messages and due:
                    lg.last_flush_ms = now
                    try:
                        await asyncio.get_running_loop().run_in_executor(None, lg.flush)
                    except OSError as e:  # tried again at the next flush.ms
                        self.log_dir_failures.failed(lg.directory.parent, "flushing records", e)

    async def stop(self) -> None:
        log.info("[KafkaServer id=%d] shutting down", self.broker_id)
        for t in self._tasks:
            t.cancel()
        for s in self.servers:
            s.close()
        for c in list(self.connections):
            c.close()
        self.cleaner.close()  # a running cleaner step stops at its next batch; its files go at the next start
        try:
            self.log_manager.shutdown()
        except OSError as e:  # a full disk: no clean-shutdown marker, so the next start recovers the logs
            self.log_dir_failures.failed(self.log_manager.dirs[0], "writing checkpoint files at shutdown", e)
        log.info("[KafkaServer id=%d] shut down completed", self.broker_id)
