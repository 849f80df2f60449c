"""Header columns as ksqlDB 0.29 has them (its functional tests headers.json): `HEADERS` (every header of the
record, ARRAY<STRUCT<KEY STRING, VALUE BYTES>>) and `HEADER('k')` (the last header of that key, BYTES), read from
real records' headers, used in projections, filters and PARTITION BY, written by a query as value columns; the
refusals with ksqlDB's messages."""

from __future__ import annotations

import pytest
from confluent_kafka import Producer
from sql_helpers import consume, module_ksql, run_statements

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest", "ksql.streams.commit.interval.ms": "100"}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql(tmp_path_factory, "ksql-headers", EARLIEST) as found:
        yield found


def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes, list]]) -> None:
    p = Producer({"bootstrap.servers": bootstrap})
    for key, value, headers in records:
        p.produce(topic, key=key, value=value, headers=headers)
    assert p.flush(30) == 0


def refused(k, statement: str) -> str:
    status, body = k.ksql(statement)
    assert status == 400 and body["error_code"] == 40001, body
    return body["message"]


def test_header_columns_read_filtered_rekeyed_and_written(env):
    broker, k = env
    run_statements(k, [
        "CREATE STREAM SRC (K STRING KEY, H ARRAY<STRUCT<key STRING, value BYTES>> HEADERS, V BIGINT, "
        "ABC BYTES HEADER('abc')) WITH (kafka_topic='src', value_format='JSON', partitions=1);",
        "CREATE STREAM ALL_OF_IT AS SELECT * FROM SRC;",
        "CREATE STREAM FILTERED AS SELECT K, V, LEN(ABC) AS N FROM SRC WHERE H[1]->KEY = 'abc';",
        "CREATE STREAM BY_HEADER AS SELECT K, V, H[1]->VALUE FROM SRC PARTITION BY H[1]->VALUE;",
    ])
    status, body = k.ksql("DESCRIBE SRC;")
    fields = {f["name"]: f for f in body[0]["sourceDescription"]["fields"]}
    assert fields["H"]["type"] == "HEADER" and "headerKey" not in fields["H"]
    assert fields["ABC"]["type"] == "HEADER" and fields["ABC"]["headerKey"] == "abc"
    produce(broker.bootstrap, "src", [(b"k1", b'{"V":1}', []),
                                      (b"k2", b'{"V":2}', [("abc", b"!"), ("def", b"#"), ("abc", b"!!")])])
    assert consume(broker.bootstrap, "ALL_OF_IT", 2) == [
        (b"k1", b'{"H":[],"V":1,"ABC":null}'),
        (b"k2", b'{"H":[{"KEY":"abc","VALUE":"IQ=="},{"KEY":"def","VALUE":"Iw=="},{"KEY":"abc","VALUE":"ISE="}],'
                b'"V":2,"ABC":"ISE="}')]
    assert consume(broker.bootstrap, "FILTERED", 1) == [(b"k2", b'{"V":2,"N":2}')]  # the last 'abc' header
    assert consume(broker.bootstrap, "BY_HEADER", 2) == [(None, b'{"K":"k1","V":1}'), (b"!", b'{"K":"k2","V":2}')]


def test_header_column_refusals(env):
    _, k = env
    assert refused(k, "CREATE STREAM BAD1 (K STRING KEY, H1 BYTES HEADERS, V BIGINT) WITH (kafka_topic='bad', "
                      "value_format='JSON', partitions=1);") == \
        "Invalid type for HEADERS column: expected ARRAY<STRUCT<`KEY` STRING, `VALUE` BYTES>>, got BYTES"
    assert refused(k, "CREATE STREAM BAD2 (K STRING KEY, H1 INT HEADER('key'), V BIGINT) WITH (kafka_topic='bad', "
                      "value_format='JSON', partitions=1);") == \
        "Invalid type for HEADER('key') column: expected BYTES, got INTEGER"
    run_statements(k, [
        "CREATE STREAM WITH_H (K STRING KEY, H1 BYTES HEADER('abc'), V BIGINT) WITH (kafka_topic='with_h', "
        "value_format='JSON', partitions=1);",
        "CREATE STREAM PLAIN (K STRING KEY, H1 BYTES, V BIGINT) WITH (kafka_topic='plain', value_format='JSON', "
        "partitions=1);"])
    assert refused(k, "INSERT INTO WITH_H VALUES ('abc', null, 44);") == "Cannot insert into HEADER columns: H1"
    assert refused(k, "INSERT INTO WITH_H (H1) VALUES (null);") == "Cannot insert into HEADER columns: H1"
    assert refused(k, "INSERT INTO WITH_H SELECT * FROM PLAIN;") == \
        "Cannot insert into WITH_H because it has header columns"
