"""kafka-cluster, kafka-features, kafka-streams-application-reset and kafka-e2e-latency against a real broker, run as
a user runs them: Kafka 3.9's output lines and exit codes (ClusterToolTest, FeatureCommandTest's ZooKeeper cases,
StreamsResetter, EndToEndLatency)."""

from __future__ import annotations

import re

import pytest
from cli_helpers import produce, read_lines, start, tool, wait_until


@pytest.fixture(scope="module")
def mb(tmp_path_factory):  # noqa: ANN001, ANN201
    from conftest import module_broker

    with module_broker(tmp_path_factory, "cluster_tools") as b:
        yield b


def create(b, topic: str, partitions: int = 1) -> None:  # noqa: ANN001
    r = tool("kafka-topics", "--bootstrap-server", b.bootstrap, "--create", "--topic", topic, "--partitions",
             str(partitions))
    assert r.returncode == 0, r.stderr


def topics(b) -> set[str]:  # noqa: ANN001
    return set(tool("kafka-topics", "--bootstrap-server", b.bootstrap, "--list").stdout.split())


# --- kafka-cluster ---------------------------------------------------------------------------------------------

def test_cluster_id_and_unregister(mb) -> None:  # noqa: ANN001
    r = tool("bin/kafka-cluster.sh", "cluster-id", "--bootstrap-server", mb.bootstrap)
    assert r.returncode == 0 and re.fullmatch(r"Cluster ID: [A-Za-z0-9_-]{22}\n", r.stdout), r
    # ClusterToolTest.testUnregister on a ZooKeeper cluster: the API is missing, the tool says so and succeeds
    assert tool("kafka-cluster", "cluster-id", "-b" + mb.bootstrap).stdout == r.stdout  # "-bVALUE", as argparse4j
    r = tool("kafka-cluster", "unregister", "-b", mb.bootstrap, "--id", "0")
    assert (r.returncode, r.stdout) == (0, "The target cluster does not support the broker unregistration API.\n")
    # a broker asked as a controller answers as Kafka's AuthHelper does; ClusterTool prints the message, then the trace
    r = tool("kafka-cluster", "cluster-id", "--bootstrap-controller", mb.bootstrap)
    error = ("org.apache.kafka.common.errors.MismatchedEndpointTypeException: The request was sent to an endpoint of "
             "type BROKER, but we wanted an endpoint of type CONTROLLER")
    assert (r.returncode, r.stdout, r.stderr) == (1, "", f"{error}\njava.util.concurrent.ExecutionException: {error}\n")


def test_cluster_bad_command_lines(mb) -> None:  # noqa: ANN001
    usage = ("usage: kafka-cluster cluster-id [-h] [--config CONFIG]\n"
             "                     (--bootstrap-server BOOTSTRAP_SERVER |\n"
             "                     --bootstrap-controller BOOTSTRAP_CONTROLLER)\n")
    # a required mutually exclusive group: argparse4j 0.7.0's wording, line breaks (java.text.BreakIterator) and
    # justified lines, as checked against argparse4j itself
    r = tool("kafka-cluster", "cluster-id")
    assert (r.returncode, r.stderr) == (1, usage + "kafka-cluster:  error:  one  of   the  arguments  "
                                        "--bootstrap-server/-b  --\nbootstrap-controller/-C is required\n")
    r = tool("kafka-cluster", "cluster-id", "-b", mb.bootstrap, "-C", mb.bootstrap)
    assert r.returncode == 1 and "argument --bootstrap-controller/-C:  not allowed with\nargument " \
        "--bootstrap-server/-b" in r.stderr
    r = tool("kafka-cluster", "unregister", "-b", mb.bootstrap, "-i", "x")
    assert r.returncode == 1 and "could  not  convert 'x' to Integer\n(For input string: \"x\")" in r.stderr
    r = tool("kafka-cluster", "unregister", "-b", mb.bootstrap)
    assert r.returncode == 1 and r.stderr.endswith("kafka-cluster: error: argument --id/-i is required\n")
    r = tool("kafka-cluster", "nope")
    assert r.returncode == 1 and "invalid  choice:  'nope'" in r.stderr and r.stdout == ""
    r = tool("kafka-cluster", "--help")  # parseArgsOrFail: the help screen, then status 1
    assert r.returncode == 1 and r.stdout.startswith("usage: kafka-cluster [-h] {cluster-id,unregister} ...\n\n"
                                                     "The Kafka cluster tool.\n\npositional arguments:\n")


# --- kafka-features --------------------------------------------------------------------------------------------

def test_features_as_a_zookeeper_cluster(mb) -> None:  # noqa: ANN001
    # FeatureCommandTest.testDescribeWithZK: a ZooKeeper-mode broker supports no feature, nothing is printed
    r = tool("bin/kafka-features.sh", "--bootstrap-server", mb.bootstrap, "describe")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    not_supported = "Could not apply finalized feature update because the provided feature is not supported."
    r = tool("kafka-features", "--bootstrap-server", mb.bootstrap, "upgrade", "--metadata", "3.3-IV2")
    assert (r.returncode, r.stdout, r.stderr) == (1, f"Could not upgrade metadata.version to 6. {not_supported}\n",
                                                  "1 out of 1 operation(s) failed.\n")
    r = tool("kafka-features", "--bootstrap-server", mb.bootstrap, "disable", "--feature", "metadata.version")
    assert r.stdout == "Could not disable metadata.version. Can not delete non-existing finalized feature.\n"
    r = tool("kafka-features", "--bootstrap-server", mb.bootstrap, "downgrade", "--unsafe", "--metadata", "3.3-IV0")
    assert r.stdout == f"Could not downgrade metadata.version to 4. {not_supported}\n" and r.returncode == 1
    r = tool("kafka-features", "--bootstrap-server", mb.bootstrap, "upgrade", "--feature", "b.x=2", "--feature",
             "a.y=1", "--dry-run")  # sorted by name (a TreeMap), "Can not" for a dry run
    assert r.stdout == f"Can not upgrade a.y to 1. {not_supported}\nCan not upgrade b.x to 2. {not_supported}\n"
    assert r.stderr == "2 out of 2 operation(s) failed.\n"


@pytest.mark.parametrize(("args", "err"), [
    (["upgrade"], "You must specify at least one feature to upgrade\n"),
    (["upgrade", "--feature", "foo"], "Can't parse feature=level string foo: equals sign not found.\n"),
    (["upgrade", "--feature", "foo=x"], "Can't parse feature=level string foo=x: unable to parse x as a short.\n"),
    (["upgrade", "--feature", "f=1", "--feature", "f=2"], "Feature f was specified more than once.\n"),
    (["upgrade", "--feature", "f=0"], "The upgradeType flag should be set to SAFE_DOWNGRADE or UNSAFE_DOWNGRADE when "
                                      "the provided maxVersionLevel:0 is < 1.\n"),
    (["upgrade", "--metadata", "2.8"], "Cannot specify a negative version level.\n"),
    (["upgrade", "--metadata", "9.9"], "Unsupported metadata.version 9.9. Supported metadata.version are 3.3-IV0, "
     "3.3-IV1, 3.3-IV2, 3.3-IV3, 3.4-IV0, 3.5-IV0, 3.5-IV1, 3.5-IV2, 3.6-IV0, 3.6-IV1, 3.6-IV2, 3.7-IV0, 3.7-IV1, "
     "3.7-IV2, 3.7-IV3, 3.7-IV4, 3.8-IV0, 3.9-IV0\n"),
])
def test_features_refusals(mb, args: list[str], err: str) -> None:  # noqa: ANN001
    r = tool("kafka-features", "--bootstrap-server", mb.bootstrap, *args)
    assert (r.returncode, r.stdout, r.stderr) == (1, "", err)


def test_unreachable_cluster_times_out(tmp_path) -> None:  # noqa: ANN001
    props = tmp_path / "admin.properties"
    props.write_text("default.api.timeout.ms=500\n")  # the Admin retries an unreachable node until its timeout
    r = tool("kafka-features", "--bootstrap-server", "127.0.0.1:1", "--command-config", str(props), "describe")
    assert (r.returncode, r.stderr) == (1, "org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a "
                                        "node assignment. Call: describeFeatures\n")
    r = tool("kafka-features", "--bootstrap-server", "127.0.0.1:1", "--command-config", str(props), "upgrade",
             "--feature", "x=1")
    assert r.stdout == "Could not upgrade x to 1. Timed out waiting for a node assignment. Call: updateFeatures\n"
    r = tool("kafka-cluster", "unregister", "-b", "127.0.0.1:1", "-c", str(props), "-i", "1")
    error = "org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: " \
        "unregisterBroker"
    assert (r.returncode, r.stderr) == (1, f"{error}\njava.util.concurrent.ExecutionException: {error}\n")
    r = tool("kafka-features", "--bootstrap-server", "127.0.0.1:1", "--command-config", "/nonexistent", "describe")
    assert (r.returncode, r.stderr) == (1, "/nonexistent\n")  # NoSuchFileException's message is the path


def test_features_bad_command_lines() -> None:
    r = tool("kafka-features", "describe")
    assert r.returncode == 1 and r.stderr.startswith(
        "usage: kafka-features [-h] [--command-config COMMAND_CONFIG]\n"
        "                      (--bootstrap-server BOOTSTRAP_SERVER |\n"
        "                      --bootstrap-controller BOOTSTRAP_CONTROLLER)\n"
        "                      {describe,upgrade,downgrade,disable} ...\n"
        "kafka-features: error: one of the arguments --bootstrap-server --bootstrap-\n"
        "controller is required\n")
    r = tool("kafka-features", "--bootstrap-server", "x:1", "disable", "--unsafe=3")
    assert r.returncode == 1 and r.stderr.endswith("kafka-features: error: argument --unsafe: ignore implicit "
                                                   "argument '3'\n")
    r = tool("kafka-features", "--bootstrap-server", "x:1", "upgrade", "--help")  # no defaultHelp in sub-parsers
    assert r.returncode == 1 and r.stdout.endswith(
        "  --feature FEATURE      A  feature   upgrade   we   should   perform,   in\n"
        "                         feature=level  format.  For   example:  `metadata.\n"
        "                         version=5`.\n"
        "  --dry-run              Validate this upgrade, but do not perform it.\n")


# --- kafka-streams-application-reset ---------------------------------------------------------------------------

def reset(b, *args: str):  # noqa: ANN001, ANN201
    return tool("kafka-streams-application-reset", "--bootstrap-server", b.bootstrap, *args)


def committed(b, group: str) -> dict[tuple[str, int], str]:  # noqa: ANN001
    r = tool("kafka-consumer-groups", "--bootstrap-server", b.bootstrap, "--describe", "--group", group)
    rows = [line.split() for line in r.stdout.splitlines() if line.startswith(group + " ")]
    return {(row[1], int(row[2])): row[3] for row in rows}


def test_streams_reset(mb) -> None:  # noqa: ANN001
    for name, parts in (("words", 2), ("wc-app-counts-changelog", 1), ("wc-app-KSTREAM-X-repartition", 1),
                        ("wc-app-out", 1), ("through", 1)):
        create(mb, name, parts)
    produce(mb.bootstrap, "words", ["a:1", "b:2", "c:3", "d:4"], "--property", "parse.key=true",
            "--property", "key.separator=:")
    produce(mb.bootstrap, "through", ["x", "y"])
    r = tool("kafka-console-consumer", "--bootstrap-server", mb.bootstrap, "--topic", "words", "--group", "wc-app",
             "--from-beginning", "--max-messages", "4")
    assert r.returncode == 0, r.stderr
    ends = committed(mb, "wc-app")
    assert sorted(ends) == [("words", 0), ("words", 1)]

    r = reset(mb, "--application-id", "wc-app", "--input-topics", "words,missing", "--intermediate-topics",
              "through", "--dry-run")
    lines = r.stdout.splitlines()
    assert r.returncode == 1, r  # a missing input topic
    assert lines[:5] == ["----Dry run displays the actions which will be performed when running Streams Reset Tool----",
                         "Reset-offsets for input topics [words, missing]", "Seek-to-end for intermediate topics "
                         "[through]", "Following input topics are not found, skipping them", "Topic: missing"]
    assert lines[5] == "Following input topics offsets will be reset to (for consumer group wc-app)"
    assert sorted(lines[6:8]) == ["Topic: words Partition: 0 Offset: 0", "Topic: words Partition: 1 Offset: 0"]
    assert lines[8:] == ["Following intermediate topics offsets will be reset to end (for consumer group wc-app)",
                         "Topic: through", "Done.", "Deleting inferred internal topics "  # Java's HashSet order
                         "[wc-app-counts-changelog, wc-app-KSTREAM-X-repartition]", "Done."]
    assert committed(mb, "wc-app") == ends and "wc-app-counts-changelog" in topics(mb)  # a dry run changes nothing

    r = reset(mb, "--application-id", "wc-app", "--input-topics", "words", "--intermediate-topics", "through")
    assert r.returncode == 0, r
    assert committed(mb, "wc-app") == {("words", 0): "0", ("words", 1): "0", ("through", 0): "2"}
    assert "wc-app-counts-changelog" not in topics(mb) and {"wc-app-out", "words"} <= topics(mb)

    r = reset(mb, "--application-id", "wc-app", "--input-topics", "words", "--to-offset", "99")
    assert "New offset (99) is higher than latest offset. Value will be set to " in r.stdout and r.returncode == 0
    assert sum(int(v) for (t, _), v in committed(mb, "wc-app").items() if t == "words") == 4


def test_streams_reset_shift_and_plan(mb, tmp_path) -> None:  # noqa: ANN001
    create(mb, "plan-in", 1)
    produce(mb.bootstrap, "plan-in", ["a", "b", "c", "d", "e"])
    r = reset(mb, "--application-id", "plan-app", "--input-topics", "plan-in", "--to-latest")
    assert "Topic: plan-in Partition: 0 Offset: 5\n" in r.stdout and committed(mb, "plan-app") == {("plan-in", 0): "5"}
    r = reset(mb, "--application-id", "plan-app", "--input-topics", "plan-in", "--shift-by", "-2")
    assert r.stdout.splitlines()[1:3] == ["Following input topics offsets will be reset to (for consumer group "
                                          "plan-app)", "Topic: plan-in Partition: 0 Offset: 3"]
    assert committed(mb, "plan-app") == {("plan-in", 0): "3"}
    plan = tmp_path / "plan.csv"
    plan.write_text("plan-in,0,0\n")  # checkOffsetRange: the beginning itself is reported as "lower"
    r = reset(mb, "--application-id", "plan-app", "--input-topics", "plan-in", "--from-file", str(plan))
    assert "New offset (0) is lower than earliest offset. Value will be set to 0\n" in r.stdout and r.returncode == 0
    assert committed(mb, "plan-app") == {("plan-in", 0): "0"}
    plan.write_text("plan-in;0;1\n")
    r = reset(mb, "--application-id", "plan-app", "--input-topics", "plan-in", "--from-file", str(plan))
    assert r.returncode == 1 and r.stderr.startswith(
        "ERROR: Resetting offsets failed.\nERROR: java.text.ParseException: Reset plan CSV file is not following the "
        "format `TOPIC,PARTITION,OFFSET`.\n")
    plan.write_text("other,0,1\n")  # a partition of no input topic: Kafka's checkOffsetRange meets a null end
    r = reset(mb, "--application-id", "plan-app", "--input-topics", "plan-in", "--from-file", str(plan))
    assert r.returncode == 1 and r.stderr.startswith('ERROR: java.lang.NullPointerException: Cannot invoke '
                                                     '"java.lang.Long.longValue()"')


def test_streams_reset_refuses_an_active_group(mb) -> None:  # noqa: ANN001
    create(mb, "live-in")
    consumer = start("kafka-console-consumer", "--bootstrap-server", mb.bootstrap, "--topic", "live-in", "--group",
                     "live-app")
    try:
        wait_until(lambda: "live-app" in tool("kafka-consumer-groups", "--bootstrap-server", mb.bootstrap,
                                              "--describe", "--group", "live-app", "--members").stdout.split())
        r = reset(mb, "--application-id", "live-app", "--input-topics", "live-in")
        assert r.returncode == 1 and r.stderr.startswith(
            "ERROR: java.lang.IllegalStateException: Consumer group 'live-app' is still active and has following "
            "members: [(memberId=console-consumer-"), r.stderr
        assert "Make sure to stop all running application instances before running the reset tool. You can use " \
            "option '--force' to remove active members from the group.\n" in r.stderr
    finally:
        consumer.terminate()
        consumer.wait(10)


@pytest.mark.parametrize(("args", "first"), [
    ([], "Missing required option(s) [application-id]"),
    (["--application-id", "a", "--to-offset", "1", "--to-latest"],
     'Option "[to-offset]" can\'t be used with option "[to-latest]"'),
    (["--application-id", "a", "--execute"], "execute is not a recognized option"),
])
def test_streams_reset_bad_command_lines(args: list[str], first: str) -> None:
    r = tool("kafka-streams-application-reset", *args)
    assert r.returncode == 1 and r.stderr.startswith(first + "\nOption (* = required)  "), r.stderr
    # jopt-simple 5.0.4's help, as it prints it (checked against jopt-simple itself): "* " marks the required option,
    # descriptions break where java.text.BreakIterator allows ("servers(deprecated)", "server(s)")
    assert "\n* --application-id <String: id>        The Kafka Streams application ID       \n" \
        "                                         (application.id).                    \n" \
        "--bootstrap-server <String: server to  REQUIRED unless --bootstrap-servers    \n" \
        "  connect to>                            (deprecated) is specified. The server\n" \
        "                                         (s) to connect to. The broker list   \n" in r.stderr


def test_streams_reset_failures(mb) -> None:  # noqa: ANN001
    r = reset(mb, "--application-id", "nobody", "--internal-topics", "words")
    assert r.returncode == 1 and r.stderr.startswith("ERROR: java.lang.IllegalArgumentException: Invalid topic "
                                                     "specified in the --internal-topics option.")
    r = reset(mb, "--application-id", "nobody", "--input-topics", "words", "--by-duration", "bad")
    assert r.returncode == 1 and r.stderr.startswith(
        "ERROR: java.time.format.DateTimeParseException: Text cannot be parsed to a Duration\n")
    r = reset(mb, "--application-id", "nobody", "--input-topics", "words", "--to-offset", "x")  # read when used
    assert r.stdout.endswith("Following input topics offsets will be reset to (for consumer group nobody)\n")
    assert r.returncode == 1 and r.stderr.startswith("ERROR: joptsimple.OptionArgumentConversionException: Cannot "
                                                     "parse argument 'x' of option to-offset\n")
    r = reset(mb, "--application-id", "nobody")
    assert r.returncode == 0 and r.stdout == ("No input or intermediate topics specified. Skipping seek.\n"
                                              "Deleting inferred internal topics []\nDone.\n")


# --- kafka-e2e-latency -----------------------------------------------------------------------------------------

def test_e2e_latency(mb) -> None:  # noqa: ANN001
    r = tool("bin/kafka-e2e-latency.sh", mb.bootstrap, "latency", "20", "all", "64")
    lines = r.stdout.splitlines()
    assert r.returncode == 0, r.stderr
    assert lines[0] == 'Topic "latency" does not exist. Will create topic with 1 partition(s) and replication ' \
        "factor = 1"
    assert re.fullmatch(r"0\t\d+\.\d+(E-?\d+)?", lines[1])  # progress every 1000 messages: index, latency in ms
    assert re.fullmatch(r"Avg latency: \d+\.\d{4} ms", lines[2])
    assert re.fullmatch(r"Percentiles: 50th = \d+, 99th = \d+, 99\.9th = \d+", lines[3]) and len(lines) == 4
    # the payloads are java.util.Random(0)'s: nextInt(26) + 'A' fills each message (18, 18, 23, ... -> S, S, X)
    r = tool("kafka-console-consumer", "--bootstrap-server", mb.bootstrap, "--topic", "latency", "--from-beginning",
             "--max-messages", "3")
    assert r.stdout.splitlines() == ["S" * 64, "S" * 64, "X" * 64]


@pytest.mark.parametrize(("args", "err"), [
    (["h:1", "t"], "USAGE: java org.apache.kafka.tools.EndToEndLatency broker_list topic num_messages producer_acks "
                   "message_size_bytes [optional] properties_file\n"),
    (["h:1", "t", "x", "1", "10"], 'For input string: "x"\njava.lang.NumberFormatException: For input string: "x"\n'),
    (["h:1", "t", "1", "0", "10"], "Latency testing requires synchronous acknowledgement. Please use 1 or all\n"
     "java.lang.IllegalArgumentException: Latency testing requires synchronous acknowledgement. Please use 1 or all\n"),
])
def test_e2e_latency_bad_arguments(args: list[str], err: str) -> None:
    r = tool("kafka-e2e-latency", *args)
    assert (r.returncode, r.stdout, r.stderr) == (1, "", err)


def test_tools_leave_the_broker_serving(mb) -> None:  # noqa: ANN001
    proc = start("kafka-console-consumer", "--bootstrap-server", mb.bootstrap, "--topic", "words", "--from-beginning",
                 "--max-messages", "1")
    assert len(read_lines(proc, 1)) == 1
    proc.wait(10)
    assert mb.alive()
