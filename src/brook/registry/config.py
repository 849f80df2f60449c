"""schema-registry.properties: Confluent Schema Registry's names and defaults (SchemaRegistryConfig)."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from brook.config.properties import load_properties

if TYPE_CHECKING:
    from brook.rest_auth import BasicAuth

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
    inter_instance_protocol: str = "http"  # the scheme the registries reach each other with (and the URL elected)
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
            if parts.scheme not in ("http", "https") or parts.port is None:
                raise ConfigException(f"Invalid listener {url}: Brook's registry serves http://host:port and "
                                      "https://host:port")
        c.inter_instance_protocol = c.extra.get("inter.instance.protocol", "http").strip().lower()
        if c.inter_instance_protocol not in ("http", "https"):
            raise ConfigException(f"Invalid inter.instance.protocol {c.inter_instance_protocol}: http or https")
        return c

    @classmethod
    def load(cls, path: str | None, overrides: dict[str, str]) -> RegistryConfig:
        props = load_properties(path) if path else {}
        return cls.from_props({**props, **overrides})

    def rest_security(self) -> tuple[ssl.SSLContext | None, ssl.SSLContext | None, BasicAuth | None]:
        """The https listeners' server context, the client context for forwarding to the primary, and Basic
        authentication (authentication.method=BASIC with SCHEMA_REGISTRY_OPTS' JAAS file)."""
        from brook import rest_auth, rest_tls

        get = rest_tls.getter(self.extra)
        server = None
        if any(urlsplit(u).scheme == "https" for u in self.listeners):
            server = rest_tls.server_context(get, rest_tls.rest_utils_client_auth(get))
        client = rest_tls.client_context(get) if self.inter_instance_protocol == "https" else None
        auth = rest_auth.rest_utils_auth(self.extra, "SCHEMA_REGISTRY_OPTS", rest_auth.confluent_reject)
        return server, client, auth

    def kafka_client_props(self) -> dict[str, str]:
        """kafkastore.* settings passed to the Kafka clients (Confluent's kafkastore.<client config>)."""
        out = {"bootstrap.servers": self.bootstrap_servers}
        for k, v in self.extra.items():
            if k.startswith("kafkastore.") and k[len("kafkastore."):] in ("security.protocol", "sasl.mechanism",
                                                                         "sasl.username", "sasl.password"):
                out[k[len("kafkastore."):]] = v
        return out
