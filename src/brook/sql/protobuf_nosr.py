"""ksqlDB's PROTOBUF_NOSR format: Protobuf without a schema registry. The message is what ksqlDB's PROTOBUF format
would register for the columns (ProtobufData's `ConnectDefault1`, or the *_SCHEMA_FULL_NAME), written bare: no magic
byte, schema id or message indexes (ksqlDB's ProtobufNoSRConverter). Columns cannot be inferred: there is nothing
to infer them from."""

from __future__ import annotations

from typing import Any

from brook.connect import protobufdata
from brook.connect.data import DataError, Schema, Struct

FORMAT = "PROTOBUF_NOSR"


class ProtobufNoSrConverter:
    """The converter interface srformats.SrSerde uses (from_connect_data / to_connect_data), for one schema."""

    def __init__(self, schema: Schema, nullable: str | None) -> None:
        from google.protobuf import message_factory

        from brook.registry.formats import ProtobufFormat

        package, name = protobufdata.message_name(schema)
        desc = ProtobufFormat.pool(protobufdata.from_connect_schema(schema, nullable)).FindMessageTypeByName(
            f"{package}.{name}" if package else name)
        self.schema = schema
        self.cls = message_factory.GetMessageClass(desc)
        self.client = None  # no registry

    def from_connect_data(self, topic: str, schema: Schema, value: Any) -> bytes | None:
        if value is None:
            return None
        return protobufdata.fill(self.cls(), schema, value).SerializeToString()

    def to_connect_data(self, topic: str, data: bytes) -> tuple[Schema, Struct]:
        msg = self.cls()
        try:
            msg.ParseFromString(data)
        except Exception as e:  # noqa: BLE001 - protobuf's DecodeError
            raise DataError(f"Failed to deserialize data for topic {topic} to Protobuf: {e}") from e
        return self.schema, protobufdata.to_connect(self.schema, msg)
