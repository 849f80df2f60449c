"""Records of the schema-registry formats that ksqlDB's functional tests write (avro.json, protobuf.json), through a
real broker, schema registry and SQL server: a Protobuf schema importing another through the registry's schema
references, a null value passed on by a stream SELECT with its key written again in the sink's schema (and a record
with neither key nor value), an unwrapped (WRAP_SINGLE_VALUE=false) record inferred as one STRUCT column ROWVAL,
and a number read into a STRING column. Records are written as bytes of Confluent's wire format, so what is
asserted is the server's reading."""

from __future__ import annotations

import json

import pytest
from sql_helpers import consume, module_ksql_with_registry, produce

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest"}
EVENT = 'syntax = "proto3";\n\nmessage Event {\n int64 timestamp = 1;\n}'
LOGISTICS = 'syntax = "proto3";\n\nimport "event.proto";\n\nmessage Logistics {\n Event event = 1;\n}'


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql_with_registry(tmp_path_factory, "ksql-sr-inputs") as (broker, registry, k):
        yield broker, registry, k


def ok(k, sql: str) -> None:
    status, body = k.ksql(sql, EARLIEST)
    assert status == 200, body


def register(registry, subject: str, body: dict) -> int:
    status, answer = registry.call("POST", f"/subjects/{subject}/versions", body)
    assert status == 200, answer
    return int(answer["id"])


def latest_id(registry, subject: str) -> int:
    status, body = registry.call("GET", f"/subjects/{subject}/versions/latest")
    assert status == 200, body
    return int(body["id"])


def wire(schema_id: int, payload: bytes, protobuf: bool = False) -> bytes:
    """Confluent's wire format: magic byte, schema id, (Protobuf: the message index 0), the data."""
    return b"\x00" + schema_id.to_bytes(4, "big") + (b"\x00" if protobuf else b"") + payload


def first_row(k, sql: str) -> list:
    status, _, body = k.request("POST", "/query-stream", {"sql": sql, "properties": {"auto.offset.reset": "earliest"}},
                                headers={"Accept": "application/vnd.ksqlapi.delimited.v1"})
    assert status == 200, body
    return json.loads(body.decode().splitlines()[1])


def test_protobuf_schema_with_references(env):
    broker, registry, k = env
    register(registry, "event.proto", {"schema": EVENT, "schemaType": "PROTOBUF"})
    schema_id = register(registry, "logistics-value", {
        "schema": LOGISTICS, "schemaType": "PROTOBUF",
        "references": [{"name": "event.proto", "subject": "event.proto", "version": 1}]})
    ok(k, "CREATE STREAM LOGISTICS WITH (kafka_topic='logistics', value_format='PROTOBUF', partitions=1);")
    status, body = k.ksql("DESCRIBE LOGISTICS;")
    assert status == 200, body
    fields = body[0]["sourceDescription"]["fields"]
    assert [(f["name"], f["schema"]["type"]) for f in fields] == [("EVENT", "STRUCT")]
    assert [(f["name"], f["schema"]["type"]) for f in fields[0]["schema"]["fields"]] == [("TIMESTAMP", "BIGINT")]
    # Logistics{event: Event{timestamp: 1}}: field 1 (length 2) holding field 1 = 1
    produce(broker.bootstrap, "logistics", [(None, wire(schema_id, b"\x0a\x02\x08\x01", protobuf=True))])
    ok(k, "CREATE STREAM LOGISTICS_OUT AS SELECT * FROM LOGISTICS;")
    assert first_row(k, "SELECT * FROM LOGISTICS_OUT EMIT CHANGES LIMIT 1;") == [{"TIMESTAMP": 1}]


def test_null_value_keeps_its_key_in_the_sinks_schema(env):
    """avro.json "BOOLEAN - key - no inference": a stream SELECT passes a null value on, its key written with the
    sink's key schema; a record with neither key nor value comes out as such."""
    broker, registry, k = env
    ok(k, "CREATE STREAM BOOL_IN (K BOOLEAN KEY, FOO INT) WITH (kafka_topic='bool_in', format='AVRO', partitions=1);")
    ok(k, "CREATE STREAM BOOL_OUT AS SELECT * FROM BOOL_IN;")
    key_id = latest_id(registry, "bool_in-key")
    true = b"\x02\x01"  # ["null", "boolean"]: branch 1, true
    produce(broker.bootstrap, "bool_in", [(wire(key_id, true), None), (None, None)])
    out = consume(broker.bootstrap, "BOOL_OUT", 2)
    assert out == [(wire(latest_id(registry, "BOOL_OUT-key"), true), None), (None, None)]


def test_unwrapped_record_inferred_as_rowval(env):
    """avro.json "deserialize anonymous struct - value - inference"."""
    broker, registry, k = env
    schema_id = register(registry, "anon-value", {"schema": json.dumps({
        "type": "record", "name": "most_recent_value_schema_at_SR",
        "fields": [{"name": "F0", "type": ["null", "int"]}]})})
    ok(k, "CREATE STREAM ANON WITH (kafka_topic='anon', value_format='AVRO', wrap_single_value=false, partitions=1);")
    status, body = k.ksql("DESCRIBE ANON;")
    assert status == 200, body
    (field,) = body[0]["sourceDescription"]["fields"]
    assert (field["name"], field["schema"]["type"]) == ("ROWVAL", "STRUCT")
    produce(broker.bootstrap, "anon", [(None, wire(schema_id, b"\x02\x02"))])  # {"F0": 1}: union branch 1, int 1
    ok(k, "CREATE STREAM ANON_OUT AS SELECT * FROM ANON;")
    assert first_row(k, "SELECT * FROM ANON_OUT EMIT CHANGES LIMIT 1;") == [{"F0": 1}]


def test_numbers_read_into_a_string_column(env):
    """avro.json "deserialize anonymous primitive - value - with coercion": an Avro int read into a STRING column
    is its text (ksqlDB's ConnectDataTranslator), and so written on to the sink."""
    broker, registry, k = env
    schema_id = register(registry, "coerce-value", {"schema": '"int"'})
    ok(k, "CREATE STREAM COERCE (K STRING KEY, FOO STRING) WITH (WRAP_SINGLE_VALUE=false, kafka_topic='coerce', "
          "value_format='AVRO', partitions=1);")
    produce(broker.bootstrap, "coerce", [(None, wire(schema_id, b"\x14"))])  # int 10
    ok(k, "CREATE STREAM COERCE_OUT AS SELECT * FROM COERCE;")
    assert first_row(k, "SELECT FOO FROM COERCE_OUT EMIT CHANGES LIMIT 1;") == ["10"]


def test_null_value_with_a_protobuf_key(env):
    """protobuf.json "STRUCT INT - key - no inference": a Protobuf key (always a message) written again in the
    sink's schema; no key stays no key."""
    broker, registry, k = env
    ok(k, "CREATE STREAM PK_IN (F1 INT KEY, FOO INT) WITH (kafka_topic='pk_in', format='PROTOBUF', partitions=1);")
    ok(k, "CREATE STREAM PK_OUT AS SELECT * FROM PK_IN;")
    one = b"\x08\x01"  # F1 = 1
    produce(broker.bootstrap, "pk_in", [(wire(latest_id(registry, "pk_in-key"), one, protobuf=True), None),
                                        (None, None)])
    out = consume(broker.bootstrap, "PK_OUT", 2)
    assert out == [(wire(latest_id(registry, "PK_OUT-key"), one, protobuf=True), None), (None, None)]
