"""ksqlDB's streaming endpoints and session statements over real HTTP: /inserts-stream over HTTP/2 (httpx with
prior knowledge, curl --http2-prior-knowledge) with its acks and errors, HTTP/1.1 refused as ksqlDB refuses it;
/close-query ending a push query on /query-stream; /status for the commands /ksql answered; DEFINE, UNDEFINE,
SHOW VARIABLES, DESCRIBE FUNCTION and RUN SCRIPT sent to /ksql."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from kafka_wire import wait_for
from sql_helpers import consume, module_ksql, produce

DELIMITED = "application/vnd.ksqlapi.delimited.v1"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql(tmp_path_factory, "ksql-streams") as (broker, k):
        status, body = k.ksql(
            "CREATE STREAM pageviews (user_id VARCHAR KEY, page_id INT, amount DECIMAL(6, 2), tags ARRAY<STRING>) "
            "WITH (kafka_topic='pageviews', value_format='json', partitions=3);"
            "CREATE STREAM secrets (v STRING) WITH (kafka_topic='_confluent-secrets', value_format='json', "
            "partitions=1);"
            "CREATE TABLE users (id VARCHAR PRIMARY KEY, name STRING) WITH (kafka_topic='users', "
            "value_format='json', partitions=1);"
            "CREATE SOURCE STREAM feed (v STRING) WITH (kafka_topic='feed', value_format='json', partitions=1);"
            "CREATE TABLE hourly AS SELECT user_id, COUNT(*) AS n FROM pageviews WINDOW TUMBLING (SIZE 1 HOUR) "
            "GROUP BY user_id;")
        assert status == 200, body
        yield broker, k


def url(k, path: str) -> str:
    return f"http://127.0.0.1:{k.port}{path}"


def inserts(k, lines: list[bytes], accept: str | None = None):
    """POST /inserts-stream over HTTP/2 (prior knowledge, as ksqlDB's clients), the body streamed line by line."""
    import httpx2

    def body():
        yield from lines

    headers = {"Accept": accept} if accept else {}
    with httpx2.Client(http1=False, http2=True, timeout=30) as client:
        resp = client.post(url(k, "/inserts-stream"), content=body(), headers=headers)
    assert resp.http_version == "HTTP/2"
    return resp


def test_inserts_stream_acks_each_row_in_order_and_produces_it(env):
    from kafka.partitioner.default import murmur2

    broker, k = env
    args = json.dumps({"target": "pageviews", "properties": {}}).encode() + b"\n"
    rows = [{"USER_ID": f"u{i}", "page_id": i, "amount": 1.5 + i, "TAGS": ["a", str(i)]} for i in range(6)]
    resp = inserts(k, [args, *(json.dumps(r).encode() + b"\n" for r in rows)])
    assert resp.status_code == 200 and resp.headers["content-type"] == DELIMITED
    assert [json.loads(line) for line in resp.text.splitlines()] == [{"status": "ok", "seq": i} for i in range(6)]

    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "check-pv", "enable.auto.commit": False})
    c.assign([TopicPartition("pageviews", p, 0) for p in range(3)])
    got: dict[bytes, tuple[int, dict]] = {}
    deadline = time.monotonic() + 30
    while len(got) < 6 and time.monotonic() < deadline:
        for m in c.consume(10, 0.5):
            if not m.error():
                got[m.key()] = (m.partition(), json.loads(m.value()))
    c.close()
    for i in range(6):  # INSERT VALUES' encoding; keys on Kafka's murmur2 partitions
        key = f"u{i}".encode()
        assert got[key] == ((murmur2(key) & 0x7FFFFFFF) % 3,
                            {"PAGE_ID": i, "AMOUNT": 1.5 + i, "TAGS": ["a", str(i)]})


def test_inserts_stream_json_array_and_row_errors_end_the_response(env):
    _, k = env
    args = b'{"target": "PageViews"}\n'
    resp = inserts(k, [args, b'{"user_id": "x1", "page_id": 1}\n', b"{ijqwdijqw\n", b'{"user_id": "x3"}\n'],
                   accept="application/json")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    assert resp.json() == [{"status": "ok", "seq": 0}, {
        "@type": "InsertError", "error_code": 40000, "message": "Invalid JSON in inserts stream",
        "status": "error", "seq": 1}]
    resp = inserts(k, [args, b'{"page_id": 1}\n'])
    assert [json.loads(line) for line in resp.text.splitlines()] == [{
        "@type": "InsertError", "error_code": 40000, "message": "Key field must be specified: USER_ID",
        "status": "error", "seq": 0}]
    resp = inserts(k, [args, b'{"user_id": "x", "page_id": 1}\n{"user_id": "y", "page_id": "two"}\n'],
                   accept="application/json")
    assert resp.json() == [{"status": "ok", "seq": 0}, {
        "@type": "InsertError", "error_code": 40000, "status": "error", "seq": 1,
        "message": "Can't coerce a field of type class java.lang.String into type INTEGER"}]
    resp = inserts(k, [args], accept="application/json")  # no rows: an empty array
    assert resp.status_code == 200 and resp.json() == []


def test_inserts_stream_into_a_table_with_content_negotiation(env):
    broker, k = env
    rows = [b'{"target": "users"}\n', b'{"id": "u1", "name": "Ann"}\n', b'{"ID": "u2", "`NAME`": "Bob"}\n']
    resp = inserts(k, rows, accept="application/json; q=0.5, application/vnd.ksqlapi.delimited.v1; q=0.9")
    assert resp.status_code == 200 and resp.headers["content-type"] == DELIMITED
    assert resp.text == '{"status":"ok","seq":0}\n{"status":"ok","seq":1}\n'
    assert sorted(consume(broker.bootstrap, "users", 2)) == [(b"u1", b'{"NAME":"Ann"}'), (b"u2", b'{"NAME":"Bob"}')]
    resp = inserts(k, rows[:1], accept="*/*")
    assert resp.status_code == 200 and resp.headers["content-type"] == DELIMITED
    resp = inserts(k, rows[:1], accept="text/plain")  # neither type it produces: Vert.x's 406
    assert resp.status_code == 406 and resp.content == b""


@pytest.mark.parametrize(("target", "code", "message"), [
    ("nosuch", 40001, "Cannot insert values into an unknown stream/table: `NOSUCH`"),
    ("`pageviews`", 40001, "Cannot insert values into an unknown stream/table: `pageviews`\nDid you mean PAGEVIEWS? "
                           "Hint: try removing double quotes from the source name."),
    ("hourly", 40001, "Cannot insert values into windowed stream/table"),
    ("secrets", 40001, "Cannot insert values into read-only topic: _confluent-secrets"),
    ("feed", 40001, "Cannot insert values into read-only stream: FEED"),
])
def test_inserts_stream_refuses_targets_as_ksqldb(env, target, code, message):
    _, k = env
    resp = inserts(k, [json.dumps({"target": target}).encode() + b"\n", b'{"v": "x"}\n'])
    assert resp.status_code == 400
    assert resp.json() == {"@type": "generic_error", "error_code": code, "message": message}


def test_inserts_stream_bad_arguments_and_http1_refused(env, tmp_path):
    _, k = env
    resp = inserts(k, [b'{"properties": {}}\n'])
    assert resp.status_code == 400 and resp.json()["error_code"] == 40000
    assert resp.json()["message"].startswith("Invalid JSON in request: Missing required creator property 'target'")
    # curl: HTTP/1.1 with a chunked body is refused (ksqlDB serves its streaming endpoints on HTTP/2 only) ...
    body = tmp_path / "rows.jsonl"
    body.write_bytes(b'{"target": "pageviews"}\n{"user_id": "c1", "page_id": 7}\n{"user_id": "c2", "page_id": 8}\n')
    out = subprocess.run(["curl", "-sS", "-X", "POST", "-H", "Transfer-Encoding: chunked", "--data-binary",
                          f"@{body}", "-w", "\n%{http_code} %{http_version}", url(k, "/inserts-stream")],
                         capture_output=True, timeout=30, check=True).stdout.decode().rsplit("\n", 1)
    assert out[1] == "400 1.1" and json.loads(out[0]) == {
        "@type": "generic_error", "error_code": 40004, "message": "This endpoint is only available when using HTTP2"}
    # ... and served over HTTP/2 with prior knowledge
    out = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-X", "POST", "--data-binary", f"@{body}",
                          "-w", "\n%{http_code} %{http_version}", url(k, "/inserts-stream")],
                         capture_output=True, timeout=30, check=True).stdout.decode().strip().rsplit("\n", 1)
    assert out[1] == "200 2"
    assert [json.loads(line) for line in out[0].splitlines()] == [{"status": "ok", "seq": 0},
                                                                  {"status": "ok", "seq": 1}]


def test_inserts_stream_acks_while_the_request_still_streams(env):
    """Each row's ack arrives before the next row is sent, on one HTTP/2 stream (h2, the protocol stack under
    hypercorn and httpx; curl's stdin upload blocks its reads): the body is read as it streams in."""
    import socket

    import h2.connection
    import h2.events

    _, k = env
    sock = socket.create_connection(("127.0.0.1", k.port), timeout=30)  # bounds every recv below
    conn = h2.connection.H2Connection()
    conn.initiate_connection()
    conn.send_headers(1, [(":method", "POST"), (":path", "/inserts-stream"), (":scheme", "http"),
                          (":authority", f"127.0.0.1:{k.port}")])
    conn.send_data(1, b'{"target": "pageviews"}\n')
    sock.sendall(conn.data_to_send())
    got: dict = {"body": b"", "ended": False}

    def until(done) -> None:
        deadline = time.monotonic() + 30
        while not done():
            assert time.monotonic() < deadline
            data = sock.recv(65536)
            assert data, "connection closed"
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    got["status"] = dict(event.headers)[b":status"]
                elif isinstance(event, h2.events.DataReceived):
                    got["body"] += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    got["ended"] = True
            sock.sendall(conn.data_to_send())

    try:
        for i in range(3):
            conn.send_data(1, json.dumps({"user_id": f"d{i}", "page_id": 100 + i}).encode() + b"\n")
            sock.sendall(conn.data_to_send())
            until(lambda i=i: got["body"].count(b"\n") == i + 1)
            assert not got["ended"]
        conn.end_stream(1)
        sock.sendall(conn.data_to_send())
        until(lambda: got["ended"])
    finally:
        sock.close()
    assert got["status"] == b"200"
    assert [json.loads(line) for line in got["body"].splitlines()] == [{"status": "ok", "seq": i} for i in range(3)]


def test_close_query_ends_a_push_query(env):
    import httpx2

    broker, k = env
    produce(broker.bootstrap, "pageviews", [(b"p1", b'{"PAGE_ID": 1}')])  # a row for the query to stream first
    with httpx2.Client(http1=False, http2=True, timeout=30) as client:
        with client.stream("POST", url(k, "/query-stream"), headers={"Accept": DELIMITED}, json={
                "sql": "SELECT user_id, page_id FROM pageviews EMIT CHANGES;",
                "properties": {"auto.offset.reset": "earliest"}}) as resp:
            lines = resp.iter_lines()
            query_id = json.loads(next(lines))["queryId"]
            assert query_id.startswith("transient_PAGEVIEWS_")
            first = json.loads(next(lines))
            assert len(first) == 2
            started = time.monotonic()
            closed = client.post(url(k, "/close-query"), json={"queryId": query_id})
            assert closed.status_code == 200 and closed.content == b""
            rest = list(lines)  # the response ends: the iteration finishes
            assert time.monotonic() - started < 10
            assert all(len(json.loads(line)) == 2 for line in rest if line)
        again = client.post(url(k, "/close-query"), json={"queryId": query_id})
        assert again.status_code == 400 and again.json() == {
            "@type": "generic_error", "error_code": 40000, "message": f"No query with id {query_id}"}
    # the JSON form: closed, its array ends
    result: dict = {}

    def reader() -> None:
        with httpx2.Client(timeout=30) as c, c.stream("POST", url(k, "/query-stream"), json={
                "sql": "SELECT page_id FROM pageviews EMIT CHANGES;", "properties": {}}) as r:
            text = b""
            for chunk in r.iter_bytes():
                text += chunk
                if "id" not in result and b"}" in text:
                    result["id"] = json.loads(text[1:text.index(b"}") + 1])["queryId"]
            result["body"] = text

    t = threading.Thread(target=reader)
    t.start()
    wait_for(lambda: "id" in result, 20, interval=0.05, what="the push query's id")
    status, _, body = k.request("POST", "/close-query", {"queryId": result["id"]})
    assert status == 200
    t.join(20)
    assert not t.is_alive() and json.loads(result["body"])[0]["queryId"] == result["id"]
    status, _, body = k.request("POST", "/close-query", raw=b"{nope")
    assert status == 400 and json.loads(body)["message"].startswith("Invalid JSON in request: ")


def test_status_of_commands(env):
    _, k = env
    status, body = k.ksql("CREATE STREAM st_a (v STRING) WITH (kafka_topic='st_a', value_format='json', "
                          "partitions=1); DROP STREAM st_a;")
    assert status == 200, body
    assert [e["commandId"] for e in body] == ["stream/`ST_A`/create", "stream/ST_A/drop"]
    status, _, raw = k.request("GET", "/status")
    statuses = json.loads(raw)["commandStatuses"]
    assert status == 200 and statuses["stream/`PAGEVIEWS`/create"] == "SUCCESS"
    assert statuses["table/`HOURLY`/create"] == statuses["stream/ST_A/drop"] == "SUCCESS"
    status, _, raw = k.request("GET", "/status/stream/%60PAGEVIEWS%60/create")
    assert status == 200 and json.loads(raw) == {"status": "SUCCESS", "message": "Stream created", "queryId": None}
    status, _, raw = k.request("GET", "/status/table/%60HOURLY%60/create")
    assert json.loads(raw)["queryId"].startswith("CTAS_HOURLY_")
    status, _, raw = k.request("GET", "/status/stream/NOSUCH/create")
    assert status == 404 and json.loads(raw) == {"@type": "generic_error", "error_code": 40400,
                                                 "message": "Command not found"}


def test_define_undefine_and_variables_on_ksql(env):
    broker, k = env
    status, body = k.ksql("DEFINE topic = 'vars_topic'; DEFINE name = 'vars';\n"
                          "CREATE STREAM ${name} (v STRING) WITH (kafka_topic='${topic}', value_format='json', "
                          "partitions=1);\nSHOW VARIABLES; UNDEFINE name; UNDEFINE never;\n"
                          "INSERT INTO ${NAME} (v) VALUES ('x');")
    assert status == 400 and "Syntax Error" in body["message"], body  # ${NAME}: undefined by then
    status, body = k.ksql("SHOW STREAMS;")  # the request was parsed whole first: none of it ran
    assert "VARS" not in [s["name"] for s in body[0]["streams"]]
    # SET holds across the session statements too: the CREATE takes its value format from it
    status, body = k.ksql("SET 'ksql.persistence.default.format.value' = 'JSON';\n"
                          "DEFINE topic = 'vars_topic'; DEFINE name = 'vars';\n"
                          "CREATE STREAM ${name} (v STRING) WITH (kafka_topic='${topic}', partitions=1);\n"
                          "SHOW VARIABLES; UNDEFINE name; UNDEFINE never;\n"
                          "INSERT INTO vars (v) VALUES ('${topic}');")
    assert status == 200, body
    assert [e["@type"] for e in body] == ["currentStatus", "variables", "warning_entity"]
    assert body[0]["commandId"] == "stream/`VARS`/create" and "${" not in body[0]["statementText"]
    assert body[1]["variables"] == [{"name": "name", "value": "vars"}, {"name": "topic", "value": "vars_topic"}]
    assert body[2] == {"@type": "warning_entity", "statementText": "UNDEFINE never;",
                       "message": "Cannot undefine variable 'never' which was never defined", "warnings": []}
    assert json.loads(consume(broker.bootstrap, "vars_topic", 1)[0][1]) == {"V": "vars_topic"}
    # variables sent with the request (KsqlRequest's sessionVariables)
    status, _, raw = k.request("POST", "/ksql", {"ksql": "SHOW VARIABLES;", "sessionVariables": {"a": 1}})
    assert status == 200 and json.loads(raw)[0]["variables"] == [{"name": "a", "value": "1"}]
    # ksql.variable.substitution.enable=false: variables are kept, never substituted
    status, _, raw = k.request("POST", "/ksql", {"ksql": "INSERT INTO vars (v) VALUES ('${topic}');",
                                                 "sessionVariables": {"topic": "no"},
                                                 "streamsProperties": {"ksql.variable.substitution.enable": False}})
    assert status == 200, raw
    assert json.loads(consume(broker.bootstrap, "vars_topic", 2)[1][1]) == {"V": "${topic}"}


def test_describe_function_and_run_script_on_ksql(env, tmp_path):
    _, k = env
    status, body = k.ksql("DESCRIBE FUNCTION substring;")
    assert status == 200, body
    fn = body[0]
    assert fn["@type"] == "describe_function" and fn["name"] == "SUBSTRING" and fn["type"] == "SCALAR"
    # ksqlDB's udf/string/Substring.java: a string and a bytes variant of each argument count
    assert (fn["author"], fn["version"], fn["path"]) == ("Confluent", "", "internal")
    assert fn["description"] == "Returns the portion of the string or bytes passed in value."
    assert [([(a["name"], a["type"]) for a in f["arguments"]], f["returnType"]) for f in fn["functions"]] == [
        ([("str", "VARCHAR"), ("pos", "INT")], "VARCHAR"),
        ([("str", "VARCHAR"), ("pos", "INT"), ("length", "INT")], "VARCHAR"),
        ([("bytes", "BYTES"), ("pos", "INT")], "BYTES"),
        ([("bytes", "BYTES"), ("pos", "INT"), ("length", "INT")], "BYTES")]
    status, body = k.ksql("DESCRIBE FUNCTION count;")
    assert status == 200 and body[0]["type"] == "AGGREGATE"
    status, body = k.ksql("DESCRIBE FUNCTION nosuch;")
    assert status == 400 and body == {"@type": "statement_error", "error_code": 40001, "message":
                                      "Can't find any functions with the name 'NOSUCH'",
                                      "statementText": "DESCRIBE FUNCTION nosuch;", "entities": []}
    script = tmp_path / "s.sql"
    script.write_text("SHOW STREAMS;\n")
    text = f"RUN SCRIPT '{script}';"
    status, body = k.ksql(text)  # the CLI's command: ksqlDB's server grammar has no RUN SCRIPT
    assert status == 400 and body == {"@type": "statement_error", "error_code": 40001, "message":
                                      "line 1:1: Syntax Error\nUnknown statement 'RUN'\nDid you mean 'PRINT'?",
                                      "statementText": text, "entities": []}


def test_cli_prints_a_function_description(env, tmp_path):
    _, k = env
    done = subprocess.run([str(Path(sys.executable).parent / "ksql"), f"http://127.0.0.1:{k.port}"],
                          input="DESCRIBE FUNCTION concat;\nDESCRIBE FUNCTION transform;\nexit\n", capture_output=True,
                          text=True, timeout=60, env={**os.environ, "HOME": str(tmp_path), "COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    # Console.printFunctionDescription: no Author line for an empty author (udf/string/Concat.java has none), a
    # variadic argument as `TYPE[]`, each argument's description under its name
    assert ("Name        : CONCAT\nOverview    : Concatenate an arbitrary number of string or bytes fields together\n"
            "Type        : SCALAR\nJar         : internal\nVariations  : \n\n"
            "\tVariation   : CONCAT(inputs VARCHAR[])\n\tReturns     : VARCHAR\n"
            "\tinputs      : The varchar fields to concatenate\n\n"
            "\tVariation   : CONCAT(inputs BYTES[])\n\tReturns     : BYTES\n"
            "\tinputs      : The bytes fields to concatenate\n") in done.stdout
    # splitLongLine: a description wrapped at 80 less the label's width, a space that passes it leading the line
    assert ("\tVariation   : TRANSFORM(array ARRAY<T>, function LAMBDA (T) => R)\n\tReturns     : ARRAY<R>\n"
            "\tDescription : When transforming an array, the function provided must have two \n"
            "                arguments. The two arguments for each function are in order: the\n"
            "                 key and then the value. The transformed array is returned.\n"
            "\tarray       : The array\n\tfunction    : The lambda function\n") in done.stdout


def test_statuses_are_rebuilt_from_the_command_topic_after_a_restart(env):
    _, k = env
    k.stop()
    k.start()
    status, _, raw = k.request("GET", "/status")
    statuses = json.loads(raw)["commandStatuses"]
    assert status == 200 and statuses["stream/`PAGEVIEWS`/create"] == statuses["stream/ST_A/drop"] == "SUCCESS"
    status, _, raw = k.request("GET", "/status/table/%60HOURLY%60/create")
    assert status == 200 and json.loads(raw)["message"].startswith("Created query with ID CTAS_HOURLY_")
