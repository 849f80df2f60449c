"""ksqlDB's aggregate functions as its functional tests (query-validation-tests) run them, through a real ksql server
and broker: LATEST_BY_OFFSET / EARLIEST_BY_OFFSET with n and ignoreNulls, TOPK with other columns, COUNT(), SUM_LIST,
COLLECT_LIST / COLLECT_SET with NULLs and their limit, and DELIMITED's refusal of structured intermediate types."""

from __future__ import annotations

import json
import struct

import pytest
from sql_helpers import consume, module_ksql, produce, run_statements

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest"}
ROWS = [{"F0": 12, "NAME": "a", "B": "YQ==", "L": [1, 2]},
        {"F0": None, "NAME": None, "B": None, "L": [3, None]},
        {"F0": 13, "NAME": "c", "B": "Yg==", "L": None}]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql(tmp_path_factory, "ksql-aggregates-qtt") as (broker, k):
        run_statements(k, ["CREATE STREAM INPUT (ID BIGINT KEY, F0 INT, NAME STRING, B BYTES, L ARRAY<INT>) "
                           "WITH (kafka_topic='input_topic', value_format='JSON', partitions=1);"])
        produce(broker.bootstrap, "input_topic", [(struct.pack(">q", 0), json.dumps(r).encode()) for r in ROWS])
        yield broker, k


def values(broker, topic: str, count: int) -> list:
    got = consume(broker.bootstrap, topic, count)
    assert [key for key, _ in got] == [struct.pack(">q", 0)] * count
    return [json.loads(v) for _, v in got]


def test_latest_and_earliest_by_offset_with_n_and_ignore_nulls(env):
    broker, k = env
    # latest-offset-udaf.json "nulls not ignored - multiple", "nulls ignored - single", "nulls not ignored - single";
    # earliest-offset-udaf.json "nulls later - multiple - nulls ignored", "null later - single - nulls not ignored";
    # "latest by offset" (a BYTES column)
    run_statements(k, ["CREATE TABLE OFFSETS AS SELECT ID, LATEST_BY_OFFSET(F0, 2, false) AS LN, "
                       "LATEST_BY_OFFSET(F0, true) AS L1, LATEST_BY_OFFSET(F0, false) AS LF, EARLIEST_BY_OFFSET(F0, 2) "
                       "AS EN, EARLIEST_BY_OFFSET(F0, false) AS EF, LATEST_BY_OFFSET(B) AS LB FROM INPUT GROUP BY ID;"],
                   EARLIEST)
    assert values(broker, "OFFSETS", 3) == [
        {"LN": [12], "L1": 12, "LF": 12, "EN": [12], "EF": 12, "LB": "YQ=="},
        {"LN": [12, None], "L1": 12, "LF": None, "EN": [12], "EF": 12, "LB": "YQ=="},
        {"LN": [None, 13], "L1": 13, "LF": 13, "EN": [12, 13], "EF": 12, "LB": "Yg=="}]
    status, body = k.ksql("DESCRIBE OFFSETS;")
    fields = {f["name"]: f["schema"] for f in body[0]["sourceDescription"]["fields"]}
    assert fields["LN"] == {"type": "ARRAY", "fields": None, "memberSchema": {"type": "INTEGER", "fields": None,
                                                                              "memberSchema": None}}
    assert fields["L1"]["type"] == "INTEGER" and fields["LB"]["type"] == "BYTES"


def test_topk_struct_count_sum_list_and_collect_with_nulls(env):
    broker, k = env
    # topk-group-by.json "topk integer struct - JSON", count.json "count" (COUNT()), sum.json "sum list of ints into
    # a single int", collect-list.json "collect_list string - JSON" and collect-set.json "collect_set string - JSON"
    # (NULL is collected)
    run_statements(k, ["CREATE TABLE OTHERS AS SELECT ID, COUNT() AS N, COLLECT_LIST(NAME) AS NAMES, "
                       "COLLECT_SET(F0) AS S, TOPK(F0, NAME, 2) AS T, SUM_LIST(L) AS SL FROM INPUT GROUP BY ID;"],
                   EARLIEST)
    assert values(broker, "OTHERS", 3) == [
        {"N": 1, "NAMES": ["a"], "S": [12], "T": [{"sort_col": 12, "col0": "a"}], "SL": 3},
        {"N": 2, "NAMES": ["a", None], "S": [12, None], "T": [{"sort_col": 12, "col0": "a"}], "SL": 6},
        {"N": 3, "NAMES": ["a", None, "c"], "S": [12, None, 13],
         "T": [{"sort_col": 13, "col0": "c"}, {"sort_col": 12, "col0": "a"}], "SL": 6}]
    status, body = k.ksql("DESCRIBE OTHERS;")
    fields = {f["name"]: f["schema"] for f in body[0]["sourceDescription"]["fields"]}
    member = fields["T"]["memberSchema"]
    assert fields["T"]["type"] == "ARRAY" and member["type"] == "STRUCT"
    assert [(f["name"], f["schema"]["type"]) for f in member["fields"]] == [("sort_col", "INTEGER"),
                                                                          ("col0", "STRING")]
    assert fields["SL"]["type"] == "INTEGER" and fields["N"]["type"] == "BIGINT"


def test_collect_list_limit_is_a_query_property(env):
    broker, k = env
    # collect-list.json "collect_list with limit of 1", collect-set.json "collect_set with limit of 1"
    run_statements(k, ["CREATE TABLE LIMITED AS SELECT ID, COLLECT_LIST(F0) AS CL, COLLECT_SET(NAME) AS CS "
                       "FROM INPUT GROUP BY ID;"],
                   {**EARLIEST, "ksql.functions.collect_list.limit": 1, "ksql.functions.collect_set.limit": 2})
    assert values(broker, "LIMITED", 3) == [{"CL": [12], "CS": ["a"]}, {"CL": [12], "CS": ["a", None]},
                                            {"CL": [12], "CS": ["a", None]}]


def test_delimited_refuses_structured_intermediate_types_and_bad_arities(env):
    _, k = env
    run_statements(k, ["CREATE STREAM DELIM (ID STRING KEY, NAME STRING, V INT) "
                       "WITH (kafka_topic='delim_topic', value_format='DELIMITED', partitions=1);"])
    # average-udaf.json "average - DELIMITED", topk-group-by.json "topk DELIMITED" and "topk struct DELIMITED"
    for agg in ("AVG(V)", "TOPK(V, 3)", "TOPK(V, NAME, 3)"):
        status, body = k.ksql(f"CREATE TABLE BAD AS SELECT ID, {agg} AS X FROM DELIM GROUP BY ID;")
        assert status == 400 and body["message"] == (
            "One of the functions used in the statement has an intermediate type that the value format can not "
            "handle. Please remove the function or change the format."), body
    # (INPUT's own columns: an unknown column is refused first, as ksqlDB's analyzer checks columns first)
    for agg in ("SUM(F0, 2)", "LATEST_BY_OFFSET(F0, 2, true, 1)", "TOPKDISTINCT(F0, NAME, 2)", "SUM()"):
        status, body = k.ksql(f"CREATE TABLE BAD AS SELECT ID, {agg} AS X FROM INPUT GROUP BY ID;")
        assert status == 400 and "does not accept parameters" in body["message"], (agg, body)
    status, body = k.ksql("CREATE TABLE OK AS SELECT ID, SUM(V) AS X FROM DELIM GROUP BY ID;")
    assert status == 200, body


def test_a_window_may_be_named(env):
    broker, k = env
    # earliest-offset-udaf.json "merging session windows": WINDOW nWINDOW SESSION (...), the name ignored
    run_statements(k, ["CREATE TABLE NAMED AS SELECT ID, EARLIEST_BY_OFFSET(F0) AS E FROM INPUT WINDOW nWINDOW "
                       "SESSION (1 SECONDS) GROUP BY ID;"], EARLIEST)
    status, body = k.ksql("DESCRIBE NAMED;")
    assert status == 200 and body[0]["sourceDescription"]["windowType"] == "SESSION", body
    assert [json.loads(v) for _, v in consume(broker.bootstrap, "NAMED", 1)] == [{"E": 12}]
