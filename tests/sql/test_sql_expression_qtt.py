"""Expressions as ksqlDB's functional tests (query-validation-tests) show them, through a real ksql server and
broker: `x IN (...)` with its members coerced to a common type (in.json), DECIMAL literals (`2.50` is
DECIMAL(3, 2), comparison-expression.json), LIKE ... ESCAPE (like.json), struct fields named `B_1` when `B` is
taken (simple-struct.json), ROUND below zero and NaN in JSON (math.json), DOUBLE as Java prints it in DELIMITED
(literals.json), and ksqlDB's messages for refused statements (cast.json, dateadd.json, literals.json, null.json,
case-expression.json)."""

from __future__ import annotations

import json

import pytest
from sql_helpers import consume, module_ksql, produce, run_statements

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest", "ksql.streams.commit.interval.ms": "100"}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql(tmp_path_factory, "ksql-expr") as (broker, k):
        run_statements(k, [
            "CREATE STREAM BASE (ID STRING KEY, I INT, D DATE, F0 VARCHAR, ORDERUNITS DOUBLE) WITH "
            "(kafka_topic='base_topic', value_format='JSON', partitions=1);"])
        yield broker, k


def values(bootstrap: str, topic: str, count: int) -> list:
    got = consume(bootstrap, topic, count)
    assert len(got) == count, got
    return [json.loads(v) for _, v in got]


def test_in_list_members_take_a_common_type(env):
    broker, k = env
    # in.json "int - valid": 2.0 and 5.10 are DECIMAL literals and '4.000' a text one, so the list's common type
    # is a DECIMAL wide enough for them and for VAL1; 4 matches '4.000' and 5 does not match 5.10
    run_statements(k, [
        "CREATE STREAM NUMBERS (VAL0 INT, VAL1 BIGINT) WITH (kafka_topic='numbers', format='JSON', partitions=1);",
        "CREATE STREAM IN_OUT AS SELECT VAL0 AS X, VAL0 IN (VAL1) AS SAME FROM NUMBERS "
        "WHERE VAL0 IN (1, 2.0, 3.00, '4.000', 5.10, VAL1);"], EARLIEST)
    rows = [{"VAL0": 1, "VAL1": 9}, {"VAL0": 4, "VAL1": 9}, {"VAL0": 5, "VAL1": 9}, {"VAL0": 7, "VAL1": 7},
            {"VAL0": None, "VAL1": 1}]
    produce(broker.bootstrap, "numbers", [(None, json.dumps(r).encode()) for r in rows])
    assert values(broker.bootstrap, "IN_OUT", 3) == [{"X": 1, "SAME": False}, {"X": 4, "SAME": False},
                                                     {"X": 7, "SAME": True}]


def test_like_escape_struct_names_round_and_non_numbers(env):
    broker, k = env
    run_statements(k, [
        "CREATE STREAM S2 (K STRING KEY, V DOUBLE, VAL STRING, PATTERN STRING, B INT, A STRUCT<B INT>) WITH "
        "(kafka_topic='s2', value_format='JSON', partitions=1);",
        # simple-struct.json "clashing field name": A->B is B_1 beside the column B
        "CREATE STREAM S2_OUT AS SELECT K, B, A->B, ROUND(V, 0) AS R, ROUND(V, -1) AS R10, SQRT(V) AS SQ, "
        "V * 1.5 AS D FROM S2 WHERE VAL LIKE PATTERN ESCAPE '!';",
        # 2.50 is DECIMAL(3, 2): times an INTEGER it keeps the scale; a DOUBLE is written as Java prints it
        "CREATE STREAM S2_TEXT WITH (VALUE_FORMAT='DELIMITED') AS SELECT K, V * 1e7 AS BIG, 2.50 * B AS DEC "
        "FROM S2;"], EARLIEST)
    rows = [{"V": -1.5, "VAL": "%", "PATTERN": "!%", "B": 2, "A": {"B": 3}},
            {"V": 2.0, "VAL": "x", "PATTERN": "!%", "B": 1, "A": {"B": 1}}]
    produce(broker.bootstrap, "s2", [(b"k", json.dumps(r).encode()) for r in rows])
    # math.json "round" (half down below zero, no -0.0) and "sqrt" (Jackson quotes NaN)
    assert values(broker.bootstrap, "S2_OUT", 1) == [{"B": 2, "B_1": 3, "R": -1.0, "R10": 0.0, "SQ": "NaN",
                                                      "D": -2.25}]
    got = consume(broker.bootstrap, "S2_TEXT", 2)
    # (commons-csv quotes a first field that starts with `-`)
    assert [v for _, v in got] == [b'"-1.5E7",5.00', b"2.0E7,2.50"]


def test_a_decimal_keeps_its_digits_through_delimited(env):
    broker, k = env
    # decimal.json "DELIMITED in/out": 21 digits, more than a double holds
    run_statements(k, [
        "CREATE STREAM DEC_IN (ID STRING KEY, dec DECIMAL(21,19)) WITH (kafka_topic='dec_in', "
        "value_format='DELIMITED', partitions=1);",
        "CREATE STREAM DEC_OUT AS SELECT * FROM DEC_IN;"], EARLIEST)
    produce(broker.bootstrap, "dec_in", [(b"a", b"10.1234512345123451234"), (b"b", b"5.4")])
    assert [v for _, v in consume(broker.bootstrap, "DEC_OUT", 2)] == [b"10.1234512345123451234",
                                                                       b"5.4000000000000000000"]


def test_a_null_value_rekeyed_from_its_key_columns_only(env):
    broker, k = env
    # null.json "stream PARTITION BY IS NULL with null value": NAME is a value column, so NULL; K + 2 reads the key
    run_statements(k, [
        "CREATE STREAM P_IN (K INT KEY, NAME STRING) WITH (kafka_topic='p_in', format='JSON', partitions=1);",
        "CREATE STREAM P_OUT AS SELECT K + 2 AS K2, NAME IS NULL AS ABSENT, NAME FROM P_IN "
        "PARTITION BY K + 2, (NAME IS NULL);"], EARLIEST)
    produce(broker.bootstrap, "p_in", [(b"4", None), (b"4", b'{"NAME": "n"}')])
    got = consume(broker.bootstrap, "P_OUT", 2)
    assert [(json.loads(key), v) for key, v in got] == [({"K2": 6, "ABSENT": None}, None),
                                                        ({"K2": 6, "ABSENT": False}, b'{"NAME":"n"}')]


@pytest.mark.parametrize("statement, message", [
    # comparison-expression.json: `1.5` is a DECIMAL literal
    ("CREATE STREAM X1 AS SELECT * FROM BASE WHERE TRUE + 1.5 EMIT CHANGES;",
     "Error in WHERE expression: Error processing expression: (true + 1.5). Unsupported arithmetic types. BOOLEAN "
     "DECIMAL"),
    # dateadd.json "throws on incorrect type": the name ksqlDB's UDF declares
    ("CREATE STREAM X2 AS SELECT ID, dateadd(D, 5, D) FROM BASE;",
     "Function 'dateadd' does not accept parameters (DATE, INTEGER, DATE)."),
    # cast.json "non-array to array", "to null"
    ("CREATE STREAM X3 AS SELECT ID, cast(F0 as ARRAY<INTEGER>) FROM BASE;",
     "Invalid Select: Cast of STRING to ARRAY<INTEGER> is not supported."),
    ("CREATE STREAM X4 AS SELECT ID, cast(F0 as NULL) FROM BASE;",
     "line 1:43: Syntax Error\nSyntax error at or near 'NULL' at line 1:43"),
    # literals.json "BIGINT literal positive overflow"
    ("CREATE STREAM X5 AS SELECT ID, 9223372036854775808 FROM BASE;",
     "Failed to prepare statement: line 1:33: Invalid numeric literal: 9223372036854775808"),
    # case-expression.json "searched case returning null in all branch", null.json "null as column"
    ("CREATE STREAM X6 AS SELECT ID, CASE WHEN orderunits < 2.0 THEN null ELSE null END AS R FROM BASE;",
     "Invalid Case expression. All case branches have NULL type"),
    ("CREATE STREAM X7 AS SELECT ID, null as COL2 FROM BASE;",
     "Can't infer a type of null. Please explicitly cast it to a required type, e.g. CAST(null AS VARCHAR)."),
    # greatest.json "test implicit casting to long", "test trying to compare numeric and string"
    ("CREATE STREAM X10 AS SELECT ID, GREATEST(I, CAST(I AS BIGINT)) FROM BASE;",
     "Function 'greatest' cannot be resolved due to ambiguous method parameters (INTEGER, BIGINT)."),
    ("CREATE STREAM X11 AS SELECT ID, LEAST(ID, I) FROM BASE;",
     "Function 'least' does not accept parameters (STRING, INTEGER)."),
    # in.json "int - invalid: other literal", "... non-numeric string literal"
    ("CREATE STREAM X8 AS SELECT * FROM BASE WHERE I IN (10, true);",
     "Invalid Predicate: operator does not exist: INTEGER = BOOLEAN (true)\nHint: You might need to add explicit "
     "type casts.."),
    ("CREATE STREAM X9 AS SELECT * FROM BASE WHERE I IN (10, '10 - not a number');",
     'Invalid Predicate: invalid input syntax for type INTEGER: "10 - not a number"..'),
])
def test_refused_as_ksqldb_words_it(env, statement: str, message: str):
    _, k = env
    status, body = k.ksql(statement)
    assert status == 400 and body["message"] == message, body


def test_the_server_goes_on(env):
    _, k = env
    status, body = k.ksql("SHOW STREAMS;")
    assert status == 200, body
    names = {s["name"] for s in body[0]["streams"]}
    assert {"BASE", "IN_OUT", "S2_OUT"} <= names and not any(n.startswith("X") for n in names)
