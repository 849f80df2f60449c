"""kafka-topics against a real broker: exact stdout, stderr and exit codes (TopicCommand.java, Kafka 3.9)."""

from __future__ import annotations

import re

from cli_helpers import LOG_PREFIX, TOPIC_ID, tool


def topics(broker, *args: str):  # noqa: ANN001, ANN201
    return tool("kafka-topics", "--bootstrap-server", broker.bootstrap, *args)


def partition_line(topic: str, p: int) -> str:  # TopicCommand.java: PartitionDescription.printDescription
    # described through DescribeTopicPartitions, whose ELR lists are empty (not null, which prints N/A)
    return f"\tTopic: {topic}\tPartition: {p}\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: \tLastKnownElr: \n"


def test_create_list_describe_alter_delete(broker) -> None:
    r = topics(broker, "--create", "--topic", "orders", "--partitions", "3", "--replication-factor", "1",
               "--config", "retention.ms=1000", "--config", "cleanup.policy=compact")
    assert (r.returncode, r.stdout, r.stderr) == (0, "Created topic orders.\n", "")  # TopicCommand.java createTopic
    r = topics(broker, "--create", "--topic", "orders.v2_x", "--replica-assignment", "0,0")
    assert r.stdout == (  # TopicCommand.java createTopic: Topic.hasCollisionChars warning
        "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. "
        "To avoid issues it is best to use either, but not both.\nCreated topic orders.v2_x.\n")

    r = topics(broker, "--list")
    assert (r.returncode, r.stdout) == (0, "orders\norders.v2_x\n")  # TopicCommand.java listTopics: sorted, one a line
    r = topics(broker, "--list", "--topic", "orders\\..*")
    assert r.stdout == "orders.v2_x\n"  # --topic is a regular expression for --list (TopicFilter.IncludeList)

    r = topics(broker, "--describe", "--topic", "orders")
    assert re.fullmatch(f"Topic: orders\tTopicId: {TOPIC_ID}\tPartitionCount: 3\tReplicationFactor: 1\t"
                        "Configs: cleanup.policy=compact,retention.ms=1000\n"
                        + "".join(partition_line("orders", p) for p in range(3)), r.stdout), r.stdout

    r = topics(broker, "--alter", "--topic", "orders", "--partitions", "4")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")  # TopicCommand.java alterTopic prints nothing
    r = topics(broker, "--describe", "--topic", "orders", "--topics-with-overrides")
    assert re.fullmatch(f"Topic: orders\tTopicId: {TOPIC_ID}\tPartitionCount: 4\t.*\n", r.stdout)
    r = topics(broker, "--describe", "--under-replicated-partitions")
    assert (r.returncode, r.stdout) == (0, "")  # DescribeOptions: no topic lines, no healthy partitions
    r = topics(broker, "--describe", "--unavailable-partitions")
    assert (r.returncode, r.stdout) == (0, "")

    r = topics(broker, "--delete", "--topic", "orders.*")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")  # TopicCommand.java deleteTopic prints nothing
    assert topics(broker, "--list").stdout == "\n"  # println of an empty join


def test_if_exists_and_if_not_exists(broker) -> None:
    assert topics(broker, "--create", "--topic", "t").returncode == 0
    r = topics(broker, "--create", "--topic", "t", "--if-not-exists")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    r = topics(broker, "--create", "--topic", "t")
    assert r.returncode == 1
    assert r.stdout == "Error while executing topic command : Topic 't' already exists.\n"  # printException
    assert re.fullmatch(LOG_PREFIX + "ERROR org.apache.kafka.common.errors.TopicExistsException: Topic 't' already "
                        r"exists. \(org.apache.kafka.tools.TopicCommand\)\n", r.stderr)
    for action in (["--delete"], ["--describe"], ["--alter", "--partitions", "2"]):
        r = topics(broker, *action, "--topic", "missing", "--if-exists")
        assert (r.returncode, r.stdout) == (0, ""), action
        r = topics(broker, *action, "--topic", "missing")
        assert r.returncode == 1
        # TopicCommand.java ensureTopicExists formats the Optional itself
        assert r.stdout == "Error while executing topic command : Topic 'Optional[missing]' does not exist as " \
                           "expected\n"


def test_exclude_internal(broker) -> None:
    assert tool("kafka-console-consumer", "--bootstrap-server", broker.bootstrap, "--topic", "t", "--group", "g",
                "--timeout-ms", "500").returncode == 0  # joining a group creates __consumer_offsets
    assert "__consumer_offsets\n" in topics(broker, "--list").stdout
    assert "__consumer_offsets" not in topics(broker, "--list", "--exclude-internal").stdout


def test_errors_from_the_broker_and_the_tool(broker) -> None:
    cases = {  # args -> TopicCommand's "Error while executing topic command : <message>"
        ("--create", "--topic", "x", "--partitions", "0"): "The partitions must be greater than 0",
        ("--create", "--topic", "x", "--replication-factor", "0"):
            "The replication factor must be between 1 and 32767 inclusive",
        ("--create", "--topic", "x", "--partitions", "two"): "Cannot parse argument 'two' of option partitions",
        ("--create", "--topic", "x", "--config", "retention.ms"):
            'requirement failed: Invalid topic config: all configs to be added must be in the format "key=val".',
        ("--create", "--topic", "x", "--config", "retention.ms=soon"):
            "Invalid value soon for configuration retention.ms: Not a number of type LONG",
        ("--create", "--topic", "x", "--config", "no.such.config=1"): "Unknown topic config name: no.such.config",
        ("--create", "--topic", "x", "--replica-assignment", "0:0"):
            "Partition replica lists may not contain duplicate entries: 0",
        ("--list", "--topic", "a["): "a[ is an invalid regex.",
    }
    for args, message in cases.items():
        r = topics(broker, *args)
        assert (r.returncode, r.stdout) == (1, f"Error while executing topic command : {message}\n"), args
    assert topics(broker, "--create", "--topic", "y", "--partitions", "2").returncode == 0
    r = topics(broker, "--alter", "--topic", "y", "--partitions", "1")
    assert r.returncode == 1
    assert r.stdout.startswith("Error while executing topic command : ")


def test_describe_pages_through_describe_topic_partitions(broker) -> None:
    """TopicCommand's partitionSizeLimitPerResponse: the Admin follows DescribeTopicPartitions' cursor until every
    partition is described, so the output is the same whatever the page size."""
    for name, count in (("paged-a", 3), ("paged-b", 2), ("paged-c", 1)):
        assert topics(broker, "--create", "--topic", name, "--partitions", str(count)).returncode == 0
    whole = topics(broker, "--describe", "--topic", "paged-.*")
    assert whole.returncode == 0, whole.stderr
    expected = "".join(f"Topic: {name}\tTopicId: {TOPIC_ID}\tPartitionCount: {count}\tReplicationFactor: 1\t"
                       "Configs: \n" + "".join(partition_line(name, p) for p in range(count))
                       for name, count in (("paged-a", 3), ("paged-b", 2), ("paged-c", 1)))
    assert re.fullmatch(expected, whole.stdout), whole.stdout
    for limit in ("1", "2", "4"):
        r = topics(broker, "--describe", "--topic", "paged-.*", "--partition-size-limit-per-response", limit)
        assert (r.returncode, r.stdout, r.stderr) == (0, whole.stdout, ""), limit
    r = topics(broker, "--describe", "--topic", "paged-a", "--partition-size-limit-per-response", "x")
    assert (r.returncode, r.stdout) == (1, "Error while executing topic command : Cannot parse argument 'x' of "
                                           "option partition-size-limit-per-response\n")


def test_describe_by_topic_id_uses_metadata(broker) -> None:
    """Admin.describeTopics(TopicCollection.ofTopicIds) goes through Metadata, which has no ELR: N/A."""
    assert topics(broker, "--create", "--topic", "by-id").returncode == 0
    tid = re.search(f"TopicId: ({TOPIC_ID})", topics(broker, "--describe", "--topic", "by-id").stdout).group(1)
    r = topics(broker, "--describe", "--topic-id", tid)
    assert r.stdout.endswith("\tTopic: by-id\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: N/A\t"
                             "LastKnownElr: N/A\n"), r.stdout
