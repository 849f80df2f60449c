"""A REST walk on a real connect-standalone worker: Kafka's paths, status codes and bodies."""

from __future__ import annotations

import pytest
from conftest import module_broker
from connect_helpers import consume_all, module_worker, wait_for

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    with module_broker(tmp_path_factory, "connect-rest") as b:
        yield b


@pytest.fixture(scope="module")
def worker(broker, tmp_path_factory):
    with module_worker(tmp_path_factory, broker, "connect-rest-worker") as w:
        yield w


def states(worker, name: str):
    code, body = worker.request("GET", f"/connectors/{name}/status")
    assert code == 200, body
    return body["connector"]["state"], [t["state"] for t in body["tasks"]]


def test_root_and_plugins(worker):
    code, root = worker.request("GET", "/")
    assert code == 200 and root["version"] == "3.9.0" and set(root) == {"version", "commit", "kafka_cluster_id"}
    assert len(root["kafka_cluster_id"]) == 22
    assert worker.request("GET", "/health") == \
        (200, {"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."})
    code, plugins = worker.request("GET", "/connector-plugins")
    assert code == 200
    assert plugins == [{"class": "io.confluent.connect.jdbc.JdbcSinkConnector", "type": "sink", "version": "3.9.0"},
                       {"class": SINK, "type": "sink", "version": "3.9.0"},
                       {"class": "io.confluent.connect.jdbc.JdbcSourceConnector", "type": "source",
                        "version": "3.9.0"},
                       {"class": SOURCE, "type": "source", "version": "3.9.0"}]
    code, everything = worker.request("GET", "/connector-plugins?connectorsOnly=false")
    assert {"class": "org.apache.kafka.connect.json.JsonConverter", "type": "converter", "version": "3.9.0"} \
        in everything
    assert [p["type"] for p in everything][:4] == ["sink", "sink", "source", "source"]

    # GET /connector-plugins/{plugin}/config (KIP-769): the framework's definitions, then the plugin's own
    code, keys = worker.request("GET", f"/connector-plugins/{SINK}/config")
    names = [k["name"] for k in keys]
    assert code == 200 and names[:2] == ["name", "connector.class"] and "topics" in names and names[-1] == "file"
    assert worker.request("GET", "/connector-plugins/FileStreamSink/config")[1] == keys  # an alias too
    code, keys = worker.request("GET", "/connector-plugins/org.apache.kafka.connect.transforms.Cast$Value/config")
    assert code == 200 and [k["name"] for k in keys] == ["spec", "replace.null.with.default"]
    assert keys[0]["type"] == "LIST" and keys[0]["importance"] == "HIGH"
    assert worker.request("GET", "/connector-plugins/com.example.Nope/config") == \
        (404, {"error_code": 404, "message": "Unknown plugin com.example.Nope."})


def test_connector_walk(worker):
    src = str(worker.dir / "walk.txt")
    config = {"connector.class": "FileStreamSource", "tasks.max": "1", "file": src, "topic": "walk"}
    code, body = worker.request("POST", "/connectors", {"name": "walk", "config": config})
    assert code == 201, body
    assert body == {"name": "walk", "config": {**config, "name": "walk"},
                    "tasks": [{"connector": "walk", "task": 0}], "type": "source"}

    code, body = worker.request("POST", "/connectors", {"name": "walk", "config": config})
    assert (code, body) == (409, {"error_code": 409, "message": "Connector walk already exists"})

    wait_for(lambda: states(worker, "walk") == ("RUNNING", ["RUNNING"]), what="RUNNING")
    code, status = worker.request("GET", "/connectors/walk/status")
    worker_id = status["connector"]["worker_id"]
    assert worker_id == worker.url.removeprefix("http://")
    assert status == {"name": "walk", "connector": {"state": "RUNNING", "worker_id": worker_id},
                      "tasks": [{"id": 0, "state": "RUNNING", "worker_id": worker_id}], "type": "source"}
    assert worker.request("GET", "/connectors/walk/tasks/0/status") == \
        (200, {"id": 0, "state": "RUNNING", "worker_id": worker_id})
    code, tasks = worker.request("GET", "/connectors/walk/tasks")
    assert code == 200 and [t["id"] for t in tasks] == [{"connector": "walk", "task": 0}]
    assert tasks[0]["config"]["file"] == src
    assert worker.request("GET", "/connectors/walk/config") == (200, {**config, "name": "walk"})
    assert worker.request("GET", "/connectors") == (200, ["walk"])
    code, expanded = worker.request("GET", "/connectors?expand=status&expand=info")
    assert expanded["walk"]["status"]["connector"]["state"] == "RUNNING"
    assert expanded["walk"]["info"]["type"] == "source"

    assert worker.request("PUT", "/connectors/walk/pause") == (202, None)
    wait_for(lambda: states(worker, "walk") == ("PAUSED", ["PAUSED"]), what="PAUSED")
    assert worker.request("PUT", "/connectors/walk/resume") == (202, None)
    wait_for(lambda: states(worker, "walk") == ("RUNNING", ["RUNNING"]), what="RUNNING again")

    assert worker.request("GET", "/connectors/walk") == (200, {"name": "walk", "config": {**config, "name": "walk"},
                                                               "tasks": [{"connector": "walk", "task": 0}],
                                                               "type": "source"})
    assert worker.request("GET", "/connectors/walk/tasks/7/status") == \
        (404, {"error_code": 404, "message": "No status found for task walk-7"})
    # PATCH /config (KIP-477) merges into the stored config; a null removes the key
    code, body = worker.request("PATCH", "/connectors/walk/config", {"batch.size": "5"})
    assert code == 200 and body["config"] == {**config, "name": "walk", "batch.size": "5"}
    code, body = worker.request("PATCH", "/connectors/walk/config", {"batch.size": None})
    assert code == 200 and body["config"] == {**config, "name": "walk"}
    assert worker.request("PATCH", "/connectors/nope/config", {"batch.size": "5"}) == \
        (404, {"error_code": 404, "message": "Connector nope not found"})
    # initial_state (KIP-980): a connector created STOPPED runs no task
    code, body = worker.request("POST", "/connectors", {"name": "walk3", "config": {**config, "topic": "walk3"},
                                                        "initial_state": "STOPPED"})
    assert code == 201 and body["tasks"] == []
    assert states(worker, "walk3") == ("STOPPED", [])
    assert worker.request("DELETE", "/connectors/walk3") == (204, None)

    # PUT /config updates an existing connector (200) and creates a new one (201)
    code, body = worker.request("PUT", "/connectors/walk/config", {**config, "batch.size": "10"})
    assert code == 200 and body["config"]["batch.size"] == "10"
    code, body = worker.request("PUT", "/connectors/walk2/config", {**config, "topic": "walk2"})
    assert code == 201 and body["name"] == "walk2"
    assert worker.request("PUT", "/connectors/walk2/config", {**config, "name": "other"}) == \
        (400, {"error_code": 400, "message": "Connector name configuration (other) doesn't match connector name "
                                             "in the URL (walk2)"})

    assert worker.request("POST", "/connectors/walk/restart") == (204, None)
    code, body = worker.request("POST", "/connectors/walk/restart?includeTasks=true")
    assert code == 202 and body["connector"]["state"] == "RESTARTING"
    assert [t["state"] for t in body["tasks"]] == ["RESTARTING"]
    wait_for(lambda: states(worker, "walk") == ("RUNNING", ["RUNNING"]), what="RUNNING after the restart")

    assert worker.request("PUT", "/connectors/walk2/stop") == (204, None)
    assert states(worker, "walk2") == ("STOPPED", [])

    for name in ("walk", "walk2"):
        assert worker.request("DELETE", f"/connectors/{name}") == (204, None)
    assert worker.request("GET", "/connectors") == (200, [])
    not_found = {"error_code": 404, "message": "Connector walk not found"}
    assert worker.request("GET", "/connectors/walk") == (404, not_found)
    assert worker.request("GET", "/connectors/walk/config") == (404, not_found)
    assert worker.request("GET", "/connectors/walk/tasks") == (404, not_found)
    assert worker.request("DELETE", "/connectors/walk") == (404, not_found)
    assert worker.request("GET", "/connectors/walk/status") == \
        (404, {"error_code": 404, "message": "No status found for connector walk"})
    assert worker.request("PUT", "/connectors/walk/pause") == \
        (404, {"error_code": 404, "message": "Unknown connector walk"})


def test_offsets(worker, broker):
    src = worker.dir / "offsets.txt"
    src.write_text("one\ntwo\n")
    config = {"connector.class": "FileStreamSource", "file": str(src), "topic": "offsets-walk"}
    assert worker.request("POST", "/connectors", {"name": "offs", "config": config})[0] == 201
    running = (400, {"error_code": 400, "message": "Connectors must be in the STOPPED state before their offsets "
                     "can be modified. This can be done for the specified connector by issuing a 'PUT' request to "
                     "the '/connectors/offs/stop' endpoint"})
    assert worker.request("DELETE", "/connectors/offs/offsets") == running
    # a regex subscription sees topics that exist when it starts (later ones at the next metadata refresh)
    assert len(consume_all(broker.bootstrap, "offsets-walk", 2)) == 2
    sink = {"connector.class": "FileStreamSink", "file": str(worker.dir / "offsets.out"), "topics.regex": "offsets-w.*"}
    assert worker.request("POST", "/connectors", {"name": "offs-sink", "config": sink})[0] == 201
    out = worker.dir / "offsets.out"
    wait_for(lambda: out.exists() and out.read_text() == "one\ntwo\n", what="the sink file")

    # the topics each connector used (KIP-558): produced to by the source, consumed by the sink
    assert worker.request("GET", "/connectors/offs/topics") == (200, {"offs": {"topics": ["offsets-walk"]}})
    assert worker.request("GET", "/connectors/offs-sink/topics") == \
        (200, {"offs-sink": {"topics": ["offsets-walk"]}})
    assert worker.request("PUT", "/connectors/offs/topics/reset") == (202, None)
    assert worker.request("GET", "/connectors/offs/topics") == (200, {"offs": {"topics": []}})

    # stopping commits: the source's position, the sink group's offsets
    assert worker.request("PUT", "/connectors/offs/stop") == (204, None)
    assert worker.request("PUT", "/connectors/offs-sink/stop") == (204, None)
    assert worker.request("GET", "/connectors/offs/offsets") == \
        (200, {"offsets": [{"partition": {"filename": str(src)}, "offset": {"position": 8}}]})
    assert worker.request("GET", "/connectors/offs-sink/offsets") == (200, {"offsets": [
        {"partition": {"kafka_topic": "offsets-walk", "kafka_partition": 0}, "offset": {"kafka_offset": 2}}]})

    altered = {"offsets": [{"partition": {"filename": str(src)}, "offset": {"position": 4}}]}
    assert worker.request("PATCH", "/connectors/offs/offsets", altered) == \
        (200, {"message": "The offsets for this connector have been altered successfully"})
    assert worker.request("GET", "/connectors/offs/offsets") == (200, altered)
    assert worker.request("PATCH", "/connectors/offs-sink/offsets", {"offsets": [
        {"partition": {"kafka_topic": "offsets-walk", "kafka_partition": 0}, "offset": {"kafka_offset": 1}}]})[0] \
        == 200
    assert worker.request("GET", "/connectors/offs-sink/offsets")[1]["offsets"][0]["offset"] == {"kafka_offset": 1}
    assert worker.request("PATCH", "/connectors/offs/offsets", {}) == \
        (400, {"error_code": 400, "message": "Partitions / offsets need to be provided for an alter offsets request"})
    for name in ("offs", "offs-sink"):
        assert worker.request("DELETE", f"/connectors/{name}/offsets") == \
            (200, {"message": "The offsets for this connector have been reset successfully"})
        assert worker.request("GET", f"/connectors/{name}/offsets") == (200, {"offsets": []})
        assert worker.request("DELETE", f"/connectors/{name}") == (204, None)


def test_bad_configs_and_paths(worker):
    code, body = worker.request("POST", "/connectors", {"name": "bad", "config": {"connector.class": "FileStreamSink"}})
    assert code == 400
    assert body == {"error_code": 400, "message": "Connector configuration is invalid and contains the following 2 "
                    "error(s):\nMust configure one of topics or topics.regex\nMust configure one of topics or "
                    "topics.regex\nYou can also find the above list of errors at the endpoint "
                    "`/connector-plugins/{connectorType}/config/validate`"}
    assert worker.request("GET", "/connectors") == (200, [])  # nothing started half-way

    code, body = worker.request("POST", "/connectors", {"name": "bad", "config": {"connector.class": "Nope"}})
    assert code == 500 and body["message"].startswith(
        "Failed to find any class that implements Connector and which name matches Nope, available connectors are: ")
    code, body = worker.request("POST", "/connectors", {"name": "bad", "config": {"tasks.max": "1"}})
    assert (code, body) == (400, {"error_code": 400, "message": "Connector config {tasks.max=1, name=bad} contains "
                                                                "no connector type"})

    code, body = worker.request("PUT", "/connector-plugins/FileStreamSink/config/validate",
                                {"connector.class": "FileStreamSink", "name": "v", "tasks.max": "0"})
    assert code == 200
    assert body["name"] == "FileStreamSink" and body["error_count"] == 3
    assert body["groups"] == ["Common", "Transforms", "Predicates", "Error Handling"]
    by_name = {c["definition"]["name"]: c for c in body["configs"]}
    assert by_name["tasks.max"]["definition"] == {
        "name": "tasks.max", "type": "INT", "required": False, "default_value": "1", "importance": "HIGH",
        "documentation": "Maximum number of tasks to use for this connector.", "group": "Common", "width": "SHORT",
        "display_name": "Tasks max", "dependents": [], "order": 3}
    assert by_name["tasks.max"]["value"] == {
        "name": "tasks.max", "value": "0", "recommended_values": [], "visible": True,
        "errors": ["Invalid value 0 for configuration tasks.max: Value must be at least 1"]}
    assert by_name["file"]["definition"]["group"] is None and by_name["file"]["value"]["errors"] == []
    code, body = worker.request("PUT", "/connector-plugins/FileStreamSource/config/validate",
                                {"connector.class": "FileStreamSink"})
    assert (code, body) == (400, {"error_code": 400, "message": "Included connector type FileStreamSink does not "
                                                                "match request type FileStreamSource"})

    assert worker.request("GET", "/nothing/here") == (404, {"error_code": 404, "message": "HTTP 404 Not Found"})
    assert worker.request("DELETE", "/connector-plugins") == \
        (405, {"error_code": 405, "message": "HTTP 405 Method Not Allowed"})


def test_admin_loggers(worker):
    code, body = worker.request("GET", "/admin/loggers")
    assert code == 200 and body["root"] == {"level": "INFO", "last_modified": None}
    code, body = worker.request("PUT", "/admin/loggers/org.apache.kafka.connect.file", {"level": "DEBUG"})
    assert code == 200 and "org.apache.kafka.connect.file" in body
    code, body = worker.request("GET", "/admin/loggers/org.apache.kafka.connect.file")
    assert code == 200 and body["level"] == "DEBUG" and isinstance(body["last_modified"], int)
    assert worker.request("PUT", "/admin/loggers/root", {"level": "NOPE"}) == \
        (404, {"error_code": 404, "message": "invalid log level 'NOPE'."})
    assert worker.request("PUT", "/admin/loggers/root", {}) == \
        (400, {"error_code": 400, "message": "Desired 'level' parameter was not specified in request."})
    assert worker.request("GET", "/admin/loggers/no.such.logger") == \
        (404, {"error_code": 404, "message": "Logger no.such.logger not found."})


def test_a_paused_sink_loses_nothing(worker, broker):
    from confluent_kafka import Producer

    out = worker.dir / "paused.out"
    config = {"connector.class": "FileStreamSink", "file": str(out), "topics": "paused-in",
              "value.converter": "org.apache.kafka.connect.storage.StringConverter"}
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    producer.produce("paused-in", b"before")
    assert producer.flush(10) == 0
    assert worker.request("POST", "/connectors", {"name": "paused", "config": config})[0] == 201
    wait_for(lambda: out.exists() and out.read_text() == "before\n", what="the first record")
    assert worker.request("PUT", "/connectors/paused/pause") == (202, None)
    wait_for(lambda: states(worker, "paused") == ("PAUSED", ["PAUSED"]), what="PAUSED")
    for i in range(3):
        producer.produce("paused-in", f"while paused {i}".encode())
    assert producer.flush(10) == 0
    assert out.read_text() == "before\n"
    assert worker.request("PUT", "/connectors/paused/resume") == (202, None)
    wait_for(lambda: out.read_text() == "before\nwhile paused 0\nwhile paused 1\nwhile paused 2\n",
             what="the records produced while paused")
    assert worker.request("DELETE", "/connectors/paused") == (204, None)


def test_source_topic_creation_kip158(worker, broker):
    from confluent_kafka.admin import AdminClient, ConfigResource

    (worker.dir / "created.txt").write_text("a\n")
    config = {"connector.class": "FileStreamSource", "file": str(worker.dir / "created.txt"),
              "topic": "special-created", "topic.creation.default.replication.factor": "1",
              "topic.creation.default.partitions": "3", "topic.creation.groups": "special",
              "topic.creation.special.include": "special-.*", "topic.creation.special.partitions": "2",
              "topic.creation.special.cleanup.policy": "compact"}
    assert worker.request("POST", "/connectors", {"name": "created", "config": config})[0] == 201
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    topic = wait_for(lambda: admin.list_topics(timeout=10).topics.get("special-created"), what="the topic")
    assert len(topic.partitions) == 2  # the matching group's count, not the default group's 3
    resource = ConfigResource(ConfigResource.Type.TOPIC, "special-created")
    described = admin.describe_configs([resource])[resource].result(10)
    assert described["cleanup.policy"].value == "compact"
    assert worker.request("DELETE", "/connectors/created") == (204, None)
