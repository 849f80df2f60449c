"""Capture golden request frames from real Kafka clients, for tests/protocol/test_golden.py.

    .venv/bin/python tests/protocol/capture_golden.py [--clients confluent,kafka-python,aiokafka] [--out DIR]

Starts a Brook broker in a temporary directory behind a recording TCP proxy. The broker advertises the proxy's
address (advertised.listeners), so every connection a client opens after bootstrapping also goes through it.
Each client then runs a short workload (create a topic, produce, fetch, list offsets, metadata) and the proxy
saves the first request frame it sees for each (client, API, version) as ``<client>-<api>-v<version>.bin``:
the frame as the broker's FrameDecoder hands it over, i.e. without the 4-byte size prefix.

Only APIs Brook serves are kept (a client may also try others, e.g. FindCoordinator, which Brook answers by
closing the connection, as Kafka does for an API it does not know). Every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "src"))

from brook.broker.registry import build_registry  # noqa: E402
from brook.protocol.framing import FrameDecoder  # noqa: E402
from brook.protocol.versions import api_name  # noqa: E402

STARTED = re.compile(r"started \(kafka\.server\.KafkaServer\) on PLAINTEXT://([^:\s]+):(\d+)")
CLIENTS = ("confluent", "kafka-python", "aiokafka")
TIMEOUT = 20.0


class RecordingProxy:
    """Forwards 127.0.0.1:<port> to the broker; records client->broker frames, tagged with `self.client`."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.upstream: tuple[str, int] | None = None
        self.client = "unknown"
        self.frames: dict[tuple[str, int, int], bytes] = {}
        self.lock = threading.Lock()
        self.closing = False
        self.sockets: list[socket.socket] = []

    def start(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closing:
            try:
                down, _ = self.listener.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(self.upstream, timeout=TIMEOUT)  # type: ignore[arg-type]
            except OSError:
                down.close()
                continue
            up.settimeout(None)
            self.sockets += [down, up]
            threading.Thread(target=self._pump, args=(down, up, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(up, down, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, record: bool) -> None:
        decoder = FrameDecoder(1 << 30)
        client = self.client
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if record:
                    for frame in decoder.feed(data):
                        key = (client, *_key_version(frame))
                        with self.lock:
                            self.frames.setdefault(key, frame)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.closing = True
        self.listener.close()
        for s in self.sockets:
            s.close()


def _key_version(frame: bytes) -> tuple[int, int]:
    return int.from_bytes(frame[0:2], "big", signed=True), int.from_bytes(frame[2:4], "big", signed=True)


def start_broker(data_dir: Path, proxy_port: int) -> tuple[subprocess.Popen, Path, int]:
    log_path = data_dir.parent / "broker.log"
    args = [sys.executable, "-m", "brook", "--override", "listeners=PLAINTEXT://127.0.0.1:0",
            "--override", f"advertised.listeners=PLAINTEXT://127.0.0.1:{proxy_port}",
            "--override", f"log.dirs={data_dir}", "--override", "group.initial.rebalance.delay.ms=0"]
    log = open(log_path, "wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        m = STARTED.search(log_path.read_text(errors="replace"))
        if m:
            return proc, log_path, int(m.group(2))
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.kill()
    raise RuntimeError(f"broker did not start:\n{log_path.read_text(errors='replace')}")


# -- workloads: create a topic, produce one record, fetch it, list offsets ----------------------------------
def run_confluent(bootstrap: str, topic: str) -> None:
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        f.result(TIMEOUT)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    producer.produce(topic, key=b"key-1", value=b"golden value from confluent-kafka")
    if producer.flush(TIMEOUT):
        raise RuntimeError("confluent-kafka producer did not deliver")
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "golden-capture",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition(topic, 0, 0)])
    deadline = time.monotonic() + TIMEOUT
    msg = None
    while msg is None and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error():
            msg = None
    if msg is None:
        raise RuntimeError("confluent-kafka consumer got nothing")
    consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=TIMEOUT, cached=False)
    consumer.close()


def run_kafka_python(bootstrap: str, topic: str) -> None:
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(TIMEOUT * 1000))
    admin.create_topics([NewTopic(topic, 1, 1)])
    admin.close()
    # kafka-python 3 defaults to idempotence, which needs InitProducerId (not served by Brook)
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=0, enable_idempotence=False)
    producer.send(topic, key=b"key-1", value=b"golden value from kafka-python").get(TIMEOUT)
    producer.close(TIMEOUT)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             auto_offset_reset="earliest")
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    deadline = time.monotonic() + TIMEOUT
    got = {}
    while not got and time.monotonic() < deadline:
        got = consumer.poll(timeout_ms=500)
    if not got:
        raise RuntimeError("kafka-python consumer got nothing")
    consumer.end_offsets([tp])
    consumer.close()


def run_aiokafka(bootstrap: str, topic: str) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    async def work() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(topic, 1, 1)])
        finally:
            await admin.close()
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
        await producer.start()
        try:
            await producer.send_and_wait(topic, key=b"key-1", value=b"golden value from aiokafka")
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                    auto_offset_reset="earliest")
        await consumer.start()
        try:
            tp = TopicPartition(topic, 0)
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            await asyncio.wait_for(consumer.getone(), TIMEOUT)
            await consumer.end_offsets([tp])
        finally:
            await consumer.stop()

    asyncio.run(asyncio.wait_for(work(), 3 * TIMEOUT))


WORKLOADS = {"confluent": run_confluent, "kafka-python": run_kafka_python, "aiokafka": run_aiokafka}


def capture(out: Path, clients: list[str]) -> list[Path]:
    served = build_registry()
    proxy = RecordingProxy()
    with tempfile.TemporaryDirectory(prefix="brook-golden-") as tmp:
        proc, log_path, port = start_broker(Path(tmp) / "data", proxy.port)
        proxy.start(("127.0.0.1", port))
        try:
            for client in clients:
                proxy.client = client
                WORKLOADS[client](f"127.0.0.1:{proxy.port}", f"golden-{client}")
        finally:
            proxy.close()
            proc.terminate()
            proc.wait(TIMEOUT)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for (client, key, version), frame in sorted(proxy.frames.items()):
        handler = served.get(key)
        if handler is None or not handler.min_version <= version <= handler.max_version:
            continue
        path = out / f"{client}-{api_name(key)}-v{version}.bin"
        path.write_bytes(frame)
        written.append(path)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "golden")
    parser.add_argument("--clients", default=",".join(CLIENTS))
    args = parser.parse_args()
    for path in capture(args.out, [c for c in args.clients.split(",") if c]):
        print(f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
