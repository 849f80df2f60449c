"""Routing, filtering and header transforms: TimestampRouter, RegexRouter, Filter (with the predicates
TopicNameMatches, HasHeaderKey, RecordIsTombstone), HeaderFrom, InsertHeader, DropHeaders; and Flatten."""

from __future__ import annotations

import re
from dataclasses import replace

from brook.connect.api import ConnectRecord
from brook.connect.configdef import NO_DEFAULT, ConfigDef, ConfigError, Key, one_of
from brook.connect.data import (
    STRING_SCHEMA,
    DataError,
    Field,
    Headers,
    Schema,
    Struct,
    infer_type,
    millis_to_timestamp,
)
from brook.connect.transforms import Predicate, Transformation
from brook.connect.transforms.fields import REPLACE_NULL
from brook.connect.transforms.javadate import format_date
from brook.connect.transforms.util import KeyOrValue, java_class_name, require_map, require_struct, variants


def java_replacement(replacement: str) -> str:
    """Matcher.replaceFirst's $1 / ${name} group references in Python's syntax."""
    out, i = [], 0
    while i < len(replacement):
        c = replacement[i]
        if c == "\\" and i + 1 < len(replacement):
            out.append(replacement[i + 1].replace("\\", "\\\\"))
            i += 2
        elif c == "$" and i + 1 < len(replacement) and replacement[i + 1] == "{":
            end = replacement.index("}", i)
            out.append(f"\\g<{replacement[i + 2:end]}>")
            i = end + 1
        elif c == "$":
            j = i + 1
            while j < len(replacement) and replacement[j].isdigit():
                j += 1
            out.append(f"\\g<{replacement[i + 1:j]}>")
            i = j
        else:
            out.append(c.replace("\\", "\\\\"))
            i += 1
    return "".join(out)


def compile_java_regex(name: str, value: str, message: str = "") -> re.Pattern:
    try:
        return re.compile(value)
    except re.error as e:
        raise ConfigError(f"Invalid value {value} for configuration {name}: {message}{e}") from None


class TimestampRouter(Transformation):
    CONFIG_DEF = ConfigDef(
        Key("topic.format", "STRING", "${topic}-${timestamp}", "Format string which can contain <code>${topic}"
            "</code> and <code>${timestamp}</code> as placeholders for the topic and timestamp, respectively."),
        Key("timestamp.format", "STRING", "yyyyMMdd", "Format string for the timestamp that is compatible with "
            "<code>java.text.SimpleDateFormat</code>."))

    def apply(self, record):
        if record.timestamp is None:
            raise DataError(f"Timestamp missing on record: {record}")
        stamp = format_date(self.config["timestamp.format"], millis_to_timestamp(record.timestamp))
        topic = self.config["topic.format"].replace("${topic}", record.topic).replace("${timestamp}", stamp)
        return record.new_record(topic, record.kafka_partition, record.key_schema, record.key, record.value_schema,
                                 record.value, record.timestamp)


class RegexRouter(Transformation):
    CONFIG_DEF = ConfigDef(
        Key("regex", "STRING", NO_DEFAULT, "Regular expression to use for matching."),
        Key("replacement", "STRING", NO_DEFAULT, "Replacement string."))

    def configure(self, props):
        super().configure(props)
        self.regex = compile_java_regex("regex", self.config["regex"])
        self.replacement = java_replacement(self.config["replacement"])

    def apply(self, record):
        if self.regex.fullmatch(record.topic) is None:
            return record
        topic = self.regex.sub(self.replacement, record.topic, count=1)
        return record.new_record(topic, record.kafka_partition, record.key_schema, record.key, record.value_schema,
                                 record.value, record.timestamp)


class Filter(Transformation):
    """Drops every record; used with a predicate (and `negate`) to drop the records it matches."""

    def apply(self, record):
        return None


class TopicNameMatches(Predicate):
    CONFIG_DEF = ConfigDef(Key("pattern", "STRING", NO_DEFAULT, "A Java regular expression for matching against "
                               "the name of a record's topic.", importance="MEDIUM"))

    def configure(self, props):
        super().configure(props)
        self.pattern = compile_java_regex("pattern", self.config["pattern"],
                                          "entry must be a Java-compatible regular expression: ")

    def test(self, record):
        return record.topic is not None and self.pattern.fullmatch(record.topic) is not None


class HasHeaderKey(Predicate):
    CONFIG_DEF = ConfigDef(Key("name", "STRING", NO_DEFAULT, "The header name.", importance="MEDIUM"))

    def test(self, record):
        return record.headers.last(self.config["name"]) is not None


class RecordIsTombstone(Predicate):
    def test(self, record):
        return record.value is None


class HeaderFrom(KeyOrValue):
    PURPOSE = "header from"
    CONFIG_DEF = ConfigDef(
        Key("fields", "LIST", NO_DEFAULT, "Field names in the record whose values are to be copied or moved to "
            "headers."),
        Key("headers", "LIST", NO_DEFAULT, "Header names, in the same order as the field names listed in the fields "
            "configuration property."),
        Key("operation", "STRING", NO_DEFAULT, "Either <code>move</code> if the fields are to be moved to the "
            "headers (removed from the key/value), or <code>copy</code> if the fields are to be copied to the "
            "headers (retained in the key/value).", one_of("move", "copy")),
        REPLACE_NULL)

    def configure(self, props):
        super().configure(props)
        if len(self.config["fields"]) != len(self.config["headers"]):
            raise ConfigError("'fields' config must have the same number of elements as 'headers' config.")
        self.move = self.config["operation"] == "move"

    def apply(self, record):
        schema, value = self.operating_schema(record), self.operating_value(record)
        pairs = list(zip(self.config["fields"], self.config["headers"], strict=True))
        headers = record.headers.copy()
        if schema is None:
            m = require_map(value, self.PURPOSE) if value is not None else {}
            for f, h in pairs:
                headers.add(h, m.get(f))
            updated = {k: v for k, v in m.items() if k not in self.config["fields"]} if self.move else value
            return self._with(record, None, updated, headers)
        struct = require_struct(value, self.PURPOSE)
        get = struct.get if self.config["replace.null.with.default"] else struct.values.get
        for f, h in pairs:
            field = schema.field(f)
            if field is None:
                raise DataError(f"{f} is not a valid field name")
            headers.add(h, get(f), field.schema)
        if not self.move:
            return self._with(record, schema, value, headers)
        kept = [f for f in schema.fields if f.name not in self.config["fields"]]
        new_schema = replace(schema, fields=tuple(Field(f.name, i, f.schema) for i, f in enumerate(kept)))
        return self._with(record, new_schema, Struct(new_schema, {f.name: get(f.name) for f in kept}), headers)

    def _with(self, record, schema, value, headers: Headers):
        r = self.new_record(record, schema, value)
        r.headers = headers
        return r


def parse_literal(text: str) -> tuple[Schema, object]:
    """Values.parseString for the literals users write: booleans, integers (smallest type), decimals, strings."""
    if text in ("true", "false"):
        return Schema("boolean"), text == "true"
    if re.fullmatch(r"-?\d+", text):
        n = int(text)
        for kind, bits in (("int8", 8), ("int16", 16), ("int32", 32), ("int64", 64)):
            if -(1 << (bits - 1)) <= n < 1 << (bits - 1):
                return Schema(kind), n
    if re.fullmatch(r"-?\d+\.\d+([eE][-+]?\d+)?", text):
        return Schema("float64"), float(text)
    return STRING_SCHEMA, text


class InsertHeader(Transformation):
    CONFIG_DEF = ConfigDef(
        Key("header", "STRING", NO_DEFAULT, "The name of the header."),
        Key("value.literal", "STRING", NO_DEFAULT, "The literal value that is to be set as the header value on all "
            "records."))

    def configure(self, props):
        super().configure(props)
        self.schema, self.value = parse_literal(self.config["value.literal"])

    def apply(self, record):
        headers = record.headers.copy().add(self.config["header"], self.value, self.schema)
        return record.new_record(record.topic, record.kafka_partition, record.key_schema, record.key,
                                 record.value_schema, record.value, record.timestamp, headers)


class DropHeaders(Transformation):
    CONFIG_DEF = ConfigDef(Key("headers", "LIST", NO_DEFAULT, "The name of the headers to be removed."))

    def apply(self, record):
        names = set(self.config["headers"])
        headers = Headers([h for h in record.headers if h.key not in names])
        return record.new_record(record.topic, record.kafka_partition, record.key_schema, record.key,
                                 record.value_schema, record.value, record.timestamp, headers)


class Flatten(KeyOrValue):
    PURPOSE = "flattening"
    CONFIG_DEF = ConfigDef(Key("delimiter", "STRING", ".", "Delimiter to insert between field names from the input "
                               "record when generating field names for the output record", importance="MEDIUM"))

    def configure(self, props: dict[str, str]) -> None:
        super().configure(props)
        self.delimiter = self.config.get_str("delimiter") or ""

    def name(self, prefix: str, field: str) -> str:
        return field if not prefix else prefix + self.delimiter + field

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        schema, value = self.operating_schema(record), self.operating_value(record)
        if schema is None:
            if value is None:
                return record
            out: dict = {}
            self._schemaless(require_map(value, self.PURPOSE), "", out)
            return self.new_record(record, None, out)
        fields: list[tuple[str, Schema]] = []
        self._schema(schema, "", schema.optional, fields)
        new_schema = replace(schema, fields=tuple(Field(n, i, s) for i, (n, s) in enumerate(fields)), default=None)
        if value is None:
            return self.new_record(record, new_schema, None)
        out_struct = Struct(new_schema)
        self._struct(require_struct(value, self.PURPOSE), "", out_struct)
        return self.new_record(record, new_schema, out_struct)

    def _schemaless(self, m: dict, prefix: str, out: dict) -> None:
        for k, v in m.items():
            name = self.name(prefix, k)
            kind = infer_type(v) if v is not None else None
            if v is None or kind in ("int64", "float64", "boolean", "string", "bytes", "array"):
                out[name] = v
            elif kind == "map":
                self._schemaless(v, name, out)
            else:
                raise DataError(f"Flatten transformation does not support class {java_class_name(v)} for record "
                                f"without schemas (for field {name}).")

    def _schema(self, schema: Schema, prefix: str, optional: bool, out: list) -> None:
        for f in schema.fields:
            name = self.name(prefix, f.name)
            opt = optional or f.schema.optional
            if f.schema.type == "struct":
                self._schema(f.schema, name, opt, out)
            else:
                out.append((name, replace(f.schema, optional=opt)))

    def _struct(self, struct: Struct, prefix: str, out: Struct) -> None:
        for f in struct.schema.fields:
            name = self.name(prefix, f.name)
            v = struct.get(f.name)
            if f.schema.type == "struct":
                if v is not None:
                    assert isinstance(v, Struct)  # a struct field's value
                    self._struct(v, name, out)
            else:
                out.put(name, v)


HeaderFromKey, HeaderFromValue = variants(HeaderFrom)
FlattenKey, FlattenValue = variants(Flatten)
