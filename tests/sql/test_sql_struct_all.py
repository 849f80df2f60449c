"""`struct->*` in a SELECT as ksqlDB has it (select-struct-all.json): one column per field, named by the field,
for value and key structs, nested ones, back-quoted field names, and in a join's projection."""

from __future__ import annotations

import pytest
from sql_helpers import consume, module_ksql, produce, run_statements

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest", "ksql.streams.commit.interval.ms": "100"}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql(tmp_path_factory, "ksql-struct-all", EARLIEST) as found:
        yield found


def fields(k, name: str) -> list[tuple[str, str]]:
    status, body = k.ksql(f"DESCRIBE {name};")
    assert status == 200, body
    return [(f["name"], f["schema"]["type"]) for f in body[0]["sourceDescription"]["fields"]]


def test_struct_fields_as_columns(env):
    broker, k = env
    run_statements(k, [
        "CREATE STREAM IN1 (K1 INT KEY, V1 STRUCT<a INT, `b 2` STRUCT<c STRING>>) WITH (kafka_topic='in1', "
        "format='JSON', partitions=1);",
        "CREATE STREAM OUT1 AS SELECT K1, V1->A AS A_FIELD, V1->* FROM IN1;",
        "CREATE STREAM OUT2 AS SELECT K1, I.V1->`b 2`->* FROM IN1 I;",
        "CREATE STREAM IN2 (K1 INT KEY, V1 STRUCT<a INT>) WITH (kafka_topic='in2', format='JSON', partitions=1);",
        "CREATE STREAM JOINED AS SELECT L.K1, L.V1->*, R.V1->A AS R_A FROM IN1 L JOIN IN2 R WITHIN 10 SECONDS "
        "ON L.K1 = R.K1;",
    ])
    assert fields(k, "OUT1") == [("K1", "INTEGER"), ("A_FIELD", "INTEGER"), ("A", "INTEGER"), ("b 2", "STRUCT")]
    assert fields(k, "OUT2") == [("K1", "INTEGER"), ("C", "STRING")]
    produce(broker.bootstrap, "in1", [(b"1", b'{"V1":{"a":1,"b 2":{"c":"x"}}}')])
    produce(broker.bootstrap, "in2", [(b"1", b'{"V1":{"a":2}}')])
    assert consume(broker.bootstrap, "OUT1", 1) == [(b"1", b'{"A_FIELD":1,"A":1,"b 2":{"C":"x"}}')]
    assert consume(broker.bootstrap, "OUT2", 1) == [(b"1", b'{"C":"x"}')]
    assert consume(broker.bootstrap, "JOINED", 1) == [(b"1", b'{"A":1,"b 2":{"C":"x"},"R_A":2}')]


def test_a_table_function_inside_an_expression(env):
    broker, k = env
    run_statements(k, [
        "CREATE STREAM ARRS (ID STRING KEY, MY_ARR ARRAY<STRUCT<F1 BIGINT>>) WITH (kafka_topic='arrs', "
        "value_format='JSON', partitions=1);",
        "CREATE STREAM ELEMS AS SELECT ID, EXPLODE(MY_ARR)->F1 AS VAL, EXPLODE(MY_ARR)->F1 + 1 AS NEXT FROM ARRS;",
    ])
    produce(broker.bootstrap, "arrs", [(b"0", b'{"MY_ARR":[{"F1":1},{"F1":2}]}'), (b"1", b'{"MY_ARR":[]}'),
                                       (b"2", b'{"MY_ARR":null}'), (b"3", b'{"MY_ARR":[{"F1":3}]}')])
    assert consume(broker.bootstrap, "ELEMS", 3) == [(b"0", b'{"VAL":1,"NEXT":2}'), (b"0", b'{"VAL":2,"NEXT":3}'),
                                                     (b"3", b'{"VAL":3,"NEXT":4}')]
