"""What a listener needs beyond its socket: its security (TLS context, SASL mechanisms and their servers, the
principal mapping) and the connection limits Kafka's ConnectionQuotas applies (max.connections,
max.connections.per.ip and its overrides, per listener through listener.name.<l>.max.connections).

`inter_broker_client` is the seam the cluster's broker-to-broker connections use: the endpoint of another broker on
inter.broker.listener.name and the client security settings (librdkafka/Kafka client names) to reach it."""

from __future__ import annotations

import logging
import ssl
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from brook import key_stores
from brook.config.definition import ConfigError
from brook.config.listeners import ListenerEndpoint, Listeners, listener_value
from brook.metadata import ScramCredential

from .sasl import SaslAuthenticator
from .sasl_mechanisms import (
    OAuthBearerUnsecuredServer,
    PlainServer,
    ScramServer,
    parse_jaas,
    plain_users,
)
from .tls import PrincipalMapper, certificate_principal, server_context

if TYPE_CHECKING:
    from brook.config.broker import BrokerConfig
    from brook.metadata import MetadataStore

    from .connection import KafkaConnection

log = logging.getLogger("kafka.network.ConnectionQuotas")

SUPPORTED_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")


@dataclass
class ListenerSecurity:
    endpoint: ListenerEndpoint
    ssl_context: ssl.SSLContext | None = None
    principal_mapper: PrincipalMapper | None = None
    mechanisms: list[str] = field(default_factory=list)  # sasl.enabled.mechanisms (SASL listeners)
    servers: dict[str, Callable[[], object]] = field(default_factory=dict)  # mechanism -> new SASL server
    max_receive: int = 524288  # sasl.server.max.receive.size
    failed_delay_ms: int = 100  # connection.failed.authentication.delay.ms
    reauth_ms: int = 0  # connections.max.reauth.ms

    @property
    def sasl(self) -> bool:
        return self.endpoint.uses_sasl

    def authenticator(self, conn: KafkaConnection, reauth_of: tuple[str, str] | None = None) -> SaslAuthenticator:
        return SaslAuthenticator(conn, self, reauth_of)

    def certificate_principal(self, peercert: dict | None) -> str:
        assert self.principal_mapper is not None
        return certificate_principal(peercert, self.principal_mapper)


def listener_security(config: BrokerConfig, endpoint: ListenerEndpoint, store: MetadataStore) -> ListenerSecurity:
    """The security of one listener from server.properties (its listener.name.<l>.* overrides first)."""
    name = endpoint.name

    def get(setting: str) -> object:
        return config.for_listener(name, setting)

    sec = ListenerSecurity(endpoint, max_receive=int(get("sasl.server.max.receive.size")),  # type: ignore[call-overload]
                           failed_delay_ms=int(get("connection.failed.authentication.delay.ms")),  # type: ignore
                           reauth_ms=int(get("connections.max.reauth.ms")))  # type: ignore[call-overload]
    if endpoint.uses_tls:
        sec.ssl_context = server_context(get)
        sec.principal_mapper = PrincipalMapper(str(get("ssl.principal.mapping.rules")))
    if endpoint.uses_sasl:
        sec.mechanisms = [str(m).strip() for m in get("sasl.enabled.mechanisms")]  # type: ignore[attr-defined]
        for mechanism in sec.mechanisms:
            sec.servers[mechanism] = _server_factory(config, name, mechanism, store)
    return sec


def _server_factory(config: BrokerConfig, listener: str, mechanism: str,
                    store: MetadataStore) -> Callable[[], object]:
    jaas = listener_value(config, listener, "sasl.jaas.config", mechanism)
    if mechanism == "PLAIN":
        users = plain_users(jaas, listener)
        return lambda: PlainServer(users)
    if mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512"):
        def lookup(user: str) -> ScramCredential | None:
            return store.scram_credentials.get(user, {}).get(mechanism)

        return lambda: ScramServer(mechanism, lookup)
    if mechanism == "OAUTHBEARER":
        options = parse_jaas(jaas)[0][1] if jaas else {}
        return lambda: OAuthBearerUnsecuredServer(options)
    raise ConfigError(f"SASL mechanism {mechanism} of listener {listener} is not supported by Brook (it offers "
                      f"{', '.join(SUPPORTED_MECHANISMS)}; GSSAPI/Kerberos is not among them)")


class ConnectionQuotas:
    """Counts connections per listener and per address; refuses one past a limit (Kafka stops accepting at
    max.connections; Brook accepts and closes at once, see docs/security.md). The limits are read at each new
    connection, so dynamic changes (kafka-configs --entity-type brokers) apply to the next one."""

    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.total = 0
        self.per_ip: Counter[str] = Counter()
        self.per_listener: Counter[str] = Counter()

    def _per_ip_limit(self, host: str) -> int:
        for entry in (self.config.get_str("max.connections.per.ip.overrides") or "").split(","):
            name, sep, count = entry.strip().rpartition(":")
            if sep and name == host:
                return int(count)
        return self.config.get_int("max.connections.per.ip")

    def admit(self, conn: KafkaConnection) -> bool:
        limit = self._per_ip_limit(conn.host)
        if self.per_ip[conn.host] >= limit:
            log.info("Rejected connection from /%s, address already has the configured maximum of %d connections.",
                     conn.host, limit)
            return False
        listener_max = int(self.config.for_listener(conn.listener, "max.connections"))  # type: ignore[call-overload]
        if self.total >= self.config.get_int("max.connections") or self.per_listener[conn.listener] >= listener_max:
            log.info("Rejected connection from /%s on listener %s: max.connections reached", conn.host,
                     conn.listener)
            return False
        self.total += 1
        self.per_ip[conn.host] += 1
        self.per_listener[conn.listener] += 1
        return True

    def release(self, conn: KafkaConnection) -> None:
        self.total -= 1
        self.per_ip[conn.host] -= 1
        if not self.per_ip[conn.host]:
            del self.per_ip[conn.host]
        self.per_listener[conn.listener] -= 1


def inter_broker_client(config: BrokerConfig, listeners: Listeners) -> dict[str, str]:
    """Client settings for connections to other brokers on inter.broker.listener.name (librdkafka's names): the
    security protocol, the SASL mechanism with the username/password of that mechanism's JAAS entry, the trust and
    key stores of the listener."""
    name = listeners.inter_broker
    protocol = listeners.protocol(name)
    settings = {"security.protocol": protocol}
    if protocol.startswith("SASL_"):
        mechanism = str(config.get_str("sasl.mechanism.inter.broker.protocol"))
        settings["sasl.mechanism"] = mechanism
        jaas = listener_value(config, name, "sasl.jaas.config", mechanism)
        options = parse_jaas(jaas)[0][1] if jaas else {}
        for key in ("username", "password"):
            if key in options:
                settings[f"sasl.{key}"] = options[key]
    if protocol.endswith("SSL"):
        settings.update(_client_stores(config, name))
    return settings


def _client_stores(config: BrokerConfig, listener: str) -> dict[str, str]:
    """The listener's trust and key stores in librdkafka's settings (PEM files as they are, PKCS12 key stores as
    librdkafka's own, PKCS12 trust stores as PEM text)."""
    def get(name: str) -> str | None:
        return listener_value(config, listener, name)

    out: dict[str, str] = {}
    trust, keystore = get("ssl.truststore.location"), get("ssl.keystore.location")
    if trust is not None:
        store_type = get("ssl.truststore.type") or "JKS"
        if key_stores.store_format(store_type, trust, "truststore") == key_stores.PEM:
            out["ssl.ca.location"] = trust
        else:
            out["ssl.ca.pem"] = key_stores.pkcs12_certificates_pem(trust, get("ssl.truststore.password"), store_type)
    if keystore is not None:
        if key_stores.store_format(get("ssl.keystore.type") or "JKS", keystore) == key_stores.PEM:
            out["ssl.certificate.location"] = out["ssl.key.location"] = keystore
        else:
            out["ssl.keystore.location"] = keystore
            out["ssl.keystore.password"] = get("ssl.keystore.password") or ""
    key_password = get("ssl.key.password")
    if key_password is not None:
        out["ssl.key.password"] = key_password
    return out
