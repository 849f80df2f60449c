"""A real ksql server process (ksql-server-start) beside a real broker, on ephemeral ports, driven over HTTP as
ksqlDB's docs drive it with curl.  Imported by the SQL tests (pytest puts each test's directory on sys.path)."""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from conftest import HttpServerProcess

LISTENING = re.compile(r"ksqlDB API server listening on https?://([^:\s]+):(\d+)")


class KsqlProcess(HttpServerProcess):
    ready_pattern = LISTENING
    ready_text = "Server up and running"
    what = "ksql server"

    def __init__(self, log_path: Path, bootstrap: str, overrides: dict[str, str] | None = None) -> None:
        super().__init__(log_path, {"bootstrap.servers": bootstrap,
                                    "ksql.streams.state.dir": str(log_path.parent / "state"), **(overrides or {})})

    def command(self) -> list[str]:
        return [str(Path(sys.executable).parent / "ksql-server-start")]

    def request(self, method: str, path: str, body: object = None, raw: bytes | None = None,
                headers: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, str, bytes]:
        """One HTTP/1.1 request as curl sends it: (status, content type, the whole body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        conn.request(method, path, body=data, headers={
            "Content-Type": "application/vnd.ksql.v1+json; charset=utf-8", **(headers or {})})
        resp = conn.getresponse()
        out = resp.status, resp.getheader("Content-Type", ""), resp.read()
        conn.close()
        return out

    def ksql(self, statement: str, props: dict | None = None) -> tuple[int, object]:
        status, _, body = self.request("POST", "/ksql", {"ksql": statement, "streamsProperties": props or {}})
        return status, json.loads(body)


@contextlib.contextmanager
def module_ksql(tmp_path_factory, name: str, overrides: dict[str, str] | None = None
                ) -> Iterator[tuple[object, KsqlProcess]]:
    from conftest import module_broker

    with module_broker(tmp_path_factory, name) as broker:
        k = KsqlProcess(tmp_path_factory.mktemp(name + "-ksql") / "ksql.log", broker.bootstrap, overrides).start()
        try:
            yield broker, k
        finally:
            k.stop()


@contextlib.contextmanager
def module_ksql_with_registry(tmp_path_factory, name: str, overrides: dict[str, str] | None = None
                              ) -> Iterator[tuple[object, object, KsqlProcess]]:
    """A broker, a schema registry on it and a ksql server using both, for one test module: (broker, registry, k)."""
    from conftest import module_broker
    from registry.registry_helpers import RegistryProcess

    with module_broker(tmp_path_factory, name) as broker:
        d = tmp_path_factory.mktemp(name)
        registry = RegistryProcess(d / "registry.log", broker.bootstrap).start()
        try:
            k = KsqlProcess(d / "ksql.log", broker.bootstrap,
                            {"ksql.schema.registry.url": registry.url, **(overrides or {})}).start()
            try:
                yield broker, registry, k
            finally:
                k.stop()
        finally:
            registry.stop()


def message_class(registry, schema_id: int, name: str = "ConnectDefault1"):  # noqa: ANN001 - RegistryProcess
    """The registered Protobuf schema's message `name`, built from its serialized descriptor (the registry's own
    form), its imports taken from the default pool."""
    import base64

    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    status, body = registry.call("GET", f"/schemas/ids/{schema_id}?format=serialized")
    assert status == 200, body
    fd = descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(body["schema"]))
    pool = descriptor_pool.DescriptorPool()
    for dep in fd.dependency:
        proto = descriptor_pb2.FileDescriptorProto()
        descriptor_pool.Default().FindFileByName(dep).CopyToProto(proto)
        pool.Add(proto)
    pool.Add(fd)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))


def produce(bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes | None]]) -> None:
    from confluent_kafka import Producer

    from brook.cli.clients import producer_config

    p = Producer(producer_config({"bootstrap.servers": bootstrap}))
    for key, value in records:
        p.produce(topic, key=key, value=value)
    assert p.flush(30) == 0


def consume(bootstrap: str, topic: str, count: int, timeout: float = 30, timestamps: bool = False) -> list:
    """`count` records of `topic` from the beginning, as (key, value) bytes (with timestamps: and the record's
    timestamp)."""
    from confluent_kafka import Consumer

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"check-{topic}-{time.monotonic_ns()}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic])
    out: list = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < count and time.monotonic() < deadline:
            out += [(m.key(), m.value(), m.timestamp()[1]) if timestamps else (m.key(), m.value())
                    for m in c.consume(count - len(out), 0.5) if not m.error()]
    finally:
        c.close()
    return out


def produce_at(bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes | None, int | None]]) -> None:
    """Records with explicit timestamps, in order, to partition 0 (kafka-python: librdkafka reads 0 as "now")."""
    from kafka import KafkaProducer

    p = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    try:
        futures = [p.send(topic, key=key, value=value, partition=0, timestamp_ms=ts) for key, value, ts in records]
        p.flush(30)
        for f in futures:
            f.get(30)
    finally:
        p.close()


def pull(k: KsqlProcess, sql: str, timeout: float = 30) -> list:
    """A pull query's rows, asked again until the server answers 200 (its store may still be restoring)."""
    from kafka_wire import wait_for

    answer: list = []

    def answered() -> bool:
        status, _, body = k.request("POST", "/query", {"ksql": sql, "streamsProperties": {}})
        answer[:] = [status, body]
        return status == 200
    try:
        wait_for(answered, timeout, interval=0.1, what=f"an answer to {sql}")
    except AssertionError:
        pass  # the last answer's error is what the assertion below shows
    lines = json.loads(answer[1])
    assert answer[0] == 200, lines
    return [line["row"]["columns"] for line in lines[1:]]


def run_statements(k: KsqlProcess, statements: list[str], props: dict | None = None) -> None:
    for text in statements:
        status, body = k.ksql(text, props)
        assert status == 200, body
