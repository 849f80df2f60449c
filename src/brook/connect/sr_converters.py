"""Confluent's schema-registry converters (io.confluent.connect.avro.AvroConverter,
io.confluent.connect.json.JsonSchemaConverter, io.confluent.connect.protobuf.ProtobufConverter) on confluent-kafka's
serializers: Confluent's wire format (magic byte 0, the 4-byte schema id, the payload), subjects named by Confluent's
strategies, schemas registered (or looked up) once per Connect schema.

One serializer per distinct Connect schema and one reader per schema id are kept for the life of the task's
converter, so the registry is asked once per schema, not per record.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

from brook.connect import avrodata, exactjson, jsonschemadata, protobufdata
from brook.connect.configdef import NO_DEFAULT, ConfigDef, Key
from brook.connect.converters import Converter
from brook.connect.data import ConnectError, DataError, RetriableError, Schema

STRATEGY_PACKAGE = "io.confluent.kafka.serializers.subject."
STRATEGIES = ("TopicNameStrategy", "RecordNameStrategy", "TopicRecordNameStrategy")

SR_CONFIG = ConfigDef(
    Key("schema.registry.url", "LIST", NO_DEFAULT, "Comma-separated list of URLs for Schema Registry instances "
        "that can be used to register or look up schemas.", importance="HIGH"),
    Key("auto.register.schemas", "BOOLEAN", True, "Specify if the Serializer should attempt to register the Schema "
        "with Schema Registry", importance="MEDIUM"),
    Key("use.latest.version", "BOOLEAN", False, "Specify if the Serializer should use the latest subject version "
        "for serialization", importance="LOW"),
    Key("use.schema.id", "INT", -1, "Schema ID to use for serialization", importance="LOW"),
    Key("normalize.schemas", "BOOLEAN", False, "Whether to normalize schemas, which generally ignores ordering when "
        "it is not significant", importance="LOW"),
    Key("key.subject.name.strategy", "CLASS", STRATEGY_PACKAGE + "TopicNameStrategy", "Determines how to construct "
        "the subject name under which the key schema is registered with the schema registry.", importance="MEDIUM"),
    Key("value.subject.name.strategy", "CLASS", STRATEGY_PACKAGE + "TopicNameStrategy", "Determines how to "
        "construct the subject name under which the value schema is registered with the schema registry.",
        importance="MEDIUM"),
    Key("basic.auth.credentials.source", "STRING", "URL", "Specify how to pick the credentials for Basic Auth "
        "header. The supported values are URL, USER_INFO and SASL_INHERIT", importance="MEDIUM"),
    Key("basic.auth.user.info", "PASSWORD", "", "Specify the user info for Basic Auth in the form of "
        "{username}:{password}", importance="MEDIUM"),
    Key("schema.registry.basic.auth.user.info", "PASSWORD", "", "Specify the user info for Basic Auth in the form "
        "of {username}:{password}", importance="MEDIUM"),
    Key("schema.registry.ssl.truststore.location", "STRING", None, "The location of the trust store file.",
        importance="HIGH"),
    Key("schema.registry.ssl.truststore.password", "PASSWORD", None, "The password for the trust store file.",
        importance="HIGH"),
    Key("schema.registry.ssl.truststore.type", "STRING", "JKS", "The file format of the trust store file.",
        importance="MEDIUM"),
    Key("schema.registry.ssl.keystore.location", "STRING", None, "The location of the key store file.",
        importance="HIGH"),
    Key("schema.registry.ssl.keystore.password", "PASSWORD", None, "The store password for the key store file.",
        importance="HIGH"),
    Key("schema.registry.ssl.keystore.type", "STRING", "JKS", "The file format of the key store file.",
        importance="MEDIUM"),
    Key("schema.registry.ssl.key.password", "PASSWORD", None, "The password of the private key in the key store "
        "file.", importance="HIGH"),
    Key("max.retries", "INT", 3, "Maximum number of retries for a failed request to the schema registry",
        importance="LOW"),
    Key("retries.wait.ms", "INT", 1000, "Initial wait between retries of a request to the schema registry",
        importance="LOW"),
    Key("retries.max.wait.ms", "INT", 20000, "Maximum wait between retries of a request to the schema registry",
        importance="LOW"),
    Key("json.fail.invalid.schema", "BOOLEAN", False, "Whether to fail serialization if the payload is not valid "
        "for the schema", importance="MEDIUM"),
    Key("decimal.format", "STRING", "BASE64", "Controls which format this converter will serialize decimals in. "
        "This value is case insensitive and can be either 'BASE64' (default) or 'NUMERIC'", importance="LOW"),
    Key("connect.meta.data", "BOOLEAN", True, "Toggle for enabling/disabling connect converter to add its meta data "
        "to the output schema or not", importance="LOW"),
)


def _json_encode(value: Any) -> str:
    """The JSON Schema serializer's text (Confluent's: compact, UTF-8), a Decimal with its digits."""
    return exactjson.dumps(value, ensure_ascii=False)


def subject_strategy(class_name: str) -> Any:
    from confluent_kafka.schema_registry import (
        record_subject_name_strategy,
        topic_record_subject_name_strategy,
        topic_subject_name_strategy,
    )

    simple = class_name.rsplit(".", 1)[-1]
    if simple not in STRATEGIES:
        raise ConnectError(f"Invalid value {class_name} for configuration subject.name.strategy: Class {class_name} "
                           "could not be found.")
    return {"TopicNameStrategy": topic_subject_name_strategy, "RecordNameStrategy": record_subject_name_strategy,
            "TopicRecordNameStrategy": topic_record_subject_name_strategy}[simple]


class SchemaRegistryConverter(Converter):
    CONFIG_DEF = SR_CONFIG
    format_name = ""
    schemaless = False  # whether values without a Connect schema can be written (Avro's Anything record)
    schemaless_error = "Failed to serialize data from topic {topic}:"

    def configure(self, configs: dict[str, str], is_key: bool) -> None:
        self.is_key = is_key
        known = {k: v for k, v in configs.items() if k in SR_CONFIG.keys}
        self.settings = SR_CONFIG.parse(known)
        from brook.registry.client import registry_client

        # the raw settings: schema.registry.ssl.* pass to the client as they are
        self.client = registry_client({**configs, "schema.registry.url": self.settings.get_list("schema.registry.url")})
        strategy = self.settings.get_str("key.subject.name.strategy" if is_key else "value.subject.name.strategy")
        self.serde_conf = {"auto.register.schemas": self.settings.get_bool("auto.register.schemas"),
                           "use.latest.version": self.settings.get_bool("use.latest.version"),
                           "normalize.schemas": self.settings.get_bool("normalize.schemas"),
                           "subject.name.strategy": subject_strategy(str(strategy))}
        if self.settings.get_int("use.schema.id") >= 0:
            self.serde_conf["use.schema.id"] = self.settings.get_int("use.schema.id")
        if self.serde_conf["use.latest.version"] or "use.schema.id" in self.serde_conf:
            self.serde_conf["auto.register.schemas"] = False  # Confluent ignores auto-registration then too
        self._writers: dict[Schema, Any] = {}
        self._readers: dict[Any, tuple[Schema, Any]] = {}  # by schema id (Protobuf: and message indexes)
        self._contexts: dict[str, Any] = {}

    def context(self, topic: str) -> Any:
        """The serializers' context for a topic, made once per topic."""
        from confluent_kafka.serialization import MessageField, SerializationContext

        ctx = self._contexts.get(topic)
        if ctx is None:
            field = MessageField.KEY if self.is_key else MessageField.VALUE
            ctx = self._contexts[topic] = SerializationContext(topic, field)
        return ctx

    # Connect -> bytes
    def from_connect_data(self, topic, schema, value):
        if value is None:
            return None
        if schema is None and not self.schemaless:
            # Confluent's JSON Schema and Protobuf converters have no schema for it either (theirs fail on the null)
            raise DataError(f"{self.schemaless_error.format(topic=topic)} a schemaless value has no "
                            f"{self.format_name} schema")
        try:
            writer = self._writers.get(schema)
            if writer is None:
                writer = self._writers[schema] = self.writer(schema)
            return writer(value, self.context(topic))
        except (DataError, ConnectError):
            raise
        except Exception as e:  # noqa: BLE001 - the serializer's and the registry client's errors
            raise self._error(f"Failed to serialize {self.format_name} data from topic {topic}:", e, topic,
                              "serializing") from e

    # bytes -> Connect
    def to_connect_data(self, topic, value):
        if value is None:
            return None, None
        try:
            if len(value) < 5 or value[0] != 0:
                raise DataError("Unknown magic byte!")
            schema_id = int.from_bytes(value[1:5], "big")
            schema, read = self.reader_for(topic, schema_id, value)
            return schema, read(bytes(value), self.context(topic))
        except Exception as e:  # noqa: BLE001
            raise self._error(f"Failed to deserialize data for topic {topic} to {self.format_name}:", e, topic,
                              "deserializing") from e

    def reader_for(self, topic: str, schema_id: int, value: bytes) -> tuple[Schema, Any]:
        """The reader of a record written with `schema_id`, made once per id."""
        reader = self._readers.get(schema_id)
        if reader is None:
            reader = self._readers[schema_id] = self.reader(topic, schema_id)
        return reader

    def _error(self, message: str, cause: Exception, topic: str, verb: str) -> ConnectError:
        from confluent_kafka.schema_registry.common._httpx_compat import httpx
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        if isinstance(cause, httpx.TransportError):  # Confluent's NetworkException: the registry is unreachable
            return RetriableError(f"Network connection error while {verb} {self.format_name} data for topic {topic}: "
                                  f"{cause}")
        if isinstance(cause, SchemaRegistryError) and cause.http_status_code in (-1, 0, 500, 502, 503, 504):
            return RetriableError(f"{message} {cause}")
        return DataError(f"{message} {cause}")

    def version_of(self, topic: str, schema: Any, record_name: str | None) -> int | None:
        """The writer schema's version under its subject (Confluent's converters put it in the Connect schema)."""
        subject = self.serde_conf["subject.name.strategy"](self.context(topic), record_name)
        try:
            return int(self.client.lookup_schema(subject, schema).version)
        except Exception:  # noqa: BLE001 - registered under another subject: no version, as Confluent's
            return None

    def writer(self, schema: Schema) -> Any:
        raise NotImplementedError

    def registry_schema(self, schema: Schema) -> Any:
        """The schema this converter registers for a Connect schema (confluent-kafka's Schema)."""
        raise NotImplementedError

    def reader(self, topic: str, schema_id: int) -> tuple[Schema, Any]:
        raise NotImplementedError


class AvroConverter(SchemaRegistryConverter):
    format_name = "Avro"
    schemaless = True

    def registry_schema(self, schema):
        from confluent_kafka.schema_registry import Schema as RegistrySchema

        if schema is None:  # AvroData.fromConnectSchema(null): Confluent's Anything record
            avro = avrodata.ANYTHING
        else:
            avro = avrodata.from_connect_schema(schema, self.settings.get_bool("connect.meta.data"))
        if isinstance(avro, str):
            # a bare primitive ("string") in its object form: confluent-kafka's serializer reads the schema text as
            # an object, and registries store both forms as the same canonical "string"
            avro = {"type": avro}
        return RegistrySchema(json.dumps(avro, separators=(",", ":")), "AVRO")

    def writer(self, schema):
        from confluent_kafka.schema_registry.avro import AvroSerializer

        ser = AvroSerializer(self.client, self.registry_schema(schema), conf=self.serde_conf)
        if schema is None:
            return lambda value, ctx: ser(avrodata.to_anything(value), ctx)
        return lambda value, ctx: ser(avrodata.to_avro(schema, value), ctx)

    def reader(self, topic, schema_id):
        from confluent_kafka.schema_registry.avro import AvroDeserializer

        registered = self.client.get_schema(schema_id)
        avro = json.loads(registered.schema_str)
        if avrodata.is_anything(avro):  # a schemaless value: no Connect schema, the value unwrapped
            anything = AvroDeserializer(self.client)
            return None, lambda data, ctx: avrodata.from_anything(anything(data, ctx))
        record = avro.get("name") if isinstance(avro, dict) else None
        if record and avro.get("namespace") and "." not in record:
            record = f"{avro['namespace']}.{record}"
        schema = avrodata.to_connect_schema(avro, self.version_of(topic, registered, record))
        de = AvroDeserializer(self.client)
        return schema, lambda data, ctx: avrodata.to_connect(schema, de(data, ctx))


class JsonSchemaConverter(SchemaRegistryConverter):
    format_name = "JSON"
    schemaless_error = "Converting Kafka Connect data to byte[] failed due to serialization error of topic {topic}:"

    def registry_schema(self, schema):
        from confluent_kafka.schema_registry import Schema as RegistrySchema

        return RegistrySchema(json.dumps(jsonschemadata.from_connect_schema(schema), separators=(",", ":")), "JSON")

    def writer(self, schema):
        from confluent_kafka.schema_registry.json_schema import JSONSerializer

        # Confluent's serializer validates only with json.fail.invalid.schema (validation is most of the cost)
        validate = self.settings.get_bool("json.fail.invalid.schema")
        ser = JSONSerializer(self.registry_schema(schema), self.client, conf={**self.serde_conf, "validate": validate},
                             json_encode=_json_encode)
        # JsonSchemaData's decimal.format: BASE64 by default (the schema says number all the same), NUMERIC as
        # ksqlDB configures it (KsqlJsonSerdeFactory)
        numeric = str(self.settings.get_str("decimal.format")).upper() == "NUMERIC"
        return lambda value, ctx: ser(jsonschemadata.to_json(schema, value, numeric), ctx)

    def reader(self, topic, schema_id):
        from confluent_kafka.schema_registry.json_schema import JSONDeserializer

        registered = self.client.get_schema(schema_id)
        doc = json.loads(registered.schema_str)
        title = doc.get("title") if isinstance(doc, dict) else None
        schema = jsonschemadata.to_connect_schema(doc, self.version_of(topic, registered, title))
        de = JSONDeserializer(None, schema_registry_client=self.client,
                              conf={"validate": self.settings.get_bool("json.fail.invalid.schema")},
                              json_decode=exactjson.loads)
        return schema, lambda data, ctx: jsonschemadata.to_connect(schema, de(data, ctx))


class ProtobufConverter(SchemaRegistryConverter):
    format_name = "Protobuf"
    schemaless_error = "Failed to serialize Protobuf data from topic {topic}:"

    def configure(self, configs: dict[str, str], is_key: bool) -> None:
        super().configure(configs, is_key)
        # ProtobufDataConfig's optional.for.nullables / wrapper.for.nullables: how nullable fields are written;
        # wrappers are read back as their scalars with the latter (`unwrap`)
        optional = str(configs.get("optional.for.nullables", "false")).lower() == "true"
        wrapper = str(configs.get("wrapper.for.nullables", "false")).lower() == "true"
        self.nullable = "optional" if optional else "wrapper" if wrapper else None
        self.unwrap = wrapper

    def registry_schema(self, schema):
        from confluent_kafka.schema_registry import Schema as RegistrySchema

        serialized = protobufdata.from_connect_schema(schema, self.nullable).SerializeToString()
        return RegistrySchema(base64.b64encode(serialized).decode(), "PROTOBUF")

    def writer(self, schema):
        from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
        from google.protobuf import message_factory

        from brook.registry.formats import ProtobufFormat

        package, name = protobufdata.message_name(schema)
        full_name = f"{package}.{name}" if package else name
        desc = None
        if "use.schema.id" in self.serde_conf:
            # Confluent's serializer writes the message of that name in the schema of that id, with its indexes
            # (an unnamed struct: the schema's first message)
            fd, pool = ProtobufFormat.registered_pool(self.client, self.serde_conf["use.schema.id"])
            try:
                desc = pool.FindMessageTypeByName(full_name)
            except KeyError:
                first = f"{fd.package}.{fd.message_type[0].name}" if fd.package else fd.message_type[0].name
                desc = pool.FindMessageTypeByName(first) if not schema.name and fd.message_type else None
        if desc is None:
            desc = ProtobufFormat.pool(protobufdata.from_connect_schema(schema, self.nullable)).FindMessageTypeByName(
                full_name)
        cls = message_factory.GetMessageClass(desc)
        ser = ProtobufSerializer(cls, self.client, {"use.deprecated.format": False, **self.serde_conf})
        return lambda value, ctx: ser(protobufdata.fill(cls(), schema, value), ctx)

    def reader_for(self, topic, schema_id, value):
        """The reader of the message the record's indexes name in the schema (Confluent's deserializer reads them)."""
        from confluent_kafka.schema_registry.common.serde import SchemaId

        sid = SchemaId("PROTOBUF")
        sid.from_bytes(io.BytesIO(value))
        key = (schema_id, tuple(sid.message_indexes or [0]))
        reader = self._readers.get(key)
        if reader is None:
            reader = self._readers[key] = self.reader(topic, schema_id, key[1])
        return reader

    def reader(self, topic, schema_id, indexes=(0,)):
        from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
        from google.protobuf import message_factory

        from brook.registry.formats import ProtobufFormat

        fd, pool = ProtobufFormat.registered_pool(self.client, schema_id)
        file = pool.FindFileByName(fd.name)
        desc = list(file.message_types_by_name.values())[indexes[0]]
        for i in indexes[1:]:
            desc = desc.nested_types[i]
        registered = self.client.get_schema(schema_id)
        schema = protobufdata.to_connect_schema(desc, self.version_of(topic, registered, desc.full_name), self.unwrap)
        de = ProtobufDeserializer(message_factory.GetMessageClass(desc), {"use.deprecated.format": False},
                                  self.client)
        return schema, lambda data, ctx: protobufdata.to_connect(schema, de(data, ctx))
