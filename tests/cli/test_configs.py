"""kafka-configs against a real broker (core/src/main/scala/kafka/admin/ConfigCommand.scala, Kafka 3.9)."""

from __future__ import annotations

from cli_helpers import tool


def configs(broker, *args: str):  # noqa: ANN001, ANN201
    return tool("kafka-configs", "--bootstrap-server", broker.bootstrap, *args)


def test_topic_configs(broker) -> None:
    assert tool("kafka-topics", "--bootstrap-server", broker.bootstrap, "--create", "--topic", "t").returncode == 0
    r = configs(broker, "--entity-type", "topics", "--entity-name", "t", "--alter",
                "--add-config", "retention.ms=1000,cleanup.policy=[compact,delete]")
    assert (r.returncode, r.stdout, r.stderr) == (0, "Completed updating config for topic t.\n", "")  # alterConfig
    r = configs(broker, "--describe", "--topic", "t")
    assert r.stdout == (  # describeResourceConfig
        "Dynamic configs for topic t are:\n"
        "  cleanup.policy=compact,delete sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact,delete, "
        "DEFAULT_CONFIG:log.cleanup.policy=delete}\n"
        "  retention.ms=1000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=1000, "
        "DEFAULT_CONFIG:log.retention.ms=604800000}\n")
    config_file = broker.data_dir.parent / "add.properties"
    config_file.write_text("# Java properties\nsegment.ms=60000\n")
    r = configs(broker, "--alter", "--topic", "t", "--add-config-file", str(config_file),
                "--delete-config", "retention.ms,cleanup.policy")
    assert r.stdout == "Completed updating config for topic t.\n"
    r = configs(broker, "--describe", "--topic", "t")
    assert r.stdout == ("Dynamic configs for topic t are:\n  segment.ms=60000 sensitive=false "
                        "synonyms={DYNAMIC_TOPIC_CONFIG:segment.ms=60000, DEFAULT_CONFIG:log.roll.ms=604800000}\n")
    r = configs(broker, "--describe", "--topic", "t", "--all")
    assert r.stdout.startswith("All configs for topic t are:\n  cleanup.policy=delete sensitive=false "
                               "synonyms={DEFAULT_CONFIG:log.cleanup.policy=delete}\n")

    r = configs(broker, "--alter", "--topic", "t", "--delete-config", "flush.ms")
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "Invalid config(s): flush.ms\n")
    r = configs(broker, "--alter", "--topic", "t", "--add-config", "retention.ms=soon")
    assert (r.returncode, r.stderr) == (1, "Error while executing config command with args '--bootstrap-server "
                                           f"{broker.bootstrap} --alter --topic t --add-config retention.ms=soon'\n"
                                           "java.util.concurrent.ExecutionException: org.apache.kafka.common.errors."
                                           "InvalidConfigurationException: Invalid value soon for configuration "
                                           "retention.ms: Not a number of type LONG\n")
    r = configs(broker, "--alter", "--topic", "t", "--add-config", "retention.ms")
    assert (r.returncode, r.stderr) == (1, 'requirement failed: Invalid entity config: all configs to be added must '
                                           'be in the format "key=val".\n')


def test_broker_configs(broker) -> None:
    r = configs(broker, "--alter", "--broker", "0", "--add-config", "log.retention.ms=100000")
    assert (r.returncode, r.stdout) == (0, "Completed updating config for broker 0.\n")
    r = configs(broker, "--describe", "--entity-type", "brokers", "--entity-name", "0")
    assert r.stdout.startswith("Dynamic configs for broker 0 are:\n  log.retention.ms=100000 sensitive=false "
                               "synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms=100000")
    r = configs(broker, "--alter", "--broker", "0", "--delete-config", "log.retention.ms")
    assert r.stdout == "Completed updating config for broker 0.\n"
    assert configs(broker, "--describe", "--broker", "0").stdout == "Dynamic configs for broker 0 are:\n"
    r = configs(broker, "--describe", "--broker", "zero")
    assert (r.returncode, r.stderr) == (1, "The entity name for brokers must be a valid integer broker id, but it "
                                           "is: zero\n")


def test_broker_loggers(broker) -> None:
    r = configs(broker, "--describe", "--entity-type", "broker-loggers", "--entity-name", "0")
    lines = r.stdout.splitlines()
    # describeResourceConfig: every logger (no source filter for broker loggers), sorted by name; ConfigHelper gives
    # each Log4jController.loggers entry with no synonyms
    assert r.returncode == 0 and lines[0] == "Dynamic configs for broker-logger 0 are:", r
    assert "  kafka=INFO sensitive=false synonyms={}" in lines and "  root=INFO sensitive=false synonyms={}" in lines
    names = [line.split("=")[0] for line in lines[1:]]
    assert names == sorted(names)
    r = configs(broker, "--alter", "--broker-logger", "0", "--add-config", "kafka=WARN,kafka.log.LogManager=DEBUG")
    assert (r.returncode, r.stdout) == (0, "Completed updating config for broker-logger 0.\n")  # alterConfig
    lines = configs(broker, "--describe", "--broker-logger", "0").stdout.splitlines()
    # Log4jController.resolveLevel: a logger without a level of its own takes its nearest ancestor's
    assert {"  kafka=WARN sensitive=false synonyms={}", "  kafka.log.LogManager=DEBUG sensitive=false synonyms={}",
            "  kafka.log.LogCleaner=WARN sensitive=false synonyms={}"} <= set(lines)
    assert "Updated the log level of kafka to WARN (kafka.server.logger.RuntimeLoggerManager)" in broker.log_text()
    r = configs(broker, "--alter", "--broker-logger", "0", "--delete-config", "kafka")
    assert r.returncode == 0 and "  kafka.log.LogCleaner=INFO sensitive=false synonyms={}" in configs(
        broker, "--describe", "--broker-logger", "0").stdout.splitlines()

    r = configs(broker, "--alter", "--broker-logger", "0", "--add-config", "kafka.nope=DEBUG")
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "Invalid broker logger(s): kafka.nope\n")  # alterConfig
    r = configs(broker, "--alter", "--broker-logger", "0", "--add-config", "kafka=LOUD")
    # RuntimeLoggerManager.validateLogLevelConfigs
    assert (r.returncode, r.stderr.splitlines()[1]) == (
        1, "java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.InvalidConfigurationException: "
        "Cannot set the log level of kafka to LOUD as it is not a supported log level. Valid log levels are DEBUG, "
        "ERROR, FATAL, INFO, TRACE, WARN")
    r = configs(broker, "--alter", "--broker-logger", "0", "--delete-config", "root")
    assert r.stderr.splitlines()[1] == ("java.util.concurrent.ExecutionException: org.apache.kafka.common.errors."
                                        "InvalidRequestException: Removing the log level of the root logger is not "
                                        "allowed")


def test_argument_errors(broker) -> None:
    bs = broker.bootstrap
    cases = {  # ConfigCommandOptions.checkArgs: IllegalArgumentException, message alone on stderr
        ("--bootstrap-server", bs, "--describe"): "At least one entity type must be specified",
        ("--describe", "--topic", "t"): "Invalid entity type topics, the entity type must be one of users, brokers "
                                        "with a --zookeeper argument",
        ("--describe", "--broker", "0"): "One of the required --bootstrap-server, --boostrap-controller, or "
                                        "--zookeeper arguments must be specified",
        ("--bootstrap-server", bs, "--alter", "--topic", "t"): "At least one of --add-config, --add-config-file, or "
                                                               "--delete-config must be specified with --alter",
        ("--bootstrap-server", bs, "--describe", "--entity-type", "widgets"):
            "Invalid entity type widgets, the entity type must be one of topics, clients, users, brokers, ips, "
            "client-metrics, broker-loggers with a --bootstrap-server or --bootstrap-controller argument",
        ("--bootstrap-server", bs, "--describe", "--topic", "t", "--entity-name", "t"):
            "--entity-{type,name,default} should not be used in conjunction with specific entity flags",
        ("--bootstrap-server", bs, "--describe", "--topic", "t", "--colour"): "colour is not a recognized option",
    }
    for args, message in cases.items():
        r = tool("kafka-configs", *args)
        assert (r.returncode, r.stdout, r.stderr) == (1, "", message + "\n"), args
    r = tool("kafka-configs", "--bootstrap-server", bs, "--topic", "t")
    assert r.returncode == 1
    assert r.stderr.startswith("Command must include exactly one action: --describe, --alter\nOption ")
