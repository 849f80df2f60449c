"""Worker: the plugins, converters and Kafka clients of one Connect process, and the connectors and tasks it
runs (Kafka's Worker). Status changes go to the herder's status store through `on_status`.

Every producer the worker creates is built by `brook.cli.clients.producer_config`, the builder of every producer
Brook runs: Java property names, Kafka's murmur2 partitioner, so keyed records land where Java producers put them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from brook.connect.configdef import ConfigError
from brook.connect.data import ConnectError
from brook.connect.task_sink import WorkerSinkTask
from brook.connect.task_source import WorkerSourceTask

if TYPE_CHECKING:
    from confluent_kafka.admin import AdminClient

log = logging.getLogger("org.apache.kafka.connect.runtime.Worker")
INTERFACES = {"key": ("converter", "Converter"), "value": ("converter", "Converter"),
              "header": ("header_converter", "HeaderConverter")}
# Kafka's Worker.baseProducerConfigs: acks=all; worker `producer.*` and connector `producer.override.*` on top
PRODUCER_DEFAULTS = {"acks": "all", "enable.idempotence": "false"}


def prefixed(props: dict[str, str], prefix: str) -> dict[str, str]:
    return {k[len(prefix):]: v for k, v in props.items() if k.startswith(prefix)}


class Worker:
    def __init__(self, props: dict[str, str], config: dict, plugins, offsets, on_status) -> None:
        self.props, self.config, self.plugins, self.offsets = props, config, plugins, offsets
        self.on_status = on_status
        self.on_topic = None  # the herder's record of a connector's active topics (KIP-558)
        self.tasks: dict[tuple[str, int], object] = {}
        self.admin: AdminClient | None = None

    # clients
    def bootstrap(self) -> str:
        return ",".join(self.config["bootstrap.servers"])

    def producer_config(self, connector_props: dict[str, str], client_id: str) -> dict:
        from brook.cli.clients import producer_config

        props = {"bootstrap.servers": self.bootstrap(), "client.id": client_id, **PRODUCER_DEFAULTS}
        props.update(prefixed(self.props, "producer."))
        props.update(prefixed(connector_props, "producer.override."))
        return producer_config(props)

    def consumer_config(self, connector: str, connector_props: dict[str, str], client_id: str) -> dict:
        conf = {"bootstrap.servers": self.bootstrap(), "client.id": client_id, "group.id": f"connect-{connector}",
                "enable.auto.commit": False, "auto.offset.reset": "earliest", "enable.partition.eof": False}
        conf.update(prefixed(self.props, "consumer."))
        conf.update(prefixed(connector_props, "consumer.override."))
        return conf

    def dlq_producer(self, topic: str, cfg: dict, connector_props: dict[str, str], client_id: str):
        """The dead letter queue's producer; the topic is created (1 partition) if it does not exist yet."""
        from confluent_kafka import KafkaException, Producer
        from confluent_kafka.admin import NewTopic

        admin = self._admin()
        if topic not in admin.list_topics(timeout=10).topics:
            fut = admin.create_topics([NewTopic(topic, 1, cfg["errors.deadletterqueue.topic.replication.factor"])])
            try:
                fut[topic].result(10)
            except KafkaException as e:
                if e.args[0].code() != 36:  # TOPIC_ALREADY_EXISTS: created meanwhile
                    raise ConnectError(f"Could not initialize dead letter queue with topic={topic}") from e
        return Producer(self.producer_config(connector_props, client_id))

    # sink offsets: the committed offsets of the connector's consumer group (KIP-875)
    def _admin(self):
        """One AdminClient for the worker, kept: a dropped client cancels its own pending requests."""
        if self.admin is None:
            from confluent_kafka.admin import AdminClient

            self.admin = AdminClient({"bootstrap.servers": self.bootstrap()})
        return self.admin

    def sink_offsets(self, connector: str) -> list[tuple[str, int, int]]:
        from confluent_kafka import ConsumerGroupTopicPartitions

        group = f"connect-{connector}"
        fut = self._admin().list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group]
        return sorted((tp.topic, tp.partition, tp.offset) for tp in fut.result(30).topic_partitions
                      if tp.offset >= 0)

    def alter_sink_offsets(self, connector: str, offsets: list[tuple[str, int, int]]) -> None:
        from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

        group = f"connect-{connector}"
        tps = [TopicPartition(t, p, o) for t, p, o in offsets]
        self._admin().alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, tps)])[group].result(30)

    def reset_sink_offsets(self, connector: str) -> None:
        """Forget the group's offsets by deleting the group, as Kafka's reset does."""
        from confluent_kafka import KafkaException

        group = f"connect-{connector}"
        try:
            self._admin().delete_consumer_groups([group], request_timeout=30)[group].result(30)
        except KafkaException as e:
            if e.args[0].code() != 69:  # GROUP_ID_NOT_FOUND: nothing to forget
                raise ConnectError(f"Failed to reset the offsets of connector {connector}: {e}") from e

    def converter(self, role: str, connector_props: dict[str, str]):
        """The connector's own converter if it names one, else the worker's (with its prefixed settings)."""
        name = f"{role}.converter"
        source = connector_props if connector_props.get(name) else self.props
        cls = source.get(name)
        if not cls:
            if role != "header":
                raise ConnectError(f'Missing required configuration "{name}" which has no default value.')
            cls = "org.apache.kafka.connect.storage.SimpleHeaderConverter"
        kind, interface = INTERFACES[role]
        conv = self.plugins.new_plugin(kind, cls, interface)
        try:
            conv.configure(prefixed(source, name + "."), role == "key")
        except ConfigError as e:
            raise ConnectError(str(e)) from e
        return cls, conv

    # tasks
    def start_task(self, connector: str, index: int, connector_props: dict[str, str], connector_config: dict,
                   task_props: dict[str, str], kind: str, task_class: type, paused: bool) -> None:
        cls = WorkerSourceTask if kind == "source" else WorkerSinkTask
        log.info("Creating task %s-%d", connector, index)
        try:
            t = cls(self, connector, index, connector_props, connector_config, task_props, task_class, paused)
        except Exception as e:
            from brook.connect.errors import java_trace

            log.error("Failed to start task %s-%d", connector, index, exc_info=e)
            self.task_status(connector, index, "FAILED", java_trace(e))
            return
        self.tasks[(connector, index)] = t
        t.start()

    def stop_tasks(self, ids: list[tuple[str, int]]) -> None:
        """Signal every task, then wait for each (task.shutdown.graceful.timeout.ms in all)."""
        tasks = [self.tasks.pop(i) for i in ids if i in self.tasks]
        for t in tasks:
            t.stop()  # type: ignore[attr-defined]
        for t in tasks:
            t.join(self.config["task.shutdown.graceful.timeout.ms"] / 1000 + 5)  # type: ignore[attr-defined]
            if t.is_alive():  # type: ignore[attr-defined]
                log.error("Graceful stop of task %s failed.", t.label)  # type: ignore[attr-defined]

    def task_status(self, connector: str, index: int, state: str, trace: str | None = None) -> None:
        self.on_status((connector, index), state, trace)

    def record_active_topic(self, connector: str, index: int, topic: str) -> None:
        """WorkerTask.recordActiveTopic: a topic a task produced to or consumed from (topic.tracking.enable)."""
        if self.on_topic is not None and self.config["topic.tracking.enable"]:
            self.on_topic(connector, index, topic)
