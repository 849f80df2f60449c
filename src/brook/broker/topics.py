"""The single broker's topic table (names, ids, partition counts, config overrides), kept in
brook-metadata.json in the first log dir. In cluster mode ZooKeeper holds this instead (Kafka's znodes)."""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from brook.errors import ErrorCode, KafkaError

INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state"})
_LEGAL = re.compile(r"^[a-zA-Z0-9._-]+$")
MAX_NAME_LENGTH = 249


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


@dataclass
class TopicInfo:
    name: str
    topic_id: uuid.UUID
    partitions: int
    replication_factor: int = 1
    configs: dict[str, str] = field(default_factory=dict)

    @property
    def internal(self) -> bool:
        return self.name in INTERNAL_TOPICS


class TopicTable:
    FILE = "brook-metadata.json"

    def __init__(self, directory: Path) -> None:
        self.path = directory / self.FILE
        self.topics: dict[str, TopicInfo] = {}
        self.by_id: dict[uuid.UUID, TopicInfo] = {}
        self.broker_configs: dict[str, str] = {}  # this broker's dynamic configs (DYNAMIC_BROKER_CONFIG)
        self.broker_default_configs: dict[str, str] = {}  # the cluster-wide ones (resource "")
        # client quotas: entity ((type, name or None for the default), ...) sorted by type -> {key: value}
        self.client_quotas: dict[tuple[tuple[str, str | None], ...], dict[str, float]] = {}
        self.scram_credentials: dict[str, dict[str, dict[str, object]]] = {}  # user -> mechanism -> credential
        self.acls: list[dict[str, object]] = []  # AclBinding.to_json() of every ACL (Kafka: /kafka-acl/...)
        self.producer_id_block_end = 0  # ids below this may have been handed out (Kafka: /latest_producer_id_block)
        if self.path.exists():
            data = json.loads(self.path.read_text())
            for t in data.get("topics", []):
                info = TopicInfo(t["name"], uuid.UUID(t["id"]), t["partitions"], t.get("replication_factor", 1),
                                 t.get("configs", {}))
                self._index(info)
            self.broker_configs = data.get("broker_configs", {})
            self.broker_default_configs = data.get("broker_default_configs", {})
            self.client_quotas = {tuple((e["type"], e["name"]) for e in q["entity"]): q["values"]
                                  for q in data.get("client_quotas", [])}
            self.scram_credentials = data.get("scram_credentials", {})
            self.acls = data.get("acls", [])
            self.producer_id_block_end = data.get("producer_id_block_end", 0)

    def _index(self, info: TopicInfo) -> None:
        self.topics[info.name] = info
        self.by_id[info.topic_id] = info

    def save(self) -> None:
        data = {
            "version": 1,
            "topics": [{"name": t.name, "id": str(t.topic_id), "partitions": t.partitions,
                        "replication_factor": t.replication_factor, "configs": t.configs}
                       for t in self.topics.values()],
            "broker_configs": self.broker_configs,
            "broker_default_configs": self.broker_default_configs,
            "client_quotas": [{"entity": [{"type": t, "name": n} for t, n in entity], "values": values}
                              for entity, values in self.client_quotas.items()],
            "scram_credentials": self.scram_credentials,
            "acls": self.acls,
            "producer_id_block_end": self.producer_id_block_end,
        }
        tmp = self.path.with_name(self.FILE + ".tmp")
        with open(tmp, "w") as f:
            json.dump(data, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def add(self, name: str, partitions: int, configs: dict[str, str], replication_factor: int = 1) -> TopicInfo:
        info = TopicInfo(name, uuid.uuid4(), partitions, replication_factor, dict(configs))
        self._index(info)
        self.save()
        return info

    def remove(self, name: str) -> TopicInfo | None:
        info = self.topics.pop(name, None)
        if info is not None:
            self.by_id.pop(info.topic_id, None)
            self.save()
        return info

    def get(self, name: str) -> TopicInfo | None:
        return self.topics.get(name)
