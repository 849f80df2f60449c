"""The learner's one command (brook-cluster, what ./run-cluster.sh runs): ZooKeeper and three brokers with their
own data folders, registered in ZooKeeper; Ctrl-C (SIGINT) stops them all."""

from __future__ import annotations

import json
import signal
import socket
import sys
from pathlib import Path

import kafka_wire
from conftest import start_logged
from kazoo.client import KazooClient


def consecutive_free_ports(n: int) -> int:
    """A first port with the n-1 after it free too (brook-cluster numbers its brokers' ports from one)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        if first + n < 65536 and all(_free(first + i) for i in range(n)):
            return first
    raise RuntimeError("no consecutive free ports")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def test_one_command_starts_zookeeper_and_three_brokers_and_ctrl_c_stops_them(tmp_path):
    port, zk_port = consecutive_free_ports(3), consecutive_free_ports(1)
    data = tmp_path / "cluster"
    cmd = [str(Path(sys.executable).parent / "brook-cluster"), "--port", str(port), "--zookeeper-port", str(zk_port),
           "--data-dir", str(data)]
    proc, _ = start_logged(cmd, tmp_path / "brook-cluster.out", lambda t: "Cluster ready" in t, "brook-cluster",
                           timeout=120)
    zk = KazooClient(hosts=f"127.0.0.1:{zk_port}")
    try:
        out = (tmp_path / "brook-cluster.out").read_text()
        servers = f"localhost:{port},localhost:{port + 1},localhost:{port + 2}"
        assert f"Cluster ready: --bootstrap-server {servers}. Ctrl-C stops it." in out
        zk.start(timeout=15)
        assert sorted(zk.get_children("/brokers/ids")) == ["1", "2", "3"]
        for i in (1, 2, 3):
            endpoint = json.loads(zk.get(f"/brokers/ids/{i}")[0])["endpoints"]
            assert endpoint == [f"PLAINTEXT://localhost:{port + i - 1}"]
            assert (data / f"broker-{i}" / "meta.properties").is_file()
        kafka_wire.wait_for(lambda: zk.exists("/controller"), timeout=30)
    finally:
        zk.stop()
        zk.close()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(120) == 0
    out = (tmp_path / "brook-cluster.out").read_text()
    assert all(f"Broker {i} stopped" in out for i in (1, 2, 3)) and "ZooKeeper stopped" in out
    for p in (port, port + 1, port + 2, zk_port):  # nothing listens any more
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", p)) != 0
