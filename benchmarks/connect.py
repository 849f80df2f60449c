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


def connect_line(bootstrap: str, work: Path, records: int, converter: str) -> float:
    src, sink = work / "bench.txt", work / "bench.sink.txt"
    line = "x" * 99 + "\n"
    src.write_text(line * records)
    props = work / "worker.properties"
    props.write_text(f"bootstrap.servers={bootstrap}\nkey.converter={CONVERTERS[converter]}\n"
                     f"value.converter={CONVERTERS[converter]}\noffset.storage.file.filename={work}/offsets\n"
                     "offset.flush.interval.ms=10000\nlisteners=http://127.0.0.1:0\n")
    (work / "source.properties").write_text(f"name=bench-source\nconnector.class=FileStreamSource\nfile={src}\n"
                                            "topic=connect-bench\n")
    (work / "sink.properties").write_text(f"name=bench-sink\nconnector.class=FileStreamSink\nfile={sink}\n"
                                          "topics=connect-bench\n")
    log = open(work / "connect.log", "wb")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "connect-standalone"), str(props),
                             str(work / "source.properties"), str(work / "sink.properties")],
                            stdout=log, stderr=subprocess.STDOUT, cwd=work)
    try:
        deadline = time.monotonic() + 60
        while "Created connector bench-sink" not in (work / "connect.log").read_text(errors="replace"):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError((work / "connect.log").read_text(errors="replace"))
            time.sleep(0.01)
        start = time.monotonic()
        while count_lines(sink) < records:
            if time.monotonic() - start > 600:
                raise RuntimeError(f"sink has {count_lines(sink)} of {records} lines")
            time.sleep(0.05)
        return records / (time.monotonic() - start)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


def jdbc_line(bootstrap: str, work: Path, records: int, converter: str) -> float:
    sys.path.insert(0, str(REPO / "tests"))
    from conftest import PostgresProcess

    pg = PostgresProcess().start()
    try:
        pg.create_database("bench")
        props = work / "worker-jdbc.properties"
        props.write_text(f"bootstrap.servers={bootstrap}\nkey.converter={CONVERTERS[converter]}\n"
                         f"value.converter={CONVERTERS[converter]}\noffset.storage.file.filename={work}/offsets2\n"
                         "offset.flush.interval.ms=10000\nlisteners=http://127.0.0.1:0\n")
        (work / "jdbc.properties").write_text(
            f"name=bench-jdbc\nconnector.class={'io.confluent.connect.jdbc.JdbcSinkConnector'}\n"
            f"connection.url={pg.jdbc_url('bench')}\nconnection.user={pg.USER}\ntopics=connect-bench\n"
            "table.name.format=lines\ninsert.mode=insert\nauto.create=true\ntransforms=hoist\n"
            "transforms.hoist.type=org.apache.kafka.connect.transforms.HoistField$Value\n"
            "transforms.hoist.field=line\n")
        log = open(work / "connect-jdbc.log", "wb")
        proc = subprocess.Popen([str(Path(sys.executable).parent / "connect-standalone"), str(props),
                                 str(work / "jdbc.properties")], stdout=log, stderr=subprocess.STDOUT, cwd=work)
        try:
            deadline = time.monotonic() + 60
            while "Created connector bench-jdbc" not in (work / "connect-jdbc.log").read_text(errors="replace"):
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError((work / "connect-jdbc.log").read_text(errors="replace"))
                time.sleep(0.01)
            start = time.monotonic()
            while True:
                try:
                    done = pg.execute("SELECT count(*) FROM lines", "bench")[0][0]
                except Exception:  # noqa: BLE001 - the sink creates the table with its first batch
                    done = 0
                if done >= records:
                    return records / (time.monotonic() - start)
                if time.monotonic() - start > 600:
                    raise RuntimeError(f"the table has {done} of {records} rows")
                time.sleep(0.1)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
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
