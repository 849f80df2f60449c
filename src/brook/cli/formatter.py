"""kafka-console-consumer's message formatters: DefaultMessageFormatter and its properties, the Java deserializers
it can apply (org.apache.kafka.common.serialization.*), LoggingMessageFormatter and NoOpMessageFormatter."""

from __future__ import annotations

import math
import struct
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, BinaryIO

from brook.cli.options import log

SERDE = "org.apache.kafka.common.serialization."
FORMATTERS = {"org.apache.kafka.tools.consumer.DefaultMessageFormatter": "default",
              "org.apache.kafka.tools.consumer.LoggingMessageFormatter": "logging",
              "org.apache.kafka.tools.consumer.NoOpMessageFormatter": "noop"}
DEPRECATED = {"kafka.tools.DefaultMessageFormatter": "org.apache.kafka.tools.consumer.DefaultMessageFormatter",
              "kafka.tools.LoggingMessageFormatter": "org.apache.kafka.tools.consumer.LoggingMessageFormatter",
              "kafka.tools.NoOpMessageFormatter": "org.apache.kafka.tools.consumer.NoOpMessageFormatter"}
TIMESTAMP_TYPES = {1: "CreateTime", 2: "LogAppendTime"}


class SerializationException(Exception):
    java_class = "org.apache.kafka.common.errors.SerializationException"

    def java(self) -> str:
        return f"{self.java_class}: {self}"


def _sized(size: int, fmt: str, name: str) -> Callable[[bytes], Any]:
    def deserialize(data: bytes) -> Any:
        if len(data) != size:
            raise SerializationException(f"Size of data received by {name} is not {size}")
        return struct.unpack(fmt, data)[0]
    return deserialize


def _same_float32(a: float, b: float) -> bool:
    try:
        return struct.pack(">f", a) == struct.pack(">f", b)
    except OverflowError:
        return False


def java_float_str(value: float, single: bool) -> str:
    """Float.toString / Double.toString: shortest round-trip digits, scientific notation outside [1e-3, 1e7)."""
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1, value) < 0 else "0.0"
    text = repr(value)
    if single:  # the shortest decimal that reads back as the same 32-bit float
        text = next(t for t in (f"{value:.{p}g}" for p in range(1, 10)) if _same_float32(float(t), value))
    number = Decimal(text).normalize()
    if 1e-3 <= abs(value) < 1e7:
        plain = format(number, "f")
        return plain if "." in plain else plain + ".0"
    sign, digits, exponent = number.as_tuple()
    ds = "".join(map(str, digits))
    return f"{'-' if sign else ''}{ds[0]}.{ds[1:] or '0'}E{len(ds) + int(exponent) - 1}"


def _boolean(data: bytes) -> str:
    if len(data) != 1:
        raise SerializationException("Size of data received by BooleanDeserializer is not 1")
    if data[0] not in (0, 1):
        raise SerializationException(f"Unexpected byte received by BooleanDeserializer: {data[0]}")
    return "true" if data[0] else "false"


def _uuid(data: bytes) -> str:
    try:
        return str(uuid.UUID(data.decode()))
    except ValueError:
        raise SerializationException("Error parsing data into UUID") from None


def _bytes(data: bytes) -> str:  # org.apache.kafka.common.utils.Bytes.toString
    return "".join(chr(b) if 32 <= b <= 126 and b != 92 else f"\\x{b:02X}" for b in data)


DESERIALIZERS: dict[str, Callable[[bytes], Any]] = {
    "StringDeserializer": lambda d: d.decode("utf-8", errors="replace"),
    "IntegerDeserializer": _sized(4, ">i", "IntegerDeserializer"),
    "LongDeserializer": _sized(8, ">q", "LongDeserializer"),
    "ShortDeserializer": _sized(2, ">h", "ShortDeserializer"),
    "FloatDeserializer": lambda d: java_float_str(_sized(4, ">f", "Deserializer")(d), single=True),
    "DoubleDeserializer": lambda d: java_float_str(_sized(8, ">d", "Deserializer")(d), single=False),
    "BooleanDeserializer": _boolean,
    "UUIDDeserializer": _uuid,
    "BytesDeserializer": _bytes,
    "ByteArrayDeserializer": lambda d: f"[B@{id(d) & 0xFFFFFFF:x}",  # byte[].toString(), as Kafka prints it
    "ByteBufferDeserializer": lambda d: f"java.nio.HeapByteBuffer[pos=0 lim={len(d)} cap={len(d)}]",
}


def deserializer(name: str) -> Callable[[bytes], Any] | None:
    short = name.removeprefix(SERDE)
    if name.startswith(SERDE) and short in DESERIALIZERS:
        return DESERIALIZERS[short]
    # DefaultMessageFormatter.getDeserializerProperty logs the ClassNotFoundException and goes on without one
    log("ERROR", f"Unable to instantiate a deserializer from {name}",
        "org.apache.kafka.tools.consumer.DefaultMessageFormatter", f"java.lang.ClassNotFoundException: {name}")
    return None


class DefaultMessageFormatter:
    def __init__(self, configs: dict[str, str]) -> None:
        def flag(name: str, default: bool) -> bool:
            return configs[name].strip().lower() == "true" if name in configs else default

        self.print_timestamp = flag("print.timestamp", False)
        self.print_key = flag("print.key", False)
        self.print_offset = flag("print.offset", False)
        self.print_partition = flag("print.partition", False)
        self.print_headers = flag("print.headers", False)
        self.print_value = flag("print.value", True)
        self.key_separator = configs.get("key.separator", "\t").encode()
        self.line_separator = configs.get("line.separator", "\n").encode()
        self.headers_separator = configs.get("headers.separator", ",").encode()
        self.null_literal = configs.get("null.literal", "null").encode()
        self.key_deserializer = deserializer(configs["key.deserializer"]) if "key.deserializer" in configs else None
        self.value_deserializer = (deserializer(configs["value.deserializer"])
                                   if "value.deserializer" in configs else None)
        self.headers_deserializer = (deserializer(configs["headers.deserializer"])
                                     if "headers.deserializer" in configs else None)

    def _deserialize(self, fn: Callable[[bytes], Any] | None, data: bytes | None) -> bytes:
        data = self.null_literal if data is None else data
        return data if fn is None else str(fn(data)).encode()

    def write_to(self, msg: Any, out: BinaryIO) -> None:
        """One record, laid out as DefaultMessageFormatter.writeTo; `msg` is a confluent_kafka Message."""
        parts: list[bytes] = []
        if self.print_timestamp:
            ts_type, ts = msg.timestamp()
            parts.append(f"{TIMESTAMP_TYPES[ts_type]}:{ts}".encode() if ts_type in TIMESTAMP_TYPES
                         else b"NO_TIMESTAMP")
        if self.print_partition:
            parts.append(f"Partition:{msg.partition()}".encode())
        if self.print_offset:
            parts.append(f"Offset:{msg.offset()}".encode())
        if self.print_headers:
            headers = msg.headers() or []
            parts.append(self.headers_separator.join(
                k.encode() + b":" + self._deserialize(self.headers_deserializer, v) for k, v in headers)
                if headers else b"NO_HEADERS")
        if self.print_key:
            parts.append(self._deserialize(self.key_deserializer, msg.key()))
        if self.print_value:
            parts.append(self._deserialize(self.value_deserializer, msg.value()))
        if parts:  # each field is followed by key.separator, the last one by line.separator
            out.write(self.key_separator.join(parts) + self.line_separator)


class LoggingMessageFormatter(DefaultMessageFormatter):
    """Writes the record like DefaultMessageFormatter and logs it at INFO (hidden at the tools' WARN level)."""


class NoOpMessageFormatter:
    def __init__(self, configs: dict[str, str]) -> None:
        pass

    def write_to(self, msg: Any, out: BinaryIO) -> None:
        pass


def build(class_name: str, configs: dict[str, str]) -> Any:
    """ConsoleConsumerOptions.buildFormatter; an unknown class raises LookupError(class name)."""
    import sys

    if class_name in DEPRECATED:
        new = DEPRECATED[class_name]
        print(f"WARNING: {class_name} is deprecated and will be removed in the next major release. Please use "
              f"{new} instead", file=sys.stderr)
        class_name = new
    kind = FORMATTERS.get(class_name)
    if kind is None:
        raise LookupError(class_name)
    return {"default": DefaultMessageFormatter, "logging": LoggingMessageFormatter,
            "noop": NoOpMessageFormatter}[kind](configs)
