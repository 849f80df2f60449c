"""Schema registry benchmark: registrations per second and schema lookups by id per second, next to a plain
Kafka produce of the same count (each registration is one record in `_schemas`, produced and read back).

    .venv/bin/python benchmarks/registry.py [--count 1000]

- register: N distinct Avro schemas POSTed one after another over one keep-alive HTTP connection (curl's
  requests); each answer waits until its record is in Kafka and applied by the registry's reader.
- lookup-by-id: GET /schemas/ids/{id} over the N ids, again over one connection (no client-side cache).
- produce-sync: the same count of ~200 B records produced with acks=all, each waited for (a registration's write).
- produce-async: the same count produced in one go and flushed once.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peer_brokers import BrookBroker  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
LISTENING = re.compile(r"Listening on http://[^:\s]+:(\d+)")


def start_registry(workdir: Path, bootstrap: str) -> tuple[subprocess.Popen, int]:
    log_path = workdir / "registry.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "brook.registry.main", "--override",
                                 "listeners=http://127.0.0.1:0", "--override",
                                 f"kafkastore.bootstrap.servers={bootstrap}", "--override",
                                 "kafkastore.timeout.ms=30000"], stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        m = LISTENING.search(text)
        if m and "listening for requests" in text:
            return proc, int(m.group(1))
        if proc.poll() is not None:
            raise RuntimeError(text)
        time.sleep(0.05)
    proc.kill()
    raise TimeoutError("the registry did not start")


def schema(i: int) -> str:
    return json.dumps({"type": "record", "name": f"Bench{i}", "namespace": "brook.bench",
                       "fields": [{"name": "id", "type": "long"}, {"name": f"f{i}", "type": "string"}]})


def register(port: int, count: int) -> tuple[float, list[int]]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Content-Type": "application/vnd.schemaregistry.v1+json"}
    ids = []
    start = time.perf_counter()
    for i in range(count):
        conn.request("POST", f"/subjects/bench-{i}-value/versions", json.dumps({"schema": schema(i)}), headers)
        resp = conn.getresponse()
        body = json.loads(resp.read())
        assert resp.status == 200, body
        ids.append(body["id"])
    return time.perf_counter() - start, ids


def lookup(port: int, ids: list[int]) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    start = time.perf_counter()
    for schema_id in ids:
        conn.request("GET", f"/schemas/ids/{schema_id}")
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
    return time.perf_counter() - start


def produce(bootstrap: str, count: int, sync: bool) -> float:
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0 if sync else 5,
                  "partitioner": "murmur2_random", "enable.idempotence": True})
    topic = f"bench-plain-{'sync' if sync else 'async'}"
    value = json.dumps({"subject": "x", "version": 1, "id": 1, "schema": schema(0), "deleted": False}).encode()
    p.produce(topic, value)  # the topic exists and metadata is known before the clock starts
    p.flush(30)
    start = time.perf_counter()
    for i in range(count):
        p.produce(topic, value, key=str(i).encode())
        if sync:
            p.flush(30)
        else:
            p.poll(0)
    p.flush(60)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="brook-bench-registry-") as tmp:
        workdir = Path(tmp)
        broker = BrookBroker(workdir)
        broker.start()
        proc = None
        try:
            proc, port = start_registry(workdir, broker.bootstrap)
            reg_s, ids = register(port, args.count)
            look_s = lookup(port, ids)
            sync_s = produce(broker.bootstrap, args.count, sync=True)
            async_s = produce(broker.bootstrap, args.count, sync=False)
        finally:
            if proc is not None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(30)
            broker.stop()
    n = args.count
    print(f"{'test':<16}{'count':>8}{'seconds':>10}{'per second':>12}")
    for name, secs in (("register", reg_s), ("lookup-by-id", look_s), ("produce-sync", sync_s),
                       ("produce-async", async_s)):
        print(f"{name:<16}{n:>8}{secs:>10.2f}{n / secs:>12.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
