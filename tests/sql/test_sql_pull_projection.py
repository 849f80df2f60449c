"""Pull queries on tables that `CREATE TABLE AS SELECT` builds by projecting and filtering a table (no join, no
GROUP BY), as ksqlDB's rest-query-validation-tests/pull-queries-against-ctas-materialized.json runs them: the
source's rows are materialized in `KsqlTopic-Reduce` and the query's filter and projection applied on read; a
tombstone or a row the filter drops leaves the table; a restart restores the store from its changelog."""

from __future__ import annotations

import json
import shutil

import pytest
from kafka_wire import wait_for
from sql_helpers import consume, module_ksql, produce

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest"}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql(tmp_path_factory, "ksql-pullproj") as (broker, k):
        status, body = k.ksql("CREATE TABLE INPUT (ID STRING PRIMARY KEY, GRADE STRING, RANK INT) "
                              "WITH (kafka_topic='test_topic', value_format='JSON', partitions=2);")
        assert status == 200, body
        yield broker, k


def pull(k, sql: str) -> tuple[str, list]:
    status, _, body = k.request("POST", "/query", {"ksql": sql, "streamsProperties": {}})
    lines = json.loads(body)
    assert status == 200 and "header" in lines[0], lines
    return lines[0]["header"]["schema"], [line["row"]["columns"] for line in lines[1:]]


def rows(k, sql: str) -> list:
    return sorted(pull(k, sql)[1])


def test_projected_table_key_lookup_scan_filter_and_tombstone(env):
    broker, k = env
    produce(broker.bootstrap, "test_topic", [(b"11", b'{"GRADE": "A", "RANK": 1}'),
                                             (b"10", b'{"GRADE": "B", "RANK": 2}'),
                                             (b"12", b'{"GRADE": "A", "RANK": 3}')])
    # "select with projection table scan and key lookup"
    status, body = k.ksql("CREATE TABLE NEW_INPUT AS SELECT ID, CONCAT(GRADE, '+'), RANK * 2 AS DOUBLE_RANK "
                          "FROM INPUT EMIT CHANGES;", EARLIEST)
    assert status == 200, body
    query_id = body[0]["commandStatus"]["queryId"]
    # "persistent query with NON KEY filter and projection": only GRADE 'A' rows are in the table
    status, body = k.ksql("CREATE TABLE A_ONLY AS SELECT ID, GRADE, RANK * 2 AS DOUBLE_RANK FROM INPUT "
                          "WHERE GRADE = 'A' EMIT CHANGES;", EARLIEST)
    assert status == 200, body
    wait_for(lambda: rows(k, "SELECT * FROM NEW_INPUT;") == [["10", "B+", 4], ["11", "A+", 2], ["12", "A+", 6]],
             30, what="the projected table's rows")
    schema, got = pull(k, "SELECT ID, DOUBLE_RANK FROM NEW_INPUT WHERE ID='11';")
    assert schema == "`ID` STRING KEY, `DOUBLE_RANK` INTEGER" and got == [["11", 2]]
    assert rows(k, "SELECT ID, DOUBLE_RANK FROM NEW_INPUT WHERE ID IN ('11', '12');") == [["11", 2], ["12", 6]]
    wait_for(lambda: rows(k, "SELECT * FROM A_ONLY;") == [["11", "A", 2], ["12", "A", 6]], 30,
             what="the filtered table's rows")
    assert pull(k, "SELECT * FROM A_ONLY WHERE ID='10';")[1] == []  # filtered out: absent
    # the store and its changelog, named as ksqlDB names a materialized source table's
    changelog = f"_confluent-ksql-default_query_{query_id}-KsqlTopic-Reduce-changelog"
    assert len(consume(broker.bootstrap, changelog, 3)) == 3
    # a tombstone removes the row; a row that no longer passes the filter leaves the filtered table
    produce(broker.bootstrap, "test_topic", [(b"12", None), (b"11", b'{"GRADE": "C", "RANK": 1}')])
    wait_for(lambda: rows(k, "SELECT * FROM NEW_INPUT;") == [["10", "B+", 4], ["11", "C+", 2]], 30,
             what="the tombstone and the update in the projected table")
    wait_for(lambda: rows(k, "SELECT * FROM A_ONLY;") == [], 30, what="the filtered table emptied")
    assert pull(k, "SELECT * FROM NEW_INPUT WHERE ID='12';")[1] == []
    # the sink got the same: a filtered-out key is a tombstone there (10 at once, 11 and 12 later)
    latest = dict(consume(broker.bootstrap, "A_ONLY", 5))
    assert latest == {b"10": None, b"11": None, b"12": None}


def test_source_table_is_pullable_and_dropped_with_its_query(env):
    broker, k = env
    # pull-queries-against-cst-materialized.json: ksqlDB 0.29 materializes a CREATE SOURCE TABLE in a CST_ query
    status, body = k.ksql("CREATE SOURCE TABLE CST_INPUT (K INT PRIMARY KEY, text STRING) "
                          "WITH (kafka_topic='cst_topic', value_format='DELIMITED', partitions=1);")
    assert status == 200, body
    query_id = f"CST_CST_INPUT_{body[0]['commandSequenceNumber']}"
    assert query_id in [q["id"] for q in k.ksql("SHOW QUERIES;")[1][0]["queries"]]
    produce(broker.bootstrap, "cst_topic", [(i.to_bytes(4, "big"), f"a{i}".encode()) for i in (1, 2, 3)])
    wait_for(lambda: rows(k, "SELECT * FROM CST_INPUT;") == [[1, "a1"], [2, "a2"], [3, "a3"]], 30,
             what="the source table's rows")
    assert pull(k, "SELECT K, TEXT FROM CST_INPUT WHERE K=2;") == ("`K` INTEGER KEY, `TEXT` STRING", [[2, "a2"]])
    produce(broker.bootstrap, "cst_topic", [((2).to_bytes(4, "big"), None)])
    wait_for(lambda: rows(k, "SELECT * FROM CST_INPUT;") == [[1, "a1"], [3, "a3"]], 30, what="the tombstone")
    # dropping the table ends its query (no TERMINATE needed)
    status, body = k.ksql("DROP TABLE CST_INPUT;")
    assert status == 200, body
    assert query_id not in [q["id"] for q in k.ksql("SHOW QUERIES;")[1][0]["queries"]]


def test_not_materialized_table_refused_and_store_restored_after_restart(env):
    broker, k = env
    # pull-queries-against-ctas-materialized.json "pull query on `CREATE TABLE` table should fail"
    status, _, body = k.request("POST", "/query", {"ksql": "SELECT * FROM INPUT;", "streamsProperties": {}})
    err = json.loads(body)
    assert status == 400 and err["@type"] == "statement_error" and err["message"].startswith(
        "The `INPUT` table isn't queryable. To derive a queryable table, you can do 'CREATE TABLE QUERYABLE_INPUT "
        "AS SELECT * FROM INPUT'. See https://cnfl.io/queries for more info.")
    k.stop()
    # no local state left: the store comes back from its changelog alone
    shutil.rmtree(k.overrides["ksql.streams.state.dir"])
    k.start()
    wait_for(lambda: _ready(k), 30, what="the restored store")
    assert rows(k, "SELECT * FROM NEW_INPUT;") == [["10", "B+", 4], ["11", "C+", 2]]
    produce(broker.bootstrap, "test_topic", [(b"13", b'{"GRADE": "A", "RANK": 5}')])
    wait_for(lambda: rows(k, "SELECT * FROM A_ONLY;") == [["13", "A", 10]], 30, what="a row after the restart")


def _ready(k) -> bool:
    status, _, _ = k.request("POST", "/query", {"ksql": "SELECT * FROM NEW_INPUT;", "streamsProperties": {}})
    return status == 200


SCANS_OFF = {"ksql.query.pull.table.scan.enabled": False}


@pytest.mark.parametrize(("where", "message"), [
    # pull-queries-against-materialized-aggregates.json "fail on unsupported query feature: ..." cases
    ("WHERE GRADE = 'A'", "WHERE clause missing key column for disjunct: (GRADE = 'A')"),
    ("WHERE ID != '10'", "Bound on key columns '[`ID` STRING KEY]' must currently be '='"),
    ("WHERE '0' < ID AND ID < '100'", "A comparison condition on the key column cannot be combined with "
                                      "other comparisons such as an IN predicate"),
    ("WHERE ID = '10' AND ID IN ('1', '10')", "A comparison condition on the key column cannot be combined with "
                                             "other comparisons such as an IN predicate"),
    ("WHERE ID = GRADE", "A comparison must be between a key column and a resolvable expression"),
    ("WHERE ID IN ('2', GRADE)", "A comparison must be between a key column and a resolvable expression"),
    ("", "Missing WHERE clause"),
])
def test_pull_query_must_be_a_key_lookup_when_table_scans_are_disabled(env, where, message):
    _, k = env
    status, body = k.ksql("CREATE TABLE IF NOT EXISTS LOOKUP AS SELECT ID, GRADE FROM INPUT EMIT CHANGES;", EARLIEST)
    assert status == 200, body
    status, _, raw = k.request("POST", "/query", {"ksql": f"SELECT * FROM LOOKUP {where};",
                                                  "streamsProperties": SCANS_OFF})
    error = json.loads(raw)
    assert status == 400 and error["message"].startswith(message + ". "), error
    assert error["message"].endswith("table scans can be enabled by setting ksql.query.pull.table.scan.enabled=true.")
    # a lookup by key (=, a range or IN, with value filters) is still answered
    for lookup in ("ID IN ('10', '11') AND GRADE = 'B'", "ID > '0'"):
        wait_for(lambda q=lookup: k.request("POST", "/query", {"ksql": f"SELECT * FROM LOOKUP WHERE {q};",
                                                               "streamsProperties": SCANS_OFF})[0] == 200,
                 30, what=f"{lookup} with table scans disabled")
