"""Listeners as KafkaConfig reads them: `listeners` and `advertised.listeners` (NAME://host:port), the
`listener.security.protocol.map`, the inter-broker listener (`inter.broker.listener.name` or
`security.inter.broker.protocol`), and per-listener overrides (`listener.name.<listener>.<config>`, the listener
name in lower case). Pure functions over the broker's config: no sockets here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .definition import ConfigError

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
DEFAULT_PROTOCOL_MAP = ",".join(f"{p}:{p}" for p in SECURITY_PROTOCOLS)  # SocketServerConfigs' default


class RawConfig(Protocol):
    raw: dict[str, str]

    def get_list(self, name: str) -> list[str]: ...
    def get_str(self, name: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ListenerEndpoint:
    """One endpoint (Kafka's EndPoint): listener name, host ("" binds every interface), port, protocol."""

    name: str
    host: str
    port: int
    protocol: str

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    def connection_string(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.name}://{host}:{self.port}"


def protocol_map(config: RawConfig) -> dict[str, str]:
    """KafkaConfig.effectiveListenerSecurityProtocolMap: listener name -> security protocol."""
    value = config.raw.get("listener.security.protocol.map", DEFAULT_PROTOCOL_MAP)
    out: dict[str, str] = {}
    for entry in (e.strip() for e in value.split(",") if e.strip()):
        name, sep, protocol = entry.partition(":")
        if not sep or protocol.strip().upper() not in SECURITY_PROTOCOLS:
            raise ConfigError(f"Invalid value {value} for configuration listener.security.protocol.map: "
                              f"No enum constant org.apache.kafka.common.security.auth.SecurityProtocol."
                              f"{protocol.strip()}")
        out[name.strip().upper()] = protocol.strip().upper()
    return out


def parse_endpoints(value: list[str], protocols: dict[str, str], distinct_ports: bool) -> list[ListenerEndpoint]:
    """CoreUtils.listenerListToEndPoints: names and (for `listeners`) ports distinct."""
    joined = ",".join(value)
    endpoints = []
    for uri in value:
        name, sep, hostport = uri.strip().partition("://")
        if not sep:
            raise ConfigError(f"Error creating broker listeners from '{joined}': Unable to parse {uri} to a "
                              "broker endpoint")
        name = name.upper()
        host, _, port = hostport.rpartition(":")
        if name not in protocols:
            raise ConfigError(f"Error creating broker listeners from '{joined}': No security protocol defined for "
                              f"listener {name}")
        try:
            number = int(port)
        except ValueError:
            raise ConfigError(f"Error creating broker listeners from '{joined}': Unable to parse {uri} to a "
                              "broker endpoint") from None
        endpoints.append(ListenerEndpoint(name, host.strip("[]"), number, protocols[name]))
    if len({e.name for e in endpoints}) != len(endpoints):
        raise ConfigError(f"requirement failed: Each listener must have a different name, listeners: {joined}")
    ports = [e.port for e in endpoints if e.port != 0]
    if distinct_ports and len(set(ports)) != len(ports):
        raise ConfigError(f"requirement failed: Each listener must have a different port, listeners: {joined}")
    return endpoints


@dataclass(frozen=True, slots=True)
class Listeners:
    listeners: list[ListenerEndpoint]
    advertised: list[ListenerEndpoint]  # advertised.listeners, or `listeners` when unset
    inter_broker: str  # the inter-broker listener's name

    def protocol(self, name: str) -> str:
        return next(e.protocol for e in self.listeners if e.name == name)


def read_listeners(config: RawConfig) -> Listeners:
    """The listeners of server.properties, checked as KafkaConfig.validateValues does."""
    protocols = protocol_map(config)
    listeners = parse_endpoints(config.get_list("listeners"), protocols, True)
    adv = config.get_list("advertised.listeners")
    advertised = parse_endpoints(adv, protocols, False) if adv else listeners
    name = config.raw.get("inter.broker.listener.name")
    if name is not None and "security.inter.broker.protocol" in config.raw:
        raise ConfigError("Only one of inter.broker.listener.name and security.inter.broker.protocol should be set.")
    if name is not None:
        name = name.strip().upper()
        if name not in protocols:
            raise ConfigError(f"Listener with name {name} defined in inter.broker.listener.name not found in "
                              "listener.security.protocol.map.")
    else:
        protocol = config.raw.get("security.inter.broker.protocol", "PLAINTEXT").strip().upper()
        if protocol not in SECURITY_PROTOCOLS:
            raise ConfigError(f"Invalid value {protocol} for configuration security.inter.broker.protocol: "
                              f"No enum constant org.apache.kafka.common.security.auth.SecurityProtocol.{protocol}")
        name = protocol
    advertised_names = [e.name for e in advertised]
    if name not in advertised_names:
        raise ConfigError(f"requirement failed: inter.broker.listener.name must be a listener name defined in "
                          f"advertised.listeners. The valid options based on currently configured listeners are "
                          f"{','.join(advertised_names)}")
    names = {e.name for e in listeners}
    if not set(advertised_names) <= names:
        raise ConfigError("requirement failed: advertised.listeners listener names must be equal to or a subset of "
                          f"the ones defined in listeners. Found {','.join(advertised_names)}. The valid options "
                          f"based on the current configuration are {','.join(e.name for e in listeners)}")
    return Listeners(listeners, advertised, name)


def listener_value(config: RawConfig, listener: str, name: str, mechanism: str | None = None) -> str | None:
    """A setting as the listener sees it (Kafka's ListenerName.configPrefix, then the mechanism-qualified form for
    SASL login settings): `listener.name.<l>.[<mech>.]<name>` over the broker-wide `<name>`."""
    prefix = f"listener.name.{listener.lower()}."
    raw = config.raw
    if mechanism is not None:
        value = raw.get(f"{prefix}{mechanism.lower()}.{name}")
        if value is not None:
            return value
    value = raw.get(prefix + name)
    return value if value is not None else raw.get(name)
