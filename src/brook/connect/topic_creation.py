"""Topic creation by source connectors (KIP-158): `topic.creation.default.replication.factor` and
`.partitions` switch it on; `topic.creation.groups` name further groups with `include` / `exclude` regex lists,
their own `replication.factor`, `partitions` and any topic config. A topic a source task writes to for the first
time is created with the settings of the first group that matches it (else the default group's), unless it exists.
"""

from __future__ import annotations

import logging
import re

from brook.connect.data import ConnectError

log = logging.getLogger("org.apache.kafka.connect.util.TopicCreation")
PREFIX = "topic.creation."
OWN = ("include", "exclude", "replication.factor", "partitions")


class TopicCreation:
    def __init__(self, groups: list[tuple[str, list[re.Pattern], list[re.Pattern], dict[str, str]]]) -> None:
        self.groups = groups  # (name, include, exclude, settings); the default group last, matching everything
        self.seen: set[str] = set()

    @classmethod
    def of(cls, worker_enabled: bool, props: dict[str, str]) -> TopicCreation | None:
        """None unless the worker allows it and the connector sets the default group's two required settings."""
        default = PREFIX + "default."
        if not worker_enabled or default + "replication.factor" not in props or default + "partitions" not in props:
            return None
        names = [g.strip() for g in props.get(PREFIX + "groups", "").split(",") if g.strip() and g.strip() != "default"]
        groups = []
        for name in names + ["default"]:
            settings = {k[len(f"{PREFIX}{name}."):]: v for k, v in props.items() if k.startswith(f"{PREFIX}{name}.")}
            if name == "default":
                include, exclude = [re.compile(".*")], []
            else:
                include = [re.compile(p.strip()) for p in settings.get("include", "").split(",") if p.strip()]
                exclude = [re.compile(p.strip()) for p in settings.get("exclude", "").split(",") if p.strip()]
            merged = {k[len(default):]: v for k, v in props.items() if k.startswith(default)}
            merged.update(settings)  # a group inherits the default group's settings it does not set
            groups.append((name, include, exclude, merged))
        return cls(groups)

    def group_for(self, topic: str) -> tuple[str, dict[str, str]]:
        """The first listed group whose include matches and exclude does not; the default group matches all."""
        for name, include, exclude, settings in self.groups:
            if any(p.fullmatch(topic) for p in include) and not any(p.fullmatch(topic) for p in exclude):
                return name, settings
        return self.groups[-1][0], self.groups[-1][3]

    def ensure(self, admin, topic: str) -> None:
        if topic in self.seen:
            return
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import NewTopic

        if topic in admin.list_topics(timeout=30).topics:
            self.seen.add(topic)
            return
        name, settings = self.group_for(topic)
        configs = {k: v for k, v in settings.items() if k not in OWN}
        new = NewTopic(topic, int(settings["partitions"]), int(settings["replication.factor"]), config=configs)
        try:
            admin.create_topics([new])[topic].result(30)
            log.info("Created topic '%s' using creation group TopicCreationGroup{name='%s', ...}", topic, name)
        except KafkaException as e:
            if e.args[0].code() != 36:  # TOPIC_ALREADY_EXISTS
                raise ConnectError(f"Failed to create topic '{topic}'") from e
        self.seen.add(topic)
