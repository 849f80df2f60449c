"""Single Message Transforms configured as Kafka's documentation shows them (class names, configs, results)."""

from __future__ import annotations

import datetime as dt

import pytest

from brook.connect.api import SinkRecord, SourceRecord
from brook.connect.chain import build_chain
from brook.connect.converters import JsonConverter
from brook.connect.data import (
    INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    ConnectError,
    DataError,
    Headers,
    Schema,
    Struct,
    prim,
    struct_schema,
)
from brook.connect.plugins import Plugins

T = "org.apache.kafka.connect.transforms."


@pytest.fixture(scope="module")
def plugins():
    return Plugins()


def run(plugins, props: dict[str, str], record):
    for stage in build_chain(plugins, props):
        record = stage.apply(record)
        if record is None:
            return None
    return record


def source(value, schema=None, topic="connect-test", key=None, key_schema=None, timestamp=None, headers=None):
    return SourceRecord(topic, None, key_schema, key, schema, value, timestamp, headers or Headers())


def test_hoist_then_insert_as_in_kafkas_docs(plugins):
    # connect.html "Transformations": the file source's lines become {"line": ..., "data_source": ...}
    props = {"transforms": "MakeMap, InsertSource",
             "transforms.MakeMap.type": T + "HoistField$Value", "transforms.MakeMap.field": "line",
             "transforms.InsertSource.type": T + "InsertField$Value",
             "transforms.InsertSource.static.field": "data_source",
             "transforms.InsertSource.static.value": "test-file-source"}
    out = run(plugins, props, source("foo", STRING_SCHEMA))
    plain = JsonConverter()
    plain.configure({"schemas.enable": "false"}, False)
    assert plain.from_connect_data(out.topic, out.value_schema, out.value) == \
        b'{"line":"foo","data_source":"test-file-source"}'
    enveloped = JsonConverter()
    enveloped.configure({}, False)
    assert enveloped.from_connect_data(out.topic, out.value_schema, out.value) == (
        b'{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"line"},'
        b'{"type":"string","optional":true,"field":"data_source"}],"optional":false},'
        b'"payload":{"line":"foo","data_source":"test-file-source"}}')
    # schemaless maps too
    assert run(plugins, props, source("foo")).value == {"line": "foo", "data_source": "test-file-source"}


def test_insert_field_topic_partition_offset_timestamp(plugins):
    props = {"transforms": "i", "transforms.i.type": T + "InsertField$Value", "transforms.i.topic.field": "t!",
             "transforms.i.partition.field": "p", "transforms.i.offset.field": "o",
             "transforms.i.timestamp.field": "ts"}
    rec = SinkRecord("orders", 2, None, None, None, {"a": 1}, 1000, Headers(), kafka_offset=7)
    assert run(plugins, props, rec).value == {"a": 1, "t": "orders", "p": 2, "o": 7, "ts": 1000}
    schema = struct_schema([("a", INT64_SCHEMA)])
    out = run(plugins, props, SinkRecord("orders", 2, None, None, schema, Struct(schema, {"a": 1}), 1000,
                                         Headers(), kafka_offset=7))
    assert [(f.name, f.schema.type, f.schema.optional) for f in out.value_schema.fields] == [
        ("a", "int64", False), ("t", "string", False), ("p", "int32", True), ("o", "int64", True),
        ("ts", "int64", True)]
    assert out.value.get("ts") == dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=dt.UTC)
    with pytest.raises(DataError, match=r"Only SinkRecord supported for \[field insertion\]"):
        run(plugins, props, source({"a": 1}))
    with pytest.raises(ConnectError, match="No field insertion configured"):
        build_chain(plugins, {"transforms": "i", "transforms.i.type": T + "InsertField$Value"})


def test_replace_mask_extract_value_to_key(plugins):
    value = {"foo": 1, "bar": "x", "ssn": "123-45-6789", "age": 33}
    props = {"transforms": "r", "transforms.r.type": T + "ReplaceField$Value", "transforms.r.exclude": "age",
             "transforms.r.renames": "foo:c1,bar:c2"}
    assert run(plugins, props, source(value)).value == {"c1": 1, "c2": "x", "ssn": "123-45-6789"}
    props = {"transforms": "r", "transforms.r.type": T + "ReplaceField$Key", "transforms.r.include": "foo,age"}
    assert run(plugins, props, source("v", key=value)).key == {"foo": 1, "age": 33}
    props = {"transforms": "m", "transforms.m.type": T + "MaskField$Value", "transforms.m.fields": "ssn,age"}
    assert run(plugins, props, source(value)).value == {**value, "ssn": "", "age": 0}
    props["transforms.m.replacement"] = "***"
    with pytest.raises(DataError, match="Unable to convert \\*\\*\\* \\(class java.lang.String\\) to number"):
        run(plugins, props, source(value))
    props["transforms.m.fields"] = "ssn"
    assert run(plugins, props, source(value)).value["ssn"] == "***"

    schema = struct_schema([("userId", INT64_SCHEMA), ("city", STRING_SCHEMA), ("note", OPTIONAL_STRING_SCHEMA)])
    rec = source(Struct(schema, {"userId": 5, "city": "Oslo"}), schema)
    props = {"transforms": "k,e", "transforms.k.type": T + "ValueToKey", "transforms.k.fields": "userId,city",
             "transforms.e.type": T + "ExtractField$Key", "transforms.e.field": "userId"}
    out = run(plugins, props, rec)
    assert (out.key_schema, out.key) == (INT64_SCHEMA, 5)
    assert out.value == rec.value
    props = {"transforms": "k", "transforms.k.type": T + "ValueToKey", "transforms.k.fields": "nope"}
    with pytest.raises(DataError, match="Field does not exist: nope"):
        run(plugins, props, rec)
    props = {"transforms": "e", "transforms.e.type": T + "ExtractField$Value", "transforms.e.field": "city"}
    assert run(plugins, props, source({"city": "Oslo"})).value == "Oslo"
    with pytest.raises(DataError, match=r"Only Map objects supported in absence of schema for \[field extraction\], "
                                        r"found: java.lang.String"):
        run(plugins, props, source("plain"))


def test_extract_nested_fields_with_field_syntax_v2(plugins):
    # KIP-821 as Kafka 3.9's ExtractField reads it: dotted steps, backticks around names with dots
    props = {"transforms": "e", "transforms.e.type": T + "ExtractField$Value",
             "transforms.e.field": "parent.child.k2", "transforms.e.field.syntax.version": "v2"}
    value = {"k1": 1, "parent": {"child": {"k2": "123"}}, "a.b": {"c": 5}}
    assert run(plugins, props, source(value)).value == "123"
    assert run(plugins, {**props, "transforms.e.field": "`a.b`.c"}, source(value)).value == 5
    assert run(plugins, {**props, "transforms.e.field": "parent.none.k2"}, source(value)).value is None
    assert run(plugins, {**props, "transforms.e.field.syntax.version": "V1"}, source(value)).value is None
    with pytest.raises(DataError, match=r"Only Map objects supported in absence of schema for \[nested field "
                                        r"access\], found: java.lang.Long"):
        run(plugins, {**props, "transforms.e.field": "k1.x"}, source(value))
    inner = struct_schema([("k2", STRING_SCHEMA)])
    child = struct_schema([("child", inner)], optional=True)
    schema = struct_schema([("k1", INT64_SCHEMA), ("parent", child)])
    rec = source(Struct(schema, {"k1": 1, "parent": Struct(child, {"child": Struct(inner, {"k2": "x"})})}), schema)
    out = run(plugins, props, rec)
    assert (out.value_schema, out.value) == (STRING_SCHEMA, "x")
    out = run(plugins, props, source(Struct(schema, {"k1": 1, "parent": None}), schema))
    assert (out.value_schema, out.value) == (STRING_SCHEMA, None)
    with pytest.raises(DataError, match="Unknown field: parent.child.nope"):
        run(plugins, {**props, "transforms.e.field": "parent.child.nope"}, rec)
    with pytest.raises(ConnectError, match=r"Incomplete backtick pair in path: \[`a.b\], consider adding a "
                                           r"backslash before backtick at position 0 to escape it"):
        build_chain(plugins, {**props, "transforms.e.field": "`a.b"})
    with pytest.raises(ConnectError, match=r"Invalid value V3 for configuration field.syntax.version: String must "
                                           r"be one of \(case insensitive\): V1, V2"):
        build_chain(plugins, {**props, "transforms.e.field.syntax.version": "V3"})


def test_cast(plugins):
    props = {"transforms": "c", "transforms.c.type": T + "Cast$Value", "transforms.c.spec": "ID:string,score:float64"}
    assert run(plugins, props, source({"ID": 7, "score": 3, "x": True})).value == {"ID": "7", "score": 3.0, "x": True}
    schema = struct_schema([("ID", INT64_SCHEMA), ("score", prim("int32", True))])
    out = run(plugins, props, source(Struct(schema, {"ID": 7, "score": 3}), schema))
    assert [(f.name, f.schema.type, f.schema.optional) for f in out.value_schema.fields] == \
        [("ID", "string", False), ("score", "float64", True)]
    assert out.value.get("ID") == "7" and out.value.get("score") == 3.0
    whole = {"transforms": "c", "transforms.c.type": T + "Cast$Value", "transforms.c.spec": "int8"}
    assert run(plugins, whole, source(300)).value == 44  # Java's narrowing conversion
    assert run(plugins, whole, source("12", STRING_SCHEMA)).value_schema == Schema("int8")
    with pytest.raises(DataError, match=r"Value \(300\) was out of range for requested data type"):
        run(plugins, whole, source("300"))
    with pytest.raises(ConnectError, match="Cast transformation does not support casting to BYTES; supported types "
                                           "are \\[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING\\]"):
        build_chain(plugins, {**whole, "transforms.c.spec": "bytes"})


def test_timestamp_converter_and_router(plugins):
    props = {"transforms": "t", "transforms.t.type": T + "TimestampConverter$Value",
             "transforms.t.field": "event_date", "transforms.t.target.type": "string",
             "transforms.t.format": "yyyy-MM-dd"}
    assert run(plugins, props, source({"event_date": 1704164645006})).value == {"event_date": "2024-01-02"}
    props = {**props, "transforms.t.target.type": "unix", "transforms.t.format": "yyyy-MM-dd'T'HH:mm:ss"}
    assert run(plugins, props, source({"event_date": "2024-01-02T03:04:05"})).value == {"event_date": 1704164645000}
    with pytest.raises(DataError, match=r"Could not parse timestamp: value \(bad\) does not match pattern"):
        run(plugins, props, source({"event_date": "bad"}))
    props = {"transforms": "t", "transforms.t.type": T + "TimestampConverter$Value",
             "transforms.t.target.type": "Timestamp", "transforms.t.unix.precision": "seconds"}
    out = run(plugins, props, source(1704164645, INT64_SCHEMA))
    assert out.value == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert out.value_schema.name == "org.apache.kafka.connect.data.Timestamp"
    with pytest.raises(ConnectError, match="TimestampConverter requires format option to be specified"):
        build_chain(plugins, {**props, "transforms.t.target.type": "string"})

    router = {"transforms": "r", "transforms.r.type": T + "TimestampRouter",
              "transforms.r.topic.format": "foo-${topic}-${timestamp}", "transforms.r.timestamp.format": "YYYYMM"}
    assert run(plugins, router, source("v", timestamp=1704164645006)).topic == "foo-connect-test-202401"
    with pytest.raises(DataError, match="Timestamp missing on record"):
        run(plugins, router, source("v"))
    regex = {"transforms": "r", "transforms.r.type": T + "RegexRouter",
             "transforms.r.regex": "([^.]+)\\.([^.]+)\\.([^.]+)", "transforms.r.replacement": "$3"}
    assert run(plugins, regex, source("v", topic="db.public.orders")).topic == "orders"
    assert run(plugins, regex, source("v", topic="plain")).topic == "plain"


def test_flatten(plugins):
    props = {"transforms": "f", "transforms.f.type": T + "Flatten$Value", "transforms.f.delimiter": "."}
    value = {"content": {"id": 42, "name": {"first": "David", "middle": None, "last": "Wong"}}}
    assert run(plugins, props, source(value)).value == {
        "content.id": 42, "content.name.first": "David", "content.name.middle": None, "content.name.last": "Wong"}
    inner = struct_schema([("first", STRING_SCHEMA)], optional=True)
    schema = struct_schema([("id", INT64_SCHEMA), ("name", inner)])
    out = run(plugins, {**props, "transforms.f.delimiter": "_"},
              source(Struct(schema, {"id": 1, "name": Struct(inner, {"first": "D"})}), schema))
    assert [(f.name, f.schema.optional) for f in out.value_schema.fields] == [("id", False), ("name_first", True)]
    assert out.value.get("name_first") == "D"


def test_filter_with_predicates_as_in_kafkas_docs(plugins):
    props = {"transforms": "Filter", "transforms.Filter.type": T + "Filter",
             "transforms.Filter.predicate": "IsFoo", "predicates": "IsFoo",
             "predicates.IsFoo.type": T + "predicates.TopicNameMatches", "predicates.IsFoo.pattern": "foo"}
    assert run(plugins, props, source("v", topic="foo")) is None
    assert run(plugins, props, source("v", topic="foobar")).topic == "foobar"
    negated = {**props, "transforms.Filter.negate": "true"}
    assert run(plugins, negated, source("v", topic="foo")).topic == "foo"
    assert run(plugins, negated, source("v", topic="bar")) is None
    tomb = {"transforms": "d", "transforms.d.type": T + "Filter", "transforms.d.predicate": "t", "predicates": "t",
            "predicates.t.type": T + "predicates.RecordIsTombstone"}
    assert run(plugins, tomb, source(None)) is None and run(plugins, tomb, source("v")).value == "v"
    has = {"transforms": "d", "transforms.d.type": T + "Filter", "transforms.d.predicate": "h", "predicates": "h",
           "predicates.h.type": T + "predicates.HasHeaderKey", "predicates.h.name": "skip"}
    assert run(plugins, has, source("v", headers=Headers().add("skip", "1"))) is None
    with pytest.raises(ConnectError, match="entry must be a Java-compatible regular expression"):
        build_chain(plugins, {**props, "predicates.IsFoo.pattern": "("})
    with pytest.raises(ConnectError, match="Failed to find any class that implements Transformation"):
        build_chain(plugins, {"transforms": "x", "transforms.x.type": "com.example.Nope"})


def test_header_transforms(plugins):
    schema = struct_schema([("id", INT64_SCHEMA), ("ts", INT64_SCHEMA), ("v", STRING_SCHEMA)])
    rec = source(Struct(schema, {"id": 1, "ts": 2, "v": "x"}), schema)
    props = {"transforms": "h", "transforms.h.type": T + "HeaderFrom$Value", "transforms.h.fields": "id,ts",
             "transforms.h.headers": "record_id,ts", "transforms.h.operation": "move"}
    out = run(plugins, props, rec)
    assert [(h.key, h.value) for h in out.headers] == [("record_id", 1), ("ts", 2)]
    assert [f.name for f in out.value_schema.fields] == ["v"] and out.value.get("v") == "x"
    assert rec.headers.items == []  # the original record is unchanged
    copied = run(plugins, {**props, "transforms.h.operation": "copy"}, rec)
    assert [h.key for h in copied.headers] == ["record_id", "ts"] and copied.value == rec.value
    with pytest.raises(ConnectError, match="'fields' config must have the same number of elements as 'headers'"):
        build_chain(plugins, {**props, "transforms.h.headers": "a"})
    props = {"transforms": "i,d", "transforms.i.type": T + "InsertHeader", "transforms.i.header": "app.id",
             "transforms.i.value.literal": "best-app", "transforms.d.type": T + "DropHeaders",
             "transforms.d.headers": "drop.me"}
    out = run(plugins, props, source("v", headers=Headers().add("drop.me", "x").add("keep", "y")))
    assert [(h.key, h.value) for h in out.headers] == [("keep", "y"), ("app.id", "best-app")]
    out = run(plugins, {**props, "transforms.i.value.literal": "42"}, source("v"))
    assert (out.headers.last("app.id").schema.type, out.headers.last("app.id").value) == ("int8", 42)
