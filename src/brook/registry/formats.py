"""The console tools' three formats on confluent-kafka's serializers: a line of JSON in, Confluent's wire format
(magic byte, schema id, payload) out, and back to JSON as Confluent's console consumers print it."""

from __future__ import annotations

import io
import json
from typing import Any

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.serialization import MessageField, SerializationContext


class SerializationException(Exception):
    """org.apache.kafka.common.errors.SerializationException, as Confluent's tools report bad input."""

    def java(self) -> str:
        return f"org.apache.kafka.common.errors.SerializationException: {self}"


def _schema_id(data: bytes) -> int:
    if len(data) < 5 or data[0] != 0:
        raise SerializationException("Unknown magic byte!")
    return int.from_bytes(data[1:5], "big")


def _registered_text(client: SchemaRegistryClient, schema_id: int, fmt: str | None = None) -> str:
    text = client.get_schema(schema_id, fmt=fmt).schema_str
    assert text is not None  # optional in confluent-kafka's Schema; the registry always sends a registered one's
    return text


class Format:
    schema_type = ""

    def __init__(self, client: SchemaRegistryClient, topic: str) -> None:
        self.client = client
        self.topic = topic

    def context(self, is_key: bool) -> SerializationContext:
        return SerializationContext(self.topic, MessageField.KEY if is_key else MessageField.VALUE)

    def serializer(self, schema: str | None, schema_id: int | None, is_key: bool, conf: dict) -> Any:
        """A callable taking a line of JSON to the bytes of a record's key or value."""
        raise NotImplementedError

    def deserialize(self, data: bytes, is_key: bool) -> tuple[str, int]:
        """The record's key or value as Confluent's console consumer prints it, and its schema id."""
        raise NotImplementedError

    def _schema_text(self, schema: str | None, schema_id: int | None) -> str:
        if schema_id is not None:
            return _registered_text(self.client, schema_id)
        assert schema is not None
        return schema

    @staticmethod
    def _conf(schema_id: int | None, conf: dict) -> dict:
        out = dict(conf)
        if schema_id is not None:
            out.update({"auto.register.schemas": False, "use.schema.id": schema_id})
        return out


class AvroFormat(Format):
    schema_type = "AVRO"

    def serializer(self, schema: str | None, schema_id: int | None, is_key: bool, conf: dict) -> Any:
        import fastavro
        from confluent_kafka.schema_registry.avro import AvroSerializer

        text = self._schema_text(schema, schema_id)
        parsed = fastavro.parse_schema(json.loads(text) if text.lstrip()[:1] in "{[\"" else text)
        ser = AvroSerializer(self.client, text, conf=self._conf(schema_id, conf))
        ctx = self.context(is_key)

        def encode(line: str) -> bytes:
            try:  # Avro's JSON encoding: unions written as {"type": value}, as Confluent's tool reads them
                record = next(iter(fastavro.json_reader(io.StringIO(line), parsed)))
            except Exception as e:
                raise SerializationException(f"Error deserializing json {line} to Avro of schema {text}") from e
            return ser(record, ctx)

        return encode

    def deserialize(self, data: bytes, is_key: bool) -> tuple[str, int]:
        import fastavro
        from confluent_kafka.schema_registry.avro import AvroDeserializer

        schema_id = _schema_id(data)
        record = AvroDeserializer(self.client)(data, self.context(is_key))
        text = _registered_text(self.client, schema_id)
        parsed = fastavro.parse_schema(json.loads(text) if text.lstrip()[:1] in "{[\"" else text)
        out = io.StringIO()
        fastavro.json_writer(out, parsed, [record])
        return json.dumps(json.loads(out.getvalue()), separators=(",", ":"), ensure_ascii=False), schema_id


class JsonSchemaFormat(Format):
    schema_type = "JSON"

    def serializer(self, schema: str | None, schema_id: int | None, is_key: bool, conf: dict) -> Any:
        from confluent_kafka.schema_registry.json_schema import JSONSerializer

        text = self._schema_text(schema, schema_id)
        ser = JSONSerializer(text, self.client, conf=self._conf(schema_id, conf))
        ctx = self.context(is_key)

        def encode(line: str) -> bytes:
            try:
                doc = json.loads(line)
            except ValueError as e:
                raise SerializationException(f"Error serializing json {line}") from e
            return ser(doc, ctx)

        return encode

    def deserialize(self, data: bytes, is_key: bool) -> tuple[str, int]:
        from confluent_kafka.schema_registry.json_schema import JSONDeserializer

        schema_id = _schema_id(data)
        doc = JSONDeserializer(None, schema_registry_client=self.client)(data, self.context(is_key))
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False), schema_id


class ProtobufFormat(Format):
    schema_type = "PROTOBUF"

    def __init__(self, client: SchemaRegistryClient, topic: str) -> None:
        super().__init__(client, topic)
        self._classes: dict[tuple[int, tuple[int, ...]], Any] = {}

    @staticmethod
    def pool(fd: Any, references: dict[str, Any] | None = None) -> Any:
        """A pool holding `fd` and its imports: the files `references` gives by import name (a registered
        schema's references), else the well-known ones."""
        from google.protobuf import descriptor_pb2, descriptor_pool

        from brook.registry import protobuf  # noqa: F401 - google/type/*.proto in the default pool

        pool = descriptor_pool.DescriptorPool()
        added: set[str] = set()

        def add_known(name: str) -> None:  # a well-known type's file (its own imports first)
            if name in added:
                return
            added.add(name)
            dep_proto = descriptor_pb2.FileDescriptorProto()
            descriptor_pool.Default().FindFileByName(name).CopyToProto(dep_proto)
            for d in dep_proto.dependency:
                add_known(d)
            pool.Add(dep_proto)

        def add(f: Any) -> None:  # a file after its imports: referenced schemas, else well-known types
            for dep in f.dependency:
                if references and dep in references:
                    if dep not in added:
                        added.add(dep)
                        add(references[dep])
                else:
                    add_known(dep)
            pool.Add(f)

        add(fd)
        return pool

    @staticmethod
    def registered_pool(client: SchemaRegistryClient, schema_id: int) -> tuple[Any, Any]:
        """A registered schema's FileDescriptorProto and a pool holding it with the schemas its references name
        (read from the registry, theirs too)."""
        references: dict[str, Any] = {}

        def resolve(sid: int) -> None:
            for ref in client.get_schema(sid, fmt="serialized").references or []:
                if ref.name and ref.name not in references and ref.subject and ref.version is not None:
                    # serialized, as Confluent's deserializer asks for it (sharing this client and its cache)
                    dep_id = client.get_version(ref.subject, ref.version, fmt="serialized").schema_id
                    assert dep_id is not None
                    resolve(dep_id)
                    dep = ProtobufFormat.file_descriptor(client, dep_id, references)
                    dep.name = ref.name  # imported by that name
                    references[ref.name] = dep

        resolve(schema_id)
        fd = ProtobufFormat.file_descriptor(client, schema_id, references)
        return fd, ProtobufFormat.pool(fd, references)

    def serializer(self, schema: str | None, schema_id: int | None, is_key: bool, conf: dict) -> Any:
        from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
        from google.protobuf import json_format, message_factory

        from brook.registry import protobuf

        text = self._schema_text(schema, schema_id)
        fd = protobuf.parse(text, {})
        fd.name = fd.name or protobuf.MAIN_FILE
        pool = self.pool(fd)
        first = f"{fd.package}.{fd.message_type[0].name}" if fd.package else fd.message_type[0].name
        cls = message_factory.GetMessageClass(pool.FindMessageTypeByName(first))
        ser = ProtobufSerializer(cls, self.client, {"use.deprecated.format": False, **self._conf(schema_id, conf)})
        ctx = self.context(is_key)

        def encode(line: str) -> bytes:
            try:
                msg = json_format.Parse(line, cls())
            except json_format.ParseError as e:
                raise SerializationException(f"Error serializing json {line}: {e}") from e
            return ser(msg, ctx)

        return encode

    @staticmethod
    def file_descriptor(client: SchemaRegistryClient, schema_id: int, references: dict[str, Any] | None = None
                        ) -> Any:
        """The FileDescriptorProto of a registered schema.  The client caches schemas by id whatever the format
        asked, so the answer may be .proto text rather than the serialized form (compiled with the files its
        references name, `references`)."""
        import base64

        from google.protobuf import descriptor_pb2

        from brook.registry import protobuf

        raw = _registered_text(client, schema_id, fmt="serialized")
        if protobuf.is_serialized(raw):
            return descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(raw))
        fd = protobuf.parse(raw, references or {})
        fd.name = fd.name or protobuf.MAIN_FILE
        return fd

    def message(self, data: bytes, is_key: bool) -> tuple[Any, int]:
        """The record's key or value as a message of its writer's schema, and the schema id."""
        from confluent_kafka.schema_registry.common.serde import SchemaId
        from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
        from google.protobuf import message_factory

        sid = SchemaId("PROTOBUF")
        sid.from_bytes(io.BytesIO(data))
        if sid.id is None:  # magic byte 1 (a schema guid): the id-only wire format is what the tools speak
            raise SerializationException("Unknown magic byte!")
        indexes = tuple(sid.message_indexes or [0])
        key = (sid.id, indexes)
        de = self._classes.get(key)
        if de is None:
            fd, pool = self.registered_pool(self.client, sid.id)
            desc = pool.FindFileByName(fd.name).message_types_by_name[fd.message_type[indexes[0]].name]
            for i in indexes[1:]:
                desc = desc.nested_types[i]
            de = ProtobufDeserializer(message_factory.GetMessageClass(desc), {"use.deprecated.format": False},
                                      self.client)
            self._classes[key] = de
        return de(data, self.context(is_key)), sid.id

    def deserialize(self, data: bytes, is_key: bool) -> tuple[str, int]:
        from google.protobuf import json_format

        msg, schema_id = self.message(data, is_key)
        return json.dumps(json_format.MessageToDict(msg), separators=(",", ":"), ensure_ascii=False), schema_id


FORMATS = {"avro": AvroFormat, "json-schema": JsonSchemaFormat, "protobuf": ProtobufFormat}
