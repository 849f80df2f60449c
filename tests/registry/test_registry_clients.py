"""confluent-kafka's SchemaRegistryClient and its serializers against the registry and a broker: registration,
evolution, round trips in Confluent's wire format, and ids that survive a restart of the registry."""

from __future__ import annotations

import json
import uuid

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from registry_helpers import module_registry

USER_V1 = {"type": "record", "name": "User", "namespace": "brook.clients",
           "fields": [{"name": "name", "type": "string"}]}
USER_V2 = {**USER_V1, "fields": USER_V1["fields"] + [{"name": "age", "type": "int", "default": -1}]}
USER_BAD = {**USER_V1, "fields": [{"name": "email", "type": "string"}]}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with module_registry(tmp_path_factory, "registry-clients") as s:
        yield s


@pytest.fixture(scope="module")
def client(stack):
    return SchemaRegistryClient({"url": stack[1].url})


def round_trip(bootstrap: str, topic: str, values: list[bytes]) -> list[bytes]:
    p = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})
    for v in values:
        p.produce(topic, v)
    assert p.flush(30) == 0
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"g-{uuid.uuid4()}", "auto.offset.reset": "earliest"})
    c.subscribe([topic])
    out: list[bytes] = []
    try:
        for _ in range(200):
            m = c.poll(0.5)
            if m is not None and not m.error():
                out.append(m.value())
            if len(out) == len(values):
                break
    finally:
        c.close()
    return out


def test_avro_register_evolve_and_round_trip(stack, client):
    broker, _ = stack
    subject = "avro-users-value"
    first = client.register_schema(subject, Schema(json.dumps(USER_V1), "AVRO"))
    second = client.register_schema(subject, Schema(json.dumps(USER_V2), "AVRO"))
    assert second != first
    with pytest.raises(SchemaRegistryError) as e:
        client.register_schema(subject, Schema(json.dumps(USER_BAD), "AVRO"))
    assert e.value.http_status_code == 409 and e.value.error_code == 409
    assert client.test_compatibility(subject, Schema(json.dumps(USER_BAD), "AVRO")) is False
    client.set_compatibility(subject, "NONE")
    third = client.register_schema(subject, Schema(json.dumps(USER_BAD), "AVRO"))
    assert third not in (first, second)
    assert client.get_latest_version(subject).schema_id == third
    assert client.get_versions(subject) == [1, 2, 3]
    client.set_compatibility(subject, "BACKWARD")

    ser = AvroSerializer(client, json.dumps(USER_V2), conf={"auto.register.schemas": False, "use.latest.version":
                                                           False})
    ctx = SerializationContext("avro-users", MessageField.VALUE)
    payloads = [ser({"name": f"u{i}", "age": i}, ctx) for i in range(3)]
    assert all(p[0] == 0 and int.from_bytes(p[1:5], "big") == second for p in payloads)  # Confluent's framing
    got = round_trip(broker.bootstrap, "avro-users", payloads)
    de = AvroDeserializer(SchemaRegistryClient({"url": stack[1].url}))
    assert [de(v, ctx) for v in got] == [{"name": f"u{i}", "age": i} for i in range(3)]
    # a reader schema: the deserializer resolves the writer's schema (fetched by id) to it
    reader = AvroDeserializer(SchemaRegistryClient({"url": stack[1].url}), json.dumps(USER_V1))
    assert reader(got[0], ctx) == {"name": "u0"}


def test_json_schema_round_trip(stack, client):
    broker, _ = stack
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "title": "Order", "type": "object",
              "properties": {"id": {"type": "integer"}, "item": {"type": "string"}}, "required": ["id"]}
    ser = JSONSerializer(json.dumps(schema), client)
    ctx = SerializationContext("json-orders", MessageField.VALUE)
    payloads = [ser({"id": i, "item": f"thing {i}"}, ctx) for i in range(3)]
    schema_id = int.from_bytes(payloads[0][1:5], "big")
    assert client.get_latest_version("json-orders-value").schema_id == schema_id
    assert client.get_schema(schema_id).schema_type == "JSON"
    got = round_trip(broker.bootstrap, "json-orders", payloads)
    de = JSONDeserializer(None, schema_registry_client=SchemaRegistryClient({"url": stack[1].url}))
    assert [de(v, ctx) for v in got] == [{"id": i, "item": f"thing {i}"} for i in range(3)]
    incompatible = {**schema, "properties": {"id": {"type": "string"}, "item": {"type": "string"}}}
    with pytest.raises(SchemaRegistryError) as e:
        client.register_schema("json-orders-value", Schema(json.dumps(incompatible), "JSON"))
    assert e.value.http_status_code == 409


def _message_class():
    fd = descriptor_pb2.FileDescriptorProto(name="brook_test_payment.proto", package="brook.clients",
                                            syntax="proto3")
    m = fd.message_type.add(name="Payment")
    m.field.add(name="id", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
                label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    m.field.add(name="amount", number=2, type=descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE,
                label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("brook.clients.Payment"))


def test_protobuf_register_read_back_and_round_trip(stack, client):
    broker, registry = stack
    payment = _message_class()
    ser = ProtobufSerializer(payment, client, {"use.deprecated.format": False})
    ctx = SerializationContext("payments", MessageField.VALUE)
    payloads = [ser(payment(id=f"p{i}", amount=i * 1.5), ctx) for i in range(3)]
    registered = client.get_latest_version("payments-value")
    assert registered.schema.schema_type == "PROTOBUF"
    text = registered.schema.schema_str
    assert 'syntax = "proto3";' in text and "message Payment {" in text and "double amount = 2;" in text
    # the same schema sent as .proto text is the same schema: same id, no new version
    assert client.register_schema("payments-value", Schema(text, "PROTOBUF")) == registered.schema_id
    got = round_trip(broker.bootstrap, "payments", payloads)
    de = ProtobufDeserializer(payment, {"use.deprecated.format": False}, SchemaRegistryClient({"url": registry.url}))
    assert [(x.id, x.amount) for x in (de(v, ctx) for v in got)] == [(f"p{i}", i * 1.5) for i in range(3)]


def test_errors_through_the_client(client):
    with pytest.raises(SchemaRegistryError) as e:
        client.get_schema(987654)
    assert (e.value.http_status_code, e.value.error_code) == (404, 40403)
    with pytest.raises(SchemaRegistryError) as e:
        client.get_latest_version("never-registered")
    assert e.value.error_code == 40401
    with pytest.raises(SchemaRegistryError) as e:
        client.get_version("avro-users-value", 77)
    assert e.value.error_code == 40402
    with pytest.raises(SchemaRegistryError) as e:
        client.register_schema("bad-value", Schema('{"type": "record", "name": "X"}', "AVRO"))
    assert e.value.error_code == 42201


def test_ids_resolve_after_a_restart(stack, client):
    _, registry = stack
    before = {s: client.get_latest_version(s) for s in client.get_subjects()}
    assert len(before) >= 3
    assert registry.stop() == 0
    registry.start()
    fresh = SchemaRegistryClient({"url": registry.url})
    for subject, reg in before.items():
        assert fresh.get_schema(reg.schema_id).schema_str == reg.schema.schema_str
        assert fresh.get_latest_version(subject).schema_id == reg.schema_id
    # ids keep growing after the restart; none is reused
    new_id = fresh.register_schema("after-restart-value", Schema('{"type": "fixed", "name": "F", "size": 3}',
                                                                  "AVRO"))
    assert new_id > max(r.schema_id for r in before.values())
