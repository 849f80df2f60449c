"""ksqlDB's messages for statements it refuses while analysing them, as its functional tests expect them: an
unknown column named with its clause (select.json, where.json, partition-by.json, group-by.json, elements.json),
type errors of comparisons naming the expressions (comparison-expression.json, binary-comparison.json) and the
key values of pull queries (rest-query-validation-tests/pull-queries-against-materialized-aggregates.json); for
persistent, push and pull queries alike. Every statement is refused before anything runs: no records needed."""

from __future__ import annotations

import json

import pytest
from kafka_wire import wait_for
from sql_helpers import module_ksql


@pytest.fixture(scope="module")
def k(tmp_path_factory):
    with module_ksql(tmp_path_factory, "ksql-messages") as (_, k):
        for sql in (
            "CREATE STREAM INPUT (ID INT KEY, NAME STRING, V BIGINT, B ARRAY<INT>, C ARRAY<INT>) "
            "WITH (kafka_topic='input', value_format='JSON', partitions=1);",
            "CREATE STREAM INPUT_2 (ID INT KEY, NAME STRING, BAR STRING) "
            "WITH (kafka_topic='input_2', value_format='JSON', partitions=1);",
            "CREATE TABLE T (ID INT PRIMARY KEY, NAME STRING) WITH (kafka_topic='t', value_format='JSON', "
            "partitions=1);",
            "CREATE TABLE AGGREGATE AS SELECT ID, COUNT(1) AS COUNT FROM INPUT GROUP BY ID;",
        ):
            status, body = k.ksql(sql)
            assert status == 200, body
        yield k


def refused(k, sql: str) -> str:
    status, body = k.ksql(sql)
    assert status == 400 and body["error_code"] == 40001, body
    return body["message"]


def query_refused(k, sql: str) -> str:
    status, _, raw = k.request("POST", "/query", {"ksql": sql, "streamsProperties": {}})
    body = json.loads(raw)
    assert status == 400 and body["error_code"] == 40001, body
    return body["message"]


@pytest.mark.parametrize("sql, message", [
    # select.json "unknown column", "unknown aliased column"; where.json "on unknown column"
    ("CREATE STREAM O AS SELECT ID, BOB, NAME FROM INPUT;",
     "Line: 1, Col: 31: SELECT column 'BOB' cannot be resolved."),
    ("CREATE STREAM O AS SELECT ID, I.BOB, NAME FROM INPUT I;",
     "Line: 1, Col: 31: SELECT column 'I.BOB' cannot be resolved."),
    ("CREATE STREAM O AS SELECT * FROM INPUT WHERE ABS(BOB) < 10;",
     "Line: 1, Col: 50: WHERE column 'BOB' cannot be resolved."),
    # the clauses in ksqlDB's order: WHERE before SELECT
    ("CREATE STREAM O AS SELECT NOPE FROM INPUT WHERE BOB = 1;",
     "Line: 1, Col: 49: WHERE column 'BOB' cannot be resolved."),
    # partition-by.json "aliased key field - different name", "partition by output col ..."
    ("CREATE STREAM O AS SELECT ID AS X, NAME FROM INPUT PARTITION BY X;",
     "Line: 1, Col: 65: PARTITION BY column 'X' cannot be resolved. 'X' must be a column in the source schema "
     "since PARTITION BY is applied on the input."),
    ("CREATE TABLE O AS SELECT NAME, COUNT(*) FROM INPUT GROUP BY NAMES;",
     "Line: 1, Col: 61: GROUP BY column 'NAMES' cannot be resolved."),
    ("CREATE TABLE O AS SELECT NAME, COUNT(*) FROM INPUT GROUP BY NAME HAVING SUM(W) > 1;",
     "Line: 1, Col: 77: HAVING column 'W' cannot be resolved."),
    ("CREATE TABLE O AS SELECT NAME, COUNT(*), W FROM INPUT GROUP BY NAME;",
     "Line: 1, Col: 42: SELECT column 'W' cannot be resolved."),
    # elements.json "join unknown field"; group-by.json "windowed join with window bounds"
    ("CREATE STREAM O AS SELECT I1.ID, unknown FROM INPUT I1 JOIN INPUT_2 I2 WITHIN 10 SECONDS ON I1.ID = I2.ID;",
     "Line: 1, Col: 34: SELECT column 'UNKNOWN' cannot be resolved."),
    ("CREATE TABLE O AS SELECT A.ID, COUNT(*), WINDOWSTART AS WSTART FROM INPUT A JOIN T B ON A.ID = B.ID "
     "WINDOW TUMBLING (SIZE 10 MILLISECONDS) GROUP BY A.ID;",
     "Line: 1, Col: 42: SELECT column 'WINDOWSTART' cannot be resolved."),
    # a name that may be a join's synthetic key is left to the projection, which names no clause
    ("CREATE STREAM O AS SELECT ROWKEY_2 FROM INPUT I1 JOIN INPUT_2 I2 WITHIN 10 SECONDS ON I1.ID = I2.ID;",
     "Line: 1, Col: 27: Column 'ROWKEY_2' cannot be resolved."),
    # comparison-expression.json and binary-comparison.json
    ("CREATE STREAM O AS SELECT * FROM INPUT WHERE ID >= 'not an int' EMIT CHANGES;",
     "Error in WHERE expression: Cannot compare ID (INTEGER) to 'not an int' (STRING) with GREATER_THAN_OR_EQUAL."
     "\nStatement: (ID >= 'not an int')"),
    ("CREATE STREAM O AS SELECT I1.ID, I1.NAME FROM INPUT I1 JOIN INPUT_2 I2 WITHIN 1 MINUTE ON I1.ID = I2.ID "
     "WHERE I1.V > I2.BAR;",
     "Error in WHERE expression: Cannot compare I1_V (BIGINT) to I2_BAR (STRING) with GREATER_THAN."),
    ("CREATE TABLE O AS SELECT ID, SUM(V) AS S FROM INPUT WINDOW TUMBLING (SIZE 30 SECONDS) GROUP BY ID "
     "HAVING COUNT(*) > 1 AND SUM(V) > '100';",
     "Error in HAVING expression: Cannot compare SUM(V) (BIGINT) to '100' (STRING) with GREATER_THAN."),
    ("CREATE STREAM O AS SELECT ID, B < C FROM INPUT;",
     "Cannot compare B (ARRAY<INTEGER>) to C (ARRAY<INTEGER>) with LESS_THAN."),
    ("CREATE STREAM O AS SELECT * FROM INPUT WHERE 'not a boolean' EMIT CHANGES;",
     "Type error in WHERE expression: Should evaluate to boolean but is 'not a boolean' (STRING) instead."),
    ("CREATE STREAM O AS SELECT * FROM INPUT WHERE B = C AND NAME IS NOT DISTINCT FROM 'x' AND B > C;",
     "Error in WHERE expression: Cannot compare B (ARRAY<INTEGER>) to C (ARRAY<INTEGER>) with GREATER_THAN."),
    # elements.json: pseudo columns and window bounds in a persistent query's SELECT
    ("CREATE STREAM O AS SELECT ID, ROWTIME FROM INPUT;",
     "Reserved column name in select: `ROWTIME`. Please remove or alias the column."),
    ("CREATE TABLE O AS SELECT NAME, WINDOWSTART, COUNT(*) AS COUNT FROM INPUT GROUP BY WINDOWSTART;",
     "Reserved column name in select: `WINDOWSTART`. Please remove or alias the column."),
    ("CREATE STREAM O AS SELECT ID, NAME AS WINDOWEND FROM INPUT;",
     "`WINDOWEND` is a reserved column name. You cannot use it as an alias for a column."),
    ("CREATE STREAM O AS SELECT I1.ID, I1.ROWTIME AS ROWTIME FROM INPUT I1 JOIN INPUT_2 I2 WITHIN 1 SECOND "
     "ON I1.ID = I2.ID;", "Reserved column name in select: `ROWTIME`. Please remove or alias the column."),
])
def test_persistent_query_messages(k, sql, message):
    assert message in refused(k, sql)


def test_push_and_pull_query_messages(k):
    # a transient query may select a pseudo column unaliased
    status, _, raw = k.request("POST", "/query", {"ksql": "SELECT ID, ROWTIME FROM INPUT;", "streamsProperties": {}})
    assert status == 200 and "`ROWTIME` BIGINT" in raw.decode(), raw
    # a push query names the clause too
    assert query_refused(k, "SELECT ID, BOB FROM INPUT EMIT CHANGES;") == (
        "Line: 1, Col: 12: SELECT column 'BOB' cannot be resolved.")
    # pull-queries-against-materialized-aggregates.json: "non-windowed with WINDOWSTART" style bounds on a table
    # without windows, a key compared with a string, a NULL key, an IN item of the wrong type
    assert query_refused(k, "SELECT * FROM AGGREGATE WHERE ID = 10 AND WINDOWSTART = 1;") == (
        "Line: 1, Col: 43: WHERE column 'WINDOWSTART' cannot be resolved.")
    assert "Error in WHERE expression: Cannot compare ID (INTEGER) to '10' (STRING) with EQUAL.\nStatement: " \
           "(ID = '10')" in query_refused(k, "SELECT * FROM AGGREGATE WHERE ID='10';")
    assert "Error in WHERE expression: Comparison with NULL not supported: INTEGER = NULL\nUse 'IS NULL' or " \
           "'IS NOT NULL' instead.\nStatement: (ID = null)" in query_refused(k, "SELECT * FROM AGGREGATE WHERE "
                                                                           "ID=NULL;")
    assert query_refused(k, "SELECT * FROM AGGREGATE WHERE ID IN ('10', 8);") == (
        "'10' can not be converted to the type of the key column: ID INTEGER KEY")
    # pull-queries-with-predicates.json "between operator must fail on non-matching literal"
    assert query_refused(k, "SELECT * FROM AGGREGATE WHERE COUNT BETWEEN 10 AND 'v10a';").startswith(
        "Invalid expression: Cannot compare COUNT (BIGINT) to 'v10a' (STRING) with LESS_THAN_OR_EQUAL")
    # "like operator must fail on non-string pattern", "... if table-scan is disabled"
    assert query_refused(k, "SELECT * FROM AGGREGATE WHERE ID LIKE 12;").startswith(
        "The column type for Like condition must be VARCHAR. The column type is INTEGER.  See https://cnfl.io/queries")
    status, _, raw = k.request("POST", "/query", {"ksql": "SELECT * FROM AGGREGATE WHERE '12' LIKE '12';",
                                                  "streamsProperties": {"ksql.query.pull.table.scan.enabled": False}})
    assert status == 400 and json.loads(raw)["message"].startswith("Like condition must be between strings. "), raw
    # a scan (a value column in the disjunct) converts nothing; widening a number is allowed
    wait_for(lambda: k.request("POST", "/query", {"ksql": "SELECT * FROM AGGREGATE WHERE ID IN (10, 8);",
                                                  "streamsProperties": {}})[0] == 200, 30,
             what="the aggregate's store")
    status, _, _ = k.request("POST", "/query", {"ksql": "SELECT * FROM AGGREGATE WHERE ID IN ('10') OR COUNT > 1;",
                                                "streamsProperties": {}})
    assert status == 200


def test_drop_delete_topic_refused_while_another_source_reads_it(k):
    # multi-joins.json "self join with multiple sources": two tables over one topic (TopicDeleteInjector)
    for name in ("SHARED_A", "SHARED_B"):
        status, body = k.ksql(f"CREATE TABLE {name} (ID INT PRIMARY KEY, V BIGINT) WITH (kafka_topic='shared', "
                              "value_format='JSON', partitions=1);")
        assert status == 200, body
    assert refused(k, "DROP TABLE SHARED_A DELETE TOPIC;") == (
        "Refusing to delete topic. Found other data sources (SHARED_B) using topic shared")
    status, body = k.ksql("DROP TABLE SHARED_A;")
    assert status == 200, body
    status, body = k.ksql("DROP TABLE SHARED_B DELETE TOPIC;")
    assert status == 200, body
    assert [t for t in k.ksql("SHOW TOPICS;")[1][0]["topics"] if t["name"] == "shared"] == []


def test_n_way_join_keyed_by_the_column_its_criteria_equals(k):
    # multi-joins.json "only viable in projection": the second criteria joins two expressions, but the left one is
    # the first step's key, which S1.ID equals: the result is keyed by S1_ID, not by a synthetic ROWKEY
    status, body = k.ksql("CREATE STREAM S3 (ID INT KEY, V BIGINT) WITH (kafka_topic='s3', value_format='JSON', "
                          "partitions=1);")
    assert status == 200, body
    status, body = k.ksql("CREATE STREAM VIABLE AS SELECT I1.ID, I1.V, S3.V FROM INPUT I1 JOIN INPUT_2 I2 WITHIN 10 "
                          "SECONDS ON I1.ID = ABS(I2.ID) JOIN S3 WITHIN 10 SECONDS ON ABS(I2.ID) = ABS(S3.ID);")
    assert status == 200, body
    fields = k.ksql("DESCRIBE VIABLE;")[1][0]["sourceDescription"]["fields"]
    assert [(f["name"], f.get("type")) for f in fields] == [("I1_ID", "KEY"), ("I1_V", None), ("S3_V", None)]
    query = next(q["id"] for q in k.ksql("SHOW QUERIES;")[1][0]["queries"] if q["sinks"] == ["VIABLE"])
    assert k.ksql(f"TERMINATE {query};")[0] == 200
