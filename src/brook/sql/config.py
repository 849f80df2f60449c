"""ksql-server.properties: ksqlDB's property names and defaults (KsqlConfig, KsqlRestConfig)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from brook.config.properties import load_properties

if TYPE_CHECKING:
    from brook.rest_auth import BasicAuth

DEFAULTS = {
    "listeners": "http://0.0.0.0:8088",
    "bootstrap.servers": "localhost:9092",
    "ksql.service.id": "default_",
    "ksql.streams.state.dir": "/tmp/kafka-streams",
    "ksql.schema.registry.url": "",
    "ksql.streams.auto.offset.reset": "latest",
    "ksql.streams.commit.interval.ms": "2000",
    "ksql.streams.processing.guarantee": "at_least_once",
    "ksql.streams.cache.max.bytes.buffering": "10000000",
    "ksql.query.pull.table.scan.enabled": "true",
    "ksql.pull.queries.enable": "true",
    "ksql.query.pull.stream.enabled": "true",
    "ksql.query.pull.limit.clause.enabled": "true",
    "ksql.internal.topic.replicas": "1",
    "ksql.sink.replicas": "",
    "ksql.persistence.default.format.key": "KAFKA",
    "ksql.persistence.default.format.value": "",
    "ksql.output.topic.name.prefix": "",  # prefixed to the default topic name of a CREATE ... AS SELECT's sink
    "ksql.query.push.v2.enabled": "false",
}


class ConfigException(Exception):
    pass


@dataclass
class KsqlConfig:
    props: dict[str, str] = field(default_factory=lambda: dict(DEFAULTS))

    @classmethod
    def load(cls, path: str | None, overrides: dict[str, str]) -> KsqlConfig:
        raw = {**(load_properties(path) if path else {}), **overrides}
        props = {**DEFAULTS, **{k.strip(): v.strip() for k, v in raw.items()}}
        # ksqlDB reads the Kafka cluster from bootstrap.servers or its ksql.streams. form
        if "ksql.streams.bootstrap.servers" in raw and "bootstrap.servers" not in raw:
            props["bootstrap.servers"] = raw["ksql.streams.bootstrap.servers"].strip()
        c = cls(props)
        for url in c.listeners:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or parts.port is None:
                raise ConfigException(f"Invalid listener {url}: Brook's ksqlDB server serves http://host:port and "
                                      "https://host:port")
        return c

    def get(self, name: str) -> str:
        return self.props.get(name, "")
    @property
    def listeners(self) -> list[str]:
        return [x.strip() for x in self.props["listeners"].split(",") if x.strip()]

    @property
    def bootstrap(self) -> str:
        return self.props["bootstrap.servers"]

    @property
    def service_id(self) -> str:
        return self.props["ksql.service.id"]

    @property
    def command_topic(self) -> str:
        return f"_confluent-ksql-{self.service_id}_command_topic"

    def rest_security(self) -> tuple[ssl.SSLContext | None, BasicAuth | None]:
        """The https listeners' TLS (ssl.keystore.*, ssl.client.authentication) and Basic authentication
        (authentication.method=BASIC, the realm's JAAS section in KSQL_OPTS' file)."""
        from brook import rest_auth, rest_tls

        get = rest_tls.getter(self.props)
        tls = None
        if any(urlsplit(u).scheme == "https" for u in self.listeners):
            tls = rest_tls.server_context(get, rest_tls.rest_utils_client_auth(get))
        return tls, rest_auth.rest_utils_auth(self.props, "KSQL_OPTS", rest_auth.ksql_reject)

    def schema_registry_settings(self) -> dict[str, str]:
        """The registry client's settings in the serde names (schema.registry.url, basic.auth.*,
        schema.registry.ssl.*): ksqlDB's ksql.schema.registry.<client config>."""
        prefix = "ksql.schema.registry."
        out = {"schema.registry.url": self.get("ksql.schema.registry.url")}
        for k, v in self.props.items():
            short = k[len(prefix):] if k.startswith(prefix) else ""
            if short.startswith("basic.auth."):
                out[short] = v
            elif short.startswith("ssl."):
                out["schema.registry." + short] = v
        return out

    def client_props(self) -> dict[str, str]:
        """Kafka client settings: bootstrap.servers and ksqlDB's ksql.streams.<client config> security settings."""
        out = {"bootstrap.servers": self.bootstrap}
        for k, v in self.props.items():
            short = k[len("ksql.streams."):] if k.startswith("ksql.streams.") else ""
            if short in ("security.protocol", "sasl.mechanism", "sasl.username", "sasl.password"):
                out[short] = v
        return out

    def consumer_props(self) -> dict[str, str]:
        """client_props and the ksql.streams.<consumer config> settings librdkafka shares with Java's consumer."""
        out = self.client_props()
        for k, v in self.props.items():
            short = k[len("ksql.streams."):] if k.startswith("ksql.streams.") else ""
            if short in ("session.timeout.ms", "heartbeat.interval.ms", "max.poll.interval.ms"):
                out[short] = v
        return out
