"""ksqlDB's refusals of what a source's formats cannot hold, with its messages, through a real broker, schema
registry and SQL server: key columns holding a MAP (avro.json, json_sr.json, json.json, kafka.json, delimited.json,
partition-by.json, key-schemas.json "MAP - key" cases), MAPs with non-STRING keys in AVRO, JSON, JSON_SR and
PROTOBUF values, names Avro cannot take, the KAFKA and DELIMITED formats' types (the formats' refusals wrapped as
ksqlDB's GenericSerdeFactory words them), WRAP_SINGLE_VALUE a format or a schema cannot take (protobuf.json,
delimited.json, kafka.json, serdes.json). A refused statement registers no schema and creates no source; the
server goes on. And `SELECT *` with PARTITION BY an expression (partition-by.json "expression - select star"),
keyed by that expression as KSQL_COL_0."""

from __future__ import annotations

import json

import pytest
from registry.registry_helpers import RegistryProcess
from sql_helpers import KsqlProcess, consume, produce

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest"}
MAP_KEYS = ("Map keys, including types that contain maps, are not supported as they may lead to unexpected behavior "
            "due to inconsistent serialization. Key column name: `{}`. Column type: {}. See "
            "https://github.com/confluentinc/ksql/issues/6621 for more.")




def unsupported(side: str, fmt: str, columns: str, reason: str, features: str = "") -> str:
    return (f"{side} format does not support schema.\nformat: {fmt}\nschema: Persistence{{columns=[{columns}], "
            f"features=[{features}]}}\nreason: {reason}")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from conftest import module_broker

    with module_broker(tmp_path_factory, "ksql-refusals") as broker:
        d = tmp_path_factory.mktemp("ksql-refusals")
        registry = RegistryProcess(d / "registry.log", broker.bootstrap).start()
        k = KsqlProcess(d / "ksql.log", broker.bootstrap, {"ksql.schema.registry.url": registry.url}).start()
        try:
            for sql in (
                "CREATE STREAM A (K STRING KEY, V STRING) WITH (kafka_topic='a', format='AVRO', partitions=1);",
                "CREATE STREAM J (K INT, V DOUBLE) WITH (kafka_topic='j', value_format='JSON', partitions=1);",
                "CREATE STREAM M (K STRING KEY, ID MAP<STRING, INT>, AGE INT) WITH (kafka_topic='m', "
                "value_format='JSON', partitions=1);",
                "CREATE STREAM THREE (K STRING KEY, F0 STRING, F1 STRING) WITH (kafka_topic='three', "
                "value_format='JSON', partitions=1);",
            ):
                status, body = k.ksql(sql, EARLIEST)
                assert status == 200, body
            yield broker, registry, k
        finally:
            k.stop()
            registry.stop()


@pytest.mark.parametrize("sql, message", [
    # key columns holding a MAP, whatever the format
    ("CREATE STREAM S (K MAP<INT, DOUBLE> KEY, foo INT) WITH (kafka_topic='s', format='AVRO', partitions=1);",
     MAP_KEYS.format("K", "MAP<INTEGER, DOUBLE>")),
    ("CREATE STREAM S (K ARRAY<MAP<INT, DOUBLE>> KEY, foo INT) WITH (kafka_topic='s', format='JSON_SR', "
     "partitions=1);", MAP_KEYS.format("K", "ARRAY<MAP<INTEGER, DOUBLE>>")),
    ("CREATE STREAM S (K MAP<STRING, DOUBLE> KEY, V INT) WITH (kafka_topic='s', format='DELIMITED', partitions=1);",
     MAP_KEYS.format("K", "MAP<STRING, DOUBLE>")),
    ("CREATE STREAM S (K MAP<INT, DOUBLE> KEY, foo INT) WITH (kafka_topic='s', format='KAFKA', partitions=1);",
     MAP_KEYS.format("K", "MAP<INTEGER, DOUBLE>")),
    ("CREATE STREAM S AS SELECT * FROM A PARTITION BY MAP(k:=v);",
     MAP_KEYS.format("KSQL_COL_0", "MAP<STRING, STRING>")),
    ("CREATE STREAM S AS SELECT * FROM A PARTITION BY STRUCT(f := MAP(k:=v));",
     MAP_KEYS.format("KSQL_COL_0", "STRUCT<`F` MAP<STRING, STRING>>")),
    ("CREATE STREAM S AS SELECT ID, AGE, K FROM M PARTITION BY ID, AGE;",
     MAP_KEYS.format("ID", "MAP<STRING, INTEGER>")),
    ("CREATE TABLE S AS SELECT ID, COUNT() FROM M GROUP BY ID;", MAP_KEYS.format("ID", "MAP<STRING, INTEGER>")),
    # the formats' own refusals, as ksqlDB's GenericSerdeFactory wraps them
    ("CREATE STREAM S (foo MAP<INT, DOUBLE>) WITH (kafka_topic='s', value_format='AVRO', partitions=1);",
     unsupported("Value", "AVRO", "`FOO` MAP<INTEGER, DOUBLE>", "Avro only supports MAPs with STRING keys")),
    ("CREATE STREAM S WITH (value_format='AVRO') AS SELECT MAP(k:=v) FROM J;",
     unsupported("Value", "AVRO", "`KSQL_COL_0` MAP<INTEGER, DOUBLE>", "Avro only supports MAPs with STRING keys")),
    ("CREATE STREAM S (foo STRUCT<F ARRAY<MAP<BIGINT, INT>>>) WITH (kafka_topic='s', value_format='JSON_SR', "
     "partitions=1);", unsupported("Value", "JSON_SR", "`FOO` STRUCT<`F` ARRAY<MAP<BIGINT, INTEGER>>>",
                                   "JSON only supports MAP types with STRING keys")),
    ("CREATE STREAM S AS SELECT MAP(k:=v) FROM J;",
     unsupported("Value", "JSON", "`KSQL_COL_0` MAP<INTEGER, DOUBLE>",
                 "JSON only supports MAP types with STRING keys")),
    ("CREATE STREAM S (foo MAP<INT, DOUBLE>) WITH (kafka_topic='s', value_format='PROTOBUF', partitions=1);",
     unsupported("Value", "PROTOBUF", "`FOO` MAP<INTEGER, DOUBLE>", "PROTOBUF format only supports MAP types with "
                 "STRING keys. See https://github.com/confluentinc/ksql/issues/6177.")),
    ("CREATE STREAM S (`1AvroDoesNotLikeFieldsThatStartWithNumbers` DOUBLE) WITH (kafka_topic='s', "
     "value_format='AVRO', partitions=1);",
     unsupported("Value", "AVRO", "`1AvroDoesNotLikeFieldsThatStartWithNumbers` DOUBLE", "Schema is not compatible "
                 "with Avro: Illegal initial character: 1AvroDoesNotLikeFieldsThatStartWithNumbers")),
    ("CREATE STREAM S AS SELECT K, v AS `1AvroDoesNotLikeFieldsThatStartWithNumbers` FROM A;",
     unsupported("Value", "AVRO", "`1AvroDoesNotLikeFieldsThatStartWithNumbers` STRING", "Schema is not compatible "
                 "with Avro: Illegal initial character: 1AvroDoesNotLikeFieldsThatStartWithNumbers")),
    ("CREATE STREAM S (V STRUCT<`a-b` INT>) WITH (kafka_topic='s', value_format='AVRO', partitions=1);",
     unsupported("Value", "AVRO", "`V` STRUCT<`a-b` INTEGER>", "Schema is not compatible with Avro: Illegal "
                 "character in: a-b")),
    ("CREATE STREAM S (K INT KEY, V MAP<STRING, INT>) WITH (kafka_topic='s', format='KAFKA', partitions=1);",
     unsupported("Value", "KAFKA", "`V` MAP<STRING, INTEGER>", "The 'KAFKA' format does not support type 'MAP'")),
    ("CREATE STREAM S (K BOOLEAN KEY, V INT) WITH (kafka_topic='s', format='KAFKA', partitions=1);",
     unsupported("Key", "KAFKA", "`K` BOOLEAN KEY", "The 'KAFKA' format does not support type 'BOOLEAN'")),
    ("CREATE STREAM S (K1 INT KEY, K2 INT KEY, V INT) WITH (kafka_topic='s', format='KAFKA', partitions=1);",
     unsupported("Key", "KAFKA", "`K1` INTEGER KEY, `K2` INTEGER KEY", "The 'KAFKA' format only supports a single "
                 "field. Got: [`K1` INTEGER KEY, `K2` INTEGER KEY]")),
    ("CREATE STREAM S (K ARRAY<DOUBLE> KEY, V INT) WITH (kafka_topic='s', format='DELIMITED', partitions=1);",
     unsupported("Key", "DELIMITED", "`K` ARRAY<DOUBLE> KEY", "The 'DELIMITED' format does not support type "
                 "'ARRAY', column: `K`")),
    ("CREATE STREAM S (K STRUCT<F INT> KEY, V INT) WITH (kafka_topic='s', key_format='AVRO', value_format='JSON', "
     "partitions=1, KEY_SCHEMA_FULL_NAME='a.1b');",
     unsupported("Key", "AVRO", "`K` STRUCT<`F` INTEGER> KEY", "Schema is not compatible with Avro: Illegal "
                 "initial character: 1b", "UNWRAP_SINGLES")),
    # delimited.json "validate cannot specify delimiter with json format"
    ("CREATE STREAM S WITH (kafka_topic='s', value_format='JSON', value_delimiter='|', partitions=1);",
     "JSON does not support the following configs: [delimiter]"),
    # WRAP_SINGLE_VALUE
    ("CREATE STREAM S (K STRING KEY, foo INT) WITH (WRAP_SINGLE_VALUE=false, kafka_topic='s', "
     "value_format='PROTOBUF', partitions=1);",
     "Format 'PROTOBUF' does not support 'WRAP_SINGLE_VALUE' set to 'false'."),
    ("CREATE STREAM S (K STRING KEY, foo INT) WITH (WRAP_SINGLE_VALUE=true, kafka_topic='s', "
     "value_format='DELIMITED', partitions=1);",
     "Format 'DELIMITED' does not support 'WRAP_SINGLE_VALUE' set to 'true'."),
    ("CREATE STREAM S (K STRING KEY, foo INT) WITH (WRAP_SINGLE_VALUE=true, kafka_topic='s', value_format='KAFKA', "
     "partitions=1);", "Format 'KAFKA' does not support 'WRAP_SINGLE_VALUE' set to 'true'."),
    ("CREATE TABLE S (K STRING PRIMARY KEY, f0 STRING, f1 STRING) WITH (WRAP_SINGLE_VALUE=false, kafka_topic='s', "
     "value_format='JSON', partitions=1);", "'WRAP_SINGLE_VALUE' is only valid for single-field value schemas"),
    ("CREATE STREAM S WITH (WRAP_SINGLE_VALUE=true) AS SELECT * FROM THREE;",
     "'WRAP_SINGLE_VALUE' is only valid for single-field value schemas"),
])
def test_refused_with_ksqldb_message(env, sql, message):
    _, registry, k = env
    status, body = k.ksql(sql, EARLIEST)
    assert status == 400 and body["@type"] == "statement_error" and body["error_code"] == 40001, body
    assert body["message"] == message
    assert body["statementText"] == sql
    # nothing half-done: no source, no schema registered for it
    status, body = k.ksql("SHOW STREAMS;")
    assert status == 200 and "S" not in [s["name"] for s in body[0]["streams"]]
    status, subjects = registry.call("GET", "/subjects")
    assert status == 200 and not [s for s in subjects if s.startswith(("s-", "S-"))], subjects


def test_map_keys_in_a_map_valued_column_are_fine(env):
    """A STRING-keyed MAP, nested in a STRUCT, is taken by every format that has MAPs."""
    _, _, k = env
    for fmt in ("AVRO", "JSON_SR", "PROTOBUF", "JSON"):
        status, body = k.ksql(f"CREATE STREAM OK_{fmt} (K STRING KEY, V STRUCT<M MAP<STRING, INT>>) WITH "
                              f"(kafka_topic='ok_{fmt.lower()}', format='{fmt}', partitions=1);", EARLIEST)
        assert status == 200, body


def test_select_star_partition_by_expression(env):
    """partition-by.json "expression - select star": the expression is the key, KSQL_COL_0; the old key a value."""
    broker, _, k = env
    for sql in ("CREATE STREAM P_IN (ID INT KEY, NAME STRING) WITH (kafka_topic='p_in', value_format='JSON', "
                "partitions=1);", "CREATE STREAM P_OUT AS SELECT * FROM P_IN PARTITION BY ABS(ID);"):
        status, body = k.ksql(sql, EARLIEST)
        assert status == 200, body
    status, body = k.ksql("DESCRIBE P_OUT;")
    assert status == 200, body
    fields = {f["name"]: (f["schema"]["type"], f.get("type")) for f in body[0]["sourceDescription"]["fields"]}
    assert fields == {"KSQL_COL_0": ("INTEGER", "KEY"), "NAME": ("STRING", None), "ID": ("INTEGER", None)}
    produce(broker.bootstrap, "p_in", [((-10).to_bytes(4, "big", signed=True), b'{"NAME": "bob"}')])
    (key, value), = consume(broker.bootstrap, "P_OUT", 1)
    assert int.from_bytes(key, "big", signed=True) == 10
    assert json.loads(value) == {"NAME": "bob", "ID": -10}
