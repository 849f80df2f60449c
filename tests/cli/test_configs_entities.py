"""kafka-configs for the cluster-wide broker default, client quotas (users, clients, ips) and SCRAM credentials,
against a real broker, restarted to show what persists. Expected text from Kafka 3.9's
core/src/main/scala/kafka/admin/ConfigCommand.scala unless another file is named."""

from __future__ import annotations

from cli_helpers import tool


def configs(broker, *args: str):  # noqa: ANN001, ANN201
    return tool("kafka-configs", "--bootstrap-server", broker.bootstrap, *args)


def ok(broker, *args: str) -> str:  # noqa: ANN001
    r = configs(broker, *args)
    assert (r.returncode, r.stderr) == (0, ""), r
    return r.stdout


def failed(broker, *args: str) -> str:  # noqa: ANN001
    """stderr of a failure: ConfigCommand.main exits 1 after printing it."""
    r = configs(broker, *args)
    assert (r.returncode, r.stdout) == (1, ""), r
    return r.stderr


def execution_error(broker, args: tuple[str, ...], java: str) -> str:  # noqa: ANN001
    """ConfigCommand.main's catch of a Throwable: the command line, then the exception (stack trace not printed)."""
    return (f"Error while executing config command with args '--bootstrap-server {broker.bootstrap} {' '.join(args)}'"
            f"\njava.util.concurrent.ExecutionException: {java}\n")


def test_broker_defaults_take_effect_under_per_broker_values_and_persist(broker) -> None:
    # alterConfig: "Completed updating default config for brokers in the cluster."
    assert ok(broker, "--alter", "--entity-type", "brokers", "--entity-default",
              "--add-config", "log.retention.ms=3600000,num.partitions=3") == \
        "Completed updating default config for brokers in the cluster.\n"
    assert ok(broker, "--alter", "--broker", "0", "--add-config", "num.partitions=4") == \
        "Completed updating config for broker 0.\n"
    # describeResourceConfig: the default entity is "Default configs for brokers in the cluster are:"; its entries
    # carry only the DYNAMIC_DEFAULT_BROKER_CONFIG synonym (ConfigHelper.createBrokerConfigEntry)
    defaults = ("Default configs for brokers in the cluster are:\n"
                "  log.retention.ms=3600000 sensitive=false "
                "synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=3600000}\n"
                "  num.partitions=3 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:num.partitions=3}\n")
    assert ok(broker, "--describe", "--broker-defaults") == defaults
    per_broker = ("Dynamic configs for broker 0 are:\n"
                  "  num.partitions=4 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:num.partitions=4, "
                  "DYNAMIC_DEFAULT_BROKER_CONFIG:num.partitions=3, DEFAULT_CONFIG:num.partitions=1}\n")
    assert ok(broker, "--describe", "--entity-type", "brokers") == per_broker + defaults  # every broker, then ""
    # the default applies where the broker has no value of its own (kafka-topics: TopicCommand's Configs column)
    assert tool("kafka-topics", "--bootstrap-server", broker.bootstrap, "--create", "--topic", "t").returncode == 0
    r = tool("kafka-topics", "--bootstrap-server", broker.bootstrap, "--describe", "--topic", "t")
    assert "PartitionCount: 4\t" in r.stdout and "Configs: retention.ms=3600000\n" in r.stdout

    broker.restart()
    assert ok(broker, "--describe", "--entity-type", "brokers") == per_broker + defaults
    assert ok(broker, "--alter", "--broker", "0", "--delete-config", "num.partitions") == \
        "Completed updating config for broker 0.\n"
    assert ok(broker, "--alter", "--entity-type", "brokers", "--entity-default", "--delete-config",
              "num.partitions") == "Completed updating default config for brokers in the cluster.\n"
    assert ok(broker, "--describe", "--entity-type", "brokers", "--entity-default") == (
        "Default configs for brokers in the cluster are:\n  log.retention.ms=3600000 sensitive=false "
        "synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=3600000}\n")
    # alterConfig: a key to delete must be among the entity's dynamic configs (InvalidConfigurationException)
    assert failed(broker, "--alter", "--broker-defaults", "--delete-config", "num.partitions") == \
        "Invalid config(s): num.partitions\n"
    args = ("--alter", "--broker-defaults", "--add-config", "log.dirs=/elsewhere")
    assert failed(broker, *args) == execution_error(  # ZkAdminManager / DynamicBrokerConfig: not dynamic
        broker, args, "org.apache.kafka.common.errors.InvalidConfigurationException: Cannot update these configs "
                      "dynamically: Set(log.dirs)")


def test_client_quotas(broker) -> None:
    user = ("--entity-type", "users", "--entity-name", "alice")
    assert ok(broker, "--alter", *user, "--add-config",
              "producer_byte_rate=1024,consumer_byte_rate=2048,request_percentage=200") == \
        "Completed updating config for user alice.\n"
    assert ok(broker, "--alter", "--entity-type", "users", "--entity-default", "--add-config",
              "producer_byte_rate=5000") == "Completed updating default config for users in the cluster.\n"
    assert ok(broker, "--alter", "--entity-type", "users", "--entity-name", "u", "--entity-type", "clients",
              "--entity-name", "c", "--add-config", "consumer_byte_rate=100") == \
        "Completed updating config for user u.\n"
    assert ok(broker, "--alter", "--client-defaults", "--add-config", "consumer_byte_rate=1e7") == \
        "Completed updating default config for clients in the cluster.\n"
    assert ok(broker, "--alter", "--ip", "10.0.0.1", "--add-config", "connection_creation_rate=10") == \
        "Completed updating config for ip 10.0.0.1.\n"

    # describeQuotaConfigs: values are Doubles (Double.toString), entities and keys in Java HashMap order
    alice = ("Quota configs for user-principal 'alice' are consumer_byte_rate=2048.0, producer_byte_rate=1024.0, "
             "request_percentage=200.0\n")
    described = {
        user: alice,
        ("--entity-type", "users"): "Quota configs for the default user-principal are producer_byte_rate=5000.0\n"
                                    + alice,
        ("--user-defaults",): "Quota configs for the default user-principal are producer_byte_rate=5000.0\n",
        ("--entity-type", "clients"): "Quota configs for the default client-id are consumer_byte_rate=1.0E7\n",
        ("--entity-type", "users", "--entity-type", "clients"):
            "Quota configs for user-principal 'u', client-id 'c' are consumer_byte_rate=100.0\n",
        ("--entity-type", "users", "--entity-name", "u", "--entity-type", "clients", "--entity-name", "c"):
            "Quota configs for user-principal 'u', client-id 'c' are consumer_byte_rate=100.0\n",
        ("--entity-type", "ips"): "Quota configs for ip '10.0.0.1' are connection_creation_rate=10.0\n",
        ("--entity-type", "users", "--entity-name", "nobody"): "",
    }
    for args, expected in described.items():
        assert ok(broker, "--describe", *args) == expected, args

    broker.restart()
    for args, expected in described.items():
        assert ok(broker, "--describe", *args) == expected, args
    assert ok(broker, "--alter", *user, "--delete-config", "request_percentage,consumer_byte_rate") == \
        "Completed updating config for user alice.\n"
    assert ok(broker, "--describe", *user) == "Quota configs for user-principal 'alice' are producer_byte_rate=1024.0\n"


def test_scram_credentials(broker) -> None:
    user = ("--entity-type", "users", "--entity-name", "alice")
    assert ok(broker, "--alter", *user, "--add-config",
              "SCRAM-SHA-256=[iterations=8192,password=alice-secret],SCRAM-SHA-512=[password=alice-secret]") == \
        "Completed updating config for user alice.\n"
    assert ok(broker, "--alter", "--user", "bob", "--add-config", "SCRAM-SHA-512=[iterations=-1,password=b]") == \
        "Completed updating config for user bob.\n"
    assert ok(broker, "--alter", *user, "--add-config", "producer_byte_rate=1024") == \
        "Completed updating config for user alice.\n"
    # describeClientQuotaAndUserScramCredentialConfigs: quotas first, then the credentials' mechanisms and
    # iterations (4096, DefaultScramIterations, when none or -1 is given)
    assert ok(broker, "--describe", *user) == (
        "Quota configs for user-principal 'alice' are producer_byte_rate=1024.0\n"
        "SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=8192, "
        "SCRAM-SHA-512=iterations=4096\n")
    broker.restart()
    assert ok(broker, "--alter", *user, "--delete-config", "SCRAM-SHA-512") == \
        "Completed updating config for user alice.\n"
    assert ok(broker, "--describe", "--entity-type", "users") == (  # every user with credentials, sorted
        "Quota configs for user-principal 'alice' are producer_byte_rate=1024.0\n"
        "SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=8192\n"
        "SCRAM credential configs for user-principal 'bob' are SCRAM-SHA-512=iterations=4096\n")
    # neither with clients nor for the default user (ConfigCommand skips the SCRAM describe)
    assert ok(broker, "--describe", "--user-defaults") == ""
    assert ok(broker, "--describe", "--user", "carol") == ""  # users() leaves out RESOURCE_NOT_FOUND


def test_bad_quota_and_scram_input(broker) -> None:
    alice = ("--alter", "--entity-type", "users", "--entity-name", "alice")
    messages = {  # IllegalArgumentException / InvalidConfigurationException: the message alone, exit 1
        (*alice, "--add-config", "bogus_rate=1"): "Only quota and SCRAM credential configs can be added for 'users' "
                                                  "using --bootstrap-server. Unexpected config names: Set(bogus_rate)",
        (*alice, "--delete-config", "bogus_rate"): "Only quota and SCRAM credential configs can be deleted for "
                                                   "'users' using --bootstrap-server. Unexpected config names: "
                                                   "ArrayBuffer(bogus_rate)",
        ("--alter", "--client", "c", "--add-config", "SCRAM-SHA-256=[password=x]"):
            "Only quota configs can be added for 'clients' using --bootstrap-server. Unexpected config names: "
            "Set(SCRAM-SHA-256)",
        ("--alter", "--ip", "1.2.3.4", "--add-config", "producer_byte_rate=10"):
            "Only connection quota configs can be added for 'ips' using --bootstrap-server. Unexpected config "
            "names: producer_byte_rate",
        (*alice, "--add-config", "producer_byte_rate=fast"):
            "Cannot parse quota configuration value for producer_byte_rate: fast",
        (*alice, "--delete-config", "consumer_byte_rate"): "Invalid config(s): consumer_byte_rate",
        (*alice, "--add-config", "SCRAM-SHA-256=[iterations=1000,password=x]"):
            "Iterations 1000 is less than the minimum 4096 required for SCRAM-SHA-256",
        (*alice, "--add-config", "SCRAM-SHA-256=[pass=x]"):  # the internal ScramMechanism enum's name
            "Invalid credential property SCRAM_SHA_256=pass=x",
        (*alice, "--add-config", "SCRAM-SHA-256=[iterations=,password=x]"): 'For input string: ""',
        ("--alter", "--user-defaults", "--add-config", "SCRAM-SHA-256=[password=x]"):
            "The use of --entity-default or --user-defaults is not allowed with User SCRAM Credentials using "
            "--bootstrap-server.",
        (*alice, "--add-config", "SCRAM-SHA-256=[password=x],producer_byte_rate=5"):
            "Cannot alter both quota and SCRAM credential configs simultaneously for 'users' using "
            "--bootstrap-server.",
        ("--alter", "--entity-type", "users", "--entity-type", "clients", "--entity-name", "c",
         "--add-config", "producer_byte_rate=10"): "An entity name must be specified for every entity type",
        ("--describe", "--entity-type", "users", "--entity-type", "ips"):  # ConfigCommandOptions.checkArgs
            "Only 'users' and 'clients' entity types may be specified together",
        ("--describe", "--entity-type", "groups"):
            "Invalid entity type groups, the entity type must be one of topics, clients, users, brokers, ips, "
            "client-metrics, broker-loggers with a --bootstrap-server or --bootstrap-controller argument",
    }
    for args, message in messages.items():
        assert failed(broker, *args) == message + "\n", args
    # the broker's refusals (ZkAdminManager.alterClientQuotas / alterUserScramCredentials), as the Admin's
    # ExecutionException with Errors' exception class
    refusals = {
        (*alice, "--add-config", "producer_byte_rate=1.5"):
            "org.apache.kafka.common.errors.InvalidRequestException: Configuration producer_byte_rate must be a "
            "LONG value",
        ("--alter", "--ip", "nohost", "--add-config", "connection_creation_rate=10"):
            "org.apache.kafka.common.errors.InvalidRequestException: nohost is not a valid IP or resolvable host.",
        (*alice, "--add-config", "SCRAM-SHA-256=[iterations=20000,password=x]"):
            "org.apache.kafka.common.errors.UnacceptableCredentialException: Too many iterations",
        (*alice, "--delete-config", "SCRAM-SHA-512"):
            "org.apache.kafka.common.errors.ResourceNotFoundException: Attempt to delete a user credential that "
            "does not exist",
    }
    for args, java in refusals.items():
        assert failed(broker, *args) == execution_error(broker, args, java), args
    assert ok(broker, "--describe", "--entity-type", "users") == ""  # nothing was stored
