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
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the tests' real-process helpers

from conftest import BrokerProcess, ZooKeeperProcess  # noqa: E402
from kafka_wire import wait_for  # noqa: E402
from perf_clients import produce_args, run_rdkafka_performance  # noqa: E402


def cluster_broker(workdir: Path, broker_id: int, connect: str, session_ms: int) -> BrokerProcess:
    return BrokerProcess(workdir / f"data-{broker_id}", {
        "broker.id": str(broker_id), "zookeeper.connect": connect, "zookeeper.session.timeout.ms": str(session_ms),
        "replica.fetch.backoff.ms": "100", "min.insync.replicas": "2", "offsets.topic.replication.factor": "3"})


def state(zk, topic: str) -> dict:  # noqa: ANN001
    return json.loads(zk.get(f"/brokers/topics/{topic}/partitions/0/state")[0])


def takeover_seconds(brokers: dict[int, BrokerProcess], bootstrap: str, zk, topic: str) -> float:  # noqa: ANN001
    """Kill the leader while a producer writes steadily: seconds from its death to the first acknowledgement of a
    write produced after it (only the successor can have taken that one; acks of earlier writes can still arrive
    from the dead leader's last responses)."""
    from confluent_kafka import Producer

    acked: list[tuple[float, float]] = []  # (acknowledged at, produced at)
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                         "linger.ms": 2, "retry.backoff.ms": 50, "retry.backoff.max.ms": 200,
                         "topic.metadata.refresh.interval.ms": 1000})
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            sent = time.monotonic()
            try:
                producer.produce(topic, b"x" * 100, partition=0,
                                 on_delivery=lambda err, msg, sent=sent: err is None
                                 and acked.append((time.monotonic(), sent)))
            except BufferError:
                pass
            producer.poll(0.002)
        producer.flush(60)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    wait_for(lambda: len(acked) > 200, 30, what="first writes")
    leader = state(zk, topic)["leader"]
    brokers[leader].kill9()
    dead = time.monotonic()
    first = wait_for(lambda: next((t for t, sent in list(acked) if sent > dead), None), 120, what="takeover")
    stop.set()
    writer.join(90)
    brokers[leader].start()
    wait_for(lambda: len(state(zk, topic)["isr"]) == 3, 60, what="ISR whole again")
    return first - dead


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
        zoo = ZooKeeperProcess(workdir / "zk").start()
        brokers = {i: cluster_broker(workdir, i, f"{zoo.connect}/bench", args.session_ms) for i in (1, 2, 3)}
        zk = KazooClient(hosts=f"{zoo.connect}/bench")
        try:
            for b in brokers.values():
                b.start()
            zk.start(timeout=15)
            bootstrap = ",".join(b.bootstrap for b in brokers.values())
            from confluent_kafka.admin import AdminClient, NewTopic

            admin = AdminClient({"bootstrap.servers": bootstrap})
            for topic, rf in (("rf1", 1), ("rf3", 3)):
                # replication factor 1 cannot meet min.insync.replicas=2 (NOT_ENOUGH_REPLICAS): 1 for that topic
                config = {"min.insync.replicas": "1"} if rf == 1 else {}
                admin.create_topics([NewTopic(topic, 1, rf, config=config)])[topic].result(30)
                wait_for(lambda t=topic, n=rf: zk.exists(f"/brokers/topics/{t}/partitions/0/state")
                     and len(state(zk, t)["isr"]) == n, 30, what=f"{topic} ISR")
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
