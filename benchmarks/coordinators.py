"""Coordinator benchmarks next to the peer broker: group stabilisation, synchronous commits, transactions.

    .venv/bin/python benchmarks/coordinators.py [--brokers brook,tansu] [--quick]

- group-join-10: nine confluent-kafka consumers share a 10-partition topic; a tenth joins; the line is the time
  from its subscribe() until all ten members hold a non-empty assignment (the rebalance a join causes).
- sync-commits: one consumer commits its position synchronously (commit(asynchronous=False)) in a loop.
- txn-1000 / txn-10000 / no-txn: a confluent-kafka producer writes 100 B messages, committing a transaction every
  1,000 or 10,000 messages, next to the same producer without transactions.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peer_brokers import TANSU, BrookBroker, TansuBroker  # noqa: E402


def _member(bootstrap: str, group: str, topic: str, assigned: dict, stop: threading.Event, key: int) -> None:
    from confluent_kafka import Consumer

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "session.timeout.ms": 10000,
                  "heartbeat.interval.ms": 500, "log_level": 0})
    c.subscribe([topic])
    while not stop.is_set():
        c.poll(0.05)
        assigned[key] = len(c.assignment())
    c.close()


def group_join(bootstrap: str, members: int = 10, timeout: float = 60) -> float:
    topic, group = f"bench-join-{uuid.uuid4().hex[:8]}", f"bench-{uuid.uuid4().hex[:8]}"
    _create(bootstrap, topic, members)
    assigned: dict[int, int] = {}
    stop = threading.Event()
    threads = [threading.Thread(target=_member, args=(bootstrap, group, topic, assigned, stop, i), daemon=True)
               for i in range(members - 1)]
    for t in threads:
        t.start()
    _wait(lambda: len(assigned) == members - 1 and all(assigned.values()) and sum(assigned.values()) == members,
          timeout)
    start = time.monotonic()
    last = threading.Thread(target=_member, args=(bootstrap, group, topic, assigned, stop, members - 1), daemon=True)
    last.start()
    _wait(lambda: len(assigned) == members and all(v == 1 for v in assigned.values()), timeout)
    elapsed = time.monotonic() - start
    stop.set()
    for t in [*threads, last]:
        t.join(15)
    return elapsed


def _create(bootstrap: str, topic: str, partitions: int) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})  # must outlive its futures
    for f in admin.create_topics([NewTopic(topic, partitions, 1)]).values():
        f.result(30)


def _wait(cond, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.005)


def sync_commits(bootstrap: str, n: int) -> float:
    from confluent_kafka import Consumer, TopicPartition

    topic = f"bench-commit-{uuid.uuid4().hex[:8]}"
    _create(bootstrap, topic, 1)
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{uuid.uuid4().hex[:8]}",
                  "enable.auto.commit": False, "log_level": 0})
    t0 = time.monotonic()
    for i in range(n):
        c.commit(offsets=[TopicPartition(topic, 0, i)], asynchronous=False)
    rate = n / (time.monotonic() - t0)
    c.close()
    return rate


def produce(bootstrap: str, n: int, every: int | None) -> float:
    from confluent_kafka import Producer

    topic = f"bench-txn-{uuid.uuid4().hex[:8]}"
    _create(bootstrap, topic, 1)
    conf = {"bootstrap.servers": bootstrap, "linger.ms": 5, "log_level": 0}
    if every:
        conf["transactional.id"] = f"bench-{uuid.uuid4().hex[:8]}"
    p = Producer(conf)
    value = b"x" * 100
    t0 = time.monotonic()
    if every:
        p.init_transactions(30)
        p.begin_transaction()
    for i in range(1, n + 1):
        while True:
            try:
                p.produce(topic, value)
                break
            except BufferError:
                p.poll(0.01)
        if every and i % every == 0:
            p.commit_transaction(60)
            p.begin_transaction()
    if every:
        p.commit_transaction(60)
    else:
        p.flush(60)
    return n / (time.monotonic() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--brokers", default="brook,tansu")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n_commits = 500 if args.quick else 3000
    n_msgs = 20_000 if args.quick else 200_000
    rows = []
    with tempfile.TemporaryDirectory(prefix="brook-bench-") as tmp:
        for name in args.brokers.split(","):
            if name == "tansu" and not TANSU.exists():
                print("tansu: binary missing (run ../shared/conformance/setup.sh)")
                continue
            broker = (BrookBroker if name == "brook" else TansuBroker)(Path(tmp))
            broker.start()
            try:
                for line, fn in (("group-join-10 (s)", lambda b=broker: group_join(b.bootstrap)),
                                 ("sync-commits (/s)", lambda b=broker: sync_commits(b.bootstrap, n_commits)),
                                 ("no-txn (msgs/s)", lambda b=broker: produce(b.bootstrap, n_msgs, None)),
                                 ("txn-1000 (msgs/s)", lambda b=broker: produce(b.bootstrap, n_msgs, 1000)),
                                 ("txn-10000 (msgs/s)", lambda b=broker: produce(b.bootstrap, n_msgs, 10000))):
                    try:
                        value = f"{fn():,.3f}" if "(s)" in line else f"{fn():,.0f}"
                    except Exception as e:  # noqa: BLE001 - one failing line must not stop the others
                        value = f"FAILED: {str(e)[:80]}"
                    rows.append((line, name, value))
                    print(f"{line:22} {name:6} {value}", flush=True)
            finally:
                broker.stop()
    print("\n| line | broker | value |\n|---|---|---|")
    for line, name, value in rows:
        print(f"| {line} | {name} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
