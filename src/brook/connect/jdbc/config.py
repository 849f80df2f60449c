"""The JDBC connectors' configs: Confluent's names, types, defaults, groups and validation messages
(JdbcSourceConnectorConfig, JdbcSinkConfig, JdbcSourceConnectorValidation, JdbcSinkConnectorValidation)."""

from __future__ import annotations

import re

from brook.connect.configdef import NO_DEFAULT, ConfigDef, ConfigError, ConfigValue, Key, at_least, one_of

MODE_BULK, MODE_TIMESTAMP, MODE_INCREMENTING = "bulk", "timestamp", "incrementing"
MODE_TIMESTAMP_INCREMENTING = "timestamp+incrementing"
DATABASE, MODE, CONNECTOR = "Database", "Mode", "Connector"
CONNECTION, WRITES, DATA_MAPPING, DDL, RETRIES = "Connection", "Writes", "Data Mapping", "DDL Support", "Retries"
_TOPIC_CHARS = re.compile(r"[^a-zA-Z0-9._-]")


def _topic_prefix(name: str, value: object) -> None:
    trimmed = str(value).strip()
    if len(trimmed) > 249:
        raise ConfigError(f"Invalid value {value} for configuration {name}: Topic prefix length must not exceed "
                          "max topic name length, 249 chars")
    if _TOPIC_CHARS.search(trimmed):
        raise ConfigError(f"Invalid value {value} for configuration {name}: Topic prefix must not contain any "
                          "character other than ASCII alphanumerics, '.', '_' and '-'.")


def _enumerator(*allowed: str):
    """JdbcSinkConfig.EnumValidator: lower or upper case, 'Invalid enumerator' otherwise."""
    valid = {a.lower() for a in allowed} | {a.upper() for a in allowed}

    def check(name: str, value: object) -> None:
        if value not in valid:
            raise ConfigError(f"Invalid value {value} for configuration {name}: Invalid enumerator")
    return check


def _connection_keys(group: str) -> tuple[Key, ...]:
    return (
        Key("connection.url", "STRING", "" if group == DATABASE else NO_DEFAULT, "JDBC connection URL.", group=group,
            order=1, width="LONG", display="JDBC URL"),
        Key("connection.user", "STRING", None, "JDBC connection user.", group=group, order=2, width="LONG",
            display="JDBC User"),
        Key("connection.password", "PASSWORD", None, "JDBC connection password.", group=group, order=3,
            width="SHORT", display="JDBC Password"),
        Key("connection.attempts", "INT", 3, "Maximum number of attempts to retrieve a valid JDBC connection. "
            "Must be a positive integer.", at_least(1), importance="LOW", group=group, order=4, width="SHORT",
            display="JDBC connection attempts"),
        Key("connection.backoff.ms", "LONG", 10000, "Backoff time in milliseconds between connection attempts.",
            importance="LOW", group=group, order=5, width="SHORT", display="JDBC connection backoff in "
            "milliseconds"),
    )


SOURCE = ConfigDef(
    *_connection_keys(DATABASE),
    Key("table.whitelist", "LIST", [], "List of tables to include in copying. If specified, ``table.blacklist`` "
        "may not be set. Use a comma-separated list to specify multiple tables (for example, "
        "``table.whitelist: \"User, Address, Email\"``).", importance="MEDIUM", group=DATABASE, order=6,
        width="LONG", display="Table Whitelist"),
    Key("table.blacklist", "LIST", [], "List of tables to exclude from copying. If specified, "
        "``table.whitelist`` may not be set.", importance="MEDIUM", group=DATABASE, order=7, width="LONG",
        display="Table Blacklist"),
    Key("table.types", "LIST", ["TABLE"], "By default, the JDBC connector will only detect tables with type TABLE "
        "from the source Database.", importance="LOW", group=DATABASE, order=8, width="SHORT",
        display="Table Types"),
    Key("mode", "STRING", "", "The mode for updating a table each time it is polled.",
        one_of("", MODE_BULK, MODE_TIMESTAMP, MODE_INCREMENTING, MODE_TIMESTAMP_INCREMENTING), group=MODE,
        order=1, width="MEDIUM", display="Table Loading Mode",
        dependents=("incrementing.column.name", "timestamp.column.name", "validate.non.null")),
    Key("incrementing.column.name", "STRING", "", "The name of the strictly incrementing column to use to detect "
        "new rows. Any empty value indicates the column should be autodetected by looking for an "
        "auto-incrementing column. This column may not be nullable.", importance="MEDIUM", group=MODE, order=2,
        width="MEDIUM", display="Incrementing Column Name"),
    Key("timestamp.column.name", "LIST", [], "Comma separated list of one or more timestamp columns to detect new "
        "or modified rows using the COALESCE SQL function.", importance="MEDIUM", group=MODE, order=3,
        width="MEDIUM", display="Timestamp Column Name"),
    Key("timestamp.initial", "LONG", None, "The epoch timestamp used for initial queries that use timestamp "
        "criteria. Use -1 to use the current time.", importance="LOW", group=MODE, order=4, width="MEDIUM",
        display="Unix time value of initial timestamp"),
    Key("validate.non.null", "BOOLEAN", True, "By default, the JDBC connector will validate that all "
        "incrementing and timestamp tables have NOT NULL set for the columns being used as their "
        "ID/timestamp.", importance="LOW", group=MODE, order=5, width="SHORT", display="Validate Non Null"),
    Key("query", "STRING", "", "If specified, the query to perform to select new or updated rows.",
        importance="MEDIUM", group=MODE, order=6, width="SHORT", display="Query"),
    Key("query.suffix", "STRING", "", "Suffix to append at the end of the generated query.", importance="LOW",
        group=MODE, order=7, width="MEDIUM", display="Query suffix"),
    Key("query.retry.attempts", "INT", -1, "Number of times to retry SQL exceptions encountered when executing "
        "queries.", importance="LOW", group=MODE, order=8, width="SHORT", display="Query Retry Attempts"),
    Key("poll.interval.ms", "INT", 5000, "Frequency in ms to poll for new data in each table.", group=CONNECTOR,
        order=1, width="SHORT", display="Poll Interval (ms)"),
    Key("batch.max.rows", "INT", 1000, "Maximum number of rows to include in a single batch when polling for new "
        "data.", importance="LOW", group=CONNECTOR, order=2, width="SHORT", display="Max Rows Per Batch"),
    Key("table.poll.interval.ms", "LONG", 60000, "Frequency in ms to poll for new or removed tables.",
        importance="LOW", group=CONNECTOR, order=3, width="SHORT", display="Metadata Change Monitoring "
        "Interval (ms)"),
    Key("topic.prefix", "STRING", "", "Prefix to prepend to table names to generate the name of the Kafka topic "
        "to publish data to, or in the case of a custom query, the full name of the topic to publish to.",
        _topic_prefix, group=CONNECTOR, order=4, width="MEDIUM", display="Topic Prefix"),
    Key("timestamp.delay.interval.ms", "LONG", 0, "How long to wait after a row with certain timestamp appears "
        "before we include it in the result.", group=CONNECTOR, order=5, width="MEDIUM",
        display="Delay Interval (ms)"),
    Key("db.timezone", "STRING", "UTC", "Name of the JDBC timezone used in the connector when querying with "
        "time-based criteria. Defaults to UTC.", importance="MEDIUM", group=CONNECTOR, order=6, width="MEDIUM",
        display="DB time zone"),
)

SINK = ConfigDef(
    *_connection_keys(CONNECTION),
    Key("insert.mode", "STRING", "insert", "The insertion mode to use.", _enumerator("insert", "upsert", "update"),
        group=WRITES, order=1, width="MEDIUM", display="Insert Mode"),
    Key("batch.size", "INT", 3000, "Specifies how many records to attempt to batch together for insertion into "
        "the destination table, when possible.", at_least(0), importance="MEDIUM", group=WRITES, order=2,
        width="SHORT", display="Batch Size"),
    Key("delete.enabled", "BOOLEAN", False, "Whether to treat ``null`` record values as deletes. Requires "
        "``pk.mode`` to be ``record_key``.", importance="MEDIUM", group=WRITES, order=3, width="SHORT",
        display="Enable deletes"),
    Key("table.types", "LIST", ["TABLE"], "The comma-separated types of database tables to which the sink "
        "connector can write.", importance="LOW", group=WRITES, order=4, width="SHORT", display="Table Types"),
    Key("table.name.format", "STRING", "${topic}", "A format string for the destination table name, which may "
        "contain '${topic}' as a placeholder for the originating topic name.", importance="MEDIUM",
        group=DATA_MAPPING, order=1, width="LONG", display="Table Name Format"),
    Key("pk.mode", "STRING", "none", "The primary key mode, also refer to ``pk.fields`` documentation for "
        "interplay.", _enumerator("none", "kafka", "record_key", "record_value"), group=DATA_MAPPING, order=2,
        width="MEDIUM", display="Primary Key Mode"),
    Key("pk.fields", "LIST", [], "List of comma-separated primary key field names.", importance="MEDIUM",
        group=DATA_MAPPING, order=3, width="LONG", display="Primary Key Fields"),
    Key("fields.whitelist", "LIST", [], "List of comma-separated record value field names. If empty, all fields "
        "from the record value are utilized, otherwise used to filter to the desired fields.",
        importance="MEDIUM", group=DATA_MAPPING, order=4, width="LONG", display="Fields Whitelist"),
    Key("db.timezone", "STRING", "UTC", "Name of the JDBC timezone that should be used in the connector when "
        "inserting time-based values. Defaults to UTC.", importance="MEDIUM", group=DATA_MAPPING, order=5,
        width="MEDIUM", display="DB Time Zone"),
    Key("auto.create", "BOOLEAN", False, "Whether to automatically create the destination table based on record "
        "schema if it is found to be missing by issuing ``CREATE``.", importance="MEDIUM", group=DDL, order=1,
        width="SHORT", display="Auto-Create"),
    Key("auto.evolve", "BOOLEAN", False, "Whether to automatically add columns in the table schema when found to "
        "be missing relative to the record schema by issuing ``ALTER``.", importance="MEDIUM", group=DDL,
        order=2, width="SHORT", display="Auto-Evolve"),
    Key("max.retries", "INT", 10, "The maximum number of times to retry on errors before failing the task.",
        at_least(0), importance="MEDIUM", group=RETRIES, order=1, width="SHORT", display="Maximum Retries"),
    Key("retry.backoff.ms", "INT", 3000, "The time in milliseconds to wait following an error before a retry "
        "attempt is made.", at_least(0), importance="MEDIUM", group=RETRIES, order=2, width="SHORT",
        display="Retry Backoff (millis)"),
)


def _add(values: list[ConfigValue], name: str, message: str) -> None:
    """configValue(...).ifPresent(addErrorMessage): only on a key without errors of its own."""
    for v in values:
        if v.name == name and not v.errors:
            v.errors.append(message)


def validate_source(values: list[ConfigValue]) -> bool:
    """JdbcSourceConnectorValidation's checks across keys; False once one failed (the connection is not tried)."""
    if any(v.errors for v in values):
        return False
    cfg = {v.name: v.value for v in values}
    if not cfg["mode"]:
        _add(values, "mode", "Query mode must be specified")
        return False
    if cfg["query"]:
        if cfg["table.whitelist"] or cfg["table.blacklist"]:
            msg = ("Do not specify table filtering configs with 'query'. Remove table.whitelist / table.blacklist "
                   "/ table.include.list / table.exclude.list when using query mode or 'query' when using table "
                   "filtering mode.")
            for name in ("query", "table.whitelist", "table.blacklist"):
                if name == "query" or cfg[name]:
                    _add(values, name, msg)
            return False
        if not re.match(r"(?is)^\s*SELECT\b", str(cfg["query"])):
            _add(values, "query", "Only SELECT statements are supported for 'query'. Please provide a statement "
                 "that starts with SELECT.")
            return False
        if cfg["mode"] in (MODE_INCREMENTING, MODE_TIMESTAMP_INCREMENTING) and \
                not str(cfg["incrementing.column.name"] or "").strip():
            _add(values, "incrementing.column.name",
                 f"'incrementing.column.name' must be provided when using mode '{MODE_INCREMENTING}' or "
                 f"'{MODE_TIMESTAMP_INCREMENTING}' with a custom query. The incrementing column cannot be "
                 "auto-discovered in query mode because there is no table to inspect. Note that "
                 "'incrementing.column.mapping' is not applied in query mode (it maps columns by table-name regex, "
                 "and a custom query has no underlying table to match), so 'incrementing.column.name' must be set "
                 "explicitly.")
            return False
    elif not cfg["table.whitelist"] and not cfg["table.blacklist"]:
        msg = ("At least one table filtering configuration is required. Provide one of: table.whitelist, "
               "table.blacklist, table.include.list, or table.exclude.list.")
        _add(values, "table.whitelist", msg)
        _add(values, "table.blacklist", msg)
        return False
    return True


def validate_sink(values: list[ConfigValue]) -> bool:
    """JdbcSinkConnectorValidation.validateDeleteEnabledPkMode; False if any key has an error."""
    cfg = {v.name: v.value for v in values}
    if cfg.get("delete.enabled") is True and str(cfg.get("pk.mode")).lower() != "record_key":
        msg = "Deletes are only supported for pk.mode record_key"
        _add(values, "pk.mode", msg)
        _add(values, "delete.enabled", msg)
    return not any(v.errors for v in values)
