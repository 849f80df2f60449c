"""confluent-kafka clients for the tools: Java client configs translated for librdkafka, and librdkafka's errors
turned into the Java exceptions (class name and message) that Kafka's tools print.

confluent_kafka is imported inside the functions, so a tool pays for it only when it talks to a broker.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from brook.cli.options import log

if TYPE_CHECKING:
    from confluent_kafka import Message

# Errors.java (Kafka 3.9): code -> (exception class under org.apache.kafka.common.errors, default message)
ERRORS: dict[int, tuple[str, str]] = {
    -1: ("UnknownServerException", "The server experienced an unexpected error when processing the request."),
    1: ("OffsetOutOfRangeException",
        "The requested offset is not within the range of offsets maintained by the server."),
    3: ("UnknownTopicOrPartitionException", "This server does not host this topic-partition."),
    5: ("LeaderNotAvailableException",
        "There is no leader for this topic-partition as we are in the middle of a leadership election."),
    6: ("NotLeaderOrFollowerException", "For requests intended only for the leader, this error indicates that the "
        "broker is not the current leader. For requests intended for any replica, this error indicates that the "
        "broker is not a replica of the topic partition."),
    7: ("TimeoutException", "The request timed out."),
    8: ("BrokerNotAvailableException", "The broker is not available."),
    10: ("RecordTooLargeException",
         "The request included a message larger than the max message size the server will accept."),
    13: ("NetworkException", "The server disconnected before a response was received."),
    14: ("CoordinatorLoadInProgressException", "The coordinator is loading and hence can't process requests."),
    15: ("CoordinatorNotAvailableException", "The coordinator is not available."),
    16: ("NotCoordinatorException", "This is not the correct coordinator."),
    17: ("InvalidTopicException", "The request attempted to perform an operation on an invalid topic."),
    19: ("NotEnoughReplicasException", "Messages are rejected since there are fewer in-sync replicas than required."),
    21: ("InvalidRequiredAcksException", "Produce request specified an invalid value for required acks."),
    24: ("InvalidGroupIdException", "The configured groupId is invalid."),
    25: ("UnknownMemberIdException", "The coordinator is not aware of this member."),
    27: ("RebalanceInProgressException", "The group is rebalancing, so a rejoin is needed."),
    29: ("TopicAuthorizationException", "Topic authorization failed."),
    30: ("GroupAuthorizationException", "Group authorization failed."),
    31: ("ClusterAuthorizationException", "Cluster authorization failed."),
    33: ("UnsupportedSaslMechanismException", "The broker does not support the requested SASL mechanism."),
    35: ("UnsupportedVersionException", "The version of API is not supported."),
    36: ("TopicExistsException", "Topic with this name already exists."),
    37: ("InvalidPartitionsException", "Number of partitions is below 1."),
    38: ("InvalidReplicationFactorException",
         "Replication factor is below 1 or larger than the number of available brokers."),
    39: ("InvalidReplicaAssignmentException", "Replica assignment is invalid."),
    40: ("InvalidConfigurationException", "Configuration is invalid."),
    41: ("NotControllerException", "This is not the correct controller for this cluster."),
    42: ("InvalidRequestException", "This most likely occurs because of a request being malformed by the client "
         "library or the message was sent to an incompatible broker. See the broker logs for more details."),
    44: ("PolicyViolationException", "Request parameters do not satisfy the configured policy."),
    68: ("GroupNotEmptyException", "The group is not empty."),
    69: ("GroupIdNotFoundException", "The group id does not exist."),
    80: ("PreferredLeaderNotAvailableException", "The preferred leader was not available."),
    83: ("EligibleLeadersNotAvailableException", "Eligible topic partition leaders are not available."),
    84: ("ElectionNotNeededException", "Leader election not needed for topic partition."),
    85: ("NoReassignmentInProgressException", "No partition reassignment is in progress."),
    86: ("GroupSubscribedToTopicException",
         "Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it."),
    47: ("InvalidProducerEpochException", "Producer attempted to produce with an old epoch."),
    48: ("InvalidTxnStateException", "The producer attempted a transactional operation in an invalid state."),
    49: ("InvalidProducerIdMappingException", "The producer attempted to use a producer id which is not currently "
         "assigned to its transactional id."),
    51: ("ConcurrentTransactionsException", "The producer attempted to update a transaction while another "
         "concurrent operation on the same transaction was ongoing."),
    52: ("TransactionCoordinatorFencedException", "Indicates that the transaction coordinator sending a "
         "WriteTxnMarker is no longer the current coordinator for a given producer."),
    53: ("TransactionalIdAuthorizationException", "Transactional Id authorization failed."),
    54: ("SecurityDisabledException", "Security features are disabled."),
    56: ("KafkaStorageException", "Disk error when trying to access log file on the disk."),
    59: ("UnknownProducerIdException", "This exception is raised by the broker if it could not locate the producer "
         "metadata associated with the producerId in question. This could happen if, for instance, the producer's "
         "records were deleted because their retention time had elapsed. Once the last records of the producerId "
         "are removed, the producer's metadata is removed from the broker, and future appends by the producer will "
         "return this exception."),
    87: ("InvalidRecordException", "This record has failed the validation on broker and hence will be rejected."),
    90: ("ProducerFencedException", "There is a newer producer with the same transactionalId which fences the "
         "current one."),
    91: ("ResourceNotFoundException", "A request illegally referred to a resource that does not exist."),
    92: ("DuplicateResourceException", "A request illegally referred to the same resource twice."),
    93: ("UnacceptableCredentialException", "Requested credential would not meet criteria for acceptability."),
    96: ("FeatureUpdateFailedException", "Unable to update finalized features due to an unexpected server error."),
    105: ("TransactionalIdNotFoundException", "The transactionalId could not be found."),
    114: ("MismatchedEndpointTypeException", "The request was sent to an endpoint of the wrong type."),
    115: ("UnsupportedEndpointTypeException", "This endpoint type is not supported yet."),
}
_COMMON_PACKAGE = {"KafkaException", "InvalidRecordException"}
_TIMEOUT_CODES = {-185, -192}  # librdkafka _TIMED_OUT, _MSG_TIMED_OUT
_UNREACHABLE_CODES = {-195, -187}  # _TRANSPORT, _ALL_BROKERS_DOWN: the Java Admin keeps retrying until it times out
_CONNECT_FAILED = re.compile(r"(?P<host>[^\s/]+):(?P<port>\d+)/(?P<node>\w+): "
                             r"Connect to \w+#(?P<ip>[^\s]+?):\d+ failed")


class ToolError(Exception):
    """A failure as the Java tool would report it: `java_class` and a message (Throwable.getMessage())."""

    def __init__(self, java_class: str, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.java_class = java_class
        self.code = code

    @property
    def message(self) -> str:
        return str(self)

    def java(self) -> str:
        """Throwable.toString(): 'class: message', or the class alone without a message."""
        return f"{self.java_class}: {self}" if str(self) else self.java_class


def from_kafka(exc: BaseException, call: str = "") -> ToolError:
    """A confluent_kafka KafkaException (or KafkaError) as the Java exception Kafka's client would raise."""
    if isinstance(exc, ToolError):
        return exc
    # a confluent_kafka KafkaError, or anything shaped like one (code(), str()): duck-typed, as librdkafka's are
    err: Any = exc.args[0] if getattr(exc, "args", None) and hasattr(exc.args[0], "code") else exc
    if not hasattr(err, "code"):
        return ToolError("org.apache.kafka.common.KafkaException", str(exc))
    code, text = err.code(), err.str()
    if code in _TIMEOUT_CODES or (call and code in _UNREACHABLE_CODES):
        message = f"Timed out waiting for a node assignment. Call: {call}" if call else "Timed out waiting for a node"
        return ToolError("org.apache.kafka.common.errors.TimeoutException", message, code)
    name, default = ERRORS.get(code, ("KafkaException", text))
    if text.startswith("Broker: ") or not text:
        text = default
    return ToolError(java_class(name), text, code)


def java_class(name: str) -> str:
    """The full name of a Kafka exception class: most live in common.errors, a few (Errors.java imports them) in
    common itself."""
    return f"org.apache.kafka.common.{name}" if name in _COMMON_PACKAGE else f"org.apache.kafka.common.errors.{name}"


def error_for_code(code: int, message: str = "") -> ToolError:
    """Errors.forCode(code).exception(message): an unknown code is UNKNOWN_SERVER_ERROR, as in Java."""
    name, default = ERRORS.get(code, ERRORS[-1])
    return ToolError(java_class(name), message or default, code)


def exception_class(code: int) -> str:
    """The class name of Errors.forCode(code).exception()."""
    return error_for_code(code).java_class


def java_text(exc: BaseException) -> str:
    """Throwable.toString() of whatever a tool caught: a ToolError, a confluent-kafka error, or anything else."""
    if hasattr(exc, "java"):
        return exc.java()
    if exc.args and hasattr(exc.args[0], "code"):
        return from_kafka(exc).java()
    return f"{type(exc).__name__}: {exc}"


# --- Java client configs -> librdkafka --------------------------------------------------------------------------

_ASSIGNORS = {"RangeAssignor": "range", "RoundRobinAssignor": "roundrobin",
              "CooperativeStickyAssignor": "cooperative-sticky", "StickyAssignor": "cooperative-sticky"}
_RENAMED = {"send.buffer.bytes": "socket.send.buffer.bytes", "receive.buffer.bytes": "socket.receive.buffer.bytes",
            "delivery.timeout.ms": "message.timeout.ms"}
# Java-only settings with no librdkafka meaning (the tools read the timeouts themselves)
_JAVA_ONLY = {"key.serializer", "value.serializer", "key.deserializer", "value.deserializer", "max.block.ms",
              "default.api.timeout.ms", "interceptor.classes", "metric.reporters", "max.poll.records",
              "partitioner.class", "exclude.internal.topics", "reconnect.backoff.max.ms", "retries.backoff.ms"}


def librdkafka_config(props: dict[str, str]) -> dict[str, str]:
    """Java client properties (as in --command-config or --producer.config files) in librdkafka's names."""
    from brook.cli.client_security import UnsupportedStore, security_config

    out: dict[str, str] = {}
    for key, value in props.items():
        if key in _JAVA_ONLY or key.startswith(("ssl.", "sasl.")):
            continue
        if key == "buffer.memory":
            out["queue.buffering.max.kbytes"] = str(max(1, int(value) // 1024))
        elif key == "partition.assignment.strategy":
            out[key] = ",".join(_ASSIGNORS.get(c.strip().rsplit(".", 1)[-1], c.strip()) for c in value.split(","))
        else:
            out[_RENAMED.get(key, key)] = value
    try:
        out.update(security_config(props))
    except UnsupportedStore as e:
        raise ToolError("org.apache.kafka.common.KafkaException", str(e)) from None
    return out


_COMPRESSION = ("none", "gzip", "snappy", "lz4", "zstd")
_ACKS = ("all", "-1", "0", "1")


def producer_config(props: dict[str, str]) -> dict[str, str]:
    """The librdkafka config of every producer Brook runs (tools, Connect, the schema registry, SQL), from Java
    producer properties, so that it behaves as Kafka's Java producer: keyed records on Kafka's murmur2 partitions
    (partitioner.class as `partitioners` maps it; use `partitioners.explicit` for the classes librdkafka lacks),
    idempotence on by default (Kafka 3.0+), and ProducerConfig's checks of compression.type and acks."""
    from brook.cli import partitioners

    for key, allowed in (("compression.type", _COMPRESSION), ("acks", _ACKS)):
        if key in props and props[key] not in allowed:
            raise ToolError("org.apache.kafka.common.config.ConfigException", f"Invalid value {props[key]} for "
                            f"configuration {key}: String must be one of: {', '.join(allowed)}")
    partitioners.check_class(props)
    conf = librdkafka_config({k: v for k, v in props.items() if not k.startswith("partitioner.")})
    conf.setdefault("partitioner", partitioners.LIBRDKAFKA)
    idempotent_fit = (conf.get("acks", "all") in ("all", "-1") and conf.get("retries") != "0"
                      and int(conf.get("max.in.flight.requests.per.connection", "5")) <= 5)
    if "enable.idempotence" not in conf and idempotent_fit:
        conf["enable.idempotence"] = "true"  # ProducerConfig: the default unless other settings conflict with it
    return conf


def fetched_position(m: Message) -> tuple[str, int, int]:
    """A fetched record's topic, partition and offset: confluent-kafka types them optional for error events."""
    topic, partition, offset = m.topic(), m.partition(), m.offset()
    assert topic is not None and partition is not None and offset is not None
    return topic, partition, offset


def delivery_error(err: Any, msg: Any, timeout_ms: int) -> ToolError:
    """A failed delivery report as the exception Java's producer hands its callback: a record that never found its
    topic's metadata, or that expired in the accumulator, is a TimeoutException with Kafka's wording."""
    from confluent_kafka import KafkaException

    topic, partition = msg.topic(), msg.partition()
    if err.code() in (3, -188, -190) or (err.code() == -192 and (partition is None or partition < 0)):
        return ToolError("org.apache.kafka.common.errors.TimeoutException",
                         f"Topic {topic} not present in metadata after {timeout_ms} ms.")
    if err.code() == -192:
        return ToolError("org.apache.kafka.common.errors.TimeoutException", f"Expiring 1 record(s) for "
                         f"{topic}-{partition}:{timeout_ms} ms has passed since batch creation")
    return from_kafka(KafkaException(err), "")


def new_client(kind: str, conf: dict[str, Any], config_class: str) -> Any:
    """Build a confluent_kafka AdminClient / Producer / Consumer. Properties librdkafka does not know are dropped
    with the WARN Kafka's AbstractConfig logs for unused configs; a bad value raises ToolError(ConfigException)."""
    import confluent_kafka
    from confluent_kafka.admin import AdminClient

    cls = {"admin": AdminClient, "producer": confluent_kafka.Producer, "consumer": confluent_kafka.Consumer}[kind]
    conf = {"log_level": 0, **conf}
    while True:
        try:
            return cls(conf)
        except (confluent_kafka.KafkaException, ValueError, TypeError) as e:
            text = str(e.args[0].str() if e.args and hasattr(e.args[0], "str") else e)
            unknown = re.search(r'No such configuration property: "([^"]+)"', text)
            if unknown and unknown.group(1) in conf:
                conf.pop(unknown.group(1))
                log("WARN", f"These configurations '[{unknown.group(1)}]' were supplied but are not used yet.",
                    config_class)
                continue
            bad = re.search(r'Invalid value "([^"]*)" for configuration property "([^"]+)"', text)
            if bad:
                raise ToolError("org.apache.kafka.common.config.ConfigException",
                                f"Invalid value {bad.group(1)} for configuration {bad.group(2)}") from None
            raise ToolError("org.apache.kafka.common.KafkaException", text) from None


def admin_client(bootstrap: str, props: dict[str, str], native: dict[str, Any] | None = None) -> Any:
    """Admin.create(props) with bootstrap.servers set; Java validates every address has host and port. `native`:
    librdkafka settings that are not Java properties (a logger object, debug contexts), passed as they are."""
    for address in bootstrap.split(","):
        if not re.fullmatch(r".*?\[?([0-9a-zA-Z\-%._:]*)\]?:([0-9]+)", address.strip()):
            raise ToolError("org.apache.kafka.common.KafkaException", "Failed to create new KafkaAdminClient")
    conf = {**librdkafka_config(props), **(native or {}), "bootstrap.servers": bootstrap}
    return new_client("admin", conf, "org.apache.kafka.clients.admin.AdminClientConfig")


def api_timeout_s(props: dict[str, str], default_ms: int = 60000) -> float:
    """The Java Admin's default.api.timeout.ms (Kafka's default 60 s), from the command config if set there."""
    try:
        return max(0.1, int(props.get("default.api.timeout.ms", default_ms)) / 1000)
    except ValueError:
        return default_ms / 1000


def topic_id(uuid: object) -> str:
    """Kafka prints Uuids in URL-safe base64 without padding; confluent-kafka's str() uses the standard alphabet."""
    return str(uuid).replace("+", "-").replace("/", "_").rstrip("=")


def network_warning(text: str) -> str | None:
    """librdkafka's connection failure as Java's NetworkClient words it; None for messages Java has no line for."""
    m = _CONNECT_FAILED.search(text)
    if m:
        node = "-1" if m["node"] == "bootstrap" else m["node"]
        return (f"Connection to node {node} ({m['host']}/{m['ip']}:{m['port']}) could not be established. "
                "Node may not be available.")
    return None if re.search(r"brokers are down", text) else text
