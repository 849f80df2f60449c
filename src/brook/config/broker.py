"""Broker configs (server.properties): Kafka's names and defaults, and topic defaults through synonyms."""

from __future__ import annotations

from .definition import ConfigDef, ConfigError, ConfigKey, TypedValues, at_least, between, one_of
from .listeners import DEFAULT_PROTOCOL_MAP, listener_value
from .topic import TOPIC_CONFIGS

MAX_LONG = 2**63 - 1
MAX_INT = 2**31 - 1
# Kafka's authorizers (ZooKeeper mode, KRaft mode): Brook serves both with its own ACL authorizer
AUTHORIZER_CLASSES = ("kafka.security.authorizer.AclAuthorizer",
                      "org.apache.kafka.metadata.authorizer.StandardAuthorizer")


# KIP-392's replica selectors: the rack-aware one, and Kafka's behaviour without one (read from the leader)
RACK_AWARE_SELECTOR = "org.apache.kafka.common.replica.RackAwareReplicaSelector"
REPLICA_SELECTORS = (RACK_AWARE_SELECTOR, "org.apache.kafka.common.replica.LeaderSelector")


def _replica_selector_class(name: str, value: object) -> None:
    if value and value not in REPLICA_SELECTORS:
        raise ConfigError(f"Invalid value {value} for configuration {name}: Brook supports "
                          + " and ".join(REPLICA_SELECTORS))


def _authorizer_class(name: str, value: object) -> None:
    if value and value not in AUTHORIZER_CLASSES:
        raise ConfigError(f"Invalid value {value} for configuration {name}: Brook supports only "
                          + " and ".join(AUTHORIZER_CLASSES))


BROKER_CONFIGS = ConfigDef().define(
    ConfigKey("broker.id", "int", 0, "This broker's id.", at_least(-1), read_only=True),
    ConfigKey("listeners", "list", ["PLAINTEXT://localhost:9092"], "Listener URIs.", read_only=True),
    ConfigKey("advertised.listeners", "list", None, "Listeners advertised to clients.", read_only=True),
    ConfigKey("log.dirs", "list", None, "Directories of the log data.", read_only=True),
    ConfigKey("log.dir", "string", "./data/brook-logs", "Log directory if log.dirs is unset.", read_only=True),
    ConfigKey("num.partitions", "int", 1, "Default partitions for new topics.", at_least(1)),
    ConfigKey("default.replication.factor", "int", 1, "Default replication factor.", at_least(1)),
    ConfigKey("auto.create.topics.enable", "boolean", True, "Create topics on first use.", read_only=True),
    ConfigKey("delete.topic.enable", "boolean", True, "Allow deleting topics.", read_only=True),
    ConfigKey("message.max.bytes", "int", 1048588, "Largest record batch.", at_least(0)),
    ConfigKey("socket.request.max.bytes", "int", 104857600, "Largest request.", at_least(1), read_only=True),
    ConfigKey("brook.idle.poll.us", "int", 200, "Brook's own (not Kafka's): microseconds the event loop keeps "
              "polling its sockets after a request before it sleeps (broker/idle_poll.py); 0 turns it off.",
              at_least(0), read_only=True),
    ConfigKey("max.request.partition.size.limit", "int", 2000,
              "The maximum number of partitions can be served in one request.", at_least(1), read_only=True),
    ConfigKey("socket.send.buffer.bytes", "int", 102400, "", read_only=True),
    ConfigKey("socket.receive.buffer.bytes", "int", 102400, "", read_only=True),
    ConfigKey("num.network.threads", "int", 3, "", at_least(1)),
    ConfigKey("num.io.threads", "int", 8, "", at_least(1)),
    ConfigKey("num.recovery.threads.per.data.dir", "int", 1, "", at_least(1)),
    ConfigKey("log.segment.bytes", "int", 1073741824, "", at_least(14)),
    ConfigKey("log.roll.ms", "long", None, ""),
    ConfigKey("log.roll.hours", "int", 168, "", at_least(1)),
    ConfigKey("log.retention.ms", "long", None, ""),
    ConfigKey("log.retention.minutes", "int", None, ""),
    ConfigKey("log.retention.hours", "int", 168, ""),
    ConfigKey("log.retention.bytes", "long", -1, ""),
    ConfigKey("log.retention.check.interval.ms", "long", 300000, "", at_least(1)),
    ConfigKey("log.index.interval.bytes", "int", 4096, "", at_least(0)),
    ConfigKey("log.index.size.max.bytes", "int", 10485760, "", at_least(4)),
    ConfigKey("log.flush.interval.messages", "long", MAX_LONG, "", at_least(1)),
    ConfigKey("log.flush.interval.ms", "long", None, ""),
    ConfigKey("log.flush.scheduler.interval.ms", "long", MAX_LONG, ""),
    ConfigKey("log.flush.offset.checkpoint.interval.ms", "int", 60000, "", at_least(0)),
    ConfigKey("log.cleanup.policy", "list", ["delete"], "", one_of("compact", "delete")),
    ConfigKey("log.cleaner.enable", "boolean", True, "Run the log cleaner (compaction).", read_only=True),
    ConfigKey("log.cleaner.threads", "int", 1, "Cleaner threads (Brook runs one).", at_least(0), read_only=True),
    ConfigKey("log.cleaner.backoff.ms", "long", 15000, "Sleep when no log needs cleaning.", at_least(0),
              read_only=True),
    ConfigKey("log.cleaner.dedupe.buffer.size", "long", 134217728, "Memory for the key -> offset map.",
              read_only=True),
    ConfigKey("log.cleaner.io.buffer.size", "int", 524288, "Read buffer of the cleaner.", at_least(0),
              read_only=True),
    ConfigKey("log.cleaner.io.buffer.load.factor", "double", 0.9, "How full the map may get.", read_only=True),
    ConfigKey("log.cleaner.io.max.bytes.per.second", "double", 1.7976931348623157e308, "Cleaner I/O cap.",
              read_only=True),
    ConfigKey("log.cleaner.delete.retention.ms", "long", 86400000, "", at_least(0)),
    ConfigKey("log.cleaner.min.cleanable.ratio", "double", 0.5, "", between(0, 1)),
    ConfigKey("log.cleaner.min.compaction.lag.ms", "long", 0, "", at_least(0)),
    ConfigKey("log.cleaner.max.compaction.lag.ms", "long", MAX_LONG, "", at_least(1)),
    ConfigKey("log.message.timestamp.type", "string", "CreateTime", "", one_of("CreateTime", "LogAppendTime")),
    ConfigKey("log.segment.delete.delay.ms", "long", 60000, "", at_least(0)),
    ConfigKey("min.insync.replicas", "int", 1, "", at_least(1)),
    ConfigKey("compression.type", "string", "producer", ""),
    ConfigKey("offsets.topic.num.partitions", "int", 50, "", at_least(1), read_only=True),
    ConfigKey("offsets.topic.replication.factor", "short", 3, "", at_least(1), read_only=True),
    ConfigKey("offsets.retention.minutes", "int", 10080, "", at_least(1), read_only=True),
    ConfigKey("offsets.commit.timeout.ms", "int", 5000, "", at_least(1), read_only=True),
    ConfigKey("transaction.state.log.num.partitions", "int", 50, "", at_least(1), read_only=True),
    ConfigKey("transaction.state.log.replication.factor", "short", 3, "", at_least(1), read_only=True),
    ConfigKey("transaction.state.log.min.isr", "int", 2, "", at_least(1), read_only=True),
    ConfigKey("transaction.max.timeout.ms", "int", 900000, "", at_least(1), read_only=True),
    ConfigKey("transactional.id.expiration.ms", "int", 604800000, "", at_least(1), read_only=True),
    ConfigKey("transaction.abort.timed.out.transaction.cleanup.interval.ms", "int", 10000, "", at_least(1),
              read_only=True),
    ConfigKey("producer.id.expiration.ms", "int", 86400000, "", at_least(1), read_only=True),
    ConfigKey("group.initial.rebalance.delay.ms", "int", 3000, "", at_least(0), read_only=True),
    ConfigKey("group.min.session.timeout.ms", "int", 6000, "", read_only=True),
    ConfigKey("group.max.session.timeout.ms", "int", 1800000, "", read_only=True),
    ConfigKey("group.max.size", "int", 2147483647, "", at_least(1), read_only=True),
    ConfigKey("offsets.retention.check.interval.ms", "long", 600000, "", at_least(1), read_only=True),
    ConfigKey("replica.fetch.max.bytes", "int", 1048576, "", at_least(0), read_only=True),
    ConfigKey("replica.fetch.response.max.bytes", "int", 10485760, "", at_least(0), read_only=True),
    ConfigKey("replica.fetch.wait.max.ms", "int", 500, "", at_least(0), read_only=True),
    ConfigKey("replica.fetch.min.bytes", "int", 1, "", read_only=True),
    ConfigKey("replica.fetch.backoff.ms", "int", 1000, "", at_least(0), read_only=True),
    ConfigKey("replica.socket.timeout.ms", "int", 30000, "", read_only=True),
    ConfigKey("replica.lag.time.max.ms", "long", 30000, "", read_only=True),
    ConfigKey("num.replica.fetchers", "int", 1, "", read_only=True),
    ConfigKey("replication.quota.window.num", "int", 11, "The number of samples to retain in memory for "
              "replication quotas", at_least(1), read_only=True),
    ConfigKey("replication.quota.window.size.seconds", "int", 1, "The time span of each sample for replication "
              "quotas", at_least(1), read_only=True),
    ConfigKey("zookeeper.connect", "string", None, "ZooKeeper connection string (cluster mode).", read_only=True),
    ConfigKey("zookeeper.session.timeout.ms", "int", 18000, "Zookeeper session timeout", read_only=True),
    ConfigKey("zookeeper.connection.timeout.ms", "int", None, "The max time that the client waits to establish a "
              "connection to ZooKeeper. If not set, the value in zookeeper.session.timeout.ms is used",
              read_only=True),
    ConfigKey("broker.rack", "string", None, "Rack of the broker.", read_only=True),
    ConfigKey("replica.selector.class", "string", None, "The fully qualified class name that implements "
              "ReplicaSelector. This is used by the broker to find the preferred read replica. By default, we use "
              "an implementation that returns the leader.", _replica_selector_class, read_only=True),
    ConfigKey("controlled.shutdown.enable", "boolean", True, "Enable controlled shutdown of the server.",
              read_only=True),
    ConfigKey("controlled.shutdown.max.retries", "int", 3, "Controlled shutdown can fail for multiple reasons. "
              "This determines the number of retries when such failure happens", read_only=True),
    ConfigKey("controlled.shutdown.retry.backoff.ms", "long", 5000, "Before each retry, the system needs time to "
              "recover from the state that caused the previous failure", read_only=True),
    ConfigKey("auto.leader.rebalance.enable", "boolean", True, "Enables auto leader balancing.", read_only=True),
    ConfigKey("leader.imbalance.check.interval.seconds", "long", 300, "The frequency with which the partition "
              "rebalance check is triggered by the controller", at_least(1), read_only=True),
    ConfigKey("leader.imbalance.per.broker.percentage", "int", 10, "The ratio of leader imbalance allowed per "
              "broker.", read_only=True),
    ConfigKey("cluster.id", "string", None, "", read_only=True),
    ConfigKey("authorizer.class.name", "string", "", "The ACL authorizer; empty: none, ACL APIs answer "
              "SECURITY_DISABLED.", _authorizer_class, read_only=True),
    ConfigKey("super.users", "string", None, "Semicolon-separated principals allowed everything.", read_only=True),
    ConfigKey("allow.everyone.if.no.acl.found", "boolean", False, "Allow access to resources without ACLs.",
              read_only=True),
    # listeners and security (docs/security.md); listener.name.<l>.<config> overrides are read from the raw values
    ConfigKey("listener.security.protocol.map", "string", DEFAULT_PROTOCOL_MAP, "Listener name -> security "
              "protocol.", read_only=True),
    ConfigKey("inter.broker.listener.name", "string", None, "The listener brokers use between themselves.",
              read_only=True),
    ConfigKey("security.inter.broker.protocol", "string", "PLAINTEXT", "The inter-broker security protocol (when "
              "inter.broker.listener.name is unset).", read_only=True),
    ConfigKey("max.connections", "int", MAX_INT, "Connections the broker accepts at once.", at_least(0)),
    ConfigKey("max.connections.per.ip", "int", MAX_INT, "Connections accepted from one address.", at_least(0)),
    ConfigKey("max.connections.per.ip.overrides", "string", "", "host:count overrides of max.connections.per.ip."),
    ConfigKey("connections.max.idle.ms", "long", 600000, "Idle connections are closed after this.", read_only=True),
    ConfigKey("connections.max.reauth.ms", "long", 0, "SASL session lifetime (KIP-368); 0: unlimited.",
              at_least(0), read_only=True),
    ConfigKey("connection.failed.authentication.delay.ms", "int", 100, "Delay of the close after a failed "
              "authentication.", at_least(0), read_only=True),
    ConfigKey("sasl.enabled.mechanisms", "list", ["GSSAPI"], "SASL mechanisms the broker accepts.", read_only=True),
    ConfigKey("sasl.mechanism.inter.broker.protocol", "string", "GSSAPI", "SASL mechanism between brokers.",
              read_only=True),
    ConfigKey("sasl.server.max.receive.size", "int", 524288, "Largest request before authentication.",
              at_least(1), read_only=True),
    ConfigKey("sasl.jaas.config", "password", None, "JAAS login context (prefix it with listener and mechanism).",
              sensitive=True, read_only=True),
    ConfigKey("ssl.keystore.type", "string", "JKS", "Keystore format: PEM, PKCS12 (JKS: a PKCS12 file only).",
              read_only=True),
    ConfigKey("ssl.keystore.location", "string", None, "Keystore file.", read_only=True),
    ConfigKey("ssl.keystore.password", "password", None, "Keystore password.", sensitive=True, read_only=True),
    ConfigKey("ssl.keystore.certificate.chain", "password", None, "PEM certificate chain.", sensitive=True,
              read_only=True),
    ConfigKey("ssl.keystore.key", "password", None, "PEM private key.", sensitive=True, read_only=True),
    ConfigKey("ssl.key.password", "password", None, "Private key password.", sensitive=True, read_only=True),
    ConfigKey("ssl.truststore.type", "string", "JKS", "Truststore format: PEM, PKCS12 (JKS: a PKCS12 file only).",
              read_only=True),
    ConfigKey("ssl.truststore.location", "string", None, "Truststore file.", read_only=True),
    ConfigKey("ssl.truststore.password", "password", None, "Truststore password.", sensitive=True, read_only=True),
    ConfigKey("ssl.truststore.certificates", "password", None, "PEM trusted certificates.", sensitive=True,
              read_only=True),
    ConfigKey("ssl.client.auth", "string", "none", "Client certificates: required, requested or none.",
              one_of("required", "requested", "none"), read_only=True),
    ConfigKey("ssl.enabled.protocols", "list", ["TLSv1.2", "TLSv1.3"], "TLS versions accepted.", read_only=True),
    ConfigKey("ssl.protocol", "string", "TLSv1.3", "The TLS protocol.", read_only=True),
    ConfigKey("ssl.cipher.suites", "list", None, "Cipher suites (TLS 1.2).", read_only=True),
    ConfigKey("ssl.principal.mapping.rules", "string", "DEFAULT", "Certificate DN -> principal name rules.",
              read_only=True),
    ConfigKey("ssl.endpoint.identification.algorithm", "string", "https", "Server host name verification "
              "(clients).", read_only=True),
)

# log.retention.{hours,minutes} and log.roll.hours are in other units than the topic configs they back.
_UNIT_MS = {"log.retention.hours": 3_600_000, "log.retention.minutes": 60_000, "log.roll.hours": 3_600_000,
            "log.roll.jitter.hours": 3_600_000}


# DescribeConfigs sources (ConfigEntry.ConfigSource ids) of a broker config's layers
SOURCE_DYNAMIC_BROKER, SOURCE_DYNAMIC_DEFAULT, SOURCE_STATIC, SOURCE_DEFAULT = 2, 3, 4, 5


class BrokerConfig(TypedValues):
    """server.properties values (raw strings, as given) plus typed access with Kafka's defaults.

    `raw` is the effective layering Kafka applies (DynamicBrokerConfig): this broker's dynamic configs over the
    cluster-wide dynamic defaults over server.properties; `static` keeps server.properties on its own."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.raw: dict[str, str] = dict(values or {})
        self.static: dict[str, str] = dict(self.raw)
        self.dynamic_default: dict[str, str] = {}
        self.dynamic_broker: dict[str, str] = {}
        self._parsed: dict[str, object] = {}
        for name, raw in self.raw.items():
            key = BROKER_CONFIGS.keys.get(name) or TOPIC_CONFIGS.keys.get(name)
            if key is not None and name in BROKER_CONFIGS:
                self._parsed[name] = key.parse(raw)

    def get(self, name: str) -> object:
        if name in self._parsed:
            return self._parsed[name]
        if name in self.raw:
            return self.raw[name]
        key = BROKER_CONFIGS.keys.get(name)
        return key.default if key else None

    value_of = get  # what TypedValues' getters read

    def for_listener(self, listener: str, name: str, mechanism: str | None = None) -> object:
        """A config as a listener sees it: `listener.name.<l>.[<mechanism>.]<name>` over `<name>` (parsed, with
        Kafka's default)."""
        raw = listener_value(self, listener, name, mechanism)
        key = BROKER_CONFIGS.keys[name]
        return key.default if raw is None else key.parse(raw)

    def set_dynamic(self, defaults: dict[str, str], per_broker: dict[str, str]) -> None:
        """Replace both dynamic layers (already validated) and recompute the effective values."""
        self.dynamic_default, self.dynamic_broker = dict(defaults), dict(per_broker)
        self.raw = {**self.static, **defaults, **per_broker}
        self._parsed = {name: BROKER_CONFIGS.keys[name].parse(raw) for name, raw in self.raw.items()
                        if name in BROKER_CONFIGS}

    def layers(self, name: str) -> list[tuple[str, int]]:
        """(value, source) of every layer that sets `name`, most specific first (Kafka's synonym order)."""
        return [(layer[name], source) for layer, source in ((self.dynamic_broker, SOURCE_DYNAMIC_BROKER),
                                                            (self.dynamic_default, SOURCE_DYNAMIC_DEFAULT),
                                                            (self.static, SOURCE_STATIC)) if name in layer]

    @property
    def log_dirs(self) -> list[str]:
        return self.get_list("log.dirs") or [str(self.get_str("log.dir"))]

    def topic_default(self, topic_config: str) -> tuple[object, str | None]:
        """The broker-level value backing a topic config: (value, synonym name or None for Kafka's default)."""
        key = TOPIC_CONFIGS.keys[topic_config]
        for syn in key.synonyms:
            if syn in self.raw:
                value = self.get(syn)
                if syn in _UNIT_MS and value is not None:
                    # Kafka (KafkaConfig.logRetentionTimeMillis): a negative time means unlimited, -1 ms
                    value = max(int(value) * _UNIT_MS[syn], -1)  # type: ignore[call-overload]
                return (key.parse(str(value)) if not isinstance(value, list) else value), syn
        return key.default, None
