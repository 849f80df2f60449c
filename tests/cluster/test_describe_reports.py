"""kafka-topics --describe's report options on three real brokers with a broker down: under-replicated, at and
under min.insync.replicas, unavailable partitions, as Kafka's TopicCommand selects them (PartitionDescription)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cluster_helpers import create
from confluent_kafka.admin import AdminClient
from conftest import Cluster

TOOL = str(Path(sys.executable).parent / "kafka-topics")


def describe(c: Cluster, report: str) -> str:
    r = subprocess.run([TOOL, "--bootstrap-server", c.brokers[1].bootstrap, "--describe", report, "--topic",
                        "rep|lone"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def line(topic: str, leader: str, replicas: str, isr: str) -> str:
    return (f"\tTopic: {topic}\tPartition: 0\tLeader: {leader}\tReplicas: {replicas}\tIsr: {isr}"
            "\tElr: \tLastKnownElr: \n")


def test_report_options_with_a_broker_down(three_brokers: Cluster) -> None:
    c = three_brokers
    admin = AdminClient({"bootstrap.servers": c.brokers[1].bootstrap})
    create(admin, c.raw, "rep", [[1, 2, 3]], config={"min.insync.replicas": "2"})
    create(admin, c.raw, "lone", [[3]])
    c.wait_state("rep", 0, lambda s: s["isr"] == [1, 2, 3], "a full ISR")
    assert describe(c, "--under-replicated-partitions") == ""
    assert describe(c, "--unavailable-partitions") == ""
    c.brokers[3].kill9()
    try:
        c.wait_state("rep", 0, lambda s: s["isr"] == [1, 2], "broker 3 out of the ISR")
        c.wait_state("lone", 0, lambda s: s["leader"] == -1, "no leader for lone-0")
        assert describe(c, "--under-replicated-partitions") == line("rep", "1", "1,2,3", "1,2")
        assert describe(c, "--at-min-isr-partitions") == line("rep", "1", "1,2,3", "1,2")  # min.insync.replicas=2
        assert describe(c, "--under-min-isr-partitions") == line("lone", "none", "3", "3")  # no leader counts
        assert describe(c, "--unavailable-partitions") == line("lone", "none", "3", "3")
    finally:
        c.brokers[3].start()
    c.wait_state("rep", 0, lambda s: s["isr"] == [1, 2, 3], "broker 3 back in the ISR")
    assert describe(c, "--under-replicated-partitions") == ""
