"""Worker and connector configs: Kafka's names, types, defaults, groups and docs (WorkerConfig, StandaloneConfig,
ConnectorConfig, SourceConnectorConfig, SinkConnectorConfig)."""

from __future__ import annotations

from brook.connect.configdef import (
    ConfigDef,
    Key,
    at_least,
    non_empty_without_control_chars,
    one_of,
    unique_aliases,
    valid_regex,
)

WORKER = ConfigDef(
    Key("bootstrap.servers", "LIST", ["localhost:9092"], "A list of host/port pairs to use for establishing the "
        "initial connection to the Kafka cluster."),
    Key("key.converter", "CLASS", doc="Converter class used to convert between Kafka Connect format and the "
        "serialized form that is written to Kafka."),
    Key("value.converter", "CLASS", doc="Converter class used to convert between Kafka Connect format and the "
        "serialized form that is written to Kafka."),
    Key("header.converter", "CLASS", "org.apache.kafka.connect.storage.SimpleHeaderConverter",
        "HeaderConverter class used to convert between Kafka Connect format and the serialized form that is "
        "written to Kafka.", importance="LOW"),
    Key("task.shutdown.graceful.timeout.ms", "LONG", 5000, "Amount of time to wait for tasks to shutdown "
        "gracefully.", importance="LOW"),
    Key("offset.flush.interval.ms", "LONG", 60000, "Interval at which to try committing offsets for tasks.",
        importance="LOW"),
    Key("offset.flush.timeout.ms", "LONG", 5000, "Maximum number of milliseconds to wait for records to flush "
        "and partition offset data to be committed to offset storage before cancelling the process.",
        importance="LOW"),
    Key("listeners", "LIST", ["http://:8083"], "List of comma-separated URIs the REST API will listen on.",
        importance="LOW"),
    Key("rest.advertised.host.name", "STRING", None, importance="LOW"),
    Key("rest.advertised.port", "INT", None, importance="LOW"),
    Key("rest.advertised.listener", "STRING", None, importance="LOW"),
    Key("rest.extension.classes", "LIST", [], "Comma-separated names of ConnectRestExtension classes; Brook "
        "provides org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension.",
        importance="LOW"),
    Key("plugin.path", "LIST", None, "Tolerated: Brook finds plugins through Python entry points.",
        importance="LOW"),
    Key("client.id", "STRING", "", importance="LOW"),
    Key("topic.creation.enable", "BOOLEAN", True, importance="LOW"),
    Key("topic.tracking.enable", "BOOLEAN", True, "Enable tracking the set of active topics per connector during "
        "runtime.", importance="LOW"),
    Key("topic.tracking.allow.reset", "BOOLEAN", True, "If set to true, it allows user requests to reset the set of "
        "active topics per connector.", importance="LOW"),
    Key("connector.client.config.override.policy", "STRING", "All", importance="MEDIUM"),
)

STANDALONE = WORKER.define(
    Key("offset.storage.file.filename", "STRING", doc="File to store source connector offsets"),
)

DISTRIBUTED = WORKER.define(
    Key("group.id", "STRING", doc="A unique string that identifies the Connect cluster group this worker "
        "belongs to."),
    Key("config.storage.topic", "STRING", doc="The name of the Kafka topic where connector configurations are "
        "stored"),
    Key("config.storage.replication.factor", "SHORT", 3, "Replication factor used when creating the "
        "configuration storage topic"),
    Key("offset.storage.topic", "STRING", doc="The name of the Kafka topic where source connector offsets are "
        "stored"),
    Key("offset.storage.partitions", "INT", 25, "The number of partitions used when creating the offset storage "
        "topic"),
    Key("offset.storage.replication.factor", "SHORT", 3, "Replication factor used when creating the offset "
        "storage topic"),
    Key("status.storage.topic", "STRING", doc="The name of the Kafka topic where connector and task status are "
        "stored"),
    Key("status.storage.partitions", "INT", 5, "The number of partitions used when creating the status storage "
        "topic"),
    Key("status.storage.replication.factor", "SHORT", 3, "Replication factor used when creating the status "
        "storage topic"),
    Key("session.timeout.ms", "INT", 10000, "The timeout used to detect worker failures."),
    Key("heartbeat.interval.ms", "INT", 3000, "The expected time between heartbeats to the group coordinator."),
    Key("rebalance.timeout.ms", "INT", 60000, "The maximum allowed time for each worker to join the group once a "
        "rebalance has begun."),
)

COMMON, TRANSFORMS, PREDICATES, ERRORS = "Common", "Transforms", "Predicates", "Error Handling"

CONNECTOR = ConfigDef(
    Key("name", "STRING", doc="Globally unique name to use for this connector.",
        validator=non_empty_without_control_chars, group=COMMON, order=1, width="MEDIUM",
        display="Connector name"),
    Key("connector.class", "STRING", doc="Name or alias of the class for this connector. Must be a subclass of "
        "org.apache.kafka.connect.connector.Connector. If the connector is "
        "org.apache.kafka.connect.file.FileStreamSinkConnector, you can either specify this full name,  or use "
        '"FileStreamSink" or "FileStreamSinkConnector" to make the configuration a bit shorter', group=COMMON,
        order=2, width="LONG", display="Connector class"),
    Key("tasks.max", "INT", 1, "Maximum number of tasks to use for this connector.", at_least(1), group=COMMON,
        order=3, width="SHORT", display="Tasks max"),
    Key("tasks.max.enforce", "BOOLEAN", True, "(Deprecated) Whether to enforce that the tasks.max property is "
        "respected by the connector.", importance="LOW", group=COMMON, order=4, width="SHORT",
        display="Enforce tasks max"),
    Key("key.converter", "CLASS", None, "Converter class used to convert between Kafka Connect format and the "
        "serialized form that is written to Kafka.", importance="LOW", group=COMMON, order=5, width="SHORT",
        display="Key converter class"),
    Key("value.converter", "CLASS", None, "Converter class used to convert between Kafka Connect format and the "
        "serialized form that is written to Kafka.", importance="LOW", group=COMMON, order=6, width="SHORT",
        display="Value converter class"),
    Key("header.converter", "CLASS", None, "HeaderConverter class used to convert between Kafka Connect format "
        "and the serialized form that is written to Kafka.", importance="LOW", group=COMMON, order=7,
        width="SHORT", display="Header converter class"),
    Key("transforms", "LIST", [], "Aliases for the transformations to be applied to records.",
        unique_aliases("transformation"), importance="LOW", group=TRANSFORMS, order=8, width="LONG",
        display="Transforms"),
    Key("predicates", "LIST", [], "Aliases for the predicates used by transformations.",
        unique_aliases("predicate"), importance="LOW", group=PREDICATES, order=9, width="LONG",
        display="Predicates"),
    Key("config.action.reload", "STRING", "restart", "The action that Connect should take on the connector when "
        "changes in external configuration providers result in a change in the connector's configuration "
        "properties.", one_of("none", "restart"), importance="LOW", group=COMMON, order=10, width="MEDIUM",
        display="Reload Action"),
    Key("errors.retry.timeout", "LONG", 0, "The maximum duration in milliseconds that a failed operation will be "
        "reattempted. The default is 0, which means no retries will be attempted. Use -1 for infinite retries.",
        importance="MEDIUM", group=ERRORS, order=1, width="MEDIUM", display="Retry Timeout for Errors"),
    Key("errors.retry.delay.max.ms", "LONG", 60000, "The maximum duration in milliseconds between consecutive "
        "retry attempts. Jitter will be added to the delay once this limit is reached to prevent thundering herd "
        "issues.", importance="MEDIUM", group=ERRORS, order=2, width="MEDIUM",
        display="Maximum Delay Between Retries for Errors"),
    Key("errors.tolerance", "STRING", "none", "Behavior for tolerating errors during connector operation. 'none' "
        "is the default value and signals that any error will result in an immediate connector task failure; "
        "'all' changes the behavior to skip over problematic records.", one_of("none", "all"),
        importance="MEDIUM", group=ERRORS, order=3, width="SHORT", display="Error Tolerance"),
    Key("errors.log.enable", "BOOLEAN", False, "If true, write each error and the details of the failed "
        "operation and problematic record to the Connect application log. This is 'false' by default, so that "
        "only errors that are not tolerated are reported.", importance="MEDIUM", group=ERRORS, order=4,
        width="SHORT", display="Log Errors"),
    Key("errors.log.include.messages", "BOOLEAN", False, "Whether to include in the log the Connect record that "
        "resulted in a failure.", importance="MEDIUM", group=ERRORS, order=5, width="SHORT",
        display="Log Error Details"),
)

SOURCE = CONNECTOR
SINK = CONNECTOR.define(
    Key("topics", "LIST", [], "List of topics to consume, separated by commas", group=COMMON, order=4,
        width="LONG", display="Topics"),
    Key("topics.regex", "STRING", "", "Regular expression giving topics to consume. Under the hood, the regex is "
        "compiled to a <code>java.util.regex.Pattern</code>. Only one of topics or topics.regex should be "
        "specified.", valid_regex, group=COMMON, order=4, width="LONG", display="Topics regex"),
    Key("errors.deadletterqueue.topic.name", "STRING", "", "The name of the topic to be used as the dead letter "
        "queue (DLQ) for messages that result in an error when processed by this sink connector, or its "
        "transformations or converters. The topic name is blank by default, which means that no messages are to "
        "be recorded in the DLQ.", importance="MEDIUM", group=ERRORS, order=6, width="MEDIUM",
        display="Dead Letter Queue Topic Name"),
    Key("errors.deadletterqueue.topic.replication.factor", "SHORT", 3, "Replication factor used to create the "
        "dead letter queue topic when it doesn't already exist.", importance="MEDIUM", group=ERRORS, order=7,
        width="MEDIUM", display="Dead Letter Queue Topic Replication Factor"),
    Key("errors.deadletterqueue.context.headers.enable", "BOOLEAN", False, "If true, add headers containing "
        "error context to the messages written to the dead letter queue. To avoid clashing with headers from the "
        "original record, all error context header keys, all error context header keys will start with "
        "<code>__connect.errors.</code>", importance="MEDIUM", group=ERRORS, order=8, width="MEDIUM",
        display="Enable Error Context Headers"),
)


def sink_errors(props: dict[str, str]) -> dict[str, str]:
    """SinkConnectorConfig.validate: the checks across topics, topics.regex and the DLQ topic."""
    topics = (props.get("topics") or "").strip()
    regex = (props.get("topics.regex") or "").strip()
    dlq = (props.get("errors.deadletterqueue.topic.name") or "").strip()
    errors: dict[str, str] = {}
    if topics and regex:
        msg = "topics and topics.regex are mutually exclusive options, but both are set."
        errors = {"topics": msg, "topics.regex": msg}
    if not topics and not regex:
        msg = "Must configure one of topics or topics.regex"
        errors = {"topics": msg, "topics.regex": msg}
    if dlq and topics and dlq in [t.strip() for t in topics.split(",")]:
        errors["errors.deadletterqueue.topic.name"] = (
            f"The DLQ topic '{dlq}' may not be included in the list of topics ('topics={topics}') consumed by "
            "the connector")
    return errors
