"""DELIMITED's delimiters, the serde refusals and PARTITION BY as ksqlDB 0.29 has them (its functional tests
delimited.json, kafka.json and partition-by.json), through a real ksql server and broker."""

from __future__ import annotations

import pytest
from sql_helpers import consume, module_ksql, produce, run_statements

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest", "ksql.streams.commit.interval.ms": "100"}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql(tmp_path_factory, "ksql-delimited", EARLIEST) as found:
        yield found


def refused(k, statement: str) -> str:
    status, body = k.ksql(statement)
    assert status == 400, body
    assert body["@type"] == "statement_error" and body["error_code"] == 40001
    return body["message"]


def describe(k, name: str) -> list[tuple[str, str]]:
    status, body = k.ksql(f"DESCRIBE {name};")
    assert status == 200, body
    return [(f["name"], f["schema"]["type"] + (" KEY" if f.get("type") == "KEY" else ""))
            for f in body[0]["sourceDescription"]["fields"]]


def test_value_delimiters_read_write_and_carry_to_the_sink(env):
    broker, k = env
    run_statements(k, [
        "CREATE STREAM PIPES (K STRING KEY, ID BIGINT, NAME STRING, V INT) WITH (kafka_topic='pipes', "
        "value_format='DELIMITED', value_delimiter='|', partitions=1);",
        "CREATE STREAM PIPES_COPY AS SELECT * FROM PIPES;",  # keeps the source's delimiter
        "CREATE STREAM DOLLARS WITH (value_delimiter='$') AS SELECT * FROM PIPES;",
        "CREATE STREAM TABS WITH (value_delimiter='TAB') AS SELECT * FROM PIPES;",
        "CREATE STREAM AS_JSON WITH (value_format='JSON') AS SELECT * FROM PIPES;",
    ])
    produce(broker.bootstrap, "pipes", [(b"0", b"0|zero|0"), (b"1", b"1|a$b|5")])
    assert consume(broker.bootstrap, "PIPES_COPY", 2) == [(b"0", b"0|zero|0"), (b"1", b"1|a$b|5")]
    assert consume(broker.bootstrap, "DOLLARS", 2) == [(b"0", b"0$zero$0"), (b"1", b'1$"a$b"$5')]  # quoted
    assert consume(broker.bootstrap, "TABS", 2) == [(b"0", b"0\tzero\t0"), (b"1", b"1\ta$b\t5")]
    assert consume(broker.bootstrap, "AS_JSON", 1) == [(b"0", b'{"ID":0,"NAME":"zero","V":0}')]


def test_key_and_value_delimiters_apart(env):
    broker, k = env
    run_statements(k, [
        "CREATE STREAM KV (K1 STRING KEY, K2 STRING KEY, V INT, V2 INT) WITH (kafka_topic='kv', format='DELIMITED', "
        "key_delimiter=';', value_delimiter='-', partitions=1);",
        "CREATE STREAM KV_OUT WITH (key_format='JSON') AS SELECT * FROM KV;",
    ])
    produce(broker.bootstrap, "kv", [(b"foo,bar;baz", b"0-1")])
    assert consume(broker.bootstrap, "KV_OUT", 1) == [(b'{"K1":"foo,bar","K2":"baz"}', b"0-1")]


def test_bad_delimiters_and_types_are_refused_with_ksqldb_messages(env):
    _, k = env
    example = "\nExample valid value: ';'"
    assert refused(k, "CREATE STREAM T WITH (kafka_topic='t', value_format='DELIMITED', value_delimiter='<~>');") == \
        ("Failed to prepare statement: Configuration VALUE_DELIMITER is invalid: Invalid delimiter value: '<~>'. "
         "Delimiter must be a single character or TAB,SPACE" + example)
    assert refused(k, "CREATE STREAM T WITH (kafka_topic='t', value_format='DELIMITED', value_delimiter=' ');") == \
        ("Failed to prepare statement: Configuration VALUE_DELIMITER is invalid: Delimiter cannot be empty, if you "
         "meant to have a tab or space for delimiter, please use the special values 'TAB' or 'SPACE'" + example)
    assert refused(k, "CREATE STREAM T (V INT) WITH (kafka_topic='t', value_format='JSON', value_delimiter='|');") == \
        "JSON does not support the following configs: [delimiter]"
    assert refused(k, "CREATE STREAM T (K ARRAY<DOUBLE> KEY, V INT) WITH (kafka_topic='t', format='DELIMITED');") == \
        ("Key format does not support schema.\nformat: DELIMITED\nschema: Persistence{columns=[`K` ARRAY<DOUBLE> KEY], "
         "features=[]}\nreason: The 'DELIMITED' format does not support type 'ARRAY', column: `K`")
    assert "The 'KAFKA' format does not support type 'BOOLEAN'" in \
        refused(k, "CREATE STREAM T (K STRING KEY, V0 BOOLEAN) WITH (kafka_topic='t', value_format='KAFKA');")
    assert refused(k, "CREATE STREAM T (K MAP<STRING, DOUBLE> KEY, V INT) WITH (kafka_topic='t', format='JSON');") == \
        ("Map keys, including types that contain maps, are not supported as they may lead to unexpected behavior due "
         "to inconsistent serialization. Key column name: `K`. Column type: MAP<STRING, DOUBLE>. See "
         "https://github.com/confluentinc/ksql/issues/6621 for more.")
    run_statements(k, ["CREATE STREAM D1 (V INT) WITH (kafka_topic='d1', value_format='DELIMITED', partitions=1);"])
    assert "The 'DELIMITED' format does not support type 'STRUCT'" in \
        refused(k, "CREATE STREAM D2 AS SELECT STRUCT(k := V) AS S FROM D1;")
    status, body = k.ksql("SHOW STREAMS;")
    assert {"T", "D2"}.isdisjoint(s["name"] for s in body[0]["streams"])  # nothing half-created


def test_partition_by_select_star_and_expressions(env):
    broker, k = env
    run_statements(k, [
        "CREATE STREAM PEOPLE (ID INT KEY, NAME STRING, AGE INT) WITH (kafka_topic='people', value_format='JSON', "
        "partitions=1);",
        "CREATE STREAM BY_NAME AS SELECT * FROM PEOPLE PARTITION BY NAME;",
        "CREATE STREAM BY_ABS WITH (key_format='JSON') AS SELECT * FROM PEOPLE PARTITION BY ABS(ID);",
        "CREATE STREAM BY_TWO WITH (format='JSON') AS SELECT AGE, ID, NAME FROM PEOPLE PARTITION BY NAME, ID;",
        "CREATE STREAM NO_KEY AS SELECT ID, NAME FROM PEOPLE PARTITION BY NULL;",
    ])
    assert describe(k, "BY_NAME") == [("NAME", "STRING KEY"), ("AGE", "INTEGER"), ("ID", "INTEGER")]
    assert describe(k, "BY_ABS") == [("KSQL_COL_0", "INTEGER KEY"), ("NAME", "STRING"), ("AGE", "INTEGER"),
                                     ("ID", "INTEGER")]
    assert describe(k, "BY_TWO") == [("NAME", "STRING KEY"), ("ID", "INTEGER KEY"), ("AGE", "INTEGER")]
    assert describe(k, "NO_KEY") == [("ID", "INTEGER"), ("NAME", "STRING")]
    produce(broker.bootstrap, "people", [(b"\x00\x00\x00\x0a", b'{"NAME":"bob","AGE":30}'),
                                         (b"\xff\xff\xff\xf6", None)])  # -10 with a null value: re-keyed too
    assert consume(broker.bootstrap, "BY_NAME", 2) == [(b"bob", b'{"AGE":30,"ID":10}'), (None, None)]
    assert consume(broker.bootstrap, "BY_ABS", 2) == [(b"10", b'{"NAME":"bob","AGE":30,"ID":10}'), (b"10", None)]
    assert consume(broker.bootstrap, "BY_TWO", 1) == [(b'{"NAME":"bob","ID":10}', b'{"AGE":30}')]
    assert consume(broker.bootstrap, "NO_KEY", 1) == [(None, b'{"ID":10,"NAME":"bob"}')]


def test_partition_by_refusals(env):
    _, k = env
    run_statements(k, ["CREATE STREAM SRC (NAME STRING, ID INT, AGE INT) WITH (kafka_topic='src', format='JSON', "
                       "partitions=1);"])
    assert "The query used to build `OUT1` must include the partitioning expressions SRC.ID and SRC.AGE in its " \
           "projection (eg, SELECT SRC.ID, SRC.AGE...)." in \
        refused(k, "CREATE STREAM OUT1 AS SELECT ID, NAME FROM SRC PARTITION BY ID, AGE;")
    assert refused(k, "CREATE STREAM OUT2 AS SELECT ID, NAME FROM SRC PARTITION BY NULL, ID;") == \
        "Cannot PARTITION BY multiple columns including NULL"
    assert refused(k, "CREATE STREAM OUT3 AS SELECT NAME, NAME AS NAME2, ID FROM SRC PARTITION BY NAME;").startswith(
        "The projection contains a key column (`NAME`) more than once, aliased as: NAME and NAME2.")
    assert refused(k, "CREATE STREAM OUT4 WITH (key_format='DELIMITED') AS SELECT ID FROM SRC PARTITION BY NULL;") \
        == "Key format specified for stream without key columns."
    assert "PARTITION BY requires at least one expression" in \
        refused(k, "CREATE STREAM OUT5 AS SELECT ID FROM SRC PARTITION BY ();")


def test_a_persistent_projection_keeps_each_key_column_once_and_some_value(env):
    broker, k = env
    run_statements(k, ["CREATE STREAM TWO_KEYS (ID INT KEY, ID2 INT KEY, NAME STRING) WITH (kafka_topic='two_keys', "
                       "format='JSON', partitions=1);",
                       "CREATE TABLE T_IN (K STRING PRIMARY KEY, V INT) WITH (kafka_topic='t_in', "
                       "value_format='JSON', partitions=1);",
                       "CREATE TABLE T_OUT AS SELECT * FROM T_IN;"])
    assert "The query used to build `P1` must include the key columns ID and ID2 in its projection (eg, SELECT ID, " \
           "ID2...)." in refused(k, "CREATE STREAM P1 AS SELECT ID, NAME FROM TWO_KEYS;")
    assert refused(k, "CREATE STREAM P2 AS SELECT ID, ID AS ID3, ID2, NAME FROM TWO_KEYS;").startswith(
        "The projection contains a key column (`ID`) more than once, aliased as: ID and ID3.")
    assert refused(k, "CREATE STREAM P3 AS SELECT ID, ID2 FROM TWO_KEYS;") == \
        "The projection contains no value columns."
    status, body = k.ksql("INSERT INTO input_nowhere (id) VALUES (1);")
    assert status == 400 and body["message"] == "Cannot insert values into an unknown stream/table: `INPUT_NOWHERE`"
    # a table record without a key is skipped (Kafka Streams' table source), the next one is not
    produce(broker.bootstrap, "t_in", [(b"a", b'{"V":1}'), (None, b'{"V":2}'), (b"a", b'{"V":3}')])
    assert consume(broker.bootstrap, "T_OUT", 2) == [(b"a", b'{"V":1}'), (b"a", b'{"V":3}')]


def test_reserved_names_table_functions_and_the_new_planners_keyless_projection(env):
    broker, k = env
    assert refused(k, "CREATE STREAM R1 (K STRING KEY, ROWPARTITION STRING) WITH (kafka_topic='r1', "
                      "value_format='JSON', partitions=1);") == \
        "'ROWPARTITION' is a reserved column name. You cannot use it as a name for a column."
    run_statements(k, ["CREATE TABLE TF (K STRING PRIMARY KEY, A ARRAY<INT>) WITH (kafka_topic='tf', "
                       "value_format='JSON', partitions=1);",
                       "CREATE STREAM SF (K STRING KEY, A ARRAY<INT>) WITH (kafka_topic='sf', value_format='JSON', "
                       "partitions=1);"])
    assert refused(k, "CREATE TABLE TF2 AS SELECT K, EXPLODE(A) AS X FROM TF;") == \
        "Table source is not supported with table functions"
    assert refused(k, "CREATE TABLE SF2 AS SELECT K, EXPLODE(A) AS X, COUNT(*) AS C FROM SF GROUP BY K;") == \
        "Table functions cannot be used with aggregations."
    # ksql.new.query.planner.enabled: a stream's projection may leave its key out, the sink has none
    status, body = k.ksql("CREATE STREAM SF3 AS SELECT A FROM SF;", {"ksql.new.query.planner.enabled": "true"})
    assert status == 200, body
    produce(broker.bootstrap, "sf", [(b"k", b'{"A":[1]}')])
    assert consume(broker.bootstrap, "SF3", 1) == [(None, b'{"A":[1]}')]
