"""zookeeper-server-start as Kafka's script: its usage and errors, the shipped zookeeper.properties (Kafka's keys),
the JVM command line (heap and options from KAFKA_HEAP_OPTS / KAFKA_OPTS); the zookeeper fixture starts it for real."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from brook.cluster.zookeeper_server import MAIN_CLASS, java_command
from brook.config.properties import load_properties

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "zookeeper-server-start"


def test_usage_and_a_missing_file():
    r = subprocess.run([str(SCRIPT)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "USAGE: zookeeper-server-start [-daemon] zookeeper.properties" in r.stderr
    r = subprocess.run([str(SCRIPT), "no-such.properties"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "no-such.properties" in r.stderr


def test_kafkas_properties_and_command_line():
    props = load_properties(str(ROOT / "config" / "zookeeper.properties"))
    assert props == {"dataDir": "data/zookeeper", "clientPort": "2181", "maxClientCnxns": "0",
                     "admin.enableServer": "false"}
    cmd = java_command("z.properties", {"KAFKA_HEAP_OPTS": "-Xmx64M", "KAFKA_OPTS": "-Dx=1"})
    assert cmd[0] == "java" and cmd[1:3] == ["-Xmx64M", "-Dx=1"] and cmd[-2:] == [MAIN_CLASS, "z.properties"]
    assert "-Xmx512M" in java_command("z.properties", {})  # Kafka's default heap


def test_the_fixture_runs_a_real_zookeeper(zookeeper):
    assert "Mode: standalone" in zookeeper.four_letter("srvr")
    assert (ROOT / "bin" / "zookeeper-server-start.sh").stat().st_mode & 0o111
