"""SQL engine benchmark, end to end: records per second that persistent queries of a real SQL server process read
from a real broker, next to a plain consumer of the same topic.

    .venv/bin/python benchmarks/sql.py [--count 200000] [--partitions 2] [--guarantee at_least_once]

- consumer: confluent-kafka reading the whole topic (the floor of any query's cost: fetch and hand over).
- filter/project: CREATE STREAM ... AS SELECT profileId, UCASE(profileId), latitude * 2 FROM riders WHERE
  GEO_DISTANCE(...) <= 50 -- decode JSON, filter, project, produce the rows that pass (about half).
- windowed aggregate: CREATE TABLE ... AS SELECT profileId, COUNT(*), AVG(latitude) FROM riders WINDOW TUMBLING
  (SIZE 1 MINUTE) GROUP BY profileId -- 1,000 groups; store, changelog (per batch) and sink (per record).
A query's clock runs from its CREATE until its consumer group has committed the end of every input partition.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peer_brokers import BrookBroker  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
LISTENING = re.compile(r"ksqlDB API server listening on http://[^:\s]+:(\d+)")
QUERIES = {
    "filter/project": "CREATE STREAM nearby AS SELECT profileId, UCASE(profileId) AS up, latitude * 2 AS dbl FROM "
                      "riders WHERE GEO_DISTANCE(latitude, longitude, 37.4133, -122.1162) <= 50 EMIT CHANGES;",
    "windowed aggregate": "CREATE TABLE per_minute AS SELECT profileId, COUNT(*) AS n, AVG(latitude) AS lat FROM "
                          "riders WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY profileId EMIT CHANGES;",
}


def start_ksql(workdir: Path, bootstrap: str, guarantee: str) -> tuple[subprocess.Popen, int]:
    log_path = workdir / "ksql.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    overrides = {"listeners": "http://127.0.0.1:0", "bootstrap.servers": bootstrap,
                 "ksql.streams.state.dir": str(workdir / "state"), "ksql.streams.auto.offset.reset": "earliest",
                 "ksql.streams.processing.guarantee": guarantee}
    args = [sys.executable, "-m", "brook.sql.main"]
    for k, v in overrides.items():
        args += ["--override", f"{k}={v}"]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        m = LISTENING.search(text)
        if m and "Server up and running" in text:
            return proc, int(m.group(1))
        if proc.poll() is not None:
            raise RuntimeError(text)
        time.sleep(0.05)
    proc.kill()
    raise TimeoutError("the SQL server did not start")


def ksql(port: int, statement: str) -> list:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/ksql", json.dumps({"ksql": statement, "streamsProperties": {}}),
                 {"Content-Type": "application/vnd.ksql.v1+json"})
    resp = conn.getresponse()
    body = json.loads(resp.read())
    assert resp.status == 200, body
    return body


def fill(bootstrap: str, count: int, partitions: int) -> None:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept alive until the future resolves
    admin.create_topics([NewTopic("locations", partitions, 1)])["locations"].result(30)
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "partitioner": "murmur2_random"})
    base = int(time.time() * 1000) - count  # one record a millisecond: ~count/60,000 windows per group
    for i in range(count):
        value = json.dumps({"profileId": f"p{i % 1000}", "latitude": 37.0 + (i % 100) / 100,
                            "longitude": -122.08}).encode()
        p.produce("locations", value, key=f"p{i % 1000}".encode(), timestamp=base + i)
        if i % 10000 == 0:
            p.poll(0)
    assert p.flush(120) == 0


def consume_all(bootstrap: str, count: int) -> float:
    from confluent_kafka import Consumer

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-plain", "auto.offset.reset": "earliest",
                  "enable.auto.commit": False})
    c.subscribe(["locations"])
    got, start = 0, None
    deadline = time.monotonic() + 600
    while got < count and time.monotonic() < deadline:
        msgs = c.consume(500, 1.0)
        if msgs and start is None:
            start = time.perf_counter()
        got += sum(1 for m in msgs if not m.error())
    elapsed = time.perf_counter() - (start or time.perf_counter())
    c.close()
    return elapsed


def committed_end(admin: Any, group: str, partitions: int, count: int) -> bool:
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

    req = ConsumerGroupTopicPartitions(group, [TopicPartition("locations", p) for p in range(partitions)])
    result = admin.list_consumer_group_offsets([req])[group].result(10)
    return sum(max(tp.offset, 0) for tp in result.topic_partitions) >= count


def run_query(port: int, bootstrap: str, statement: str, partitions: int, count: int) -> float:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    start = time.perf_counter()
    body = ksql(port, statement)
    group = f"_confluent-ksql-default_query_{body[0]['commandStatus']['queryId']}"
    deadline = time.monotonic() + 1200
    while not committed_end(admin, group, partitions, count):
        if time.monotonic() > deadline:
            raise TimeoutError(statement)
        time.sleep(0.2)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=200_000)
    ap.add_argument("--partitions", type=int, default=2)
    ap.add_argument("--guarantee", default="at_least_once", choices=("at_least_once", "exactly_once_v2"))
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="brook-bench-sql-") as tmp:
        workdir = Path(tmp)
        broker = BrookBroker(workdir)
        broker.start()
        proc = None
        try:
            fill(broker.bootstrap, args.count, args.partitions)
            results.append(("consumer", consume_all(broker.bootstrap, args.count)))
            proc, port = start_ksql(workdir, broker.bootstrap, args.guarantee)
            ksql(port, "CREATE STREAM riders (profileId VARCHAR KEY, latitude DOUBLE, longitude DOUBLE) WITH "
                       "(kafka_topic='locations', value_format='JSON');")
            for name, statement in QUERIES.items():
                results.append((name, run_query(port, broker.bootstrap, statement, args.partitions, args.count)))
        finally:
            if proc is not None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(60)
            broker.stop()
    print(f"{args.count:,} JSON records, {args.partitions} partitions, {args.guarantee}")
    print(f"{'test':<20}{'seconds':>10}{'records/s':>12}")
    for name, secs in results:
        print(f"{name:<20}{secs:>10.2f}{args.count / secs:>12,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
