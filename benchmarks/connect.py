"""Kafka Connect throughput: records/s through FileStreamSource -> topic -> FileStreamSink on a real
connect-standalone worker, through Confluent's JDBC sink into PostgreSQL, and a plain confluent-kafka consumer
reading the same topic.

    .venv/bin/python benchmarks/connect.py [--records N] [--converter json|string] [--no-jdbc]

1. N lines (100 bytes each) in a file; a worker with Kafka's quickstart connectors (JsonConverter by default, as
   config/connect-standalone.properties) starts; the clock runs from the connectors' creation until the sink file
   holds N lines: end-to-end records/s through both connectors.
2. JDBC sink: a new worker with JdbcSinkConnector (HoistField$Value makes each line a Struct; insert.mode=insert,
   auto.create, batch.size 3000) reads the same topic into a table of a private PostgreSQL cluster (tests'
   PostgresProcess); the clock runs from the connector's creation until the table holds N rows.
3. A plain consumer (confluent-kafka, a fresh group, from the beginning) reads the N records of the topic.

A benchmark, not a test: nothing here is collected by pytest.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cleaner import _start_broker

REPO = Path(__file__).resolve().parents[1]
CONVERTERS = {"json": "org.apache.kafka.connect.json.JsonConverter",
              "string": "org.apache.kafka.connect.storage.StringConverter"}


def count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def start_worker(bootstrap: str, work: Path, name: str, converter: str, connectors: dict[str, str],
                 last: str) -> subprocess.Popen:
    """A connect-standalone worker with these connector files (name -> properties), once `last` was created."""
    props = work / f"{name}.properties"
    props.write_text(f"bootstrap.servers={bootstrap}\nkey.converter={CONVERTERS[converter]}\n"
                     f"value.converter={CONVERTERS[converter]}\noffset.storage.file.filename={work}/{name}.offsets\n"
                     "offset.flush.interval.ms=10000\nlisteners=http://127.0.0.1:0\n")
    files = []
    for connector, text in connectors.items():
        files.append(work / f"{connector}.properties")
        files[-1].write_text(f"name={connector}\n{text}")
    log_path = work / f"{name}.log"
    proc = subprocess.Popen([str(Path(sys.executable).parent / "connect-standalone"), str(props),
                             *map(str, files)], stdout=open(log_path, "wb"), stderr=subprocess.STDOUT, cwd=work)
    deadline = time.monotonic() + 60
    while f"Created connector {last}" not in log_path.read_text(errors="replace"):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError(log_path.read_text(errors="replace"))
        time.sleep(0.01)
    return proc


def timed(proc: subprocess.Popen, records: int, done, what: str) -> float:
    """records/s from now until done() counts every record; the worker is stopped after."""
    start = time.monotonic()
    try:
        while (n := done()) < records:
            if time.monotonic() - start > 600:
                raise RuntimeError(f"{what} has {n} of {records} records")
            time.sleep(0.05)
        return records / (time.monotonic() - start)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


def connect_line(bootstrap: str, work: Path, records: int, converter: str) -> float:
    src, sink = work / "bench.txt", work / "bench.sink.txt"
    line = "x" * 99 + "\n"
    src.write_text(line * records)
    proc = start_worker(bootstrap, work, "worker", converter, {
        "bench-source": f"connector.class=FileStreamSource\nfile={src}\ntopic=connect-bench\n",
        "bench-sink": f"connector.class=FileStreamSink\nfile={sink}\ntopics=connect-bench\n"}, "bench-sink")
    return timed(proc, records, lambda: count_lines(sink), "the sink file")


def jdbc_line(bootstrap: str, work: Path, records: int, converter: str) -> float:
    sys.path.insert(0, str(REPO / "tests"))
    from conftest import PostgresProcess

    pg = PostgresProcess().start()
    try:
        pg.create_database("bench")
        proc = start_worker(bootstrap, work, "worker-jdbc", converter, {"bench-jdbc": (
            f"connector.class=io.confluent.connect.jdbc.JdbcSinkConnector\nconnection.url={pg.jdbc_url('bench')}\n"
            f"connection.user={pg.USER}\ntopics=connect-bench\ntable.name.format=lines\ninsert.mode=insert\n"
            "auto.create=true\ntransforms=hoist\n"
            "transforms.hoist.type=org.apache.kafka.connect.transforms.HoistField$Value\n"
            "transforms.hoist.field=line\n")}, "bench-jdbc")

        def rows() -> int:
            try:
                return pg.execute("SELECT count(*) FROM lines", "bench")[0][0]
            except Exception:  # the sink creates the table with its first batch
                return 0
        return timed(proc, records, rows, "the table")
    finally:
        pg.stop()
        shutil.rmtree(pg.dir, ignore_errors=True)


def consumer_line(bootstrap: str, records: int) -> float:
    from confluent_kafka import Consumer

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{time.time_ns()}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe(["connect-bench"])
    got, start = 0, None
    while got < records:
        msgs = c.consume(1000, 1.0)
        if msgs and start is None:
            start = time.monotonic()
        got += sum(1 for m in msgs if m.error() is None)
    elapsed = time.monotonic() - start  # type: ignore[operator]
    c.close()
    return records / elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--converter", choices=sorted(CONVERTERS), default="json")
    ap.add_argument("--no-jdbc", action="store_true", help="skip the JDBC sink line (no PostgreSQL needed)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="brook-connect-bench-"))
    broker, bootstrap, _ = _start_broker(work / "data", {})
    try:
        rate = connect_line(bootstrap, work, args.records, args.converter)
        print(f"FileStreamSource -> topic -> FileStreamSink ({args.converter}): {args.records} records, "
              f"{rate:,.0f} records/s")
        if not args.no_jdbc:
            rate = jdbc_line(bootstrap, work, args.records, args.converter)
            print(f"topic -> JdbcSinkConnector -> PostgreSQL ({args.converter}, insert, batch.size 3000): "
                  f"{args.records} records, {rate:,.0f} records/s")
        rate = consumer_line(bootstrap, args.records)
        print(f"plain consumer of the same topic: {args.records} records, {rate:,.0f} records/s")
    finally:
        broker.send_signal(signal.SIGTERM)
        broker.wait(30)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
