"""Pull queries on streams (a SELECT without EMIT CHANGES on a STREAM), as ksqlDB 0.29's
rest-query-validation-tests/pull-queries-against-streams.json and pull-queries-with-limit-clause.json run them: the
topic read from the beginning up to the end offsets taken when the query starts, WHERE / projection / LIMIT applied,
then `{"finalMessage":"Query Completed"}` (or "Limit Reached"); over /query, /query-stream (HTTP/1.1 and HTTP/2,
JSON array and delimited) and the `ksql` CLI; ksqlDB's errors for what a pull query may not do."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from sql_helpers import module_ksql, produce, produce_at, run_statements

DELIMITED = "application/vnd.ksqlapi.delimited.v1"
HELP = " See https://cnfl.io/queries for more info.\nAdd EMIT CHANGES if you intended to issue a push query."
SCHEMA = "`MYKEY` INTEGER, `MYVALUE` INTEGER"
ROWS = [[10, 1], [11, 2], [12, 3], [13, 4]]  # the inputs of the json's cases: key 10..13, myvalue 1..4


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql(tmp_path_factory, "ksql-pullstreams") as (broker, k):
        run_statements(k, [
            "CREATE STREAM S1 (MYKEY INT KEY, MYVALUE INT) WITH (kafka_topic='test_topic', value_format='JSON', "
            "partitions=1);",
            "CREATE SOURCE STREAM SRC (MYKEY INT KEY, MYVALUE INT) WITH (kafka_topic='test_topic', "
            "value_format='JSON');",
            "CREATE STREAM EMPTY (MYKEY INT KEY, MYVALUE INT) WITH (kafka_topic='empty_topic', value_format='JSON', "
            "partitions=2);",
            "CREATE STREAM MULTI (ID STRING KEY, N INT) WITH (kafka_topic='multi', value_format='JSON', "
            "partitions=3);"])
        # "timestamp": 12365.. as the json's inputs give them, one partition "to get a stable ordering"
        produce_at(broker.bootstrap, "test_topic", [(struct.pack(">i", 10 + i), json.dumps({"myvalue": 1 + i}).encode(),
                                                     12365 + i) for i in range(4)])
        produce(broker.bootstrap, "multi", [(f"k{i}".encode(), json.dumps({"N": i}).encode()) for i in range(12)])
        yield broker, k


def query(k, sql: str, props: dict | None = None) -> list:
    status, ctype, body = k.request("POST", "/query", {"ksql": sql, "streamsProperties": props or {}})
    assert status == 200 and ctype.startswith("application/json"), body
    return json.loads(body)


def answer(k, sql: str) -> tuple[str, list, str]:
    """/query's header schema, rows and final message."""
    lines = query(k, sql)
    assert set(lines[0]) == {"header"} and lines[0]["header"]["queryId"].startswith("transient_"), lines
    assert set(lines[-1]) == {"finalMessage"}, lines
    return lines[0]["header"]["schema"], [line["row"]["columns"] for line in lines[1:-1]], lines[-1]["finalMessage"]


def error(k, sql: str, props: dict | None = None) -> str:
    status, _, body = k.request("POST", "/query", {"ksql": sql, "streamsProperties": props or {}})
    got = json.loads(body)
    assert status == 400 and got["@type"] == "statement_error" and got["error_code"] == 40001, got
    assert got["statementText"] == sql
    return got["message"]


def test_select_star_projection_and_where(env):
    _, k = env
    # "simple": the header names the query after its source, every column a value column, then "Query Completed"
    lines = query(k, "SELECT * FROM S1;")
    assert lines[0]["header"]["queryId"].startswith("transient_S1_")
    assert lines[0]["header"]["schema"] == SCHEMA
    assert lines[1:] == [*({"row": {"columns": r}} for r in ROWS), {"finalMessage": "Query Completed"}]
    assert answer(k, "SELECT * FROM SRC;") == (SCHEMA, ROWS, "Query Completed")  # "simple-source"
    assert answer(k, "SELECT MYKEY FROM S1;") == ("`MYKEY` INTEGER", [[10], [11], [12], [13]],
                                                  "Query Completed")  # "select key"
    assert answer(k, "SELECT MYVALUE FROM S1;")[:2] == ("`MYVALUE` INTEGER", [[1], [2], [3], [4]])  # "select value"
    assert answer(k, "SELECT MYKEY, MYVALUE * 2 AS DOUBLEVALUE FROM S1;")[:2] == (  # "project expression"
        "`MYKEY` INTEGER, `DOUBLEVALUE` INTEGER", [[10, 2], [11, 4], [12, 6], [13, 8]])
    assert answer(k, "SELECT * FROM S1 WHERE MYVALUE >= 2 AND MYVALUE < 4;")[1] == [[11, 2], [12, 3]]  # "where clause"
    assert answer(k, "SELECT * FROM S1 WHERE MYKEY = 13 OR MYKEY < 11;")[1] == [[10, 1], [13, 4]]  # key column
    # select-pull-query.md "Pull queries with pseudo columns": ROWTIME in SELECT and WHERE (the records' timestamps)
    assert answer(k, "SELECT MYKEY, ROWTIME FROM S1 WHERE ROWTIME > 12366;") == (
        "`MYKEY` INTEGER, `ROWTIME` BIGINT", [[12, 12367], [13, 12368]], "Query Completed")
    assert answer(k, "SELECT s.MYVALUE AS V FROM S1 s WHERE s.MYVALUE = 3;")[:2] == ("`V` INTEGER", [[3]])


def test_limit(env):
    _, k = env
    # pull-queries-with-limit-clause.json "on stream": LIMIT n ends at n rows, LIMIT 0 at once, a LIMIT above the
    # stream's size at its end
    assert answer(k, "SELECT * FROM S1 LIMIT 2;") == (SCHEMA, ROWS[:2], "Limit Reached")
    assert answer(k, "SELECT * FROM S1 LIMIT 0;") == (SCHEMA, [], "Limit Reached")
    assert answer(k, "SELECT * FROM S1 LIMIT 25;") == (SCHEMA, ROWS, "Query Completed")
    assert answer(k, "SELECT MYKEY FROM S1 WHERE MYVALUE > 1 LIMIT 2;")[1:] == ([[11], [12]], "Limit Reached")


def test_empty_stream_and_several_partitions(env):
    _, k = env
    # "empty response on empty stream": the header, then the end
    assert query(k, "SELECT * FROM EMPTY;")[1:] == [{"finalMessage": "Query Completed"}]
    schema, rows, end = answer(k, "SELECT ID, N FROM MULTI;")  # three partitions: every record, in some order
    assert schema == "`ID` STRING, `N` INTEGER" and end == "Query Completed"
    assert sorted(rows) == sorted([f"k{i}", i] for i in range(12))
    assert sorted(answer(k, "SELECT N FROM MULTI WHERE ID IN ('k1', 'k7', 'k11');")[1]) == [[1], [7], [11]]


def test_scan_ends_after_a_transaction_marker(env):
    from confluent_kafka import Producer

    broker, k = env
    run_statements(k, ["CREATE STREAM TXN (V INT) WITH (kafka_topic='txn', value_format='JSON', partitions=1);"])
    p = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": "pullstreams-txn"})
    p.init_transactions(30)
    p.begin_transaction()
    for i in range(2):
        p.produce("txn", value=json.dumps({"V": i}).encode())
    p.commit_transaction(30)
    # the topic's last offset is the commit marker, which no consumer receives: the scan still ends
    assert answer(k, "SELECT V FROM TXN;") == (
        "`V` INTEGER", [[0], [1]], "Query Completed")


def test_query_stream_http1_and_http2_both_formats(env):
    import httpx2

    _, k = env
    for http2 in (False, True):
        with httpx2.Client(http1=not http2, http2=http2, timeout=30) as client:
            resp = client.post(f"http://127.0.0.1:{k.port}/query-stream", headers={"Accept": DELIMITED},
                               json={"sql": "SELECT * FROM S1 WHERE MYVALUE > 1;", "properties": {}})
            assert resp.http_version == ("HTTP/2" if http2 else "HTTP/1.1")
            assert resp.status_code == 200 and resp.headers["content-type"] == DELIMITED
            meta, *rows = (json.loads(line) for line in resp.text.splitlines())
            assert meta["queryId"].startswith("transient_S1_")
            assert (meta["columnNames"], meta["columnTypes"]) == (["MYKEY", "MYVALUE"], ["INTEGER", "INTEGER"])
            assert rows == ROWS[1:]
            resp = client.post(f"http://127.0.0.1:{k.port}/query-stream",
                               json={"sql": "SELECT MYKEY FROM S1 LIMIT 3;", "properties": {}})
            assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
            body = resp.json()
            assert body[0]["columnNames"] == ["MYKEY"] and body[1:] == [[10], [11], [12]]


def test_records_written_during_the_scan_are_not_waited_for(env):
    import httpx2

    broker, k = env
    before = {f"k{i}" for i in range(12)}
    with httpx2.Client(timeout=30) as client, client.stream(
            "POST", f"http://127.0.0.1:{k.port}/query-stream", headers={"Accept": DELIMITED},
            json={"sql": "SELECT ID FROM MULTI;", "properties": {}}) as resp:
        lines = resp.iter_lines()
        assert "queryId" in json.loads(next(lines))  # the end offsets are taken before the response starts
        produce(broker.bootstrap, "multi", [(f"late{i}".encode(), json.dumps({"N": 100 + i}).encode())
                                            for i in range(6)])
        got = {json.loads(line)[0] for line in lines if line}  # the response ends by itself
    assert got == before
    # the next pull query reads the records written since
    assert len(answer(k, "SELECT ID FROM MULTI;")[1]) == 18


def test_errors_as_ksqldb_gives_them(env):
    _, k = env
    assert error(k, "SELECT * FROM S1 GROUP BY MYKEY;") == "Pull queries don't support GROUP BY clauses." + HELP
    assert error(k, "SELECT COUNT(*) FROM S1;") == "Pull queries don't support GROUP BY clauses." + HELP
    assert error(k, "SELECT * FROM S1 ORDER BY MYKEY DESC;").startswith("line 1:24: Syntax Error")
    assert error(k, "SELECT * FROM S1 WINDOW TUMBLING(SIZE 1 SECOND);") == (
        "Pull queries don't support WINDOW clauses." + HELP)
    assert error(k, "SELECT * FROM S1 JOIN SRC WITHIN 10 SECONDS ON S1.MYKEY = SRC.MYKEY;") == (
        "Pull queries don't support JOIN clauses." + HELP)
    assert error(k, "SELECT * FROM S1 PARTITION BY MYVALUE;") == (
        "Pull queries don't support PARTITION BY clauses." + HELP)
    # "should not allow pull query with disallowed pseudocolumn in SELECT clause" / "... in WHERE clause"
    assert error(k, "SELECT mykey, myvalue, ROWOFFSET FROM S1;") == (
        "Pull queries don't support the following columns in SELECT clauses: `ROWOFFSET`\n" + HELP)
    assert error(k, "SELECT * FROM S1 WHERE mykey < 1 AND ROWPARTITION != 2;") == (
        "Pull queries don't support the following columns in WHERE clauses: `ROWPARTITION`\n" + HELP)
    # KsqlConfig's switches, per request (streamsProperties) as the CLI's SET sends them
    assert error(k, "SELECT * FROM S1;", {"ksql.query.pull.stream.enabled": False}) == (
        "Pull queries on streams are disabled. To create a push query on the stream, add EMIT CHANGES to the end. "
        "To enable pull queries on streams, set the ksql.query.pull.stream.enabled config to 'true'.")
    # pull-queries-with-limit-clause.json "error on stream when ksql.query.pull.limit.clause.enabled is set to false"
    assert error(k, "SELECT * FROM S1 LIMIT 8;", {"ksql.query.pull.limit.clause.enabled": "false"}) == (
        "LIMIT clause in pull queries is currently disabled. You can enable them by setting "
        "ksql.query.pull.limit.clause.enabled=true." + HELP)
    assert error(k, "SELECT * FROM NOSUCH;") == "NOSUCH does not exist."


def test_stream_whose_topic_went_away(env):
    from confluent_kafka.admin import AdminClient
    from kafka_wire import wait_for

    broker, k = env
    run_statements(k, ["CREATE STREAM GONE (V INT) WITH (kafka_topic='gone', value_format='JSON', partitions=1);"])
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.delete_topics(["gone"])["gone"].result(30)
    wait_for(lambda: "gone" not in admin.list_topics(timeout=10).topics, 30, what="the topic deleted")
    # KsqlEngine.getTopicDescription's failure: a KsqlServerException, answered as a bad request
    status, _, body = k.request("POST", "/query", {"ksql": "SELECT * FROM GONE;", "streamsProperties": {}})
    assert status == 400 and json.loads(body) == {"@type": "generic_error", "error_code": 40000,
                                                  "message": "Internal Server Error"}
    assert query(k, "SELECT * FROM S1 LIMIT 1;")[-1] == {"finalMessage": "Limit Reached"}  # the server stays up


def test_ksql_cli(env, tmp_path):
    _, k = env
    cli = str(Path(sys.executable).parent / "ksql")
    done = subprocess.run([cli, f"http://127.0.0.1:{k.port}"], input="SELECT * FROM S1 WHERE MYKEY > 11;\n",
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "HOME": str(tmp_path), "COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    rule = "+" + "-" * 38 + "+" + "-" * 38 + "+"
    table = (f"{rule}\n|{'MYKEY':<38}|{'MYVALUE':<38}|\n{rule}\n|{'12':<38}|{'3':<38}|\n|{'13':<38}|{'4':<38}|\n")
    assert table + "Query Completed\nQuery terminated\n" in done.stdout, done.stdout
    assert done.stdout.endswith("ksql> Exiting ksqlDB.\n")
