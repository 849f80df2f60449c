"""brook.idle.poll.us (broker/idle_poll.py): the event loop polls a while after each request before it sleeps. What
a client sees is unchanged (every synchronous round trip answered, in order); what the machine sees is bounded: a
broker left alone goes back to sleep, using no CPU, and the setting is validated and reported as Kafka's are."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic
from conftest import BrokerProcess, module_broker
from kafka_wire import wait_for

TICKS = os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def polling_broker(tmp_path_factory):
    with module_broker(tmp_path_factory, "idle-poll", {"brook.idle.poll.us": "500"}) as b:
        yield b


def cpu_seconds(b: BrokerProcess) -> float:
    assert b.proc is not None
    fields = open(f"/proc/{b.proc.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def test_synchronous_round_trips_all_answered_in_order(polling_broker):
    admin = AdminClient({"bootstrap.servers": polling_broker.bootstrap})
    admin.create_topics([NewTopic("sync", 1, 1)])["sync"].result(30)
    p = Producer({"bootstrap.servers": polling_broker.bootstrap, "linger.ms": 0, "acks": "all"})
    offsets: list[int] = []
    for i in range(300):  # one request in flight at a time: each arrives while the loop still polls
        p.produce("sync", str(i).encode(), on_delivery=lambda err, m: offsets.append(-1 if err else m.offset()))
        assert p.flush(10) == 0
    assert offsets == list(range(300))
    c = Consumer({"bootstrap.servers": polling_broker.bootstrap, "group.id": "g", "auto.offset.reset": "earliest"})
    c.subscribe(["sync"])
    seen: list[bytes] = []
    deadline = time.monotonic() + 30
    while len(seen) < 300 and time.monotonic() < deadline:
        m = c.poll(1)
        if m is not None and m.error() is None:
            seen.append(m.value())
    c.close()
    assert seen == [str(i).encode() for i in range(300)]


def test_a_broker_left_alone_sleeps(polling_broker):
    p = Producer({"bootstrap.servers": polling_broker.bootstrap, "linger.ms": 0})
    for _ in range(50):
        p.produce("sync", b"x")
        p.flush(10)
    before = cpu_seconds(polling_broker)
    t0 = time.monotonic()
    wait_for(lambda: time.monotonic() - t0 >= 1.0, timeout=5, interval=0.2)  # one idle second, client connected
    # polling only follows requests: an idle second costs next to nothing (a spinning loop would take ~1 s)
    assert cpu_seconds(polling_broker) - before < 0.3


def test_the_setting_is_described_and_validated(polling_broker, tmp_path):
    admin = AdminClient({"bootstrap.servers": polling_broker.bootstrap})
    res = ConfigResource(ConfigResource.Type.BROKER, "0")
    entries = admin.describe_configs([res])[res].result(30)
    assert entries["brook.idle.poll.us"].value == "500" and entries["brook.idle.poll.us"].is_read_only
    bad = subprocess.run([sys.executable, "-m", "brook", "--override", "listeners=PLAINTEXT://127.0.0.1:0",
                          "--override", f"log.dirs={tmp_path}", "--override", "brook.idle.poll.us=-1"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0
    assert "brook.idle.poll.us" in bad.stdout + bad.stderr
