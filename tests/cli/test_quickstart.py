"""Kafka's quickstart (docs/quickstart.html, steps 3-5), verbatim, with both spellings of the tools."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import time

import pytest
from cli_helpers import REPO, TOPIC_ID, VENV_BIN, read_lines, start, tool

SPELLINGS = {"installed": "{}", "checkout": "bin/{}.sh"}


def interactive_producer(exe: str, args: list[str], lines: list[str]) -> str:
    """Type lines into the console producer on a terminal, then Ctrl-D; returns what the terminal showed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([exe, *args], stdin=slave, stdout=slave, stderr=slave, cwd=REPO, close_fds=True)
    os.close(slave)
    screen = b""

    def read_until(pattern: bytes, timeout: float = 15) -> None:
        nonlocal screen
        deadline = time.monotonic() + timeout
        while not screen.endswith(pattern):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {pattern!r} on the terminal: {screen!r}"
            if select.select([master], [], [], remaining)[0]:
                screen += os.read(master, 1024)

    read_until(b">")  # LineMessageReader prints '>' when System.console() != null
    for line in lines:
        os.write(master, line.encode() + b"\n")
        read_until(line.encode() + b"\r\n>")  # the terminal's echo of the line, then the next prompt
    os.write(master, b"\x04")  # Ctrl-D: end of input
    assert proc.wait(20) == 0
    os.close(master)
    return screen.decode().replace("\r\n", "\n")


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_quickstart_steps_3_to_5(broker, spelling: str) -> None:
    bs = broker.bootstrap
    # Step 3: $ bin/kafka-topics.sh --create --topic quickstart-events --bootstrap-server localhost:9092
    created = tool(spelling.format("kafka-topics"), "--create", "--topic", "quickstart-events",
                   "--bootstrap-server", bs)
    assert (created.returncode, created.stdout, created.stderr) == (0, "Created topic quickstart-events.\n", "")

    # $ bin/kafka-topics.sh --describe --topic quickstart-events --bootstrap-server localhost:9092
    described = tool(spelling.format("kafka-topics"), "--describe", "--topic", "quickstart-events",
                     "--bootstrap-server", bs)
    assert described.returncode == 0, described.stderr
    assert re.fullmatch(  # TopicCommand.java: TopicDescription / PartitionDescription.printDescription
        f"Topic: quickstart-events\tTopicId: {TOPIC_ID}\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: \n"
        "\tTopic: quickstart-events\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: \tLastKnownElr: \n",
        described.stdout)

    # Step 4: $ bin/kafka-console-producer.sh --topic quickstart-events --bootstrap-server localhost:9092
    # >This is my first event
    # >This is my second event
    exe = str(REPO / spelling.format("kafka-console-producer")) if "/" in spelling else str(
        VENV_BIN / "kafka-console-producer")
    screen = interactive_producer(exe, ["--topic", "quickstart-events", "--bootstrap-server", bs],
                                  ["This is my first event", "This is my second event"])
    assert screen == ">This is my first event\n>This is my second event\n>"  # quickstart.html, step 4

    # Step 5: $ bin/kafka-console-consumer.sh --topic quickstart-events --from-beginning --bootstrap-server ...
    consumer = start(spelling.format("kafka-console-consumer"), "--topic", "quickstart-events", "--from-beginning",
                     "--bootstrap-server", bs)
    try:
        assert read_lines(consumer, 2) == ["This is my first event", "This is my second event"]
    finally:
        consumer.send_signal(signal.SIGINT)  # "You can stop the consumer client with Ctrl-C at any time."
        _, err = consumer.communicate(timeout=20)
    assert consumer.returncode == 130  # the JVM's status after SIGINT
    assert err.decode().endswith("Processed a total of 2 messages\n")  # ConsoleConsumer.reportRecordCount
