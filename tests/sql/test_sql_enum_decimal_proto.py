"""Avro and Protobuf enums read as ksqlDB reads them (STRING columns, the symbols' names), Protobuf DECIMAL columns
as `confluent.type.Decimal`, and KEY/VALUE_PROTOBUF_NULLABLE_REPRESENTATION, through a real broker, schema registry
and SQL server: schemas registered by producers (confluent-kafka's serializers) and by the SQL server (read back
from the registry), records decoded with the registered schemas, and ksqlDB's refusals of bad values."""

from __future__ import annotations

import json

import pytest
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.confluent.type import decimal_pb2  # noqa: F401 - in the default pool
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import (
    wrappers_pb2,  # noqa: F401 - the wrappers in the default pool
)
from sql_helpers import consume, message_class, module_ksql_with_registry

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest"}
SUIT = {"type": "enum", "name": "Suit", "symbols": ["SPADES", "HEARTS", "DIAMONDS", "CLUBS"]}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with module_ksql_with_registry(tmp_path_factory, "ksql-enum") as (broker, registry, k):
        yield broker, registry, k, SchemaRegistryClient({"url": registry.url})


def ok(k, sql: str) -> None:
    status, body = k.ksql(sql, EARLIEST)
    assert status == 200, body


def refused(k, sql: str) -> str:
    status, body = k.ksql(sql, EARLIEST)
    assert status == 400, body
    return body["message"]  # type: ignore[index]


def latest(registry, subject: str) -> dict:
    status, body = registry.call("GET", f"/subjects/{subject}/versions/latest")
    assert status == 200, body
    return body


def register(registry, subject: str, schema: str, schema_type: str | None = None) -> int:
    body = {"schema": schema, **({"schemaType": schema_type} if schema_type else {})}
    status, answer = registry.call("POST", f"/subjects/{subject}/versions", body)
    assert status == 200, answer
    return answer["id"]


def columns(k, source: str) -> list[tuple[str, str]]:
    desc = k.ksql(f"DESCRIBE {source};")[1][0]["sourceDescription"]  # type: ignore[index]
    return [(f["name"], f["schema"]["type"] if f["schema"]["type"] != "DECIMAL" else
             "DECIMAL({precision},{scale})".format(**f["schema"]["parameters"])) for f in desc["fields"]]


def rows(k, sql: str, count: int) -> list:
    status, _, body = k.request("POST", "/query-stream", {"sql": sql, "properties": {"auto.offset.reset": "earliest"}},
                                headers={"Accept": "application/vnd.ksqlapi.delimited.v1"})
    assert status == 200, body
    return [json.loads(line) for line in body.decode().splitlines()[1:1 + count]]


def produce(broker, topic: str, values: list[bytes]) -> None:
    p = Producer({"bootstrap.servers": broker.bootstrap})
    for v in values:
        p.produce(topic, value=v)
    assert p.flush(30) == 0


def decode(value: bytes, cls):
    """A Confluent-framed Protobuf record of the schema's first message (index list [0], one zero byte)."""
    assert value[0] == 0 and value[5] == 0, value[:6]
    return cls.FromString(value[6:])


def test_avro_enum_is_a_string_column(env):
    broker, registry, k, client = env
    schema = json.dumps({"type": "record", "name": "Card", "fields": [{"name": "suit", "type": SUIT},
                                                                       {"name": "n", "type": "int"}]})
    register(registry, "cards-value", schema)
    ser = AvroSerializer(client, schema, conf={"auto.register.schemas": False, "use.latest.version": True})
    ctx = SerializationContext("cards", MessageField.VALUE)
    produce(broker, "cards", [ser({"suit": "HEARTS", "n": 7}, ctx)])
    ok(k, "CREATE STREAM cards WITH (kafka_topic='cards', value_format='AVRO');")
    assert columns(k, "cards") == [("SUIT", "STRING"), ("N", "INTEGER")]
    assert rows(k, "SELECT suit, n FROM cards EMIT CHANGES LIMIT 1;", 1) == [["HEARTS", 7]]
    # a STRING into the inferred source is written as the enum's symbol, with the producer's schema
    ok(k, "INSERT INTO cards (suit, n) VALUES ('CLUBS', 2);")
    got = consume(broker.bootstrap, "cards", 2)
    de = AvroDeserializer(client)
    assert [de(v, ctx) for _, v in got] == [{"suit": "HEARTS", "n": 7}, {"suit": "CLUBS", "n": 2}]
    # a query's sink holds a STRING column (ksqlDB's generated schema)
    ok(k, "CREATE STREAM card_copy AS SELECT * FROM cards;")
    fields = json.loads(latest(registry, "CARD_COPY-value")["schema"])["fields"]
    assert fields[0] == {"name": "SUIT", "type": ["null", "string"], "default": None}
    assert rows(k, "SELECT suit FROM card_copy EMIT CHANGES LIMIT 2;", 2) == [["HEARTS"], ["CLUBS"]]


def test_protobuf_enum_is_a_string_column(env):
    broker, registry, k, client = env
    text = ('syntax = "proto3";\nmessage Hand {\n  enum Suit { SPADES = 0; HEARTS = 1; DIAMONDS = 2; CLUBS = 4; }\n'
            '  Suit suit = 1;\n  int32 n = 2;\n}\n')
    schema_id = register(registry, "hands-value", text, "PROTOBUF")
    hand = message_class(registry, schema_id, "Hand")
    ser = ProtobufSerializer(hand, client, {"use.deprecated.format": False, "auto.register.schemas": False,
                                            "use.latest.version": True})
    ctx = SerializationContext("hands", MessageField.VALUE)
    produce(broker, "hands", [ser(hand(suit=1, n=3), ctx), ser(hand(suit=0, n=5), ctx)])
    ok(k, "CREATE STREAM hands WITH (kafka_topic='hands', value_format='PROTOBUF');")
    assert columns(k, "hands") == [("SUIT", "STRING"), ("N", "INTEGER")]
    assert rows(k, "SELECT suit, n FROM hands EMIT CHANGES LIMIT 2;", 2) == [["HEARTS", 3], ["SPADES", 5]]
    ok(k, "INSERT INTO hands (suit, n) VALUES ('CLUBS', 9);")
    got = consume(broker.bootstrap, "hands", 3)
    msg = decode(got[2][1], hand)
    assert (msg.suit, msg.n) == (4, 9)
    assert int.from_bytes(got[2][1][1:5], "big") == schema_id
    # a name the enum does not list is not written; the server goes on
    assert refused(k, "INSERT INTO hands (suit, n) VALUES ('JOKER', 1);").startswith(
        "Failed to insert values into 'HANDS'.")
    ok(k, "CREATE STREAM hand_copy AS SELECT * FROM hands;")
    assert "string SUIT = 1;" in latest(registry, "HAND_COPY-value")["schema"]
    assert rows(k, "SELECT suit FROM hand_copy EMIT CHANGES LIMIT 3;", 3) == [["HEARTS"], ["SPADES"], ["CLUBS"]]


def test_protobuf_decimal_written_as_confluent_decimal(env):
    broker, registry, k, _ = env
    ok(k, "CREATE STREAM prices (ID STRING KEY, P DECIMAL(6, 4)) WITH (kafka_topic='prices', partitions=1, "
          "value_format='PROTOBUF');")
    text = latest(registry, "prices-value")["schema"]
    assert 'import "confluent/type/decimal.proto";' in text, text
    assert ('confluent.type.Decimal P = 1 [(confluent.field_meta) = { params: [{ key: "precision", value: "6" }, '
            '{ key: "scale", value: "4" }] }];') in text, text
    ok(k, "INSERT INTO prices (ID, P) VALUES ('a', 1.5);")
    ok(k, "INSERT INTO prices (ID, P) VALUES ('b', -12.0625);")
    got = consume(broker.bootstrap, "prices", 2)
    cls = message_class(registry, latest(registry, "prices-value")["id"])
    a, b = (decode(v, cls).P for _, v in got)
    # DecimalUtils.fromBigDecimal: BigInteger.toByteArray of the unscaled value, its digits, the scale
    assert (a.value, a.precision, a.scale) == ((15000).to_bytes(2, "big", signed=True), 5, 4)
    assert (b.value, b.precision, b.scale) == ((-120625).to_bytes(3, "big", signed=True), 6, 4)
    assert rows(k, "SELECT ID, P FROM prices EMIT CHANGES LIMIT 2;", 2) == [["a", 1.5], ["b", -12.0625]]


def test_protobuf_decimal_inferred_from_field_meta(env):
    broker, registry, k, client = env
    # as ksqlDB's protobuf.json registers it: Confluent's option without importing confluent/meta.proto
    text = ('syntax = "proto3"; import "confluent/type/decimal.proto"; message Bill {string who = 1; '
            'confluent.type.Decimal amount = 2 [(confluent.field_meta) = { params: [{ value: "4", key: "precision" '
            '}, { value: "2", key: "scale" }]}]; confluent.type.Decimal plain = 3;}')
    schema_id = register(registry, "bills-value", text, "PROTOBUF")
    bill = message_class(registry, schema_id, "Bill")
    ser = ProtobufSerializer(bill, client, {"use.deprecated.format": False, "auto.register.schemas": False,
                                            "use.latest.version": True})
    ctx = SerializationContext("bills", MessageField.VALUE)
    msg = bill(who="x", amount={"value": (1001).to_bytes(2, "big"), "precision": 4, "scale": 2},
               plain={"value": (7).to_bytes(1, "big")})
    produce(broker, "bills", [ser(msg, ctx)])
    ok(k, "CREATE STREAM bills WITH (kafka_topic='bills', value_format='PROTOBUF');")
    # ProtobufData: precision and scale from (confluent.field_meta); without them scale 0 and ksqlDB's default
    # precision
    assert columns(k, "bills") == [("WHO", "STRING"), ("AMOUNT", "DECIMAL(4,2)"), ("PLAIN", "DECIMAL(64,0)")]
    assert rows(k, "SELECT * FROM bills EMIT CHANGES LIMIT 1;", 1) == [["x", 10.01, 7]]


def test_nullable_representations(env):
    broker, registry, k, _ = env
    ok(k, "CREATE STREAM opt (K STRING KEY, I INT, S STRING, A ARRAY<INT>) WITH (kafka_topic='opt', partitions=1, "
          "value_format='PROTOBUF', VALUE_PROTOBUF_NULLABLE_REPRESENTATION='OPTIONAL');")
    text = latest(registry, "opt-value")["schema"]
    for line in ("optional int32 I = 1;", "optional string S = 2;", "repeated int32 A = 3;"):
        assert line in text, text
    ok(k, "INSERT INTO opt (K, I, S, A) VALUES ('a', NULL, '', ARRAY[0]);")
    ok(k, "INSERT INTO opt (K, I, S, A) VALUES ('b', 0, NULL, NULL);")
    ok(k, "CREATE STREAM wrap WITH (value_format='PROTOBUF', VALUE_PROTOBUF_NULLABLE_REPRESENTATION='WRAPPER') AS "
          "SELECT * FROM opt;")
    text = latest(registry, "WRAP-value")["schema"]
    for line in ('import "google/protobuf/wrappers.proto";', "google.protobuf.Int32Value I = 1;",
                 "google.protobuf.StringValue S = 2;", "repeated google.protobuf.Int32Value A = 3;"):
        assert line in text, text
    # without the property a null is written as the default value (ksqlDB's default)
    ok(k, "CREATE STREAM plain WITH (value_format='PROTOBUF') AS SELECT * FROM wrap;")
    assert "  int32 I = 1;" in latest(registry, "PLAIN-value")["schema"]
    assert rows(k, "SELECT * FROM opt EMIT CHANGES LIMIT 2;", 2) == [["a", None, "", [0]], ["b", 0, None, []]]
    assert rows(k, "SELECT * FROM wrap EMIT CHANGES LIMIT 2;", 2) == [["a", None, "", [0]], ["b", 0, None, []]]
    assert rows(k, "SELECT * FROM plain EMIT CHANGES LIMIT 2;", 2) == [["a", 0, "", [0]], ["b", 0, "", []]]
    # the records themselves: presence tells the null from the default
    opt_cls = message_class(registry, latest(registry, "opt-value")["id"])
    first, second = (decode(v, opt_cls) for _, v in consume(broker.bootstrap, "opt", 2))
    assert (first.HasField("I"), first.HasField("S"), second.HasField("I"), second.HasField("S")) == \
        (False, True, True, False)
    wrap_cls = message_class(registry, latest(registry, "WRAP-value")["id"])
    first, second = (decode(v, wrap_cls) for _, v in consume(broker.bootstrap, "WRAP", 2))
    assert (first.HasField("I"), first.S.value, second.I.value, second.HasField("S")) == (False, "", 0, False)
    # a PROTOBUF key too, with its own property
    ok(k, "CREATE STREAM keyed (K INT KEY, V INT) WITH (kafka_topic='keyed', partitions=1, format='PROTOBUF', "
          "KEY_PROTOBUF_NULLABLE_REPRESENTATION='WRAPPER');")
    assert "google.protobuf.Int32Value K = 1;" in latest(registry, "keyed-key")["schema"]
    assert "  int32 V = 1;" in latest(registry, "keyed-value")["schema"]


@pytest.mark.parametrize("with_clause, message", [
    ("value_format='PROTOBUF', VALUE_PROTOBUF_NULLABLE_REPRESENTATION='NULLABLE'",
     "Invalid value NULLABLE for property VALUE_PROTOBUF_NULLABLE_REPRESENTATION: String must be one of: OPTIONAL, "
     "WRAPPER, null"),
    ("value_format='JSON', VALUE_PROTOBUF_NULLABLE_REPRESENTATION='OPTIONAL'",
     "Property VALUE_PROTOBUF_NULLABLE_REPRESENTATION can only be enabled with protobuf format"),
    ("value_format='PROTOBUF', KEY_PROTOBUF_NULLABLE_REPRESENTATION='WRAPPER'",
     "Property KEY_PROTOBUF_NULLABLE_REPRESENTATION can only be enabled with protobuf format"),
    # the validator takes any case; Enum.valueOf then wants the constant as it is spelled
    ("value_format='PROTOBUF', VALUE_PROTOBUF_NULLABLE_REPRESENTATION='optional'",
     "No enum constant io.confluent.ksql.properties.with.CommonCreateConfigs.ProtobufNullableConfigValues.optional"),
])
def test_nullable_representation_refusals(env, with_clause, message):
    _, _, k, _ = env
    assert refused(k, f"CREATE STREAM bad (K STRING KEY, V INT) WITH (kafka_topic='bad', partitions=1, "
                      f"{with_clause});") == message
    ok(k, "CREATE STREAM IF NOT EXISTS nr_src (K STRING KEY, V INT) WITH (kafka_topic='nr_src', partitions=1, "
          "value_format='JSON');")
    assert refused(k, f"CREATE STREAM bad_as WITH ({with_clause}) AS SELECT * FROM nr_src;") == message
