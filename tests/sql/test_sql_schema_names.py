"""ksqlDB's KEY_SCHEMA_FULL_NAME / VALUE_SCHEMA_FULL_NAME and its DATE, TIME and TIMESTAMP columns in PROTOBUF,
through a real broker, schema registry and SQL server: the names of the schemas registered (read back from the
registry), the message a full name picks in a schema of several (its index in the records written), ksqlDB's
refusals, and google.type.Date / google.type.TimeOfDay / google.protobuf.Timestamp fields written and read."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.type import date_pb2, timeofday_pb2  # noqa: F401 - Date, TimeOfDay in the default pool
from sql_helpers import consume, message_class, module_ksql_with_registry

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest"}
TWO = ('syntax = "proto3";\npackage acme;\nmessage First { int32 A = 1; }\n'
       'message Second { string B = 1; int64 C = 2; }\n')


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql_with_registry(tmp_path_factory, "ksql-names") as (broker, registry, k):
        yield broker, registry, k, SchemaRegistryClient({"url": registry.url})


def ok(k, sql: str) -> None:
    status, body = k.ksql(sql, EARLIEST)
    assert status == 200, body


def record(schema: str) -> dict:
    """An Avro record schema, or the record of a union with null (an unwrapped, nullable STRUCT key)."""
    doc = json.loads(schema)
    return next(x for x in doc if isinstance(x, dict)) if isinstance(doc, list) else doc


def latest(registry, subject: str) -> dict:
    status, body = registry.call("GET", f"/subjects/{subject}/versions/latest")
    assert status == 200, body
    return body


def rows(k, sql: str, count: int) -> list:
    status, _, body = k.request("POST", "/query-stream", {"sql": sql, "properties": {"auto.offset.reset": "earliest"}},
                                headers={"Accept": "application/vnd.ksqlapi.delimited.v1"})
    assert status == 200, body
    return [json.loads(line) for line in body.decode().splitlines()[1:1 + count]]


def test_avro_records_named_by_the_full_names(env):
    _, registry, k, _ = env
    ok(k, "CREATE STREAM named_avro (K STRUCT<A INT> KEY, V INT) WITH (kafka_topic='named_avro', partitions=1, "
          "format='AVRO', KEY_SCHEMA_FULL_NAME='com.acme.RiderKey', VALUE_SCHEMA_FULL_NAME='com.acme.Rider');")
    key = record(latest(registry, "named_avro-key")["schema"])
    value = json.loads(latest(registry, "named_avro-value")["schema"])
    assert (key["name"], key["namespace"]) == ("RiderKey", "com.acme")
    assert (value["name"], value["namespace"]) == ("Rider", "com.acme")
    # without KEY_SCHEMA_FULL_NAME an AVRO key's record is named after its source, as ksqlDB's AvroFormat does
    ok(k, "CREATE STREAM rider_keys WITH (partitions=1, format='AVRO') AS SELECT * FROM named_avro;")
    key = record(latest(registry, "RIDER_KEYS-key")["schema"])
    value = json.loads(latest(registry, "RIDER_KEYS-value")["schema"])
    assert (key["name"], key["namespace"]) == ("RiderKeysKey", "io.confluent.ksql.avro_schemas")
    assert (value["name"], value["namespace"]) == ("KsqlDataSourceSchema", "io.confluent.ksql.avro_schemas")


def test_a_full_name_picks_the_message_of_a_protobuf_schema(env):
    broker, registry, k, _ = env
    status, body = registry.call("POST", "/subjects/two_msgs-value/versions", {"schema": TWO, "schemaType": "PROTOBUF"})
    assert status == 200, body
    schema_id = body["id"]
    status, body = k.ksql("CREATE STREAM two_any WITH (kafka_topic='two_msgs', partitions=1, value_format='PROTOBUF');")
    assert status == 400 and body["message"] == (  # type: ignore[index]
        "Value schema has multiple schema definitions. \n\n- acme.First\n- acme.Second\n\nPlease specify a schema "
        "full name in the WITH clause using VALUE_SCHEMA_FULL_NAME"), body
    status, body = k.ksql("CREATE STREAM two_bad WITH (kafka_topic='two_msgs', partitions=1, value_format='PROTOBUF', "
                          "VALUE_SCHEMA_FULL_NAME='acme.Third');")
    assert status == 400 and body["message"].startswith(  # type: ignore[index]
        "Unable to verify if the value schema for topic: two_msgs is compatible with ksqlDB."), body
    ok(k, "CREATE STREAM two_second WITH (kafka_topic='two_msgs', partitions=1, value_format='PROTOBUF', "
          "VALUE_SCHEMA_FULL_NAME='acme.Second');")
    desc = k.ksql("DESCRIBE two_second;")[1][0]["sourceDescription"]  # type: ignore[index]
    assert [(f["name"], f["schema"]["type"]) for f in desc["fields"]] == [("B", "STRING"), ("C", "BIGINT")]
    ok(k, "INSERT INTO two_second (B, C) VALUES ('x', 7);")
    [(_, value)] = consume(broker.bootstrap, "two_msgs", 1)
    # Confluent's framing: the schema id, then the message indexes [1] (zigzag varints: count 1, index 1)
    assert value[:7] == b"\x00" + schema_id.to_bytes(4, "big") + b"\x02\x02"
    msg = message_class(registry, schema_id, "acme.Second").FromString(value[7:])
    assert (msg.B, msg.C) == ("x", 7)
    assert rows(k, "SELECT * FROM two_second EMIT CHANGES LIMIT 1;", 1) == [["x", 7]]
    # a CREATE ... AS SELECT keeps its PROTOBUF source's full name (ksqlDB's one inheritable format property)
    ok(k, "CREATE STREAM two_copy AS SELECT * FROM two_second;")
    assert "message Second {" in latest(registry, "TWO_COPY-value")["schema"]
    assert "package acme;" in latest(registry, "TWO_COPY-value")["schema"]


def test_protobuf_sink_messages_named_by_the_full_names(env):
    _, registry, k, _ = env
    ok(k, "CREATE STREAM pb_src (ID INT KEY, S STRUCT<X INT>, N STRING) WITH (kafka_topic='pb_src', partitions=1, "
          "format='PROTOBUF');")
    assert "message ConnectDefault1 {" in latest(registry, "pb_src-value")["schema"]
    ok(k, "INSERT INTO pb_src (ID, S, N) VALUES (1, STRUCT(X := 5), 'one');")
    ok(k, "CREATE STREAM pb_named WITH (format='PROTOBUF', KEY_SCHEMA_FULL_NAME='acme.PbKey', "
          "VALUE_SCHEMA_FULL_NAME='acme.PbValue') AS SELECT * FROM pb_src;")
    value = latest(registry, "PB_NAMED-value")["schema"]
    # a nested struct under a named message is ConnectDefault1 (ProtobufData counts from the first default name)
    assert "package acme;" in value and "message PbValue {" in value and "message ConnectDefault1 {" in value
    assert "message PbKey {" in latest(registry, "PB_NAMED-key")["schema"]
    ok(k, "CREATE STREAM pb_back WITH (kafka_topic='PB_NAMED', format='PROTOBUF');")
    assert rows(k, "SELECT * FROM pb_back EMIT CHANGES LIMIT 1;", 1) == [[1, {"X": 5}, "one"]]


@pytest.mark.parametrize("sql, message", [
    ("CREATE STREAM bad (K STRING KEY, V STRING) WITH (kafka_topic='bad', partitions=1, value_format='JSON', "
     "VALUE_AVRO_SCHEMA_FULL_NAME='com.custom.schema');",
     "JSON does not support the following configs: [fullSchemaName]"),
    ("CREATE STREAM bad (K STRING KEY, V STRING) WITH (kafka_topic='bad', partitions=1, value_format='AVRO', "
     "KEY_SCHEMA_FULL_NAME='k');", "KAFKA does not support the following configs: [fullSchemaName]"),
    ("CREATE STREAM bad (K STRING KEY, V STRING) WITH (kafka_topic='bad', partitions=1, value_format='AVRO', "
     "VALUE_SCHEMA_FULL_NAME=' ');", "fullSchemaName cannot be empty. Format configuration: {fullSchemaName=}"),
    ("CREATE STREAM bad (K STRING KEY, V STRING) WITH (kafka_topic='bad', partitions=1, value_format='AVRO', "
     "VALUE_AVRO_SCHEMA_FULL_NAME='a.B', VALUE_SCHEMA_FULL_NAME='a.C');",
     "Cannot supply both 'VALUE_AVRO_SCHEMA_FULL_NAME' and 'VALUE_SCHEMA_FULL_NAME' properties. Please only set "
     "'VALUE_SCHEMA_FULL_NAME'."),
])
def test_full_name_refusals(env, sql, message):
    _, _, k, _ = env
    status, body = k.ksql(sql)
    assert status == 400 and body["message"] == message, body  # type: ignore[index]


def test_protobuf_date_time_timestamp(env):
    broker, registry, k, client = env
    ok(k, "CREATE STREAM dates (ID STRING KEY, D DATE, T TIME, TS TIMESTAMP) WITH (kafka_topic='dates', "
          "partitions=1, value_format='PROTOBUF');")
    text = latest(registry, "dates-value")["schema"]
    for line in ('import "google/type/date.proto";', 'import "google/type/timeofday.proto";',
                 "google.type.Date D = 1;", "google.type.TimeOfDay T = 2;", "google.protobuf.Timestamp TS = 3;"):
        assert line in text, text
    ok(k, "INSERT INTO dates (ID, D, T, TS) VALUES ('a', FROM_DAYS(19782), PARSE_TIME('10:11:12.345', "
          "'HH:mm:ss.SSS'), FROM_UNIXTIME(1700000000123));")
    [(_, value)] = consume(broker.bootstrap, "dates", 1)
    schema_id = int.from_bytes(value[1:5], "big")
    cls = message_class(registry, schema_id, "ConnectDefault1")
    msg = ProtobufDeserializer(cls, {"use.deprecated.format": False})(value, None)
    assert (msg.D.year, msg.D.month, msg.D.day) == (2024, 2, 29)
    assert (msg.T.hours, msg.T.minutes, msg.T.seconds, msg.T.nanos) == (10, 11, 12, 345000000)
    assert msg.TS.ToMilliseconds() == 1700000000123
    # a producer's own schema (.proto text importing the well-known google/type files), its columns inferred
    own = ('syntax = "proto3";\nimport "google/type/date.proto";\nimport "google/type/timeofday.proto";\n'
           'message Trip { google.type.Date day = 1; google.type.TimeOfDay at = 2; }\n')
    status, body = registry.call("POST", "/subjects/trips-value/versions", {"schema": own, "schemaType": "PROTOBUF"})
    assert status == 200, body
    trip = message_class(registry, body["id"], "Trip")
    ser = ProtobufSerializer(trip, client, {"use.deprecated.format": False, "auto.register.schemas": False,
                                            "use.latest.version": True})
    p = Producer({"bootstrap.servers": broker.bootstrap})
    record = trip(day={"year": 1969, "month": 12, "day": 31}, at={"hours": 23, "minutes": 59})
    p.produce("trips", value=ser(record, SerializationContext("trips", MessageField.VALUE)))
    assert p.flush(30) == 0
    ok(k, "CREATE STREAM trips WITH (kafka_topic='trips', value_format='PROTOBUF');")
    desc = k.ksql("DESCRIBE trips;")[1][0]["sourceDescription"]  # type: ignore[index]
    # field names upper-cased, as ksqlDB infers them without a schema id
    assert [(f["name"], f["schema"]["type"]) for f in desc["fields"]] == [("DAY", "DATE"), ("AT", "TIME")]
    got = rows(k, "SELECT UNIX_DATE(day), FORMAT_TIME(at, 'HH:mm') FROM trips EMIT CHANGES LIMIT 1;", 1)
    assert got == [[(dt.date(1969, 12, 31) - dt.date(1970, 1, 1)).days, "23:59"]]
