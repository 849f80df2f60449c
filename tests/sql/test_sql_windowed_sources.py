"""Windowed sources (CREATE STREAM|TABLE ... WITH (WINDOW_TYPE=..., WINDOW_SIZE=...)) read back the sink topics of
windowed aggregates, keys in Kafka Streams' windowed serdes, as ksqlDB does (its windowed-source and system-columns
functional tests); a real SQL server over a real broker, driven over REST, and the ksql CLI's rendering."""

from __future__ import annotations

import json
import struct

import pytest
from sql_helpers import consume, module_ksql, run_statements

from brook.sql.cli_output import render_entities

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest"}
HOUR = 3_600_000


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql(tmp_path_factory, "ksql-windowed") as (broker, k):
        run_statements(k, [
            "CREATE STREAM pageviews (userid VARCHAR KEY, page VARCHAR) "
            "WITH (kafka_topic='pageviews', value_format='json', partitions=1);",
            "CREATE TABLE pv_hourly AS SELECT userid, COUNT(*) AS views FROM pageviews "
            "WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY userid EMIT CHANGES;",
            "CREATE TABLE pv_sessions AS SELECT userid, COUNT(*) AS views FROM pageviews "
            "WINDOW SESSION (5 MINUTES) GROUP BY userid EMIT CHANGES;",
        ], EARLIEST)
        status, body = k.ksql(
            "INSERT INTO pageviews (userid, page, ROWTIME) VALUES ('alice', 'home', 1000);"
            f"INSERT INTO pageviews (userid, page, ROWTIME) VALUES ('alice', 'faq', {10 * 60_000});"
            f"INSERT INTO pageviews (userid, page, ROWTIME) VALUES ('bob', 'home', {HOUR + 5000});")
        assert status == 200, body
        yield broker, k


def push(k, sql: str) -> tuple[str, list]:
    status, _, body = k.request("POST", "/query", {"ksql": sql, "streamsProperties": EARLIEST}, timeout=60)
    assert status == 200, body
    items = json.loads(body)
    return items[0]["header"]["schema"], [i["row"]["columns"] for i in items if "row" in i]


def test_tumbling_table_over_a_windowed_aggregates_sink(env):
    _, k = env
    status, body = k.ksql("CREATE TABLE hourly (userid VARCHAR PRIMARY KEY, views BIGINT) WITH "
                          "(kafka_topic='PV_HOURLY', value_format='json', window_type='Tumbling', "
                          "window_size='1 HOUR');")
    assert status == 200 and body[0]["commandStatus"]["message"] == "Table created", body
    schema, rows = push(k, "SELECT * FROM hourly EMIT CHANGES LIMIT 3;")
    # push-queries.json "windowed table - STRING key": `K` STRING, `WINDOWSTART` BIGINT, `WINDOWEND` BIGINT, ...
    assert schema == "`USERID` STRING, `WINDOWSTART` BIGINT, `WINDOWEND` BIGINT, `VIEWS` BIGINT"
    assert rows == [["alice", 0, HOUR, 1], ["alice", 0, HOUR, 2], ["bob", HOUR, 2 * HOUR, 1]]
    _, rows = push(k, "SELECT userid, views FROM hourly WHERE WINDOWSTART >= 3600000 EMIT CHANGES LIMIT 1;")
    assert rows == [["bob", 1]]

    status, body = k.ksql("DESCRIBE hourly;")
    desc = body[0]["sourceDescription"]  # type: ignore[index]
    assert desc["windowType"] == "TUMBLING"
    assert [(f["name"], f.get("type")) for f in desc["fields"]] == [("USERID", "KEY"), ("VIEWS", None)]
    assert " USERID | VARCHAR(STRING)  (primary key) (Window type: TUMBLING) \n" in render_entities(body, 120)
    status, body = k.ksql("SHOW TABLES;")
    assert {t["name"]: t["isWindowed"] for t in body[0]["tables"]}["HOURLY"] is True  # type: ignore[index]
    # ksqlDB's windowed-source test: no persistent query over a windowed table
    status, body = k.ksql("CREATE TABLE copy AS SELECT * FROM hourly;")
    assert status == 400 and body["message"] == "KSQL does not support persistent queries on windowed tables."


def test_session_stream_and_a_persistent_query_keeping_the_window(env):
    broker, k = env
    status, body = k.ksql("CREATE STREAM sessions (userid VARCHAR KEY, views BIGINT) WITH "
                          "(kafka_topic='PV_SESSIONS', value_format='json', window_type='session');")
    assert status == 200, body
    # alice's two views 9 minutes apart are two sessions; the session's end comes from the key
    _, rows = push(k, "SELECT userid, WINDOWSTART, WINDOWEND, views FROM sessions EMIT CHANGES LIMIT 3;")
    assert rows == [["alice", 1000, 1000, 1], ["alice", 600_000, 600_000, 1], ["bob", HOUR + 5000, HOUR + 5000, 1]]

    status, body = k.ksql("CREATE STREAM sessions_copy AS SELECT * FROM sessions;", EARLIEST)
    assert status == 200, body
    status, body = k.ksql("DESCRIBE sessions_copy;")
    desc = body[0]["sourceDescription"]  # type: ignore[index]
    assert desc["windowType"] == "SESSION"
    assert [f["name"] for f in desc["fields"]] == ["USERID", "VIEWS"]
    records = consume(broker.bootstrap, "SESSIONS_COPY", 3)
    assert [(key[:-16], struct.unpack(">qq", key[-16:]), json.loads(v)) for key, v in records] == [
        (b"alice", (1000, 1000), {"VIEWS": 1}), (b"alice", (600_000, 600_000), {"VIEWS": 1}),
        (b"bob", (HOUR + 5000, HOUR + 5000), {"VIEWS": 1})]

    # INSERT VALUES names the window's bounds (ksqlDB's timestamp-extractor test)
    status, body = k.ksql("INSERT INTO sessions (userid, views, WINDOWSTART, WINDOWEND) VALUES "
                          "('carol', 7, 1581323504000, 1581323505001);")
    assert status == 200, body
    _, rows = push(k, "SELECT * FROM sessions WHERE userid = 'carol' EMIT CHANGES LIMIT 1;")
    assert rows == [["carol", 1581323504000, 1581323505001, 7]]


@pytest.mark.parametrize(("props", "message"), [
    ("window_type='HOPPING'", "HOPPING windows require 'WINDOW_SIZE' to be provided in the WITH clause. For "
                              "example: 'WINDOW_SIZE'='10 SECONDS'"),
    ("window_type='session', window_size='1 SECOND'", "'WINDOW_SIZE' should not be set for SESSION windows."),
    ("window_type='sliding'", "Invalid value sliding for property WINDOW_TYPE: String must be one of: SESSION, "
                              "HOPPING, TUMBLING"),
])
def test_bad_window_properties(env, props, message):
    _, k = env
    status, body = k.ksql(f"CREATE STREAM bad (k VARCHAR KEY, v INT) WITH (kafka_topic='pageviews', "
                          f"value_format='json', {props});")
    assert status == 400 and body["error_code"] == 40001 and body["message"] == message, body
