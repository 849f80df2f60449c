"""Real connect-standalone processes on ephemeral ports, and a small HTTP client for their REST API."""

from __future__ import annotations

import contextlib
import functools
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import kafka_wire
from conftest import BrokerProcess, start_logged

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
LISTENING = re.compile(r"REST server listening at (https?://[^/\s]+)/")


def worker_props(path: Path, bootstrap: str, offsets: Path, **extra: str) -> Path:
    """Kafka's config/connect-standalone.properties, pointed at the test broker, an ephemeral port and tmp files."""
    text = (REPO / "config" / "connect-standalone.properties").read_text()
    text = text.replace("bootstrap.servers=localhost:9092", f"bootstrap.servers={bootstrap}")
    text = text.replace("offset.storage.file.filename=/tmp/connect.offsets",
                        f"offset.storage.file.filename={offsets}")
    text += "\nlisteners=http://127.0.0.1:0\n" + "".join(f"{k}={v}\n" for k, v in extra.items())
    path.write_text(text)
    return path


def started(text: str) -> re.Match[str] | None:
    """The worker's REST URL once the worker says it has started."""
    m = LISTENING.search(text)
    return m if m and "Kafka Connect started" in text else None


class ConnectProcess(BrokerProcess):
    """A connect-standalone or connect-distributed process; stop() and log_text() are the broker's."""

    def __init__(self, cwd: Path, *args: str, script: str = "connect-standalone",
                 env: dict[str, str] | None = None) -> None:
        self.cwd, self.args, self.script, self.env = cwd, args, script, env
        self.log_path = cwd / "connect.log"
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self, timeout: float = 60) -> ConnectProcess:
        exe = str(REPO / self.script) if "/" in self.script else str(VENV_BIN / self.script)
        self.proc, m = start_logged([exe, *self.args], self.log_path, started, self.script, timeout, cwd=self.cwd,
                                    env=self.env)
        self.url = m.group(1)
        return self

    def request(self, method: str, path: str, body: object = None) -> tuple[int, object]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            return e.code, json.loads(raw) if raw else None


@contextlib.contextmanager
def module_worker(tmp_path_factory, broker, name: str, **extra: str) -> Iterator[ConnectProcess]:
    """A connect-standalone worker (no connectors) shared by a module's tests, stopped cleanly however they end."""
    d = tmp_path_factory.mktemp(name)
    props = worker_props(d / "worker.properties", broker.bootstrap, d / "connect.offsets", **extra)
    w = ConnectProcess(d, str(props)).start()
    w.dir = d  # type: ignore[attr-defined]
    try:
        yield w
    finally:
        assert w.stop() == 0


# kafka_wire's bounded poll, with the longer default that worker start-ups and rebalances need
wait_for = functools.partial(kafka_wire.wait_for, timeout=30, interval=0.05)



def consume_all(bootstrap: str, topic: str, count: int, timeout: float = 30) -> list:
    """The first `count` messages of a topic, read from the beginning by a fresh group-less consumer."""
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"check-{time.monotonic_ns()}",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        out: list = []
        deadline = time.monotonic() + timeout
        while len(out) < count and time.monotonic() < deadline:
            out += [m for m in c.consume(count - len(out), 0.5) if m.error() is None]
        return out
    finally:
        c.close()
