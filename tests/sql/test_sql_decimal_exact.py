"""DECIMAL values are exact, as BigDecimal's are in ksqlDB: 38 digits through arithmetic (DecimalUtil's result
types, `MathContext(p, UNNECESSARY)`), ROUND, SUM and the state stores, and through JSON, DELIMITED and AVRO (the
registry's bytes/decimal), with the REST answers' numbers written digit for digit."""

from __future__ import annotations

import json

import pytest
from sql_helpers import consume, module_ksql_with_registry, produce, pull, run_statements

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest", "ksql.streams.commit.interval.ms": "100"}
BIG = "12345678901234567890.123456789012345678"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql_with_registry(tmp_path_factory, "ksql-decimal", EARLIEST) as (broker, _, k):
        yield broker, k


def values(bootstrap: str, topic: str, count: int) -> list[str]:
    return [v.decode() for _, v in consume(bootstrap, topic, count)]


def test_arithmetic_keeps_every_digit_through_json_avro_and_delimited(env):
    broker, k = env
    run_statements(k, [
        "CREATE STREAM NUMS (ID STRING KEY, A DECIMAL(38,18), B DECIMAL(38,18)) WITH (kafka_topic='nums', "
        "value_format='JSON', partitions=1);",
        # DECIMAL(38,18) + DECIMAL(38,18) is DECIMAL(39,18) in DecimalUtil's rules: ksqlDB caps nothing here
        "CREATE STREAM SUMS AS SELECT ID, A + B AS S, A - B AS D, B * 4 AS M, B / 4 AS Q, A / 7 AS INEXACT "
        "FROM NUMS;",
        "CREATE STREAM NUMS_AVRO WITH (value_format='AVRO') AS SELECT ID, A, ROUND(A, 2) AS R FROM NUMS;",
        "CREATE STREAM NUMS_TEXT WITH (value_format='DELIMITED') AS SELECT ID, A, R FROM NUMS_AVRO;",
    ])
    produce(broker.bootstrap, "nums", [(b"n", f'{{"A": {BIG}, "B": 0.000000000000000001}}'.encode())])
    row = json.loads(values(broker.bootstrap, "SUMS", 1)[0], parse_float=str)
    assert row == {"S": "12345678901234567890.123456789012345679", "D": "12345678901234567890.123456789012345677",
                   "M": "4E-18", "Q": "2.5000000000E-19", "INEXACT": None}
    # through the registry's Avro bytes and back to text: nothing rounded to a double
    assert values(broker.bootstrap, "NUMS_TEXT", 1) == [f"{BIG},12345678901234567890.120000000000000000"]


def test_sum_of_a_table_is_exact_in_the_store_and_in_pull_answers(env):
    broker, k = env
    run_statements(k, [
        "CREATE STREAM PAYMENTS (ID STRING KEY, ACCOUNT STRING, AMOUNT DECIMAL(10,2)) WITH (kafka_topic='payments', "
        "value_format='JSON', partitions=1);",
        "CREATE TABLE BALANCES AS SELECT ACCOUNT, SUM(AMOUNT) AS TOTAL, COUNT(*) AS N FROM PAYMENTS "
        "GROUP BY ACCOUNT;",
    ])
    # 0.10 thirty times: 3.0000000000000004 as doubles, 3.00 as DECIMAL
    produce(broker.bootstrap, "payments",
            [(f"p{i}".encode(), b'{"ACCOUNT": "a", "AMOUNT": 0.10}') for i in range(30)]
            + [(b"big", b'{"ACCOUNT": "b", "AMOUNT": 9999999.99}'), (b"big2", b'{"ACCOUNT": "b", "AMOUNT": 0.01}')])
    from kafka_wire import wait_for

    def settled() -> bool:
        return sorted(map(tuple, pull(k, "SELECT ACCOUNT, N FROM BALANCES;"))) == [("a", 30), ("b", 2)]
    wait_for(settled, 30, interval=0.2, what="both balances counted")
    status, _, body = k.request("POST", "/query", {"ksql": "SELECT ACCOUNT, TOTAL FROM BALANCES WHERE ACCOUNT='a';",
                                                   "streamsProperties": {}})
    assert status == 200, body
    assert b'["a",3.00]' in body
    rows = json.loads(pull_text(k, "SELECT TOTAL FROM BALANCES WHERE ACCOUNT='b';"), parse_float=str)
    assert rows[1]["row"]["columns"] == ["10000000.00"]  # DECIMAL(10,2) holds it: no overflow


def pull_text(k, sql: str) -> bytes:  # noqa: ANN001 - KsqlProcess
    status, _, body = k.request("POST", "/query", {"ksql": sql, "streamsProperties": {}})
    assert status == 200, body
    return body


def test_insert_into_casts_numeric_literals_to_the_sinks_decimals(env):
    # insert-into.json "implicitly casts" (ImplicitlyCastResolver) and "unknown" (where the request names it)
    broker, k = env
    run_statements(k, [
        "CREATE STREAM TICKS (IGNORED STRING) WITH (kafka_topic='ticks', value_format='JSON', "
        "partitions=1);",
        "CREATE STREAM PRICES (C1 DECIMAL(5,2), C2 DECIMAL(5,2)) WITH (kafka_topic='prices', value_format='JSON', "
        "partitions=1);",
        "INSERT INTO PRICES SELECT 1 AS C1, 2.0 AS C2 FROM TICKS;",
    ])
    produce(broker.bootstrap, "ticks", [(None, b'{"IGNORED": "v1"}')])
    assert values(broker.bootstrap, "prices", 1) == ['{"C1":1.00,"C2":2.00}']
    status, body = k.ksql("INSERT INTO UNKNOWN SELECT * FROM TICKS;")
    assert status == 400 and body["message"] == "Line: 1, Col: 13: Source `UNKNOWN` does not exist.", body


def test_json_sr_writes_and_reads_decimals_as_exact_numbers(env):
    # KsqlJsonSerdeFactory's decimal.format=NUMERIC: a JSON_SR DECIMAL is a JSON number (its schema a number with
    # connect.type bytes, as JsonSchemaData writes it), read back with all its digits
    broker, k = env
    run_statements(k, [
        "CREATE STREAM BIGS (ID STRING KEY, A DECIMAL(38,18)) WITH (kafka_topic='bigs', value_format='JSON', "
        "partitions=1);",
        "CREATE STREAM BIGS_SR WITH (value_format='JSON_SR') AS SELECT * FROM BIGS;",
        "CREATE STREAM BIGS_TEXT WITH (value_format='DELIMITED') AS SELECT * FROM BIGS_SR;",
    ])
    produce(broker.bootstrap, "bigs", [(b"n", f'{{"A": {BIG}}}'.encode())])
    raw = consume(broker.bootstrap, "BIGS_SR", 1)[0][1]
    assert raw[0] == 0 and json.loads(raw[5:], parse_float=str) == {"A": BIG}
    assert values(broker.bootstrap, "BIGS_TEXT", 1) == [BIG]
