"""Replication on a real ZooKeeper and three Brook brokers (docs/benchmarks.md, "Replication"):

- produce throughput with acks=all at replication factor 3 (min.insync.replicas=2) next to replication factor 1,
  in the same run, alternated: librdkafka's rdkafka_performance, 100 B values, one partition, linger.ms=5;
- the time from a partition leader's SIGKILL to the first acknowledged write on its successor, with an acks=all
  idempotent confluent-kafka producer writing steadily (ZooKeeper notices the death after
  zookeeper.session.timeout.ms, which dominates: the setting is printed with the result).

    .venv/bin/python benchmarks/replication.py [--messages 300000] [--runs 2] [--session-ms 3000] [--kills 3]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import REPO, STARTED, produce_args, run_rdkafka_performance  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(condition, timeout: float, what: str):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise TimeoutError(what)


class ZooKeeper:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        props = workdir / "zookeeper.properties"
        props.write_text(f"dataDir={workdir / 'zk'}\nclientPort={self.port}\nclientPortAddress=127.0.0.1\n"
                         "maxClientCnxns=0\nadmin.enableServer=false\ntickTime=500\nminSessionTimeout=1000\n")
        env = {**os.environ, "KAFKA_HEAP_OPTS": "-Xmx128M -Xms16M", "LOG_DIR": str(workdir)}
        self.proc = subprocess.Popen([str(Path(sys.executable).parent / "zookeeper-server-start"), str(props)],
                                     stdout=open(workdir / "zookeeper.log", "ab"), stderr=subprocess.STDOUT, env=env)
        wait(self._ready, 60, "zookeeper")

    def _ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                s.sendall(b"srvr")
                return b"Mode" in s.recv(4096)
        except OSError:
            return False

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)


class ClusterBroker:
    def __init__(self, workdir: Path, broker_id: int, connect: str, session_ms: int) -> None:
        self.broker_id = broker_id
        self.log_path = workdir / f"broker-{broker_id}.log"
        self.port = free_port()
        self.args = [sys.executable, "-m", "brook"] + [a for k, v in {
            "broker.id": broker_id, "zookeeper.connect": connect, "listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "log.dirs": workdir / f"data-{broker_id}", "zookeeper.session.timeout.ms": session_ms,
            "replica.fetch.backoff.ms": 100, "min.insync.replicas": 2, "offsets.topic.replication.factor": 3,
            "group.initial.rebalance.delay.ms": 0}.items() for a in ("--override", f"{k}={v}")]
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
        start = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.proc = subprocess.Popen(self.args, stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        wait(lambda: STARTED.search(self.log_path.read_text(errors="replace")[start:]), 60, "broker start")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)


def state(zk, topic: str) -> dict:  # noqa: ANN001
    return json.loads(zk.get(f"/brokers/topics/{topic}/partitions/0/state")[0])


def takeover_seconds(brokers: dict[int, ClusterBroker], bootstrap: str, zk, topic: str) -> float:  # noqa: ANN001
    """Kill the leader while a producer writes steadily: seconds to the first write acknowledged past the last
    offset acknowledged before the kill."""
    from confluent_kafka import Producer

    acked: list[tuple[float, int]] = []
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                         "linger.ms": 2, "retry.backoff.ms": 50, "retry.backoff.max.ms": 200,
                         "topic.metadata.refresh.interval.ms": 1000})
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            try:
                producer.produce(topic, b"x" * 100, partition=0,
                                 on_delivery=lambda err, msg: err is None and acked.append((time.monotonic(),
                                                                                           msg.offset())))
            except BufferError:
                pass
            producer.poll(0.002)
        producer.flush(60)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    wait(lambda: len(acked) > 200, 30, "first writes")
    leader = state(zk, topic)["leader"]
    last = max(o for _, o in acked)
    killed = time.monotonic()
    brokers[leader].kill9()
    first = wait(lambda: next((t for t, o in list(acked) if o > last and t > killed), None), 120, "takeover")
    stop.set()
    writer.join(90)
    brokers[leader].start()
    wait(lambda: len(state(zk, topic)["isr"]) == 3, 60, "ISR whole again")
    return first - killed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=300_000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--session-ms", type=int, default=3000)
    ap.add_argument("--kills", type=int, default=3)
    args = ap.parse_args(argv)
    from kazoo.client import KazooClient

    with tempfile.TemporaryDirectory(prefix="brook-replication-bench-") as tmp:
        workdir = Path(tmp)
        zoo = ZooKeeper(workdir)
        brokers = {i: ClusterBroker(workdir, i, f"127.0.0.1:{zoo.port}/bench", args.session_ms) for i in (1, 2, 3)}
        zk = KazooClient(hosts=f"127.0.0.1:{zoo.port}/bench")
        try:
            for b in brokers.values():
                b.start()
            zk.start(timeout=15)
            bootstrap = ",".join(f"127.0.0.1:{b.port}" for b in brokers.values())
            from confluent_kafka.admin import AdminClient, NewTopic

            admin = AdminClient({"bootstrap.servers": bootstrap})
            for topic, rf in (("rf1", 1), ("rf3", 3)):
                # replication factor 1 cannot meet min.insync.replicas=2 (NOT_ENOUGH_REPLICAS): 1 for that topic
                config = {"min.insync.replicas": "1"} if rf == 1 else {}
                admin.create_topics([NewTopic(topic, 1, rf, config=config)])[topic].result(30)
                wait(lambda t=topic, n=rf: zk.exists(f"/brokers/topics/{t}/partitions/0/state")
                     and len(state(zk, t)["isr"]) == n, 30, f"{topic} ISR")
            rates: dict[str, list[float]] = {"rf1": [], "rf3": []}
            for _ in range(args.runs):
                for topic in ("rf1", "rf3"):
                    stats, _ = run_rdkafka_performance(produce_args(bootstrap, topic, args.messages, 100, "all"),
                                                       600)
                    rates[topic].append(stats["msgs_per_s"])
            for topic, rs in rates.items():
                print(f"produce-100B-acksall {topic}: " + ", ".join(f"{r:,.0f}" for r in rs) + " msgs/s")
            takeovers = [takeover_seconds(brokers, bootstrap, zk, "rf3") for _ in range(args.kills)]
            print(f"leader SIGKILL -> first acknowledged write on its successor (zookeeper.session.timeout.ms="
                  f"{args.session_ms}): " + ", ".join(f"{t:.2f}" for t in takeovers) + " s")
        finally:
            zk.stop()
            for b in brokers.values():
                b.stop()
            zoo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
