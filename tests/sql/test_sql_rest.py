"""ksqlDB's REST API over HTTP as its docs drive it with curl: statements on /ksql, push queries on /query and
/query-stream, persistent queries, errors in ksqlDB's body shape, and a restart that restores from the command
topic."""

from __future__ import annotations

import json
import time

import pytest
from sql_helpers import consume, module_ksql, produce

RIDERS = [(b"c2309eec", {"profileId": "c2309eec", "latitude": 37.7877, "longitude": -122.4205}),
          (b"18f4ea86", {"profileId": "18f4ea86", "latitude": 37.3903, "longitude": -122.0643}),
          (b"4ab5cbad", {"profileId": "4ab5cbad", "latitude": 37.3952, "longitude": -122.0813}),
          (b"8b6eae59", {"profileId": "8b6eae59", "latitude": 37.3944, "longitude": -122.0813}),
          (b"4a7c7b41", {"profileId": "4a7c7b41", "latitude": 37.4049, "longitude": -122.0822}),
          (b"4ddad000", {"profileId": "4ddad000", "latitude": 37.7857, "longitude": -122.4011})]
EARLIEST = {"ksql.streams.auto.offset.reset": "earliest"}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql(tmp_path_factory, "ksql-rest", {
        "ksql.streams.processing.guarantee": "exactly_once_v2",
        "ksql.streams.session.timeout.ms": "6000"}
                     ) as (broker, k):
        status, body = k.ksql("CREATE STREAM riderLocations (profileId VARCHAR, latitude DOUBLE, longitude DOUBLE)\n"
                              "  WITH (kafka_topic='locations', value_format='json', partitions=1);")
        assert status == 200, body
        produce(broker.bootstrap, "locations", [(k_, json.dumps(v).encode()) for k_, v in RIDERS])
        yield broker, k


def query_lines(k, sql: str, props: dict | None = None) -> list:
    status, ctype, body = k.request("POST", "/query", {"ksql": sql, "streamsProperties": props or EARLIEST})
    assert status == 200 and ctype.startswith("application/json"), body
    return json.loads(body)


def test_info_and_healthcheck(env):
    _, k = env
    status, _, body = k.request("GET", "/info")
    info = json.loads(body)["KsqlServerInfo"]
    assert status == 200 and info["ksqlServiceId"] == "default_" and info["serverStatus"] == "RUNNING"
    assert info["kafkaClusterId"] and info["version"]
    status, _, body = k.request("GET", "/healthcheck")
    assert status == 200 and json.loads(body) == {"isHealthy": True, "details": {
        "metastore": {"isHealthy": True}, "kafka": {"isHealthy": True}, "commandRunner": {"isHealthy": True}}}


def test_create_stream_answer_show_and_describe(env):
    _, k = env
    status, body = k.ksql("SHOW STREAMS;")
    assert status == 200 and body == [{"@type": "streams", "statementText": "SHOW STREAMS;", "streams": [
        {"type": "STREAM", "name": "RIDERLOCATIONS", "topic": "locations", "keyFormat": "KAFKA",
         "valueFormat": "JSON", "isWindowed": False}], "warnings": []}]
    status, body = k.ksql("CREATE STREAM s2 (id INT KEY, name STRING) WITH (kafka_topic='s2', format='json', "
                          "partitions=2); list tables;")
    assert status == 200, body
    assert body[0]["@type"] == "currentStatus" and body[0]["commandId"] == "stream/`S2`/create"
    assert body[0]["commandStatus"] == {"status": "SUCCESS", "message": "Stream created", "queryId": None}
    assert isinstance(body[0]["commandSequenceNumber"], int) and body[0]["commandSequenceNumber"] > 0
    assert body[1] == {"@type": "tables", "statementText": "list tables;", "tables": [], "warnings": []}
    status, body = k.ksql("LIST TOPICS;")
    names = [t["name"] for t in body[0]["topics"]]
    assert body[0]["@type"] == "kafka_topics" and "locations" in names and "s2" in names
    assert {"name": "s2", "replicaInfo": [1, 1]} in body[0]["topics"]
    assert not any(n.startswith("_") for n in names)
    status, body = k.ksql("DESCRIBE s2;")
    desc = body[0]["sourceDescription"]
    assert body[0]["@type"] == "sourceDescription" and desc["name"] == "S2" and desc["type"] == "STREAM"
    assert desc["fields"] == [
        {"name": "ID", "schema": {"type": "INTEGER", "fields": None, "memberSchema": None}, "type": "KEY"},
        {"name": "NAME", "schema": {"type": "STRING", "fields": None, "memberSchema": None}}]
    assert (desc["keyFormat"], desc["valueFormat"], desc["topic"]) == ("JSON", "JSON", "s2")
    status, body = k.ksql("DROP STREAM s2 DELETE TOPIC;")
    assert body[0]["commandStatus"]["message"] == "Source `S2` (topic: s2) was dropped."
    assert k.ksql("SHOW STREAMS;")[1][0]["streams"][0]["name"] == "RIDERLOCATIONS"


def test_push_query_on_query_endpoint_with_limit(env):
    _, k = env
    lines = query_lines(k, "SELECT * FROM riderLocations\n  WHERE GEO_DISTANCE(latitude, longitude, 37.4133, "
                           "-122.1162) <= 5 EMIT CHANGES LIMIT 3;")
    header = lines[0]["header"]
    assert header["queryId"].startswith("transient_RIDERLOCATIONS_")
    assert header["schema"] == "`PROFILEID` STRING, `LATITUDE` DOUBLE, `LONGITUDE` DOUBLE"
    # the three riders ksqlDB's quickstart shows within 5 km of Mountain View
    assert [r["row"]["columns"] for r in lines[1:-1]] == [["4ab5cbad", 37.3952, -122.0813],
                                                          ["8b6eae59", 37.3944, -122.0813],
                                                          ["4a7c7b41", 37.4049, -122.0822]]
    assert lines[-1] == {"finalMessage": "Limit Reached"}


def test_projection_expressions_and_functions(env):
    _, k = env
    lines = query_lines(k, "SELECT UCASE(profileId) AS id, ROUND(latitude, 1), latitude > 37.5 AS north, "
                           "CASE WHEN longitude < -122.3 THEN 'sf' ELSE 'south' END AS area, "
                           "SUBSTRING(profileId, 1, 4) || '!' FROM riderLocations EMIT CHANGES LIMIT 2;")
    # unaliased expressions are numbered in order (explode.json "udfs with table functions and no aliases")
    assert lines[0]["header"]["schema"] == ("`ID` STRING, `KSQL_COL_0` DOUBLE, `NORTH` BOOLEAN, `AREA` STRING, "
                                            "`KSQL_COL_1` STRING")
    assert [r["row"]["columns"] for r in lines[1:3]] == [["C2309EEC", 37.8, True, "sf", "c230!"],
                                                         ["18F4EA86", 37.4, False, "south", "18f4!"]]


def test_query_stream_delimited(env):
    _, k = env
    status, ctype, body = k.request("POST", "/query-stream", {
        "sql": "SELECT profileId, latitude FROM riderLocations WHERE latitude < 37.5 EMIT CHANGES LIMIT 2;",
        "properties": {"auto.offset.reset": "earliest"}}, headers={"Accept": "application/vnd.ksqlapi.delimited.v1"})
    assert status == 200 and ctype.startswith("application/vnd.ksqlapi.delimited.v1")
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert lines[0]["columnNames"] == ["PROFILEID", "LATITUDE"] and lines[0]["columnTypes"] == ["STRING", "DOUBLE"]
    assert lines[1:] == [["18f4ea86", 37.3903], ["4ab5cbad", 37.3952]]
    status, ctype, body = k.request("POST", "/query-stream", {
        "sql": "SELECT profileId FROM riderLocations EMIT CHANGES LIMIT 1;",
        "properties": {"auto.offset.reset": "earliest"}})
    assert status == 200 and json.loads(body)[1:] == [["c2309eec"]]


def test_insert_values_reaches_a_running_push_query(env):
    broker, k = env
    status, body = k.ksql("INSERT INTO riderLocations (profileId, latitude, longitude) VALUES ('new1', 1.5, 2.5);")
    assert (status, body) == (200, [])
    records = consume(broker.bootstrap, "locations", len(RIDERS) + 1)
    assert json.loads(records[-1][1]) == {"PROFILEID": "new1", "LATITUDE": 1.5, "LONGITUDE": 2.5}
    lines = query_lines(k, "SELECT profileId FROM riderLocations WHERE profileId = 'new1' EMIT CHANGES LIMIT 1;")
    assert lines[1] == {"row": {"columns": ["new1"]}}


def test_persistent_query_csas(env):
    broker, k = env
    status, body = k.ksql("CREATE STREAM nearby AS SELECT profileId, latitude * 2 AS dbl FROM riderLocations "
                          "WHERE latitude < 37.5 EMIT CHANGES;", EARLIEST)
    assert status == 200, body
    query_id = body[0]["commandStatus"]["queryId"]
    assert query_id == f"CSAS_NEARBY_{body[0]['commandSequenceNumber']}"
    assert body[0]["commandStatus"]["message"] == f"Created query with ID {query_id}"
    records = consume(broker.bootstrap, "NEARBY", 4)
    assert [json.loads(v) for _, v in records] == [{"PROFILEID": "18f4ea86", "DBL": 74.7806},
                                                   {"PROFILEID": "4ab5cbad", "DBL": 74.7904},
                                                   {"PROFILEID": "8b6eae59", "DBL": 74.7888},
                                                   {"PROFILEID": "4a7c7b41", "DBL": 74.8098}]
    status, body = k.ksql("SHOW QUERIES;")
    q = body[0]["queries"][0]
    assert (q["id"], q["sinks"], q["sinkKafkaTopics"], q["queryType"], q["state"]) == (
        query_id, ["NEARBY"], ["NEARBY"], "PERSISTENT", "RUNNING")
    # the sink is a stream like any other: a push query reads it
    lines = query_lines(k, "SELECT * FROM nearby EMIT CHANGES LIMIT 1;")
    assert lines[1] == {"row": {"columns": ["18f4ea86", 74.7806]}}
    # a source a query writes into cannot be dropped until the query is terminated
    status, body = k.ksql("DROP STREAM nearby;")
    assert status == 400 and body["error_code"] == 40001 and query_id in body["message"]
    assert k.ksql(f"TERMINATE {query_id};")[1][0]["commandStatus"]["message"] == "Query terminated."
    assert k.ksql("SHOW QUERIES;")[1][0]["queries"] == []
    assert k.ksql("DROP STREAM nearby;")[0] == 200


@pytest.mark.parametrize("sql, code, message", [
    ("SELEC * FROM riderLocations;", 40001, "line 1:1: Syntax Error"),
    ("SHOW STREAMS", 40001, "line 1:13: Syntax Error"),
    ("SELECT * FROM riderLocations EMIT CHANGES;", 40002, "should be issued to the websocket endpoint '/query'"),
    ("CREATE STREAM x (a INT) WITH (kafka_topic='absent', value_format='JSON');", 40001,
     "Topic 'absent' does not exist."),
    ("CREATE STREAM x (a INT) WITH (kafka_topic='locations');", 40001, "missing the 'VALUE_FORMAT' property"),
    ("CREATE STREAM riderLocations (a INT) WITH (kafka_topic='locations', value_format='JSON');", 40001,
     "Cannot add stream 'RIDERLOCATIONS': A stream with the same name already exists"),
    ("CREATE TABLE t (a INT) WITH (kafka_topic='locations', value_format='JSON');", 40001,
     "Tables require a PRIMARY KEY."),
    ("DESCRIBE nope;", 40001, "Could not find STREAM/TABLE 'NOPE' in the Metastore"),
    ("DROP STREAM nope;", 40001, "Stream NOPE does not exist."),
    ("CREATE STREAM bad AS SELECT nope FROM riderLocations EMIT CHANGES;", 40001,
     "SELECT column 'NOPE' cannot be resolved."),
    # the schema-registry formats on a server without ksql.schema.registry.url
    ("CREATE STREAM sr WITH (kafka_topic='locations', value_format='AVRO');", 40001,
     "Schema registry fetch for topic value request failed for topic: locations\nCaused by: KSQL is not configured to "
     "use a schema registry. To enable it, please set ksql.schema.registry.url"),
    ("CREATE STREAM sr (a INT) WITH (kafka_topic='locations', value_format='PROTOBUF');", 40001,
     "Cannot create topic 'locations' with format PROTOBUF without configuring 'ksql.schema.registry.url'"),
])
def test_errors_in_ksqldb_shape(env, sql, code, message):
    _, k = env
    status, body = k.ksql(sql)
    assert status == code // 100 and body["@type"] == "statement_error" and body["error_code"] == code, body
    assert message in body["message"] and body["statementText"] and body["entities"] == []
    assert k.ksql("SHOW STREAMS;")[0] == 200  # the server stays up


def test_query_errors_and_bad_bodies(env):
    _, k = env
    status, _, body = k.request("POST", "/query", {"ksql": "SELECT * FROM nope EMIT CHANGES;",
                                                   "streamsProperties": {}})
    assert status == 400 and json.loads(body)["error_code"] == 40001 and "NOPE does not exist" in json.loads(body)[
        "message"]
    status, _, body = k.request("POST", "/query", {"ksql": "SELECT latitude + 'x' > 1 FROM riderLocations "
                                                           "WHERE latitude EMIT CHANGES;"})
    assert status == 400 and json.loads(body)["@type"] == "statement_error"
    status, _, body = k.request("POST", "/ksql", raw=b"{not json")
    assert status == 400 and json.loads(body)["@type"] == "generic_error" and json.loads(body)["error_code"] == 40000
    status, _, body = k.request("GET", "/nope")
    assert status == 404 and json.loads(body) == {"@type": "generic_error", "error_code": 40400,
                                                  "message": "HTTP 404 Not Found"}


RIDES = [("sf", 10), ("la", 5), ("sf", 12), ("ny", 7), ("sf", 8), ("la", 1)]


def pull(k, sql: str) -> list:
    lines = query_lines(k, sql, {})
    assert "header" in lines[0] and not any("finalMessage" in line for line in lines), lines
    return [line["row"]["columns"] for line in lines[1:]]


def test_table_aggregate_and_pull_queries(env):
    broker, k = env
    assert k.ksql("CREATE STREAM rides (id STRING KEY, city STRING, fare INT) WITH (kafka_topic='rides', "
                  "value_format='JSON', partitions=2);")[0] == 200
    produce(broker.bootstrap, "rides", [(f"r{i}".encode(), json.dumps({"city": c, "fare": f}).encode())
                                        for i, (c, f) in enumerate(RIDES)])
    status, body = k.ksql("CREATE TABLE city_totals AS SELECT city, COUNT(*) AS rides, SUM(fare) AS total, "
                          "MAX(fare) AS top FROM rides GROUP BY city EMIT CHANGES;", EARLIEST)
    assert status == 200, body
    query_id = body[0]["commandStatus"]["queryId"]
    assert query_id == f"CTAS_CITY_TOTALS_{body[0]['commandSequenceNumber']}"
    # every update reaches the table's topic, keyed by the group (KAFKA key format) with the aggregates as value
    records = consume(broker.bootstrap, "CITY_TOTALS", len(RIDES))
    latest = {key: json.loads(value) for key, value in records}
    assert latest == {b"sf": {"RIDES": 3, "TOTAL": 30, "TOP": 12}, b"la": {"RIDES": 2, "TOTAL": 6, "TOP": 5},
                      b"ny": {"RIDES": 1, "TOTAL": 7, "TOP": 7}}
    # the store's changelog topic, named as ksqlDB names it
    changelog = f"_confluent-ksql-default_query_{query_id}-Aggregate-Aggregate-Materialize-changelog"
    # written once per batch and key (the last value), as Kafka Streams' cache writes it
    assert {key for key, _ in consume(broker.bootstrap, changelog, 3)} == {b"sf", b"la", b"ny"}
    desc = k.ksql("DESCRIBE city_totals;")[1][0]["sourceDescription"]
    assert desc["type"] == "TABLE" and [(f["name"], f["schema"]["type"], f.get("type")) for f in desc["fields"]] == [
        ("CITY", "STRING", "KEY"), ("RIDES", "BIGINT", None), ("TOTAL", "INTEGER", None), ("TOP", "INTEGER", None)]
    # pull queries: a key lookup and a table scan, answered from the store
    assert pull(k, "SELECT * FROM city_totals WHERE city = 'sf';") == [["sf", 3, 30, 12]]
    assert sorted(pull(k, "SELECT city, total FROM city_totals;")) == [["la", 6], ["ny", 7], ["sf", 30]]
    assert pull(k, "SELECT * FROM city_totals WHERE city = 'nowhere';") == []
    # a pull query on the stream scans its topic (test_sql_pull_streams.py has the rest)
    lines = query_lines(k, "SELECT city, fare FROM rides WHERE fare > 7;", {})
    assert sorted(line["row"]["columns"] for line in lines[1:-1]) == [["sf", 8], ["sf", 10], ["sf", 12]]
    assert lines[-1] == {"finalMessage": "Query Completed"}
    status, body = k.ksql("CREATE STREAM bad AS SELECT city, COUNT(*) FROM rides GROUP BY city EMIT CHANGES;")
    assert status == 400 and "Please use CREATE TABLE AS SELECT" in body["message"]
    status, body = k.ksql("CREATE TABLE bad AS SELECT city, fare, COUNT(*) FROM rides GROUP BY city EMIT CHANGES;")
    assert status == 400 and "Non-aggregate SELECT expression(s) not part of GROUP BY" in body["message"]


def test_header_schema_marks_keys_only_for_pull_queries_on_tables(env):
    _, k = env
    # push-queries.json "windowed table - STRING key": a push query's header has no ` KEY`, on a table too
    lines = query_lines(k, "SELECT * FROM city_totals EMIT CHANGES LIMIT 1;")
    assert lines[0]["header"]["schema"] == "`CITY` STRING, `RIDES` BIGINT, `TOTAL` INTEGER, `TOP` INTEGER"
    # pull-queries-against-ctas-materialized.json: a pull query on a table marks its key columns, projected or not
    lines = query_lines(k, "SELECT * FROM city_totals WHERE city = 'sf';", {})
    assert lines[0]["header"]["schema"] == "`CITY` STRING KEY, `RIDES` BIGINT, `TOTAL` INTEGER, `TOP` INTEGER"
    lines = query_lines(k, "SELECT city, total FROM city_totals WHERE city = 'sf';", {})
    assert lines[0]["header"]["schema"] == "`CITY` STRING KEY, `TOTAL` INTEGER"
    # pull-queries-against-streams.json: a pull query on a stream has none (its key column is a value column)
    lines = query_lines(k, "SELECT * FROM rides WHERE fare = 12;", {})
    assert lines[0]["header"]["schema"] == "`ID` STRING, `CITY` STRING, `FARE` INTEGER"


def test_negative_and_bad_limits(env):
    _, k = env
    # pull-queries-with-limit-clause.json "error on negative limit": parsed, refused by the pull query's validator
    for sql in ("SELECT * FROM riderLocations LIMIT -1;", "SELECT * FROM city_totals LIMIT -2;"):
        status, _, body = k.request("POST", "/query", {"ksql": sql, "streamsProperties": {}})
        error = json.loads(body)
        assert status == 400 and error["error_code"] == 40001, error
        assert error["message"] == ("Pull queries don't support negative integers in the LIMIT clause. See "
                                    "https://cnfl.io/queries for more info.\nAdd EMIT CHANGES if you intended to "
                                    "issue a push query.")
    # a push query's limit of 0 or less is reached before any row (push-queries.json "zero limit";
    # TransientQueryQueue counts down from the limit)
    for limit in ("0", "-1"):
        lines = query_lines(k, f"SELECT * FROM riderLocations EMIT CHANGES LIMIT {limit};")
        assert lines == [{"header": {"queryId": lines[0]["header"]["queryId"],
                                     "schema": "`PROFILEID` STRING, `LATITUDE` DOUBLE, `LONGITUDE` DOUBLE"}},
                         {"finalMessage": "Limit Reached"}]
    status, _, body = k.request("POST", "/query-stream", {
        "sql": "SELECT profileId FROM riderLocations EMIT CHANGES LIMIT -5;", "properties": EARLIEST})
    assert status == 200 and json.loads(body) == [{"queryId": json.loads(body)[0]["queryId"],
                                                  "columnNames": ["PROFILEID"], "columnTypes": ["STRING"]}]
    assert query_lines(k, "SELECT * FROM city_totals LIMIT 0;", {})[1:] == []
    # "error on non-integer limit", "error on string limit", "error on limit clause in persistent queries"
    for sql, message in [
            ("SELECT * FROM riderLocations LIMIT 2.5;", "Failed to prepare statement: Value must be integer for "
                                                        "command: LIMIT"),
            ("SELECT * FROM riderLocations LIMIT heh;", "line 1:36: Syntax Error"),
            ("CREATE TABLE currentLocation AS SELECT profileId, LATEST_BY_OFFSET(latitude) AS la FROM "
             "riderlocations GROUP BY profileId LIMIT 5;", "CREATE TABLE AS SELECT statements don't support LIMIT "
                                                          "clause."),
            ("CREATE STREAM currentLocation AS SELECT * FROM riderlocations LIMIT 5;",
             "CREATE STREAM AS SELECT statements don't support LIMIT clause.")]:
        status, body = k.ksql(sql)
        assert status == 400 and body["error_code"] == 40001 and message in body["message"], body


def test_restart_restores_streams_and_queries_from_the_command_topic(env):
    broker, k = env
    status, body = k.ksql("CREATE STREAM upper_riders AS SELECT profileId, UCASE(profileId) AS up "
                          "FROM riderLocations EMIT CHANGES;", EARLIEST)
    assert status == 200, body
    query_id = body[0]["commandStatus"]["queryId"]
    before = consume(broker.bootstrap, "UPPER_RIDERS", len(RIDERS) + 1)
    assert len(before) == len(RIDERS) + 1
    k.stop()
    k.start()
    assert "UPPER_RIDERS" in [s["name"] for s in k.ksql("SHOW STREAMS;")[1][0]["streams"]]
    assert query_id in [q["id"] for q in k.ksql("SHOW QUERIES;")[1][0]["queries"]]
    # the restored query resumes from its committed offsets: a new record is processed once, old ones not again
    produce(broker.bootstrap, "locations", [(b"z", b'{"profileId": "after", "latitude": 1, "longitude": 2}')])
    deadline = time.monotonic() + 30
    while True:
        records = consume(broker.bootstrap, "UPPER_RIDERS", len(before) + 1, timeout=5)
        if len(records) == len(before) + 1 or time.monotonic() > deadline:
            break
    assert json.loads(records[-1][1]) == {"PROFILEID": "after", "UP": "AFTER"}
    assert len(consume(broker.bootstrap, "UPPER_RIDERS", len(before) + 2, timeout=2)) == len(before) + 1


def test_query_stream_over_http2(env):
    import httpx2

    _, k = env
    with httpx2.Client(http1=False, http2=True, timeout=30) as client:  # HTTP/2 with prior knowledge, as ksqlDB's
        resp = client.post(f"http://127.0.0.1:{k.port}/query-stream", json={
            "sql": "SELECT profileId FROM riderLocations EMIT CHANGES LIMIT 2;",
            "properties": {"auto.offset.reset": "earliest"}},
            headers={"Accept": "application/vnd.ksqlapi.delimited.v1"})
    assert resp.http_version == "HTTP/2" and resp.status_code == 200
    lines = [json.loads(line) for line in resp.text.splitlines()]
    assert lines[0]["columnNames"] == ["PROFILEID"] and lines[1:] == [["c2309eec"], ["18f4ea86"]]
    # the table's store is back (from its checkpoint or its changelog): pull queries answer as before
    deadline = time.monotonic() + 30
    while True:
        status, _, body = k.request("POST", "/query", {"ksql": "SELECT * FROM city_totals WHERE city = 'sf';"})
        if status == 200 or time.monotonic() > deadline:
            break
    assert json.loads(body)[1:] == [{"row": {"columns": ["sf", 3, 30, 12]}}]


def test_sigkill_mid_stream_restores_the_table_and_counts_nothing_twice(env):
    broker, k = env

    def sf_total() -> list:
        deadline = time.monotonic() + 30
        while True:
            status, _, body = k.request("POST", "/query", {"ksql": "SELECT rides, total FROM city_totals "
                                                                   "WHERE city = 'sf';"})
            if status == 200 or time.monotonic() > deadline:
                return json.loads(body)[1:] if status == 200 else json.loads(body)

    produce(broker.bootstrap, "rides", [(f"s{i}".encode(), b'{"city": "sf", "fare": 1}') for i in range(50)])
    target = [{"row": {"columns": [53, 80]}}]
    deadline = time.monotonic() + 30
    while sf_total() != target:
        assert time.monotonic() < deadline, sf_total()
    k.kill9()  # no clean shutdown: no checkpoint, the store is rebuilt from the committed changelog
    k.start()
    # an open transaction was aborted: its input records are processed again, and counted once
    deadline = time.monotonic() + 30
    while sf_total() != target:
        assert time.monotonic() < deadline, sf_total()
    produce(broker.bootstrap, "rides", [(b"last", b'{"city": "sf", "fare": 100}')])
    deadline = time.monotonic() + 30
    while sf_total() != [{"row": {"columns": [54, 180]}}]:
        assert time.monotonic() < deadline, sf_total()
