"""Confluent's schema-registry converters (Avro, JSON Schema, Protobuf) in a real worker against Brook's registry:
a FileStream source with HoistField and InsertField writes Structs through each converter, the subject and schema
are checked over the registry's REST API, the records read back with confluent-kafka's own deserializers, and a
FileStream sink reads them through the same converter."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.serialization import MessageField, SerializationContext
from connect_helpers import consume_all, module_worker, wait_for
from registry.registry_helpers import module_registry

from brook.connect.data import STRING_SCHEMA, DataError, RetriableError, Struct, prim, struct_schema
from brook.connect.sr_converters import AvroConverter, JsonSchemaConverter, ProtobufConverter

T = "org.apache.kafka.connect.transforms."
CONVERTERS = {"avro": "io.confluent.connect.avro.AvroConverter",
              "json": "io.confluent.connect.json.JsonSchemaConverter",
              "protobuf": "io.confluent.connect.protobuf.ProtobufConverter"}


LINES = {"avro": ["foo", "bar"], "json": ["foo"], "protobuf": ["foo"]}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with module_registry(tmp_path_factory, "connect-sr") as (broker, registry), \
            module_worker(tmp_path_factory, broker, "connect-sr-worker",
                          **{"offset.flush.interval.ms": "500"}) as worker:  # the file sink flushes then
        # the three pipelines start together, so that their sink groups' joins overlap
        tmp = tmp_path_factory.mktemp("connect-sr-files")
        pipelines = {fmt: pipeline(worker, registry, fmt, lines, tmp) for fmt, lines in LINES.items()}
        pipelines["plain"] = plain_pipeline(worker, registry, tmp)
        yield broker, registry, worker, pipelines


def plain_pipeline(worker, registry, tmp: Path) -> tuple[str, Path]:
    """FileStream lines as they are (Connect strings) through the AvroConverter; a sink reading schemaless values
    (Confluent's Anything record) from another topic."""
    src, sink = tmp / "plain.txt", tmp / "anything.sink.txt"
    src.write_text("foo\nbar\n")
    avro = {"value.converter": CONVERTERS["avro"], "value.converter.schema.registry.url": registry.url}
    for name, config in (("plain-source", {"connector.class": "FileStreamSource", "file": str(src),
                                           "topic": "connect-plain"}),
                         ("anything-sink", {"connector.class": "FileStreamSink", "file": str(sink),
                                            "topics": "connect-anything"})):
        status, body = worker.request("POST", "/connectors", {"name": name, "config": {**config, **avro}})
        assert status == 201, body
    return "connect-plain", sink


def pipeline(worker, registry, fmt: str, lines: list[str], tmp: Path) -> tuple[str, Path]:
    """A FileStream source (lines hoisted into a struct, a static field inserted) and a FileStream sink, both
    converting values with `fmt`'s converter."""
    topic = f"connect-{fmt}"
    src, sink = tmp / f"{fmt}.txt", tmp / f"{fmt}.sink.txt"
    src.write_text("".join(line + "\n" for line in lines))
    conv = {"key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": CONVERTERS[fmt], "value.converter.schema.registry.url": registry.url}
    status, body = worker.request("POST", "/connectors", {"name": f"{fmt}-source", "config": {
        "connector.class": "FileStreamSource", "file": str(src), "topic": topic, **conv,
        "transforms": "MakeMap,InsertSource", "transforms.MakeMap.type": T + "HoistField$Value",
        "transforms.MakeMap.field": "line", "transforms.InsertSource.type": T + "InsertField$Value",
        "transforms.InsertSource.static.field": "data_source",
        "transforms.InsertSource.static.value": "test-file-source"}})
    assert status == 201, body
    status, body = worker.request("POST", "/connectors", {"name": f"{fmt}-sink", "config": {
        "connector.class": "FileStreamSink", "file": str(sink), "topics": topic, **conv}})
    assert status == 201, body
    return topic, sink


def sink_lines(sink: Path, count: int) -> list[str]:
    def ready():
        lines = sink.read_text().splitlines() if sink.exists() else []
        return lines if len(lines) >= count else None
    return wait_for(ready)


def latest(registry, subject: str) -> dict:
    status, body = registry.call("GET", f"/subjects/{subject}/versions/latest")
    assert status == 200, body
    return body  # type: ignore[return-value]


def test_avro_converter_registers_confluents_schema(stack):
    from confluent_kafka.schema_registry.avro import AvroDeserializer

    broker, registry, _, pipelines = stack
    topic, sink = pipelines["avro"]
    assert sink_lines(sink, 2) == ["Struct{line=foo,data_source=test-file-source}",
                                   "Struct{line=bar,data_source=test-file-source}"]
    body = latest(registry, f"{topic}-value")
    assert body["version"] == 1 and "schemaType" not in body  # AVRO is the default type
    assert json.loads(body["schema"]) == {
        "type": "record", "name": "ConnectDefault", "namespace": "io.confluent.connect.avro",
        "fields": [{"name": "line", "type": "string"},  # InsertField's static field is an optional string
                   {"name": "data_source", "type": ["null", "string"], "default": None}]}
    msgs = consume_all(broker.bootstrap, topic, 2)
    assert [m.value()[0] for m in msgs] == [0, 0]
    assert {int.from_bytes(m.value()[1:5], "big") for m in msgs} == {body["id"]}
    de = AvroDeserializer(SchemaRegistryClient({"url": registry.url}))
    ctx = SerializationContext(topic, MessageField.VALUE)
    assert [de(m.value(), ctx) for m in msgs] == [{"line": "foo", "data_source": "test-file-source"},
                                                  {"line": "bar", "data_source": "test-file-source"}]


def test_json_schema_converter(stack):
    from confluent_kafka.schema_registry.json_schema import JSONDeserializer

    broker, registry, _, pipelines = stack
    topic, sink = pipelines["json"]
    assert sink_lines(sink, 1) == ["Struct{line=foo,data_source=test-file-source}"]
    body = latest(registry, f"{topic}-value")
    assert body["schemaType"] == "JSON"
    assert json.loads(body["schema"]) == {"type": "object", "properties": {
        "line": {"type": "string", "connect.index": 0},
        "data_source": {"oneOf": [{"type": "null"}, {"type": "string"}], "connect.index": 1}}}
    msg, = consume_all(broker.bootstrap, topic, 1)
    de = JSONDeserializer(None, schema_registry_client=SchemaRegistryClient({"url": registry.url}))
    assert de(msg.value(), SerializationContext(topic, MessageField.VALUE)) == \
        {"line": "foo", "data_source": "test-file-source"}


def test_protobuf_converter(stack):
    broker, registry, _, pipelines = stack
    topic, sink = pipelines["protobuf"]
    assert sink_lines(sink, 1) == ["Struct{line=foo,data_source=test-file-source}"]
    body = latest(registry, f"{topic}-value")
    assert body["schemaType"] == "PROTOBUF"
    assert "message ConnectDefault1 {" in body["schema"] and "string line = 1;" in body["schema"] \
        and "string data_source = 2;" in body["schema"]
    msg, = consume_all(broker.bootstrap, topic, 1)
    assert msg.value()[:1] == b"\x00"
    # confluent-kafka's ProtobufDeserializer needs the message class: Brook's console consumer builds it
    from brook.registry.formats import ProtobufFormat

    text, schema_id = ProtobufFormat(SchemaRegistryClient({"url": registry.url}), topic).deserialize(msg.value(),
                                                                                                      False)
    assert json.loads(text) == {"line": "foo", "dataSource": "test-file-source"} and schema_id == body["id"]


def test_converters_in_process_strategies_and_versions(stack):
    _, registry, _, _ = stack
    person = struct_schema([("name", STRING_SCHEMA), ("age", prim("int32", True))], name="com.example.Person")
    value = Struct(person, {"name": "ann", "age": 7})
    for cls, strategy, subject in (
            (AvroConverter, "RecordNameStrategy", "com.example.Person"),
            (AvroConverter, "TopicRecordNameStrategy", "people-com.example.Person"),
            (JsonSchemaConverter, "TopicNameStrategy", "people-json-key")):
        c = cls()
        topic = "people-json" if cls is JsonSchemaConverter else "people"
        c.configure({"schema.registry.url": registry.url, "key.subject.name.strategy":
                     f"io.confluent.kafka.serializers.subject.{strategy}"}, True)
        data = c.from_connect_data(topic, person, value)
        status, versions = registry.call("GET", f"/subjects/{subject}/versions")
        assert (status, versions) == (200, [1]), subject
        schema, back = c.to_connect_data(topic, data)
        assert back == Struct(schema, {"name": "ann", "age": 7})
        assert (schema.name, schema.version, [f.schema.optional for f in schema.fields]) == \
            ("com.example.Person", 1, [False, True])
    avro = json.loads(latest(registry, "com.example.Person")["schema"])
    assert avro["connect.name"] == "com.example.Person" and avro["name"] == "Person" \
        and avro["fields"][1] == {"name": "age", "type": ["null", "int"], "default": None}
    # use.latest.version without auto-registration: an unknown subject is the registry's 40401 as a DataError
    c = AvroConverter()
    c.configure({"schema.registry.url": registry.url, "auto.register.schemas": "false"}, False)
    with pytest.raises(DataError, match="Failed to serialize Avro data from topic nowhere:.*40401"):
        c.from_connect_data("nowhere", person, value)
    with pytest.raises(DataError, match="Unknown magic byte!"):
        c.to_connect_data("nowhere", b"plain")
    pb = ProtobufConverter()
    pb.configure({"schema.registry.url": registry.url}, False)
    schema, back = pb.to_connect_data("people-pb", pb.from_connect_data("people-pb", person, value))
    assert back.get("name") == "ann" and back.get("age") == 7 and schema.name == "Person"


def test_avro_converter_primitive_strings_and_schemaless_values(stack):
    """FileStream lines are Connect strings: the AvroConverter registers "string" as Confluent's does. A value with
    no Connect schema is written in Confluent's Anything record and read back as the bare value."""
    from confluent_kafka import Producer
    from confluent_kafka.schema_registry.avro import AvroDeserializer

    broker, registry, _, pipelines = stack
    topic, sink = pipelines["plain"]
    client = SchemaRegistryClient({"url": registry.url})
    msgs = consume_all(broker.bootstrap, topic, 2)
    assert latest(registry, f"{topic}-value")["schema"] == '"string"'
    de = AvroDeserializer(client)
    assert [de(m.value(), SerializationContext(topic, MessageField.VALUE)) for m in msgs] == ["foo", "bar"]

    conv = AvroConverter()
    conv.configure({"schema.registry.url": registry.url}, False)
    values = ["plain", 42, {"k": [1.5, True, None]}]
    data = [conv.from_connect_data("connect-anything", None, v) for v in values]
    anything = json.loads(latest(registry, "connect-anything-value")["schema"])
    assert (anything["namespace"], anything["name"]) == ("io.confluent.connect.avro", "Anything")
    assert [f["name"] for f in anything["fields"]] == ["boolean", "bytes", "double", "float", "int", "long",
                                                       "string", "array", "map"]
    ctx = SerializationContext("connect-anything", MessageField.VALUE)
    read = [de(d, ctx) for d in data]  # Confluent's deserializer sees the records Confluent's converter writes
    assert read[0]["string"] == "plain" and read[1]["long"] == 42
    [entry] = read[2]["map"]
    assert entry["key"]["string"] == "k" and [e["double"] for e in entry["value"]["array"]][0] == 1.5
    assert [conv.to_connect_data("connect-anything", d) for d in data] == [(None, v) for v in values]

    # a sink with the AvroConverter reads the schemaless records (the values without a Connect schema)
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    for d in data:
        producer.produce("connect-anything", d)
    assert producer.flush(10) == 0
    assert sink_lines(sink, 3) == ["plain", "42", "{k=[1.5, true, null]}"]

    # the JSON Schema and Protobuf converters have no schema for such a value: a DataError, as Confluent's fail
    for cls, text in ((JsonSchemaConverter, "Converting Kafka Connect data to byte[] failed due to serialization "
                                            "error of topic t: a schemaless value has no JSON schema"),
                      (ProtobufConverter, "Failed to serialize Protobuf data from topic t: a schemaless value has "
                                          "no Protobuf schema")):
        c = cls()
        c.configure({"schema.registry.url": registry.url}, False)
        with pytest.raises(DataError, match=re.escape(text)):
            c.from_connect_data("t", None, "x")


def test_an_unreachable_registry_is_a_retriable_error():
    c = AvroConverter()
    c.configure({"schema.registry.url": "http://127.0.0.1:1", "max.retries": "0"}, False)  # the client's own
    with pytest.raises(RetriableError, match="Network connection error while serializing Avro data for topic t: "):
        c.from_connect_data("t", STRING_SCHEMA, "x")
    with pytest.raises(RetriableError, match="Network connection error while deserializing Avro data for topic t"):
        c.to_connect_data("t", b"\x00\x00\x00\x00\x07payload")
