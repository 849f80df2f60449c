"""Errors of a real sink task: a poison record goes to the dead letter queue with Kafka's context headers while the
task keeps running; without tolerance the task fails visibly in /status and a restart brings it back."""

from __future__ import annotations

import pytest
from confluent_kafka import Producer
from conftest import module_broker
from connect_helpers import consume_all, module_worker, wait_for


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    with module_broker(tmp_path_factory, "connect-errors") as b:
        yield b


@pytest.fixture(scope="module")
def worker(broker, tmp_path_factory):
    with module_worker(tmp_path_factory, broker, "connect-errors-worker", **{"offset.flush.interval.ms": "200"}) as w:
        yield w


def produce(bootstrap: str, topic: str, values: list[bytes], headers=None) -> None:
    p = Producer({"bootstrap.servers": bootstrap})
    for v in values:
        p.produce(topic, value=v, headers=headers)
    assert p.flush(10) == 0


def sink_config(worker, topic: str, out: str, **extra: str) -> dict:
    return {"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "topics": topic,
            "file": str(worker.dir / out), "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false", **extra}


def task_state(worker, name: str) -> str:
    return worker.request("GET", f"/connectors/{name}/status")[1]["tasks"][0]["state"]


def test_poison_record_goes_to_the_dead_letter_queue(broker, worker):
    produce(broker.bootstrap, "dlq-in", [b'{"a":1}', b"not json", b'{"a":2}'], headers=[("trace", b"t1")])
    config = sink_config(worker, "dlq-in", "dlq.out.txt", **{
        "errors.tolerance": "all", "errors.log.enable": "true", "errors.log.include.messages": "true",
        "errors.deadletterqueue.topic.name": "dlq", "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true",
        # a transformation that fails on values that are not maps: the TRANSFORMATION stage's errors
        "transforms": "cast", "transforms.cast.type": "org.apache.kafka.connect.transforms.Cast$Value",
        "transforms.cast.spec": "a:int32"})
    code, body = worker.request("POST", "/connectors", {"name": "dlq-sink", "config": config})
    assert code == 201, body
    out = worker.dir / "dlq.out.txt"
    wait_for(lambda: out.exists() and out.read_text() == "{a=1}\n{a=2}\n", what="the good records")

    [dead] = consume_all(broker.bootstrap, "dlq", 1)
    assert dead.value() == b"not json" and dead.key() is None
    headers = dict(dead.headers())
    assert headers["trace"] == b"t1"  # the original headers come first
    assert {k: v for k, v in headers.items() if k != "__connect.errors.exception.stacktrace" and k != "trace"} == {
        "__connect.errors.topic": b"dlq-in", "__connect.errors.partition": b"0", "__connect.errors.offset": b"1",
        "__connect.errors.connector.name": b"dlq-sink", "__connect.errors.task.id": b"0",
        "__connect.errors.stage": b"VALUE_CONVERTER",
        "__connect.errors.class.name": b"org.apache.kafka.connect.json.JsonConverter",
        "__connect.errors.exception.class.name": b"org.apache.kafka.connect.errors.DataException",
        "__connect.errors.exception.message":
            b"Converting byte[] to Kafka Connect data failed due to serialization error: "}
    assert headers["__connect.errors.exception.stacktrace"].startswith(
        b"org.apache.kafka.connect.errors.DataException: Converting byte[] to Kafka Connect data failed")

    # the task keeps running: later records still arrive, and a second poison record is dead-lettered too
    assert task_state(worker, "dlq-sink") == "RUNNING"
    produce(broker.bootstrap, "dlq-in", [b"{broken", b"7", b'{"a":3}'])
    wait_for(lambda: out.read_text() == "{a=1}\n{a=2}\n{a=3}\n", what="the record after the second poison one")
    dead = consume_all(broker.bootstrap, "dlq", 3)
    assert [m.value() for m in dead] == [b"not json", b"{broken", b"7"]
    headers = dict(dead[2].headers())
    assert (headers["__connect.errors.stage"], headers["__connect.errors.class.name"],
            headers["__connect.errors.exception.message"]) == (
        b"TRANSFORMATION", b"org.apache.kafka.connect.transforms.Cast$Value",
        b"Only Map objects supported in absence of schema for [cast types], found: java.lang.Long")
    assert "Error encountered in task dlq-sink-0. Executing stage 'VALUE_CONVERTER' with class " \
           "'org.apache.kafka.connect.json.JsonConverter', where consumed record is {topic='dlq-in', partition=0, " \
           "offset=1" in worker.log_text()
    assert worker.request("DELETE", "/connectors/dlq-sink") == (204, None)


def test_without_tolerance_the_task_fails_and_restarts(broker, worker):
    produce(broker.bootstrap, "strict-in", [b'{"a":1}', b"oops"])
    code, body = worker.request("POST", "/connectors", {"name": "strict", "config": sink_config(
        worker, "strict-in", "strict.out.txt")})
    assert code == 201, body
    wait_for(lambda: task_state(worker, "strict") == "FAILED", what="FAILED")
    code, status = worker.request("GET", "/connectors/strict/status")
    assert status["connector"]["state"] == "RUNNING"
    trace = status["tasks"][0]["trace"]
    assert trace.startswith("org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler")
    assert "Caused by: org.apache.kafka.connect.errors.DataException: Converting byte[] to Kafka Connect data " \
           "failed due to serialization error: " in trace
    # the failed batch was never put, so nothing of it was committed or written
    assert not (worker.dir / "strict.out.txt").exists() or (worker.dir / "strict.out.txt").read_text() == ""

    code, body = worker.request("POST", "/connectors/strict/restart?includeTasks=true&onlyFailed=true")
    assert code == 202 and body["connector"]["state"] == "RUNNING"
    assert [t["state"] for t in body["tasks"]] == ["RESTARTING"]
    wait_for(lambda: task_state(worker, "strict") == "FAILED", what="FAILED again on the same record")
    assert worker.request("DELETE", "/connectors/strict") == (204, None)


def test_retriable_errors_are_retried_for_errors_retry_timeout(broker, worker):
    """A converter whose schema registry is unreachable fails retriably: the stage is retried with backoff for
    errors.retry.timeout (delays capped by errors.retry.delay.max.ms), then the record is tolerated."""
    config = sink_config(worker, "retry-in", "retry.out.txt", **{
        "value.converter": "io.confluent.connect.avro.AvroConverter",
        "value.converter.schema.registry.url": "http://127.0.0.1:1", "value.converter.max.retries": "0",
        "errors.tolerance": "all",
        "errors.retry.timeout": "1500", "errors.retry.delay.max.ms": "200",
        "errors.deadletterqueue.topic.name": "retry-dlq", "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true"})
    assert worker.request("POST", "/connectors", {"name": "retrying", "config": config})[0] == 201
    wait_for(lambda: task_state(worker, "retrying") == "RUNNING", what="RUNNING")
    produce(broker.bootstrap, "retry-in", [b"\x00\x00\x00\x00\x01avro"])
    [sent] = consume_all(broker.bootstrap, "retry-in", 1)
    [dead] = consume_all(broker.bootstrap, "retry-dlq", 1)
    headers = dict(dead.headers())
    assert headers["__connect.errors.exception.class.name"] == b"org.apache.kafka.connect.errors.RetriableException"
    assert headers["__connect.errors.exception.message"].startswith(
        b"Network connection error while deserializing Avro data for topic retry-in: ")
    # tolerated only once the retries ran out, the last attempt at the deadline
    assert dead.timestamp()[1] - sent.timestamp()[1] >= 1500
    assert task_state(worker, "retrying") == "RUNNING"
    assert worker.request("DELETE", "/connectors/retrying") == (204, None)


def test_source_offsets_are_committed_only_for_acknowledged_records(broker, worker):
    """A record the broker refuses (larger than the topic's max.message.bytes) fails the source task, and the
    committed offset stays at the last record Kafka acknowledged: the refused line is read again after a restart."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("small-only", 1, 1, config={"max.message.bytes": "300"})])["small-only"].result(10)
    src = worker.dir / "acks.txt"
    src.write_text("small\n")
    config = {"connector.class": "FileStreamSource", "file": str(src), "topic": "small-only",
              "value.converter": "org.apache.kafka.connect.storage.StringConverter"}
    assert worker.request("POST", "/connectors", {"name": "acks", "config": config})[0] == 201
    committed = {"offsets": [{"partition": {"filename": str(src)}, "offset": {"position": 6}}]}
    wait_for(lambda: worker.request("GET", "/connectors/acks/offsets") == (200, committed), what="the first offset")
    with open(src, "a") as f:
        f.write("x" * 1000 + "\n")
    wait_for(lambda: task_state(worker, "acks") == "FAILED", what="FAILED on the refused record")
    trace = worker.request("GET", "/connectors/acks/tasks/0/status")[1]["trace"]
    assert trace.startswith("org.apache.kafka.connect.errors.ConnectException: Unrecoverable exception from "
                            "producer send callback"), trace
    assert "Failed to send record to topic small-only" in trace
    assert worker.request("GET", "/connectors/acks/offsets") == (200, committed)  # not past the refused line
    assert [m.value() for m in consume_all(broker.bootstrap, "small-only", 2, timeout=2)] == [b"small"]
    assert worker.request("DELETE", "/connectors/acks") == (204, None)

    # with errors.tolerance=all the refused record is skipped (KIP-779) and the task goes on past it
    src = worker.dir / "tolerant-acks.txt"
    src.write_text("ok1\n")
    assert worker.request("POST", "/connectors", {"name": "tolerant-acks", "config": {
        **config, "file": str(src), "errors.tolerance": "all", "errors.log.enable": "true"}})[0] == 201

    def position():
        offsets = worker.request("GET", "/connectors/tolerant-acks/offsets")[1]["offsets"]
        return offsets[0]["offset"]["position"] if offsets else None
    wait_for(lambda: position() == 4, what="ok1 acknowledged")
    for line, end in (("y" * 1000, 1005), ("ok2", 1009)):  # one at a time: a refused batch refuses all it holds
        with open(src, "a") as f:
            f.write(line + "\n")
        wait_for(lambda end=end: position() == end, what=f"the offset past {line[:3]}")
    assert [m.value() for m in consume_all(broker.bootstrap, "small-only", 3, timeout=2)] == [b"small", b"ok1",
                                                                                            b"ok2"]
    assert task_state(worker, "tolerant-acks") == "RUNNING"
    assert "Executing stage 'KAFKA_PRODUCE' with class 'org.apache.kafka.connect.runtime.WorkerSourceTask'" \
        in worker.log_text()
    assert worker.request("DELETE", "/connectors/tolerant-acks") == (204, None)
