"""schema-registry.properties: Confluent Schema Registry's names and defaults (SchemaRegistryConfig)."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from brook.config.properties import load_properties

COMPATIBILITY_LEVELS = ("NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL",
                        "FULL_TRANSITIVE")
MODES = ("READWRITE", "READONLY", "READONLY_OVERRIDE", "IMPORT")


class ConfigException(Exception):
    """io.confluent.rest.exceptions / ConfigException: a bad property at start."""


def _bool(raw: str) -> bool:
    return raw.strip().lower() == "true"


@dataclass
class RegistryConfig:
    listeners: list[str] = field(default_factory=lambda: ["http://0.0.0.0:8081"])
    bootstrap_servers: str = ""
    topic: str = "_schemas"
    replication_factor: int = 3
    compatibility: str = "BACKWARD"
    host_name: str = ""
    group_id: str = "schema-registry"
    leader_eligibility: bool = True
    init_timeout_ms: int = 60000
    timeout_ms: int = 500
    mode_mutability: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_props(cls, props: dict[str, str]) -> RegistryConfig:
        c = cls()
        p = dict(props)
        listeners = p.pop("listeners", "").strip()
        if listeners:
            c.listeners = [x.strip() for x in listeners.split(",") if x.strip()]
        elif "port" in p:  # the deprecated `port` of older releases
            c.listeners = [f"http://0.0.0.0:{int(p.pop('port'))}"]
        c.bootstrap_servers = p.pop("kafkastore.bootstrap.servers", "").strip()
        c.topic = p.pop("kafkastore.topic", c.topic).strip()
        c.replication_factor = int(p.pop("kafkastore.topic.replication.factor", c.replication_factor))
        level = p.pop("schema.compatibility.level", p.pop("avro.compatibility.level", "backward")).strip().upper()
        if level not in COMPATIBILITY_LEVELS:
            raise ConfigException(f"Unknown compatibility level: {level.lower()}")
        c.compatibility = level
        c.host_name = p.pop("host.name", "").strip() or socket.getfqdn()
        c.group_id = p.pop("schema.registry.group.id", c.group_id).strip()
        c.leader_eligibility = _bool(p.pop("leader.eligibility", p.pop("master.eligibility", "true")))
        c.init_timeout_ms = int(p.pop("kafkastore.init.timeout.ms", c.init_timeout_ms))
        c.timeout_ms = int(p.pop("kafkastore.timeout.ms", c.timeout_ms))
        c.mode_mutability = _bool(p.pop("mode.mutability", "true"))
        c.extra = p
        if not c.bootstrap_servers:
            raise ConfigException("Missing required configuration \"kafkastore.bootstrap.servers\" which has no "
                                  "default value.")
        for url in c.listeners:
            parts = urlsplit(url)
            if parts.scheme != "http" or parts.port is None:
                raise ConfigException(f"Invalid listener {url}: Brook's registry serves http://host:port")
        return c

    @classmethod
    def load(cls, path: str | None, overrides: dict[str, str]) -> RegistryConfig:
        props = load_properties(path) if path else {}
        return cls.from_props({**props, **overrides})

    def kafka_client_props(self) -> dict[str, str]:
        """kafkastore.* settings passed to the Kafka clients (Confluent's kafkastore.<client config>)."""
        out = {"bootstrap.servers": self.bootstrap_servers}
        for k, v in self.extra.items():
            if k.startswith("kafkastore.") and k[len("kafkastore."):] in ("security.protocol", "sasl.mechanism",
                                                                         "sasl.username", "sasl.password"):
                out[k[len("kafkastore."):]] = v
        return out
