"""Push queries over joins (SELECT ... JOIN ... EMIT CHANGES) on /query-stream and /query, run as ksqlDB runs them:
a transient query with its own stores and repartition topics, reading from auto.offset.reset, its joined rows
streamed as they come, its state and topics removed once LIMIT is reached."""

from __future__ import annotations

import http.client
import json
import struct
import threading
import time

import pytest
from kafka_wire import wait_for
from sql_helpers import module_ksql, produce_at, run_statements

EARLIEST = {"auto.offset.reset": "earliest"}
DELIMITED = "application/vnd.ksqlapi.delimited.v1"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql(tmp_path_factory, "ksql-pushjoin") as (broker, k):
        run_statements(k, [
                "CREATE STREAM orders (ID INT KEY, ITEM STRING, CID INT) WITH (kafka_topic='orders', "
                "value_format='JSON', partitions=1);",
                "CREATE TABLE customers (ID INT PRIMARY KEY, NAME STRING) WITH (kafka_topic='customers', "
                "value_format='JSON', partitions=1);",
                "CREATE STREAM clicks (ID INT KEY, URL STRING) WITH (kafka_topic='clicks', value_format='JSON', "
                "partitions=1);",
                "CREATE STREAM views (ID INT KEY, SECS INT) WITH (kafka_topic='views', value_format='JSON', "
                "partitions=1);",
                "CREATE TABLE tiers (ID INT PRIMARY KEY, TIER STRING) WITH (kafka_topic='tiers', "
                "value_format='JSON', partitions=1);"])
        yield broker, k


def integer(n: int) -> bytes:
    return struct.pack(">i", n)


def js(value: dict) -> bytes:
    return json.dumps(value).encode()


def transient_state(env) -> tuple[list[str], list[str]]:
    """The transient queries' state directories and internal topics still present."""
    from confluent_kafka.admin import AdminClient

    broker, k = env
    state = k.log_path.parent / "state"
    dirs = [p.name for p in state.iterdir() if "transient" in p.name] if state.exists() else []
    topics = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10).topics
    return dirs, [t for t in topics if "transient" in t]


def wait_cleaned(env) -> None:
    wait_for(lambda: transient_state(env) == ([], []), 20, interval=0.2, what="the transient query's state gone")


ORDERS_JOIN = ("SELECT o.ID AS OID, ITEM, NAME FROM orders o JOIN customers c ON o.CID = c.ID "
               "EMIT CHANGES LIMIT 2;")


def test_stream_table_join_from_earliest_through_a_repartition_topic(env):
    broker, k = env
    # the orders are joined on CID, not their key: the transient query re-keys them through its own topic
    produce_at(broker.bootstrap, "customers", [(integer(1), js({"NAME": "ann"}), 1000),
                                               (integer(2), js({"NAME": "bob"}), 1001)])
    produce_at(broker.bootstrap, "orders", [(integer(10), js({"ITEM": "pen", "CID": 1}), 2000),
                                            (integer(11), js({"ITEM": "ink", "CID": 3}), 2001),  # no customer 3
                                            (integer(12), js({"ITEM": "cup", "CID": 2}), 2002)])
    status, ctype, body = k.request("POST", "/query-stream", {"sql": ORDERS_JOIN, "properties": EARLIEST})
    assert status == 200, body
    lines = json.loads(body)
    assert lines[0]["columnNames"] == ["OID", "ITEM", "NAME"]
    assert lines[0]["columnTypes"] == ["INTEGER", "STRING", "STRING"]
    assert lines[0]["queryId"].startswith("transient_ORDERS_")
    assert lines[1:] == [[10, "pen", "ann"], [12, "cup", "bob"]]
    # LIMIT reached: the query's stores and its repartition topic are gone
    wait_cleaned(env)


def test_stream_table_join_from_latest_sees_only_new_records(env):
    broker, k = env
    produce_at(broker.bootstrap, "customers", [(integer(5), js({"NAME": "old"}), 3000)])
    produce_at(broker.bootstrap, "orders", [(integer(50), js({"ITEM": "old", "CID": 5}), 3001)])
    conn = http.client.HTTPConnection("127.0.0.1", k.port, timeout=30)
    conn.request("POST", "/query-stream", body=json.dumps({"sql": ORDERS_JOIN, "properties": {}}),
                 headers={"Accept": DELIMITED})
    resp = conn.getresponse()
    assert resp.status == 200
    header = json.loads(resp.readline())
    assert header["columnNames"] == ["OID", "ITEM", "NAME"]
    rows: list = []
    done = threading.Event()

    def read() -> None:
        try:
            while line := resp.readline():
                if line.strip():
                    rows.append(json.loads(line))
        finally:
            done.set()

    threading.Thread(target=read, daemon=True).start()
    # the query reads from the end: keep writing a customer and then an order until two joined rows come
    deadline, i = time.monotonic() + 30, 0
    running: tuple[list[str], list[str]] = ([], [])
    while not done.is_set():
        assert time.monotonic() < deadline, rows
        if not all(running):
            running = transient_state(env)  # while it runs: its state directory and its repartition topic
        i += 1
        produce_at(broker.bootstrap, "customers", [(integer(5), js({"NAME": f"v{i}"}), 4000 + 2 * i)])
        produce_at(broker.bootstrap, "orders", [(integer(100 + i), js({"ITEM": f"n{i}", "CID": 5}), 4001 + 2 * i)])
        done.wait(0.5)
    conn.close()
    assert len(rows) == 2, rows
    app_id = f"_confluent-ksql-default_transient_{header['queryId']}"
    assert running == ([app_id], [f"{app_id}-Join-repartition"])
    for oid, item, name in rows:  # each order joined with the customer row written just before it
        assert item == f"n{oid - 100}" and name == f"v{oid - 100}", rows
    wait_cleaned(env)


def test_stream_stream_join_on_query_endpoint(env):
    broker, k = env
    produce_at(broker.bootstrap, "clicks", [(integer(1), js({"URL": "/a"}), 10_000),
                                            (integer(2), js({"URL": "/b"}), 10_001)])
    produce_at(broker.bootstrap, "views", [(integer(2), js({"SECS": 7}), 10_500),
                                           (integer(3), js({"SECS": 8}), 10_501),
                                           (integer(1), js({"SECS": 9}), 200_000)])  # outside the window
    status, _, body = k.request("POST", "/query", {
        "ksql": "SELECT c.ID, URL, SECS FROM clicks c JOIN views v WITHIN 1 MINUTE ON c.ID = v.ID "
                "EMIT CHANGES LIMIT 1;", "streamsProperties": EARLIEST})
    assert status == 200, body
    lines = json.loads(body)
    # no ` KEY` in a push query's header (push-queries.json "join with ROWTIME": `I1_K` STRING, `I1_ID` ...)
    assert lines[0]["header"]["schema"] == "`C_ID` INTEGER, `URL` STRING, `SECS` INTEGER"
    assert lines[1:] == [{"row": {"columns": [2, "/b", 7]}}, {"finalMessage": "Limit Reached"}]
    wait_cleaned(env)


def test_table_table_join_emits_each_change(env):
    broker, k = env
    produce_at(broker.bootstrap, "customers", [(integer(7), js({"NAME": "cy"}), 20_000)])
    produce_at(broker.bootstrap, "tiers", [(integer(7), js({"TIER": "gold"}), 20_001),
                                           (integer(7), js({"TIER": "plat"}), 20_002)])
    status, _, body = k.request("POST", "/query-stream", {
        "sql": "SELECT c.ID, NAME, TIER FROM customers c JOIN tiers t ON c.ID = t.ID EMIT CHANGES LIMIT 2;",
        "properties": EARLIEST})
    assert status == 200, body
    lines = json.loads(body)
    assert lines[0]["columnNames"] == ["C_ID", "NAME", "TIER"]
    assert lines[1:] == [[7, "cy", "gold"], [7, "cy", "plat"]]
    wait_cleaned(env)


def test_join_push_query_errors(env):
    _, k = env
    status, _, body = k.request("POST", "/query-stream", {
        "sql": "SELECT * FROM orders o JOIN nowhere n ON o.CID = n.ID EMIT CHANGES;", "properties": {}})
    assert status == 400 and json.loads(body)["message"] == "NOWHERE does not exist."
    status, _, body = k.request("POST", "/query-stream", {
        "sql": "SELECT c.ID, URL, COUNT(*) FROM clicks c JOIN views v WITHIN 1 MINUTE ON c.ID = v.ID GROUP BY c.ID "
               "EMIT CHANGES;", "properties": {}})
    # a push query over a join with GROUP BY is checked as CREATE TABLE AS SELECT checks it
    assert status == 400 and json.loads(body)["message"].startswith(
        "Non-aggregate SELECT expression(s) not part of GROUP BY: "), body


def test_client_gone_ends_the_transient_query(env):
    _, k = env
    conn = http.client.HTTPConnection("127.0.0.1", k.port, timeout=30)
    conn.request("POST", "/query-stream", body=json.dumps({"sql": ORDERS_JOIN.replace(" LIMIT 2", ""),
                                                           "properties": {}}), headers={"Accept": DELIMITED})
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.readline())["queryId"].startswith("transient_ORDERS_")
    wait_for(lambda: all(transient_state(env)), 20, interval=0.2, what="the transient query's state")
    conn.close()  # the client goes away: the query stops, its state directory and repartition topic go too
    wait_cleaned(env)


def test_group_by_over_a_stream_table_join_streams_the_aggregate(env):
    broker, k = env
    run_statements(k, [
        "CREATE TABLE members (ID INT PRIMARY KEY, TEAM STRING) WITH (kafka_topic='members', value_format='JSON', "
        "partitions=1);",
        "CREATE STREAM scores (ID INT KEY, MID INT, PTS INT) WITH (kafka_topic='scores', value_format='JSON', "
        "partitions=1);"])
    produce_at(broker.bootstrap, "members", [(integer(1), js({"TEAM": "red"}), 1000),
                                             (integer(2), js({"TEAM": "blue"}), 1001),
                                             (integer(3), js({"TEAM": "red"}), 1002)])
    produce_at(broker.bootstrap, "scores", [(integer(1), js({"MID": 1, "PTS": 5}), 2000),
                                            (integer(2), js({"MID": 2, "PTS": 7}), 2001),
                                            (integer(3), js({"MID": 4, "PTS": 9}), 2002),  # no member 4
                                            (integer(4), js({"MID": 3, "PTS": 1}), 2003)])
    # joined on MID (the scores re-keyed through the query's Join-repartition), grouped by the member's team
    # (re-keyed again through its Aggregate-GroupBy-repartition): each change of a team's row is streamed
    conn = http.client.HTTPConnection("127.0.0.1", k.port, timeout=30)
    conn.request("POST", "/query-stream", headers={"Accept": DELIMITED}, body=json.dumps({
        "sql": "SELECT TEAM, COUNT(*) AS N, SUM(PTS) AS TOTAL FROM scores s JOIN members m ON s.MID = m.ID "
               "GROUP BY TEAM EMIT CHANGES LIMIT 4;", "properties": EARLIEST}))
    resp = conn.getresponse()
    assert resp.status == 200
    header = json.loads(resp.readline())
    assert header["columnNames"] == ["TEAM", "N", "TOTAL"]
    assert header["columnTypes"] == ["STRING", "BIGINT", "INTEGER"]
    rows = [json.loads(resp.readline()) for _ in range(3)]
    assert rows == [["red", 1, 5], ["blue", 1, 7], ["red", 2, 6]]
    # still running (LIMIT 4): its state directory and both repartition topics are there
    app_id = f"_confluent-ksql-default_transient_{header['queryId']}"
    dirs, names = transient_state(env)
    assert dirs == [app_id]
    assert sorted(names) == [f"{app_id}-Aggregate-GroupBy-repartition", f"{app_id}-Join-repartition"]
    produce_at(broker.bootstrap, "scores", [(integer(5), js({"MID": 2, "PTS": 3}), 2004)])
    assert json.loads(resp.readline()) == ["blue", 2, 10]
    conn.close()
    wait_cleaned(env)


def test_group_by_over_a_table_table_join_retracts(env):
    broker, k = env
    run_statements(k, [
        "CREATE TABLE players (ID INT PRIMARY KEY, NAME STRING) WITH (kafka_topic='players', value_format='JSON', "
        "partitions=1);",
        "CREATE TABLE ranks (ID INT PRIMARY KEY, TIER STRING) WITH (kafka_topic='ranks', value_format='JSON', "
        "partitions=1);"])
    produce_at(broker.bootstrap, "players", [(integer(7), js({"NAME": "cy"}), 30_000),
                                             (integer(8), js({"NAME": "di"}), 30_001)])
    produce_at(broker.bootstrap, "ranks", [(integer(7), js({"TIER": "gold"}), 30_002),
                                           (integer(8), js({"TIER": "gold"}), 30_003),
                                           (integer(7), js({"TIER": "plat"}), 30_004)])
    # the key (TIER) after the aggregate, as selected; player 7 moving to plat leaves gold first, then joins plat
    status, _, body = k.request("POST", "/query", {
        "ksql": "SELECT COUNT(*) AS N, TIER FROM players p JOIN ranks r ON p.ID = r.ID GROUP BY TIER "
                "EMIT CHANGES LIMIT 4;", "streamsProperties": EARLIEST})
    assert status == 200, body
    lines = json.loads(body)
    assert lines[0]["header"]["schema"] == "`N` BIGINT, `TIER` STRING"  # a push query's header has no ` KEY`
    assert [line["row"]["columns"] for line in lines[1:-1]] == [[1, "gold"], [2, "gold"], [1, "gold"],
                                                                 [1, "plat"]]
    assert lines[-1] == {"finalMessage": "Limit Reached"}
    wait_cleaned(env)


def test_group_by_push_queries_over_a_stream(env):
    # rest-query-validation-tests/push-queries.json: each query's header and rows are those of the case named beside
    # it (no ` KEY` in a push query's header)
    broker, k = env
    run_statements(k, [
        "CREATE STREAM test (K INT KEY, ID INT) WITH (kafka_topic='test_topic', value_format='JSON', partitions=1);",
        "CREATE STREAM test2 (K INT KEY, IGNORED INT) WITH (kafka_topic='test_topic2', value_format='JSON', "
        "partitions=1);"])
    produce_at(broker.bootstrap, "test_topic", [(integer(0), js({"id": 2}), 10345), (integer(1), js({"id": 2}), 13251)])
    produce_at(broker.bootstrap, "test_topic2", [(integer(0), js({}), 10345), (integer(0), js({}), 13251),
                                                 (integer(0), js({}), 13253)])
    for sql, schema, rows in [
        # "non-windowed GROUP BY - key in projection" (re-keyed by ID through the query's GroupBy-repartition)
        ("SELECT ID, count(1) AS count FROM test GROUP BY ID EMIT CHANGES LIMIT 2;",
         "`ID` INTEGER, `COUNT` BIGINT", [[2, 1], [2, 2]]),
        # "non-windowed GROUP BY expression - key not in projection"
        ("SELECT count(1) AS count FROM test GROUP BY ABS(ID) EMIT CHANGES LIMIT 2;", "`COUNT` BIGINT", [[1], [2]]),
        # "windowed GROUP BY - window bounds in SELECT"
        ("SELECT windowstart, windowend, count(1) AS count FROM test2 WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY K "
         "EMIT CHANGES LIMIT 2;", "`WINDOWSTART` BIGINT, `WINDOWEND` BIGINT, `COUNT` BIGINT",
         [[10000, 11000, 1], [13000, 14000, 1]]),
        # "aggregate with no value columns"
        ("SELECT K FROM test2 GROUP BY K HAVING COUNT(K) > 1 EMIT CHANGES LIMIT 2;", "`K` INTEGER", [[0], [0]]),
        # EMIT FINAL (ksqlDB's LogicalPlanner allows it on windowed aggregates, transient ones too): a window is
        # written once, when stream time passes its end and grace (the record at 13251 closes [10000, 11000), which
        # its retention keeps in the store until then)
        ("SELECT K, COUNT(*) AS N FROM test2 WINDOW TUMBLING (SIZE 1 SECOND, RETENTION 1 HOUR, GRACE PERIOD 0 "
         "SECONDS) GROUP BY K EMIT FINAL LIMIT 1;", "`K` INTEGER, `N` BIGINT", [[0, 1]]),
    ]:
        status, _, body = k.request("POST", "/query", {"ksql": sql, "streamsProperties": EARLIEST})
        assert status == 200, body
        lines = json.loads(body)
        assert lines[0]["header"]["schema"] == schema, sql
        assert [line["row"]["columns"] for line in lines[1:-1]] == rows, sql
        assert lines[-1] == {"finalMessage": "Limit Reached"}
    wait_cleaned(env)
    status, _, body = k.request("POST", "/query", {"ksql": "SELECT ID, COUNT(*) FROM test GROUP BY ID;",
                                                   "streamsProperties": {}})
    message = json.loads(body)["message"]  # PullQueryValidator's, with its hints after it
    assert status == 400 and message.startswith("Pull queries don't support GROUP BY clauses."), body
