"""connect-distributed: two real workers share connectors and tasks through Kafka's config, offset and status
topics (Kafka's key formats); a worker killed with SIGKILL has its tasks taken over with no record lost."""

from __future__ import annotations

import json

import pytest
from conftest import module_broker
from connect_helpers import REPO, ConnectProcess, consume_all, wait_for

WORKER_EXTRA = {"listeners": "http://127.0.0.1:0", "offset.flush.interval.ms": "200", "session.timeout.ms": "6000",
                "heartbeat.interval.ms": "1000", "consumer.session.timeout.ms": "6000",
                "consumer.heartbeat.interval.ms": "1000"}


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    with module_broker(tmp_path_factory, "connect-distributed") as b:
        yield b


def distributed_props(path, bootstrap: str):
    """Kafka's config/connect-distributed.properties, pointed at the test broker."""
    text = (REPO / "config" / "connect-distributed.properties").read_text()
    text = text.replace("bootstrap.servers=localhost:9092", f"bootstrap.servers={bootstrap}")
    path.write_text(text + "".join(f"\n{k}={v}" for k, v in WORKER_EXTRA.items()) + "\n")
    return path


def statuses(worker, name: str):
    code, body = worker.request("GET", f"/connectors/{name}/status")
    return body if code == 200 else None


def test_two_workers_share_tasks_and_survive_a_sigkill(broker, tmp_path):
    props = distributed_props(tmp_path / "connect-distributed.properties", broker.bootstrap)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = ConnectProcess(tmp_path / "a", str(props), script="bin/connect-distributed.sh").start()
    b = ConnectProcess(tmp_path / "b", str(props), script="connect-distributed").start()
    workers = {a.url.removeprefix("http://"): a, b.url.removeprefix("http://"): b}
    try:
        wait_for(lambda: all(f"members {sorted(workers)}" in w.log_text() for w in workers.values()),
                 timeout=60, what="both workers in the group")
        src, out = tmp_path / "in.txt", tmp_path / "out.txt"
        src.write_text("l1\nl2\nl3\n")
        code, body = a.request("POST", "/connectors", {"name": "src", "config": {
            "connector.class": "FileStreamSource", "file": str(src), "topic": "dist"}})
        assert code == 201 and body["type"] == "source", body
        duplicate = {"name": "src", "config": {"connector.class": "FileStreamSource", "topic": "x"}}
        assert b.request("POST", "/connectors", duplicate) == \
            (409, {"error_code": 409, "message": "Connector src already exists"})
        code, body = b.request("POST", "/connectors", {"name": "sink", "config": {
            "connector.class": "FileStreamSink", "file": str(out), "topics": "dist", "tasks.max": "2"}})
        assert code == 201, body
        wait_for(lambda: out.exists() and out.read_text() == "l1\nl2\nl3\n", timeout=60, what="the sink file")

        # both workers answer for the whole cluster, and the units are spread over both
        def placed():
            s = [statuses(b, "src"), statuses(a, "sink")]
            if None in s or len(s[1]["tasks"]) != 2 or not s[0]["tasks"]:
                return None
            return s
        src_status, sink_status = wait_for(placed, timeout=30, what="statuses of every unit")
        owners = {src_status["connector"]["worker_id"], sink_status["connector"]["worker_id"],
                  src_status["tasks"][0]["worker_id"]} | {t["worker_id"] for t in sink_status["tasks"]}
        assert owners == set(workers)

        # the active topics (KIP-558) travel in the status topic: every worker answers for every connector
        for w in (a, b):
            wait_for(lambda w=w: w.request("GET", "/connectors/sink/topics") == (200, {"sink": {"topics": ["dist"]}})
                     and w.request("GET", "/connectors/src/topics") == (200, {"src": {"topics": ["dist"]}}),
                     what="the active topics on every worker")

        # Kafka's key formats in the config topic
        configs = {m.key().decode(): json.loads(m.value()) for m in consume_all(broker.bootstrap,
                                                                                "connect-configs", 7)}
        assert configs["connector-src"] == {"properties": {"connector.class": "FileStreamSource",
                                                           "file": str(src), "topic": "dist", "name": "src"}}
        assert configs["commit-src"] == {"tasks": 1} and configs["commit-sink"] == {"tasks": 2}
        assert configs["task-src-0"]["properties"]["task.class"].endswith("FileStreamSourceTask")

        assert a.request("PUT", "/connectors/src/pause") == (202, None)
        wait_for(lambda: statuses(b, "src")["tasks"][0]["state"] == "PAUSED", what="PAUSED")
        [target] = [json.loads(m.value()) for m in consume_all(broker.bootstrap, "connect-configs", 8)
                    if m.key() == b"target-state-src"]
        assert target == {"state": "PAUSED", "state.v2": "PAUSED"}
        assert b.request("PUT", "/connectors/src/resume") == (202, None)
        wait_for(lambda: statuses(a, "src")["tasks"][0]["state"] == "RUNNING", what="RUNNING")

        # kill the worker that runs the source task; the other one takes it over from the committed offset
        victim_id = statuses(a, "src")["tasks"][0]["worker_id"]
        victim = workers.pop(victim_id)
        [(survivor_id, survivor)] = workers.items()
        victim.proc.kill()
        victim.proc.wait(10)
        with open(src, "a") as f:
            f.write("l4\nl5\n")
        wait_for(lambda: statuses(survivor, "src")["tasks"][0]["worker_id"] == survivor_id, timeout=60,
                 what="the source task taken over")
        wait_for(lambda: out.read_text() == "l1\nl2\nl3\nl4\nl5\n", timeout=60, what="every line in the sink")
        values = [json.loads(m.value())["payload"] for m in consume_all(broker.bootstrap, "dist", 5)]
        assert values == ["l1", "l2", "l3", "l4", "l5"]
        # the survivor committed the source offsets to connect-offsets, keyed as in Kafka
        want = {"offsets": [{"partition": {"filename": str(src)}, "offset": {"position": 15}}]}
        wait_for(lambda: survivor.request("GET", "/connectors/src/offsets") == (200, want), what="committed offsets")

        # the internal topics as Kafka creates them: compacted; 1, 25 and 5 partitions
        from confluent_kafka.admin import AdminClient, ConfigResource

        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        topics = admin.list_topics(timeout=10).topics
        for topic, partitions in (("connect-configs", 1), ("connect-offsets", 25), ("connect-status", 5)):
            resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
            assert admin.describe_configs([resource])[resource].result(10)["cleanup.policy"].value == "compact"
            assert len(topics[topic].partitions) == partitions, topic

        assert survivor.request("DELETE", "/connectors/src") == (204, None)
        assert survivor.request("GET", "/connectors") == (200, ["sink"])
        assert survivor.stop() == 0
    finally:
        for w in (a, b):
            if w.proc.poll() is None:
                w.proc.kill()
                w.proc.wait(10)
