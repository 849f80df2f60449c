"""ksqlDB's functions through a real ksql server and broker: SHOW FUNCTIONS with ksqlDB's types and categories,
lambdas and CUBE_EXPLODE in persistent queries, functions in a push query, and a bad call's 400."""

from __future__ import annotations

import json

import pytest
from sql_helpers import consume, module_ksql, produce

from brook.sql.functions import AGGREGATES, SCALARS

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest"}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql(tmp_path_factory, "ksql-functions") as (broker, k):
        status, body = k.ksql("CREATE STREAM test (ID STRING KEY, numbers ARRAY<INT>, words ARRAY<STRING>, "
                              "m MAP<STRING, INT>, col1 INT, col2 INT) "
                              "WITH (kafka_topic='test_topic', value_format='JSON', partitions=1);")
        assert status == 200, body
        produce(broker.bootstrap, "test_topic", [
            (b"one", json.dumps({"numbers": [3, 6, 8], "words": ["ksql", None, "db"], "m": {"a": 1, "abcd": 10},
                                 "col1": 1, "col2": 2}).encode()),
            (b"two", json.dumps({"numbers": None, "words": [], "m": {}, "col1": 1, "col2": None}).encode())])
        yield broker, k


def test_show_functions_lists_every_function_with_its_type_and_category(env):
    _, k = env
    status, body = k.ksql("SHOW FUNCTIONS;")
    assert status == 200 and body[0]["@type"] == "function_names", body
    listed = {f["name"]: (f["type"], f["category"]) for f in body[0]["functions"]}
    assert set(listed) == set(SCALARS) | set(AGGREGATES)
    assert listed["TRANSFORM"] == ("SCALAR", "LAMBDA") and listed["REDUCE"] == ("SCALAR", "LAMBDA")
    assert listed["EXPLODE"] == ("TABLE", "TABLE") and listed["CUBE_EXPLODE"] == ("TABLE", "TABLE")
    assert listed["COUNT"] == ("AGGREGATE", "AGGREGATE") and listed["ROUND"] == ("SCALAR", "MATHEMATICAL")
    assert listed["PARSE_TIMESTAMP"] == ("SCALAR", "DATE / TIME") and listed["IFNULL"] == ("SCALAR", "CONDITIONAL")
    assert [f["name"] for f in body[0]["functions"]] == sorted(listed)


def test_lambdas_and_cube_explode_in_persistent_queries(env):
    broker, k = env
    # transform-array.json "apply transform lambda function to array", filter.json "apply lambda filter to int
    # array", reduce-array.json "reduce an array", reduce-map.json "apply reduce lambda function to map"
    status, body = k.ksql(
        "CREATE STREAM OUTPUT AS SELECT ID, TRANSFORM(numbers, x => x + 5) AS c, FILTER(numbers, x => x > 5) AS f, "
        "REDUCE(numbers, 2, (s, x) => s + x) AS r, TRANSFORM(words, w => UCASE(w)) AS u, "
        "REDUCE(m, 0, (s, k, v) => CASE WHEN LEN(k) > 3 THEN s + v ELSE s - v END) AS rm, "
        "FILTER(m, (k, v) => v > 1) AS fm FROM test;", EARLIEST)
    assert status == 200, body
    # cube.json "cube two int columns"
    status, body = k.ksql("CREATE STREAM CUBED AS SELECT ID, CUBE_EXPLODE(ARRAY[col1, col2]) VAL FROM test;",
                          EARLIEST)
    assert status == 200, body
    status, body = k.ksql("DESCRIBE OUTPUT;")
    fields = {f["name"]: f["schema"] for f in body[0]["sourceDescription"]["fields"]}
    assert fields["C"]["type"] == "ARRAY" and fields["C"]["memberSchema"]["type"] == "INTEGER"
    assert fields["RM"]["type"] == "INTEGER" and fields["FM"]["type"] == "MAP"
    rows = [(key, json.loads(v)) for key, v in consume(broker.bootstrap, "OUTPUT", 2)]
    assert rows == [
        (b"one", {"C": [8, 11, 13], "F": [6, 8], "R": 19, "U": ["KSQL", None, "DB"], "RM": 9, "FM": {"abcd": 10}}),
        (b"two", {"C": None, "F": None, "R": 2, "U": [], "RM": 0, "FM": {}})]  # a NULL array reduces to the state
    # a lambda over an aggregate
    status, body = k.ksql("CREATE TABLE AGG AS SELECT ID, TRANSFORM(COLLECT_LIST(col1), x => x * 10) AS t, "
                          "REDUCE(COLLECT_LIST(col2), 0, (s, x) => s + IFNULL(x, 100)) AS r FROM test GROUP BY ID;",
                          EARLIEST)
    assert status == 200, body
    assert [(key, json.loads(v)) for key, v in consume(broker.bootstrap, "AGG", 2)] == [
        (b"one", {"T": [10], "R": 2}), (b"two", {"T": [10], "R": 100})]  # NULL collected (collect-list.json)
    cubed = [(key, json.loads(v)["VAL"]) for key, v in consume(broker.bootstrap, "CUBED", 6)]
    assert cubed == [(b"one", [None, None]), (b"one", [None, 2]), (b"one", [1, None]), (b"one", [1, 2]),
                     (b"two", [None, None]), (b"two", [1, None])]


def test_functions_in_a_push_query_and_a_bad_call(env):
    _, k = env
    status, _, raw = k.request("POST", "/query", {
        "ksql": "SELECT ID, ARRAY_JOIN(ARRAY_SORT(numbers, 'DESC'), '-') AS j, TO_JSON_STRING(m) AS js, "
                "FORMAT_TIMESTAMP(FROM_UNIXTIME(1600000000000), 'yyyy-MM-dd HH:mm') AS ts, "
                "MASK(ID), GENERATE_SERIES(1, 0, 0) AS bad FROM test EMIT CHANGES LIMIT 1;",
        "streamsProperties": EARLIEST})
    lines = json.loads(raw)
    assert status == 200, lines
    # a push query's header gives the key column as a value column (push-queries.json "non-windowed stream -
    # STRING key": `K` STRING, `ID` INTEGER)
    assert lines[0]["header"]["schema"] == ("`ID` STRING, `J` STRING, `JS` STRING, `TS` STRING, "
                                            "`KSQL_COL_0` STRING, `BAD` ARRAY<INTEGER>")
    # a function that fails gives NULL for its column, as ksqlDB's processing log
    assert lines[1]["row"]["columns"] == ["one", "8-6-3", '{"a":1,"abcd":10}', "2020-09-13 12:26", "xxx", None]
    status, body = k.ksql("CREATE STREAM BAD AS SELECT ID, UCASE(col1) FROM test;")
    assert status == 400 and body["error_code"] == 40001, body
    assert body["message"] == "Function 'ucase' does not accept parameters (INTEGER)."
    status, body = k.ksql("CREATE STREAM BAD AS SELECT ID, TRANSFORM(numbers, (x, y) => x) FROM test;")
    assert status == 400 and "Function 'transform' does not accept parameters (ARRAY<INTEGER>, LAMBDA)." \
        in body["message"], body


def describe(k, name: str) -> dict:
    status, body = k.ksql(f"DESCRIBE FUNCTION {name};")
    assert status == 200 and body[0]["@type"] == "describe_function", body
    return body[0]


def signatures(fn: dict) -> list:
    return [([(a["name"], a["type"], a["isVariadic"]) for a in f["arguments"]], f["returnType"])
            for f in fn["functions"]]


def test_describe_function_gives_ksqldbs_typed_signatures(env):
    _, k = env
    # the expected values are those of ksqlDB 0.29's UDF annotations (the class named in each comment), which its
    # DescribeFunctionExecutor reports: parameter names, ParamType names (VARCHAR, INT, T, LAMBDA (T) => R)
    abs_ = describe(k, "abs")  # udf/math/Abs.java: one variant per numeric type
    assert (abs_["name"], abs_["type"], abs_["author"], abs_["version"], abs_["path"]) == (
        "ABS", "SCALAR", "Confluent", "", "internal")
    assert abs_["description"].startswith("Returns the absolute value of its argument.")
    assert signatures(abs_) == [([("val", t, False)], t) for t in ("INT", "BIGINT", "DOUBLE", "DECIMAL")]
    concat = describe(k, "concat")  # udf/string/Concat.java: variadic, no author
    assert concat["author"] == "" and concat["functions"][0] == {
        "arguments": [{"name": "inputs", "type": "VARCHAR", "description": "The varchar fields to concatenate",
                       "isVariadic": True}], "returnType": "VARCHAR", "description": ""}
    transform = describe(k, "TRANSFORM")  # udf/lambda/TransformUdf.java (lambda-taking)
    assert signatures(transform) == [
        ([("array", "ARRAY<T>", False), ("function", "LAMBDA (T) => R", False)], "ARRAY<R>"),
        ([("map", "MAP<K, V>", False), ("biFunction1", "LAMBDA (K, V) => R", False),
          ("biFunction2", "LAMBDA (K, V) => T", False)], "MAP<R, T>")]
    # udaf/topk/TopkKudaf.java: the aggregated column (val1), the other columns (variadic), the literal k
    topk = describe(k, "topk")
    assert topk["type"] == "AGGREGATE" and signatures(topk)[0] == (
        [("val1", "INT", False), ("val2", "ANY", True), ("k", "INT", False)], "ARRAY<S>")
    assert topk["functions"][0]["description"] == ("Returns the top k values for an integer column and other "
                                                   "values in those records.")
    latest = describe(k, "latest_by_offset")  # udaf/offset/LatestByOffset.java (its overview is ksqlDB's too)
    assert [(s, f["description"]) for s, f in zip(signatures(latest), latest["functions"], strict=True)] == [
        (([("val1", "T", False)], "T"), "return the latest value of a column"),
        (([("val1", "T", False), ("ignoreNulls", "BOOLEAN", False)], "T"), "return the latest value of a column"),
        (([("val1", "T", False), ("latestN", "INT", False)], "ARRAY<T>"), "return the latest N values of a column"),
        (([("val1", "T", False), ("latestN", "INT", False), ("ignoreNulls", "BOOLEAN", False)], "ARRAY<T>"),
         "return the latest N values of a column")]
    explode = describe(k, "explode")  # udtf/array/Explode.java
    assert (explode["type"], explode["description"]) == (
        "TABLE", "Explodes an array. This function outputs one value for each element of the array.")
    assert signatures(explode) == [([("list", "ARRAY<T>", False)], "T"),
                                   ([("input", "ARRAY<DECIMAL>", False)], "DECIMAL")]
    # a function ksqlDB 0.29 does not have: its arguments as far as Brook's registry types them
    md5 = describe(k, "md5")
    assert md5["type"] == "SCALAR" and signatures(md5) == [([("arg1", "VARCHAR", False)], "VARCHAR")]
