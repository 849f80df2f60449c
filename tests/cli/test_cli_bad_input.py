"""Bad input and no broker: Kafka's messages, usage and exit codes, and waits that end."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time

import pytest
from cli_helpers import LOG_PREFIX, REPO, VENV_BIN, tool

TOOLS = ("kafka-topics", "kafka-console-producer", "kafka-console-consumer", "kafka-consumer-groups", "kafka-configs")


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"  # nothing listens there once the socket is closed


@pytest.mark.parametrize("name", TOOLS)
def test_version_and_help_without_confluent_kafka(name: str) -> None:
    r = subprocess.run([str(VENV_BIN / name), "--version"], capture_output=True, text=True, timeout=30,
                       env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"})
    assert (r.returncode, r.stdout) == (0, "3.9.0 (Brook 0.1.0)\n")  # CommandLineUtils.printVersionAndExit
    assert "confluent_kafka" not in r.stderr  # --version never loads the client library
    r = tool(name, "--help")
    assert (r.returncode, r.stdout) == (1, "")  # CommandLineUtils.printUsageAndExit: usage on stderr, status 1
    assert "\nOption " in r.stderr and "\n--bootstrap-server <String: server to" in r.stderr  # jopt's layout


def test_bin_wrappers_run_the_venv_tools() -> None:
    for name in TOOLS:
        r = subprocess.run([str(REPO / "bin" / f"{name}.sh"), "--version"], capture_output=True, text=True,
                           timeout=30)
        assert (r.returncode, r.stdout) == (0, "3.9.0 (Brook 0.1.0)\n"), name


def test_unknown_missing_and_conflicting_flags() -> None:
    r = tool("kafka-topics", "--bootstrap-server", "localhost:9092", "--lst")
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "lst is not a recognized option\n")  # mainNoExit
    r = tool("kafka-topics", "--bootstrap-server", "localhost:9092", "--create")
    assert r.returncode == 1 and r.stderr.startswith('Missing required argument "[topic]"\nOption ')
    r = tool("kafka-topics", "--bootstrap-server", "localhost:9092", "--list", "--partitions", "3")
    assert r.returncode == 1 and r.stderr.startswith('Option "[partitions]" can\'t be used with option "[list]"\n')
    r = tool("kafka-topics", "--list")
    assert (r.returncode, r.stderr) == (1, "--bootstrap-server must be specified\n")
    r = tool("kafka-topics", "--bootstrap-server", "localhost:9092", "--topic")
    assert (r.returncode, r.stderr) == (1, "Option topic requires an argument\n")
    r = tool("kafka-topics")
    assert r.returncode == 1 and r.stderr.startswith("Create, delete, describe, or change a topic.\nOption ")

    r = tool("kafka-console-producer", "--bootstrap-server", "localhost:9092", "--topic", "t", "--nope")
    assert r.returncode == 1 and r.stderr.startswith("nope is not a recognized option\nOption ")
    r = tool("kafka-console-producer", "--topic", "t")  # requiredUnless("broker-list"), checked while parsing
    assert r.returncode == 1 and r.stderr.startswith("Missing required option(s) [bootstrap-server]\nOption ")
    r = tool("kafka-console-producer", "--bootstrap-server", "localhost", "--topic", "t")
    assert r.returncode == 1 and r.stderr.startswith("Please provide valid host:port like host1:9091,host2:9092\n"
                                                     " \nOption ")
    r = tool("kafka-console-consumer", "--bootstrap-server", "localhost:9092", "--topic", "t", "--max-messages",
             "many")
    assert r.returncode == 1 and r.stderr.startswith("Cannot parse argument 'many' of option max-messages\nOption ")
    r = tool("kafka-consumer-groups", "--bootstrap-server", "localhost:9092", "--lst")
    assert (r.returncode, r.stderr) == (1, 'Exception in thread "main" joptsimple.UnrecognizedOptionException: lst '
                                           "is not a recognized option\n")


def test_no_broker_answers_within_the_timeouts(tmp_path) -> None:
    bs = closed_port()
    command_config = tmp_path / "admin.properties"
    command_config.write_text("default.api.timeout.ms=1000\n")
    started = time.monotonic()
    r = tool("kafka-topics", "--bootstrap-server", bs, "--list", "--command-config", str(command_config))
    assert (r.returncode, r.stdout) == (1, "Error while executing topic command : Timed out waiting for a node "
                                           "assignment. Call: listTopics\n")
    assert re.fullmatch(LOG_PREFIX + "ERROR org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a "
                        r"node assignment. Call: listTopics \(org.apache.kafka.tools.TopicCommand\)\n", r.stderr)

    r = tool("kafka-consumer-groups", "--bootstrap-server", bs, "--list", "--timeout", "1000")
    assert (r.returncode, r.stdout) == (0, "\nError: Executing consumer group command failed due to "
                                           "java.util.concurrent.ExecutionException: org.apache.kafka.common.errors."
                                           "TimeoutException: Timed out waiting for a node assignment. Call: "
                                           "listConsumerGroups\n")

    r = tool("kafka-console-producer", "--bootstrap-server", bs, "--topic", "t", "--max-block-ms", "1000",
             stdin="lost\n")
    assert r.returncode == 0  # ErrorLoggingCallback logs the failure; the producer still exits normally
    assert re.fullmatch(LOG_PREFIX + r"ERROR Error when sending message to topic t with key: null, value: 4 bytes "
                        r"with error: \(org.apache.kafka.clients.producer.internals.ErrorLoggingCallback\)\n"
                        "org.apache.kafka.common.errors.TimeoutException: Topic t not present in metadata after "
                        "1000 ms.\n", r.stderr), r.stderr

    r = tool("kafka-console-consumer", "--bootstrap-server", bs, "--topic", "t", "--timeout-ms", "1000")
    assert r.returncode == 0
    assert "WARN [Consumer clientId=console-consumer, groupId=console-consumer-" in r.stderr
    assert f"Connection to node -1 (127.0.0.1/{bs}) could not be established. Node may not be available. " \
           "(org.apache.kafka.clients.NetworkClient)\n" in r.stderr
    assert r.stderr.endswith("org.apache.kafka.common.errors.TimeoutException\nProcessed a total of 0 messages\n")
    assert time.monotonic() - started < 25
