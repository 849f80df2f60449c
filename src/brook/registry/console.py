"""kafka-avro-console-producer / -consumer and their json-schema and protobuf twins: Kafka's console tools with
Confluent's schema properties (schema.registry.url, value.schema, value.schema.id, key.schema, parse.key,
print.schema.ids), their options parsed and their records sent and printed by brook.cli's console tools."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from brook.cli import console_consumer, console_producer
from brook.cli.formatter import DefaultMessageFormatter
from brook.cli.options import entry_point
from brook.registry.formats import FORMATS, Format, SerializationException

SCHEMA_PROPS = ("schema.registry.url", "value.schema", "value.schema.id", "value.schema.file", "key.schema",
                "key.schema.id", "key.schema.file", "auto.register", "auto.register.schemas", "use.latest.version",
                "print.schema.ids", "schema.id.separator")


def _client(props: dict[str, str]) -> Any:
    """The registry client of the --property settings (URL, basic.auth.*, schema.registry.ssl.*)."""
    from brook.config.definition import ConfigError
    from brook.registry.client import registry_client

    try:
        return registry_client(props)
    except ConfigError as e:
        raise SerializationException(str(e)) from None


def _schema(props: dict[str, str], side: str) -> tuple[str | None, int | None]:
    if f"{side}.schema.id" in props:
        return None, int(props[f"{side}.schema.id"])
    if f"{side}.schema.file" in props:
        with open(props[f"{side}.schema.file"], encoding="utf-8") as f:
            return f.read(), None
    return props.get(f"{side}.schema"), None


def producer_main(kind: str, argv: Sequence[str] | None) -> int:
    o = console_producer.ProducerOptions(sys.argv[1:] if argv is None else argv)
    props = o.reader_props()
    try:
        fmt: Format = FORMATS[kind](_client(props), props["topic"])
        value_schema, value_id = _schema(props, "value")
        if value_schema is None and value_id is None:
            raise SerializationException("Must provide the schema string in value.schema or its id in "
                                         "value.schema.id")
        conf = {"auto.register.schemas": props.get("auto.register", props.get("auto.register.schemas", "true"))
                .lower() == "true", "use.latest.version": props.get("use.latest.version", "false").lower() == "true"}
        if conf["use.latest.version"]:
            conf["auto.register.schemas"] = False
        encode_value = fmt.serializer(value_schema, value_id, False, conf)
        key_schema, key_id = _schema(props, "key")
        encode_key = fmt.serializer(key_schema, key_id, True, conf) if (key_schema or key_id) else None
    except Exception as e:  # a bad schema, an unreachable registry: the message, exit 1
        print(_java(e), file=sys.stderr)
        return 1

    def encode(key: bytes | None, value: bytes | None) -> tuple[bytes | None, bytes | None]:
        if key is not None and encode_key is not None:
            key = encode_key(key.decode())
        return key, None if value is None else encode_value(value.decode())

    try:
        return console_producer.run(o, encode)
    except Exception as e:
        print(_java(e), file=sys.stderr)
        return 1


def _java(e: Exception) -> str:
    from confluent_kafka.schema_registry.error import SchemaRegistryError

    if isinstance(e, SerializationException):
        return e.java()
    if isinstance(e, SchemaRegistryError):  # RestClientException's text, as Confluent's tools print it
        return (f"io.confluent.kafka.schemaregistry.client.rest.exceptions.RestClientException: {e.error_message}; "
                f"error code: {e.error_code}")
    return f"org.apache.kafka.common.errors.SerializationException: {type(e).__name__}: {e}"


class SchemaMessageFormatter(DefaultMessageFormatter):
    """Confluent's AvroMessageFormatter (and its JSON Schema and Protobuf kin): keys and values decoded with their
    writer's schema, each optionally followed by its schema id."""

    def __init__(self, fmt: Format, configs: dict[str, str]) -> None:
        super().__init__(configs)
        self.fmt = fmt
        self.print_ids = configs.get("print.schema.ids", "false").strip().lower() == "true"
        self.id_separator = configs.get("schema.id.separator", "\t")
        if "value.deserializer" not in configs:
            self.value_deserializer = lambda data: self._decode(data, False)
        if "key.deserializer" not in configs:
            self.key_deserializer = lambda data: self._decode(data, True)

    def _decode(self, data: bytes, is_key: bool) -> str:
        if data == self.null_literal:
            return data.decode()
        if is_key and (len(data) < 5 or data[0] != 0):  # a key without a schema prints as it is
            return data.decode(errors="replace")
        text, schema_id = self.fmt.deserialize(data, is_key)
        return f"{text}{self.id_separator}{schema_id}" if self.print_ids else text


def consumer_main(kind: str, argv: Sequence[str] | None) -> int:
    o = console_consumer.ConsumerOptions(sys.argv[1:] if argv is None else argv)
    args = o.formatter_args()
    try:
        topic = o.opts.value_of(o.topic) or ""
        o.message_formatter = SchemaMessageFormatter(FORMATS[kind](_client(args), topic), args)
    except Exception as e:
        print(_java(e), file=sys.stderr)
        return 1
    return console_consumer.run(o)


@entry_point
def avro_producer(argv: Sequence[str] | None = None) -> int:
    return producer_main("avro", argv)


@entry_point
def avro_consumer(argv: Sequence[str] | None = None) -> int:
    return consumer_main("avro", argv)


@entry_point
def json_schema_producer(argv: Sequence[str] | None = None) -> int:
    return producer_main("json-schema", argv)


@entry_point
def json_schema_consumer(argv: Sequence[str] | None = None) -> int:
    return consumer_main("json-schema", argv)


@entry_point
def protobuf_producer(argv: Sequence[str] | None = None) -> int:
    return producer_main("protobuf", argv)


@entry_point
def protobuf_consumer(argv: Sequence[str] | None = None) -> int:
    return consumer_main("protobuf", argv)
