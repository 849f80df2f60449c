"""The broker's lifecycle: it builds its parts, starts (logs, partitions, coordinators, listeners, background
tasks) and stops. Request dispatch is `dispatch.Dispatcher`'s, periodic work `background.BackgroundTasks`', topic
administration `topics.TopicAdmin`'s (over the metadata store), transaction markers `txn_markers.TxnMarkerWriter`'s."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from brook.cluster.endpoints import BrokerEndpoint, Endpoint
from brook.config.broker import BrokerConfig
from brook.config.listeners import ListenerEndpoint, read_listeners
from brook.errors import ErrorCode, KafkaError
from brook.log.cleaner import CleanerConfig, LogCleaner
from brook.log.config import LogConfig
from brook.log.manager import LogManager
from brook.metadata import JsonMetadataStore, MetadataStore
from brook.protocol.templates import TemplateCache

from .authz import authorizer_from_config
from .background import BackgroundTasks
from .connection import KafkaConnection
from .coordinators import build_coordinators
from .dispatch import Dispatcher, RequestContext
from .fetch_sessions import FetchSessionCache
from .flusher import GroupFlusher
from .idle_poll import IdlePoller
from .listeners import ConnectionQuotas, ListenerSecurity, inter_broker_client, listener_security
from .log_dir_failures import LogDirFailures
from .log_levels import RuntimeLoggerManager
from .producer_ids import ProducerIdManager
from .quotas import ClientQuotas
from .registry import build_registry
from .replica_manager import ReplicaManager
from .replication_quotas import ReplicationQuotas
from .topics import TopicAdmin, TopicInfo
from .txn_marker_channel import TxnMarkerChannel
from .txn_markers import TxnMarkerWriter

if TYPE_CHECKING:  # a cluster's modules (and kazoo) are imported when the broker joins ZooKeeper: a single
    # broker runs without them, some megabytes smaller
    from brook.cluster import leadership
    from brook.cluster.controller import Controller
    from brook.cluster.partition_states import PartitionView
    from brook.cluster.reassignment import Reassignments
    from brook.cluster.registration import BrokerRegistry
    from brook.cluster.replication import Replication
    from brook.metadata.zookeeper import ZkMetadataStore

__all__ = ["Broker", "RequestContext"]

log = logging.getLogger("kafka.server.KafkaServer")


def new_cluster_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


class Broker:
    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.broker_id = config.get_int("broker.id")
        self.max_request_bytes = config.get_int("socket.request.max.bytes")
        self.listener_config = read_listeners(config)  # listeners, advertised.listeners, the inter-broker one
        self.listeners = self.listener_config.listeners
        self.connection_quotas = ConnectionQuotas(config)
        self.log_manager = LogManager(config.log_dirs, self.broker_id, "")
        self.cluster: BrokerRegistry | None = None  # set in a ZooKeeper cluster (zookeeper.connect)
        self.controller: Controller | None = None
        self.rebalance: leadership.AutoRebalance | None = None
        self.reassignments: Reassignments | None = None
        self.replication: Replication | None = None  # the data plane of a cluster (partition states, fetchers)
        self._deliver: Callable[[Callable[[], None]], None] | None = None
        self.metadata: MetadataStore
        self.zk_metadata: ZkMetadataStore | None = None  # the metadata store, in a cluster
        zookeeper_connect = config.get_str("zookeeper.connect")
        if zookeeper_connect:
            self.cluster_id = self._join_zookeeper(zookeeper_connect)
        else:
            self.metadata = JsonMetadataStore(self.log_manager.dirs[0], self.broker_id)
            self.cluster_id = config.get_str("cluster.id") or self.log_manager.read_cluster_id() or new_cluster_id()
        self.topics = self.metadata.topics  # read-only view: name -> TopicInfo, and by_id
        self.admin = TopicAdmin(config, self.broker_id, self.metadata, self.log_manager,
                                None if self.cluster is None else self._live_broker_racks)
        self.log_manager.cluster_id = self.cluster_id
        self.registry = build_registry()
        self.authorizer = authorizer_from_config(config, self.metadata)  # None: no authorizer, nothing checked
        self.security: dict[str, ListenerSecurity] = {
            e.name: listener_security(config, e, self.metadata) for e in self.listeners}
        self.loggers = RuntimeLoggerManager(self.broker_id)
        self.replicas = ReplicaManager(self)
        if self.zk_metadata is not None and self._deliver is not None:
            from brook.cluster.replication import Replication

            self.replication = Replication(self, self.zk_metadata.zk, self._deliver)
        self.flusher = GroupFlusher()
        self.log_dir_failures = LogDirFailures()  # dirs whose writes fail (a full disk): one log line each
        self.fetch_sessions = FetchSessionCache()
        self.quotas = ClientQuotas.following(self.metadata)
        self.replication_quotas = ReplicationQuotas(config, self.metadata, self.broker_id)
        self.templates = TemplateCache()
        self.idle_poll = IdlePoller(config.get_int("brook.idle.poll.us"))
        self.producer_ids = ProducerIdManager(self.metadata, self.broker_id)
        self.cleaner = LogCleaner(self.log_manager, CleanerConfig.from_broker(config))
        self.txns, self.groups = build_coordinators(self)
        self.connections: set[KafkaConnection] = set()
        self.servers: list[asyncio.base_events.Server] = []
        self.bound: list[ListenerEndpoint] = []  # the listeners with the ports they got
        self.dispatcher = Dispatcher(self)
        self.txn_markers = TxnMarkerWriter(self)
        self.marker_channel = TxnMarkerChannel(self)  # a cluster's: markers to other brokers' partitions
        self.background = BackgroundTasks(self)
        self.started_ms = int(time.time() * 1000)

    # -- the cluster ----------------------------------------------------------------------------------------
    def _join_zookeeper(self, connect: str) -> str:
        """KafkaServer.startup's ZooKeeper steps: connect (chroot created), the metadata store, the cluster id
        from /cluster/id, which must be the one in meta.properties."""
        session_ms = self.config.get_int("zookeeper.session.timeout.ms")
        timeout_ms = session_ms  # Kafka: zookeeper.connection.timeout.ms defaults to the session timeout
        if self.config.get("zookeeper.connection.timeout.ms") is not None:
            timeout_ms = self.config.get_int("zookeeper.connection.timeout.ms")
        loop = asyncio.get_event_loop()

        def deliver(fn: Callable[[], None]) -> None:
            try:
                loop.call_soon_threadsafe(fn)
            except RuntimeError:  # the loop is closed: a watch firing after the broker stopped has nobody to tell
                pass

        from brook.cluster import leadership
        from brook.cluster.controller import Controller
        from brook.cluster.reassignment import Reassignments
        from brook.cluster.registration import BrokerRegistry, get_or_create_cluster_id
        from brook.metadata.zookeeper import ZkMetadataStore, connect_client

        self._deliver = deliver
        log.info("Connecting to zookeeper on %s", connect)
        zk = connect_client(connect, timeout_ms / 1000, session_ms / 1000)
        self.metadata = self.zk_metadata = ZkMetadataStore(zk, deliver)
        self.cluster = BrokerRegistry(zk, deliver)
        self.controller = Controller(zk, self.broker_id, self.config, deliver)
        self.rebalance = leadership.install(self.controller)
        self.reassignments = Reassignments(self.controller)
        cluster_id = get_or_create_cluster_id(zk, new_cluster_id)
        stored = self.log_manager.read_cluster_id()
        if stored is not None and stored != cluster_id:
            raise RuntimeError(f"kafka.common.InconsistentClusterIdException: The Cluster ID {cluster_id} doesn't "
                               f"match stored clusterId Some({stored}) in meta.properties. The broker is trying to "
                               "join the wrong cluster. Configured zookeeper.connect may be wrong.")
        log.info("Cluster ID = %s", cluster_id)
        return cluster_id

    @property
    def controller_id(self) -> int:
        """The active controller's id (-1 while there is none); a single broker is its own controller."""
        return self.broker_id if self.controller is None else self.controller.active_id

    def _live_broker_racks(self) -> dict[int, str | None]:
        return {b.broker_id: b.rack for b in self.live_brokers()}

    def partition_viewer(self) -> Callable[[str, int, tuple[int, ...]], PartitionView]:
        """For Metadata and DescribeTopicPartitions: (topic, partition, replicas) -> (error, leader, leader epoch,
        ISR, offline replicas). A single broker leads everything, alone in the ISR of its one replica; a cluster
        answers from the partition states and the live brokers (read once per request)."""
        replication = self.replication
        if replication is None:
            epoch = self.replicas.leader_epoch
            return lambda topic, p, replicas: (ErrorCode.none, replicas[0], epoch(topic, p), replicas, ())
        from brook.cluster.partition_states import partition_view

        live, states = replication.live_ids(), replication.states
        return lambda topic, p, replicas: partition_view(states.get(topic, p), replicas, live)

    def live_brokers(self, listener: str | None = None) -> list[BrokerEndpoint]:
        """What Metadata and DescribeCluster list: every registered broker (or this one alone) with its endpoint on
        `listener` (the client's); brokers without that listener are left out, as Kafka's MetadataCache does."""
        if self.cluster is not None and self.cluster.live:
            brokers = list(self.cluster.live.values())
        else:
            rack = self.config.get("broker.rack")
            ends = tuple((e.name, e.host, e.port) for e in self.advertised_endpoints())
            brokers = [BrokerEndpoint(self.broker_id, ends[0][1], ends[0][2], None if rack is None else str(rack),
                                      ends)]
        if listener is None:
            return brokers
        return [b for b in (x.on(listener) for x in brokers) if b is not None]

    def advertised_endpoints(self) -> list[ListenerEndpoint]:
        """advertised.listeners (or the bound listeners), a port of 0 replaced by the one the listener got."""
        bound = {b.name: b for b in self.bound}
        out = []
        for e in self.listener_config.advertised:
            b = bound.get(e.name)
            if b is not None and (e.port == 0 or not e.host):
                e = ListenerEndpoint(e.name, e.host or b.host, e.port or b.port, e.protocol)
            out.append(e)
        return out

    def advertised_for(self, listener: str) -> ListenerEndpoint:
        """This broker's advertised endpoint on a listener (the one a client connected on)."""
        ends = self.advertised_endpoints()
        return next((e for e in ends if e.name == listener), ends[0])

    def inter_broker_client(self) -> dict[str, str]:
        """The seam for broker-to-broker connections: client security settings for inter.broker.listener.name
        (the peer's endpoint is `live_brokers(self.listener_config.inter_broker)`)."""
        return inter_broker_client(self.config, self.listener_config)

    # -- topics (delegates for the coordinators) -------------------------------------------------------
    def log_config_for(self, topic: str) -> LogConfig:
        return self.admin.log_config_for(topic)

    def create_topic(self, name: str, partitions: int, replication_factor: int, configs: dict[str, str],
                     validate_only: bool = False) -> TopicInfo | None:
        return self.admin.create_topic(name, partitions, replication_factor, configs, validate_only)

    def log_bad_produce(self, topic: str, partition: int, e: KafkaError) -> None:
        log.warning("Rejected produce to %s-%d: %s (%s)", topic, partition, e.message or e.code.name, e.code.name)

    # -- lifecycle -----------------------------------------------------------------------------------------
    async def start(self) -> None:
        t0 = time.monotonic()
        log.info("starting")
        self.log_manager.startup(self.log_config_for)
        self.admin.reconcile_logs()
        self.replicas.load()
        self.log_manager.checkpoint()
        if self.replication is None:  # in a cluster, groups and transactions load with their partition's leadership
            self.groups.load()
            self.txns.load()
        loop = asyncio.get_running_loop()
        for listener in self.listeners:
            security = self.security[listener.name]
            server = await loop.create_server(lambda s=security: KafkaConnection(self, s),
                                              listener.host or None, listener.port, reuse_address=True,
                                              backlog=512, ssl=security.ssl_context)
            self.servers.append(server)
            port = server.sockets[0].getsockname()[1]
            self.bound.append(ListenerEndpoint(listener.name, listener.host or "localhost", port, listener.protocol))
        if self.cluster is not None:  # once the listeners are bound: the registration names their ports
            rack = self.config.get("broker.rack")
            self.cluster.register(self.broker_id, [Endpoint(x.name, x.host, x.port, x.protocol)
                                                   for x in self.advertised_endpoints()],
                                  None if rack is None else str(rack))
            assert self.controller is not None and self.replication is not None
            self.replication.start()
            self.controller.start()
        self.background.start()
        addrs = ",".join(b.connection_string() for b in self.bound)
        log.info("[KafkaServer id=%d] started (kafka.server.KafkaServer) on %s in %d ms", self.broker_id, addrs,
                 (time.monotonic() - t0) * 1000)

    def _controlled_shutdown(self) -> None:
        """KafkaServer.controlledShutdown, before anything stops (on an executor thread)."""
        assert self.cluster is not None and self.controller is not None
        cluster, controller = self.cluster, self.controller
        inter_broker = self.listener_config.inter_broker

        def address() -> tuple[str, int] | None:
            found = cluster.live.get(controller.active_id)
            endpoint = None if found is None else found.on(inter_broker) or found  # the inter-broker listener's
            return None if endpoint is None else (endpoint.host, endpoint.port)

        from brook.cluster import shutdown

        shutdown.controlled_shutdown(address, self.broker_id, lambda: cluster.broker_epoch,
                                     self.config.get_int("controlled.shutdown.max.retries"),
                                     self.config.get_int("controlled.shutdown.retry.backoff.ms"))

    async def stop(self) -> None:
        log.info("[KafkaServer id=%d] shutting down", self.broker_id)
        if self.replication is not None:  # Kafka's StopReplica to a stopping broker: it follows no more, so that
            self.replication.stop_following()  # its leaders do not take it back into the ISRs meanwhile
        if self.cluster is not None and self.cluster.broker_epoch != -1 \
                and self.config.get_bool("controlled.shutdown.enable"):
            await asyncio.get_running_loop().run_in_executor(None, self._controlled_shutdown)
        self.background.stop()
        self.marker_channel.stop()
        if self.replication is not None:
            self.replication.stop()
        for s in self.servers:
            s.close()
        for c in list(self.connections):
            c.close()
        self.cleaner.close()  # a running cleaner step stops at its next batch; its files go at the next start
        try:
            self.log_manager.shutdown()
        except OSError as e:  # a full disk: no clean-shutdown marker, so the next start recovers the logs
            self.log_dir_failures.failed(self.log_manager.dirs[0], "writing checkpoint files at shutdown", e)
        if self.zk_metadata is not None:  # the session's end removes /brokers/ids/<id> at once
            if self.rebalance is not None:
                self.rebalance.stop()
            self.zk_metadata.close()
        log.info("[KafkaServer id=%d] shut down completed", self.broker_id)
