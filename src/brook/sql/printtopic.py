"""PRINT 'topic' [FROM BEGINNING] [INTERVAL n] [LIMIT n]: ksqlDB's RecordFormatter and TopicStreamWriter.

Every key and value is tried against each format in ksqlDB's order (AVRO, PROTOBUF, JSON, JSON_SR, KAFKA_INT,
KAFKA_BIGINT, KAFKA_DOUBLE, KAFKA_STRING; keys also as SESSION/HOPPING/TUMBLING windowed variants); a format that
fails once is dropped, the first one left prints the record, and `Key format:` / `Value format:` lines say which
formats are still possible whenever that list changes."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import struct
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from brook.connect.data import java_str

NO_DATA = "¯\\_(ツ)_/¯ - no data processed"
NO_MATCH = (" does not match any supported format. It may be a STRING with encoding other than UTF8, or some other "
            "format.")


def rowtime(ms: int) -> str:
    """ksqlDB's `yyyy/MM/dd HH:mm:ss.SSS z` in UTC."""
    if ms < 0:
        return "N/A"
    t = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return t.strftime("%Y/%m/%d %H:%M:%S.") + f"{ms % 1000:03d} Z"


def bytes_str(data: bytes) -> str:
    """Kafka's Bytes.toString: printable ASCII as is, everything else as \\xNN."""
    return "".join(chr(b) if 32 <= b < 127 and b != 92 else f"\\x{b:02X}" for b in data)


class _Fail(Exception):
    pass


class Formats:
    """The deserializers of one side (keys or values), narrowed as records are seen."""

    def __init__(self, client: Any, topic: str, is_key: bool) -> None:
        self.client, self.topic, self.is_key = client, topic, is_key
        base: list[tuple[str, Callable[[bytes], str]]] = [
            ("AVRO", self._avro), ("PROTOBUF", self._protobuf), ("JSON", self._json), ("JSON_SR", self._json_sr),
            ("KAFKA_INT", self._fixed(">i", 4)), ("KAFKA_BIGINT", self._fixed(">q", 8)),
            ("KAFKA_DOUBLE", self._fixed(">d", 8)), ("KAFKA_STRING", self._string)]
        self.formats: list[tuple[str, Callable[[bytes], str]]] = []
        for name, fn in base:
            if is_key:
                self.formats += [("SESSION(" + name + ")", _session(fn)), ("HOPPING(" + name + ")", _windowed(fn)),
                                 ("TUMBLING(" + name + ")", _windowed(fn))]
            self.formats.append((name, fn))
        self.seen = False
        self._schemas: dict[int, str] = {}
        self._protobuf_format: Any = None

    def possible(self) -> list[str]:
        return [n for n, _ in self.formats] if self.seen else [NO_DATA]

    def format(self, data: bytes | None) -> str:
        if data is None:
            return "<null>"
        self.seen = True
        first = None
        kept = []
        for name, fn in self.formats:
            try:
                out = fn(data)
            except Exception:  # noqa: BLE001 - this format cannot read it: dropped, as ksqlDB drops it
                continue
            kept.append((name, fn))
            if first is None:
                first = out
        self.formats = kept
        return bytes_str(data) if first is None else first

    # --- the formats ------------------------------------------------------------------------------------------

    def _schema_type(self, data: bytes) -> str:
        if len(data) < 5 or data[0] != 0 or self.client is None:
            raise _Fail("no schema id")
        schema_id = int.from_bytes(data[1:5], "big")
        kind = self._schemas.get(schema_id)
        if kind is None:
            kind = self._schemas[schema_id] = self.client.get_schema(schema_id).schema_type or "AVRO"
        return kind

    def _context(self) -> Any:
        from confluent_kafka.serialization import MessageField, SerializationContext

        return SerializationContext(self.topic, MessageField.KEY if self.is_key else MessageField.VALUE)

    def _avro(self, data: bytes) -> str:
        from confluent_kafka.schema_registry.avro import AvroDeserializer

        if self._schema_type(data) != "AVRO":
            raise _Fail("not Avro")
        value = AvroDeserializer(self.client)(data, self._context())
        # GenericRecord.toString: JSON with ", " and ": "
        return json.dumps(value, default=str, ensure_ascii=False) if isinstance(value, (dict, list)) \
            else java_str(value)

    def _protobuf(self, data: bytes) -> str:
        from google.protobuf import text_format

        from brook.registry.formats import ProtobufFormat

        if self._schema_type(data) != "PROTOBUF":
            raise _Fail("not Protobuf")
        if self._protobuf_format is None:
            self._protobuf_format = ProtobufFormat(self.client, self.topic)
        msg, _ = self._protobuf_format.message(data, self.is_key)
        return text_format.MessageToString(msg, as_one_line=True)  # TextFormat's shortDebugString

    def _json_sr(self, data: bytes) -> str:
        from confluent_kafka.schema_registry.json_schema import JSONDeserializer

        if self._schema_type(data) != "JSON":
            raise _Fail("not JSON Schema")
        doc = JSONDeserializer(None, schema_registry_client=self.client)(data, self._context())
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)

    @staticmethod
    def _json(data: bytes) -> str:
        text = _text(data)
        json.loads(text)
        return text

    @staticmethod
    def _string(data: bytes) -> str:
        return _text(data)

    @staticmethod
    def _fixed(code: str, size: int) -> Callable[[bytes], str]:
        def read(data: bytes) -> str:
            if len(data) != size:
                raise _Fail(f"Size of data received is not {size}")
            return java_str(struct.unpack(code, data)[0])
        return read


def _text(data: bytes) -> str:
    if not data:
        raise _Fail("Empty data")
    text = data.decode("utf-8", "replace")
    if "\ufffd" in text:
        raise _Fail("String contains replacement char")
    return text


def _windowed(inner: Callable[[bytes], str]) -> Callable[[bytes], str]:
    def read(data: bytes) -> str:  # the key, then the window's start (TimeWindowedDeserializer)
        if len(data) < 8:
            raise _Fail("too short")
        return f"[{inner(data[:-8])}@{int.from_bytes(data[-8:], 'big', signed=True)}/-]"
    return read


def _session(inner: Callable[[bytes], str]) -> Callable[[bytes], str]:
    def read(data: bytes) -> str:  # the key, the session's end, its start (SessionKeySchema)
        if len(data) < 16:
            raise _Fail("too short")
        end, start = (int.from_bytes(data[i:i + 8], "big", signed=True) for i in (-16, -8))
        return f"[{inner(data[:-16])}@{start}/{end}]"
    return read


class Tracker:
    """FormatsTracker: a `Key format:` / `Value format:` line whenever the possible formats change."""

    def __init__(self) -> None:
        self.last: dict[str, list[str] | None] = {"Key format: ": None, "Value format: ": None}

    def update(self, keys: Formats, values: Formats) -> list[str]:
        out = []
        for prefix, current in (("Key format: ", keys.possible()), ("Value format: ", values.possible())):
            if current != self.last[prefix]:
                self.last[prefix] = current
                out.append(prefix + (" or ".join(current) if current else NO_MATCH))
        return out


async def lines(bootstrap_props: dict, registry: dict[str, str], topic: str, from_beginning: bool, interval: int,
                limit: int | None, group_id: str) -> AsyncIterator[str]:
    """The output lines of PRINT; an empty line when a poll brings nothing (ksqlDB's keep-alive)."""
    from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, TopicPartition

    client = None
    if registry.get("schema.registry.url"):
        from brook.registry.client import registry_client

        client = registry_client(registry)
    keys, values, tracker = Formats(client, topic, True), Formats(client, topic, False), Tracker()
    consumer = Consumer({**bootstrap_props, "group.id": group_id, "enable.auto.commit": False})
    lock = threading.Lock()

    def start() -> None:
        md = consumer.list_topics(topic, timeout=10).topics.get(topic)
        at = OFFSET_BEGINNING if from_beginning else OFFSET_END
        consumer.assign([TopicPartition(topic, p, at) for p in (md.partitions if md else {})])

    counts = {"polled": 0, "written": 0}

    def poll() -> list[str] | None:
        """The next batch's lines: every interval-th record formatted (formats narrow only on those, as in
        ksqlDB), up to the limit, after any format line that changed; None when nothing came."""
        with lock:
            msgs = [m for m in consumer.consume(500, 1.0) if m.error() is None]
        if not msgs:
            return None
        out = []
        for m in msgs:
            if counts["polled"] % interval == 0:
                counts["written"] += 1
                out.append(f"rowtime: {rowtime(m.timestamp()[1])}, key: {keys.format(m.key())}, "
                           f"value: {values.format(m.value())}, partition: {m.partition()}")
            counts["polled"] += 1
            if limit is not None and counts["written"] >= limit:
                break
        return tracker.update(keys, values) + out

    def close() -> None:
        with lock:
            consumer.close()

    try:
        await asyncio.to_thread(start)
        while limit is None or counts["written"] < limit:
            batch = await asyncio.to_thread(poll)
            for line in batch if batch is not None else [""]:
                yield line
    finally:
        threading.Thread(target=close, daemon=True).start()
