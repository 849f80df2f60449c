"""Topic administration on the single broker: CreateTopics / DeleteTopics / CreatePartitions checks, written to
the metadata store; and this broker's logs kept in step with the store's topic events (what the controller and
LeaderAndIsr / StopReplica take over in a cluster). Also applies the store's dynamic broker configs."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Mapping, Sequence

from brook.cluster.assignment import assign_replicas
from brook.config.broker import BrokerConfig
from brook.config.topic import TOPIC_CONFIGS, effective_topic_config
from brook.errors import ErrorCode, KafkaError
from brook.log.config import LogConfig
from brook.log.manager import LogManager
from brook.metadata import (
    INTERNAL_TOPICS,
    BrokerConfigChanged,
    MetadataStore,
    PartitionsAdded,
    ReplicasReassigned,
    TopicConfigChanged,
    TopicCreated,
    TopicDeleted,
    TopicInfo,
    uniform_assignment,
)

__all__ = ["INTERNAL_TOPICS", "TopicAdmin", "TopicInfo", "validate_topic_name"]

log = logging.getLogger("kafka.server.KafkaServer")
_LEGAL = re.compile(r"^[a-zA-Z0-9._-]+$")
MAX_NAME_LENGTH = 249
MAX_RECORDS = 10_000  # Kafka's controller: records per user operation


def validate_topic_name(name: str) -> None:
    """Kafka's Topic.validate rules and messages."""
    if not name:
        raise KafkaError(ErrorCode.invalid_topic_exception, "Topic name is illegal, it can't be empty")
    if name in (".", ".."):
        raise KafkaError(ErrorCode.invalid_topic_exception, "Topic name cannot be \".\" or \"..\"")
    if len(name) > MAX_NAME_LENGTH:
        raise KafkaError(ErrorCode.invalid_topic_exception,
                         f"Topic name is illegal, it can't be longer than {MAX_NAME_LENGTH} characters, "
                         f"topic name: {name}")
    if not _LEGAL.match(name):
        raise KafkaError(ErrorCode.invalid_topic_exception,
                         f"Topic name \"{name}\" is illegal, it contains a character other than ASCII "
                         "alphanumerics, '.', '_' and '-'")


class TopicAdmin:
    def __init__(self, config: BrokerConfig, broker_id: int, store: MetadataStore, log_manager: LogManager,
                 live_brokers: Callable[[], Mapping[int, str | None]] | None = None) -> None:
        self.config = config
        self.live_brokers = live_brokers  # a cluster's brokers -> rack; None: this broker alone
        self.broker_id = broker_id
        self.store = store
        self.log_manager = log_manager
        self._apply_dynamic_configs()
        store.subscribe(TopicCreated, self._created)
        store.subscribe(PartitionsAdded, self._partitions_added)
        store.subscribe(ReplicasReassigned, self._reassigned)
        store.subscribe(TopicDeleted, self._deleted)
        store.subscribe(TopicConfigChanged, lambda e: self._reconfigure(e.name))
        store.subscribe(BrokerConfigChanged, self._broker_config_changed)


    def log_config_for(self, topic: str) -> LogConfig:
        info = self.store.topics.get(topic)
        return LogConfig.from_values(effective_topic_config(self.config, info.configs if info else {}))

    # -- requests --------------------------------------------------------------------------------------------
    def create_topic(self, name: str, partitions: int, replication_factor: int, configs: dict[str, str],
                     validate_only: bool = False, explicit: Sequence[Sequence[int]] | None = None
                     ) -> TopicInfo | None:
        validate_topic_name(name)
        if name in self.store.topics:
            raise KafkaError(ErrorCode.topic_already_exists, f"Topic '{name}' already exists.")
        if partitions == -1:
            partitions = self.config.get_int("num.partitions")
        if replication_factor == -1:
            replication_factor = self.config.get_int("default.replication.factor")
        if partitions <= 0:
            raise KafkaError(ErrorCode.invalid_partitions, "Number of partitions must be larger than 0.")
        if replication_factor <= 0:
            raise KafkaError(ErrorCode.invalid_replication_factor, "Replication factor must be larger than 0.")
        assignment: Sequence[Sequence[int]]
        if explicit is not None:  # the request's own assignment
            assignment = explicit
        elif self.live_brokers is not None:  # ZooKeeper mode: AdminUtils' assignment and its error
            assignment = assign_replicas(partitions, replication_factor, self.live_brokers())
        elif replication_factor > 1:
            raise KafkaError(ErrorCode.invalid_replication_factor,
                             f"Unable to replicate the partition {replication_factor} time(s): The target "
                             "replication factor of "
                             f"{replication_factor} cannot be reached because only 1 broker(s) are registered.")
        else:
            assignment = uniform_assignment(partitions, self.broker_id)
        TOPIC_CONFIGS.validate(configs)
        if 1 + partitions + len(configs) > MAX_RECORDS:
            raise KafkaError(ErrorCode.policy_violation, "Unable to perform excessively large batch operation.")
        if validate_only:
            return None
        info = self.store.create_topic(name, uuid.uuid4(), assignment, configs)
        log.info("Created topic %s with %d partitions, topic id %s", name, partitions, info.topic_id)
        return info

    def maybe_auto_create(self, name: str) -> TopicInfo | None:
        info = self.store.topics.get(name)
        if info is not None:
            return info
        if not self.config.get_bool("auto.create.topics.enable") or name in INTERNAL_TOPICS:
            return None
        return self.create_topic(name, -1, -1, {})

    def delete_topic(self, name: str) -> None:
        if name not in self.store.topics:
            raise KafkaError(ErrorCode.unknown_topic_or_partition, "This server does not host this topic-partition.")
        self.store.delete_topic(name)
        log.info("Deleted topic %s", name)

    def add_partitions(self, name: str, count: int, validate_only: bool,
                       explicit: Sequence[Sequence[int]] | None = None) -> None:
        info = self.store.topics.get(name)
        if info is None:
            raise KafkaError(ErrorCode.unknown_topic_or_partition, f"The topic '{name}' does not exist.")
        if count < info.partitions:
            raise KafkaError(ErrorCode.invalid_partitions,
                             f"Topic currently has {info.partitions} partitions, which is higher than the "
                             f"requested {count}.")
        if count == info.partitions:
            raise KafkaError(ErrorCode.invalid_partitions, f"Topic already has {info.partitions} partitions.")
        if count - info.partitions > MAX_RECORDS:
            raise KafkaError(ErrorCode.policy_violation, "Unable to perform excessively large batch operation.")
        if explicit is not None and len(explicit) != count - info.partitions:
            raise KafkaError(ErrorCode.invalid_replica_assignment,
                             f"Increasing the number of partitions by {count - info.partitions} but "
                             f"{len(explicit)} assignments provided.")
        if not validate_only:
            if explicit is not None:
                replicas: Sequence[Sequence[int]] = explicit
            elif self.live_brokers is None:
                replicas = uniform_assignment(count, self.broker_id, first=info.partitions)
            else:
                replicas = assign_replicas(count - info.partitions, info.replication_factor, self.live_brokers(),
                                           first_partition=info.partitions)
            self.store.add_partitions(name, replicas)

    # -- this broker's logs follow the store -----------------------------------------------------------------
    def reconcile_logs(self) -> None:
        """At start-up, after the logs are loaded: a partition dir without a topic in the store (or the reverse)
        after a crash: the store wins."""
        topics = self.store.topics
        for (topic, p) in list(self.log_manager.logs):
            info = topics.get(topic)
            if info is None or p >= info.partitions or self.broker_id not in info.replicas(p):
                self.log_manager.delete(topic, p)
        for info in topics.values():
            self._create_logs(info, 0)

    def _create_logs(self, info: TopicInfo, first: int) -> None:
        cfg = self.log_config_for(info.name)
        for p in range(first, info.partitions):
            if self.broker_id in info.replicas(p) and self.log_manager.get(info.name, p) is None:
                try:
                    self.log_manager.create(info.name, p, info.topic_id, cfg)
                except OSError as e:  # a full disk: the partition stays without a log until the next start
                    log.error("Error while creating log for %s-%d: %s", info.name, p, e)

    def _created(self, event: TopicCreated) -> None:
        self._create_logs(event.info, 0)

    def _partitions_added(self, event: PartitionsAdded) -> None:
        self._create_logs(event.info, event.previous)

    def _reassigned(self, event: ReplicasReassigned) -> None:
        """A replica added here gets its (empty) log; a replica removed from here loses it."""
        self._create_logs(event.info, 0)
        for p in range(event.info.partitions):
            if self.broker_id not in event.info.replicas(p) and self.broker_id in event.previous.replicas(p):
                self.log_manager.delete(event.info.name, p)

    def _deleted(self, event: TopicDeleted) -> None:
        for p in range(event.info.partitions):
            self.log_manager.delete(event.info.name, p)

    def _reconfigure(self, topic: str) -> None:
        info = self.store.topics.get(topic)
        if info is None:
            return
        cfg = self.log_config_for(topic)
        for p in range(info.partitions):
            lg = self.log_manager.get(topic, p)
            if lg is not None:
                lg.config = cfg

    def _apply_dynamic_configs(self) -> None:
        self.config.set_dynamic(dict(self.store.broker_configs(None)), dict(self.store.broker_configs(self.broker_id)))

    def _broker_config_changed(self, event: BrokerConfigChanged) -> None:
        if event.broker_id not in (None, self.broker_id):
            return
        self._apply_dynamic_configs()
        for topic in list(self.store.topics):
            self._reconfigure(topic)
