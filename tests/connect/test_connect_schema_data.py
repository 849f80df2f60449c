"""Connect schemas and values <-> Avro, JSON Schema and Protobuf as Confluent's AvroData, JsonSchemaData and
ProtobufData map them (the schemas their converters register), and back."""

from __future__ import annotations

import datetime as dt
import decimal
import io

import fastavro

from brook.connect import avrodata, jsonschemadata, protobufdata
from brook.connect.data import (
    DATE_SCHEMA,
    STRING_SCHEMA,
    TIMESTAMP_SCHEMA,
    Schema,
    Struct,
    decimal_schema,
    prim,
    struct_schema,
)

INNER = struct_schema([("x", prim("int32"))])
ALL = struct_schema([("name", STRING_SCHEMA), ("age", prim("int32", True)), ("small", prim("int8")),
                     ("ts", TIMESTAMP_SCHEMA), ("day", DATE_SCHEMA), ("price", decimal_schema(2)),
                     ("tags", Schema("array", value_schema=STRING_SCHEMA)),
                     ("counts", Schema("map", key_schema=STRING_SCHEMA, value_schema=prim("int64"))),
                     ("inner", INNER.as_optional())])
VALUE = Struct(ALL, {"name": "ann", "age": None, "small": 3, "ts": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
                     "day": dt.datetime(2024, 1, 2, tzinfo=dt.UTC), "price": decimal.Decimal("1.23"),
                     "tags": ["a"], "counts": {"k": 1}, "inner": Struct(INNER, {"x": 7})})


def test_avro_schema_as_confluents_avrodata_writes_it():
    avro = avrodata.from_connect_schema(ALL)
    assert (avro["type"], avro["name"], avro["namespace"]) == ("record", "ConnectDefault", "io.confluent.connect.avro")
    fields = {f["name"]: f for f in avro["fields"]}
    assert fields["name"] == {"name": "name", "type": "string"}
    assert fields["age"] == {"name": "age", "type": ["null", "int"], "default": None}
    assert fields["small"]["type"] == {"type": "int", "connect.type": "int8"}
    assert fields["ts"]["type"] == {"type": "long", "connect.version": 1,
                                    "connect.name": "org.apache.kafka.connect.data.Timestamp",
                                    "logicalType": "timestamp-millis"}
    assert fields["price"]["type"] == {"type": "bytes", "scale": 2, "precision": 64, "connect.version": 1,
                                       "connect.parameters": {"scale": "2"},
                                       "connect.name": "org.apache.kafka.connect.data.Decimal",
                                       "logicalType": "decimal"}
    assert fields["counts"]["type"] == {"type": "map", "values": "long"}
    # a second unnamed struct is ConnectDefault2; a named one keeps its namespace and name
    assert fields["inner"]["type"][1]["name"] == "ConnectDefault2"
    named = avrodata.from_connect_schema(struct_schema([("a", STRING_SCHEMA)], name="com.example.Person"))
    assert (named["namespace"], named["name"], named["connect.name"]) == ("com.example", "Person",
                                                                          "com.example.Person")
    # a map with non-string keys is an array of MapEntry records
    keyed = avrodata.from_connect_schema(Schema("map", key_schema=prim("int32"), value_schema=STRING_SCHEMA))
    assert keyed == {"type": "array", "items": {"type": "record", "name": "MapEntry",
                                                "namespace": "io.confluent.connect.avro",
                                                "fields": [{"name": "key", "type": "int"},
                                                           {"name": "value", "type": "string"}]}}


def test_avro_round_trip_through_fastavro():
    avro = avrodata.from_connect_schema(ALL)
    parsed = fastavro.parse_schema(avro)
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, parsed, avrodata.to_avro(ALL, VALUE))
    buf.seek(0)
    back_schema = avrodata.to_connect_schema(avro, 3)
    back = avrodata.to_connect(back_schema, fastavro.schemaless_reader(buf, parsed))
    assert back_schema.name is None and back_schema.version == 3  # ConnectDefault is no name; the registry's version
    assert [(f.name, f.schema.type, f.schema.optional, f.schema.name) for f in back_schema.fields][:4] == [
        ("name", "string", False, None), ("age", "int32", True, None), ("small", "int8", False, None),
        ("ts", "int64", False, "org.apache.kafka.connect.data.Timestamp")]
    assert repr(back) == repr(Struct(back_schema, {**VALUE.values, "inner": Struct(back_schema.fields[8].schema,
                                                                                   {"x": 7})}))


def test_json_schema_as_confluents_jsonschemadata_writes_it():
    doc = jsonschemadata.from_connect_schema(ALL)
    props = doc["properties"]
    assert doc["type"] == "object" and "title" not in doc
    assert props["name"] == {"type": "string", "connect.index": 0}
    assert props["age"] == {"oneOf": [{"type": "null"}, {"type": "integer", "connect.type": "int32"}],
                            "connect.index": 1}
    assert props["ts"] == {"type": "integer", "connect.type": "int64",
                           "title": "org.apache.kafka.connect.data.Timestamp", "connect.version": 1,
                           "connect.index": 3}
    assert props["counts"]["connect.type"] == "map"
    # a Decimal's schema is a number (JsonSchemaData), its value base64 bytes by default, a number with NUMERIC
    assert props["price"]["type"] == "number" and props["price"]["connect.type"] == "bytes"
    assert jsonschemadata.to_json(ALL, VALUE, numeric=True)["price"] == decimal.Decimal("1.23")  # type: ignore[index]
    payload = jsonschemadata.to_json(ALL, VALUE)
    assert payload["price"] == "ew==" and payload["ts"] == 1704164645000 and payload["day"] == 19724  # type: ignore[index]
    back_schema = jsonschemadata.to_connect_schema(doc)
    back = jsonschemadata.to_connect(back_schema, payload)
    assert [f.name for f in back_schema.fields] == [f.name for f in ALL.fields]
    assert back.get("price") == decimal.Decimal("1.23") and back.get("small") == 3  # type: ignore[attr-defined]


def test_protobuf_message_as_confluents_protobufdata_writes_it():
    from google.protobuf import message_factory

    from brook.registry import protobuf
    from brook.registry.formats import ProtobufFormat

    schema = struct_schema([(f.name, f.schema) for f in ALL.fields if f.name not in ("day", "price")])
    fd = protobufdata.from_connect_schema(schema)
    text = protobuf.to_text(fd)
    assert "message ConnectDefault1 {" in text and "google.protobuf.Timestamp ts = 4;" in text
    assert "map<string, int64> counts = 6;" in text and "ConnectDefault2 inner = 7;" in text
    cls = message_factory.GetMessageClass(ProtobufFormat.pool(fd).FindMessageTypeByName("ConnectDefault1"))
    msg = protobufdata.fill(cls(), schema, Struct(schema, {k: v for k, v in VALUE.values.items()
                                                           if k not in ("day", "price")}))
    back_schema = protobufdata.to_connect_schema(cls.FromString(msg.SerializeToString()).DESCRIPTOR)
    back = protobufdata.to_connect(back_schema, msg)
    assert back_schema.name == "ConnectDefault1" and all(f.schema.optional for f in back_schema.fields)
    assert back_schema.fields[0].schema.params() == {"io.confluent.connect.protobuf.Tag": "1"}
    assert (back.get("name"), back.get("age"), back.get("tags"), back.get("counts")) == ("ann", 0, ["a"], {"k": 1})
    assert back.get("ts") == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_protobuf_enums_decimals_and_wrappers_as_protobufdata_reads_them():
    from google.protobuf import message_factory

    from brook.registry import protobuf
    from brook.registry.formats import ProtobufFormat

    text = ('syntax = "proto3";\nimport "google/protobuf/wrappers.proto";\nmessage Hand {\n'
            '  enum Suit { SPADES = 0; HEARTS = 1; CLUBS = 4; }\n  Suit suit = 1;\n'
            '  google.protobuf.Int32Value n = 2;\n  optional string note = 3;\n}\n')
    desc = ProtobufFormat.pool(protobuf.parse(text, {})).FindMessageTypeByName("Hand")
    schema = protobufdata.to_connect_schema(desc)
    suit, n, note = (f.schema for f in schema.fields)
    # an enum: a string naming the enum, its symbols' numbers in the parameters
    assert (suit.type, suit.name) == ("string", "Hand.Suit")
    assert suit.params() == {"io.confluent.connect.protobuf.Enum": "Suit", "io.confluent.connect.protobuf.Enum.SPADES":
                             "0", "io.confluent.connect.protobuf.Enum.HEARTS": "1",
                             "io.confluent.connect.protobuf.Enum.CLUBS": "4", "io.confluent.connect.protobuf.Tag": "1"}
    # a wrapper is a struct unless wrapper.for.nullables unwraps it
    assert n.type == "struct" and protobufdata.to_connect_schema(desc, unwrap=True).fields[1].schema.type == "int32"
    cls = message_factory.GetMessageClass(desc)
    unwrapped = protobufdata.to_connect_schema(desc, unwrap=True)
    msg = protobufdata.fill(cls(), unwrapped, Struct(unwrapped, {"suit": "CLUBS", "n": 0, "note": None}))
    assert (msg.suit, msg.HasField("n"), msg.n.value, msg.HasField("note")) == (4, True, 0, False)
    back = protobufdata.to_connect(unwrapped, cls.FromString(msg.SerializeToString()))
    assert (back.get("suit"), back.get("n"), back.get("note")) == ("CLUBS", 0, None)
    # the enum written back as an enum; a Decimal as confluent.type.Decimal with its precision and scale
    out = protobuf.to_text(protobufdata.from_connect_schema(struct_schema([("suit", suit), ("price",
                                                                                           decimal_schema(2))])))
    assert "enum Suit {" in out and "CLUBS = 4;" in out and "ConnectDefault1.Suit suit = 1;" in out
    assert 'confluent.type.Decimal price = 2 [(confluent.field_meta) = { params: [{ key: "scale", value: "2" }] }];' \
        in out


def test_protobuf_nullables_as_protobufdata_writes_them():
    from brook.registry import protobuf

    schema = struct_schema([("age", prim("int32", True)), ("name", STRING_SCHEMA),
                            ("tags", Schema("array", True, value_schema=prim("string", True)))])
    optional = protobuf.to_text(protobufdata.from_connect_schema(schema, "optional"))
    assert "optional int32 age = 1;" in optional and "  string name = 2;" in optional
    assert "repeated string tags = 3;" in optional
    wrapper = protobuf.to_text(protobufdata.from_connect_schema(schema, "wrapper"))
    assert 'import "google/protobuf/wrappers.proto";' in wrapper and "google.protobuf.Int32Value age = 1;" in wrapper
    assert "  string name = 2;" in wrapper and "repeated google.protobuf.StringValue tags = 3;" in wrapper
