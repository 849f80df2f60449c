"""The registry's pure parts: the `_schemas` records applied as Confluent and Karapace write them, and the
compatibility rules of each format."""

from __future__ import annotations

import json

import pytest

from brook.registry import compat_json, compat_protobuf, protobuf
from brook.registry.schemas import Reference, parse
from brook.registry.state import State


def test_state_applies_confluent_and_karapace_records():
    s = State()
    schema = json.dumps({"subject": "a", "version": 1, "id": 7, "schema": '"string"', "deleted": False}).encode()
    s.apply(b'{"keytype":"SCHEMA","subject":"a","version":1,"magic":1}', schema)
    # Karapace's older key order and a schemaType for a non-Avro schema
    s.apply(b'{"subject":"a","version":2,"magic":1,"keytype":"SCHEMA"}',
            json.dumps({"subject": "a", "version": 2, "id": 9, "schemaType": "JSON", "schema": "{}",
                        "deleted": False}).encode())
    s.apply(b'{"keytype":"CONFIG","subject":null,"magic":0}', b'{"compatibilityLevel":"FULL"}')
    s.apply(b'{"keytype":"CONFIG","subject":"a","magic":0}', b'{"compatibilityLevel":"none"}')
    s.apply(b'{"keytype":"NOOP","magic":0}', None)
    s.apply(b"not json", b"{")
    assert [v.version for v in s.versions("a")] == [1, 2] and s.max_id == 9
    assert s.schemas[9].schema_type == "JSON" and s.configs == {None: "FULL", "a": "NONE"}
    s.apply(b'{"keytype":"DELETE_SUBJECT","subject":"a","magic":0}', b'{"subject":"a","version":2}')
    assert s.versions("a") == [] and len(s.versions("a", deleted=True)) == 2
    s.apply(b'{"keytype":"SCHEMA","subject":"a","version":1,"magic":1}', None)
    assert [v.version for v in s.versions("a", deleted=True)] == [2]
    s.apply(b'{"keytype":"CLEAR_SUBJECT","subject":"a","magic":0}', b'{"subject":"a"}')
    assert "a" not in s.subjects and s.max_id == 9  # ids are never reused
    s.apply(b'{"keytype":"CONFIG","subject":"a","magic":0}', None)
    assert s.configs == {None: "FULL"}
    assert State.schema_key("s", 3) == b'{"keytype":"SCHEMA","subject":"s","version":3,"magic":1}'


@pytest.mark.parametrize("reader,writer,expected", [
    ({"type": "string"}, {"type": "string"}, []),
    ({"type": "number"}, {"type": "integer"}, []),
    ({"type": "integer"}, {"type": "number"}, ["TYPE_NARROWED"]),
    ({"type": "string"}, {"type": "integer"}, ["TYPE_CHANGED"]),
    ({"enum": ["a", "b", "c"]}, {"enum": ["a", "b"]}, []),
    ({"enum": ["a"]}, {"enum": ["a", "b"]}, ["ENUM_ARRAY_NARROWED"]),
    ({"type": "string", "maxLength": 5}, {"type": "string", "maxLength": 10}, ["MAX_LENGTH_DECREASED"]),
    ({"type": "string", "maxLength": 10}, {"type": "string"}, ["MAX_LENGTH_ADDED"]),
    ({"type": "integer", "minimum": 1}, {"type": "integer", "minimum": 0}, ["MINIMUM_INCREASED"]),
    ({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}},
     {"type": "object", "properties": {"a": {"type": "string"}}}, ["PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"]),
    ({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False},
     {"type": "object", "properties": {"a": {"type": "string"}, "b": {}}, "additionalProperties": False},
     ["PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"]),
    ({"type": "object", "properties": {"a": {}, "b": {"type": "string"}}, "required": ["b"],
      "additionalProperties": False},
     {"type": "object", "properties": {"a": {}}, "additionalProperties": False},
     ["REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"]),
    ({"type": "object", "properties": {"a": {}}, "required": ["a"]}, {"type": "object", "properties": {"a": {}}},
     ["REQUIRED_ATTRIBUTE_ADDED"]),
    ({"type": "array", "items": {"type": "string"}}, {"type": "array", "items": {"type": "integer"}},
     ["TYPE_CHANGED"]),
    ({"oneOf": [{"type": "string"}, {"type": "integer"}]}, {"oneOf": [{"type": "string"}]}, []),
    ({"oneOf": [{"type": "string"}]}, {"oneOf": [{"type": "string"}, {"type": "integer"}]}, ["SUM_TYPE_NARROWED"]),
    (True, {"type": "string"}, []),
])
def test_json_schema_rules(reader, writer, expected):
    assert [kind for kind, _ in compat_json.check(reader, writer)] == expected


def _proto(body: str) -> object:
    return protobuf.parse('syntax = "proto3";\npackage p;\n' + body, {})


@pytest.mark.parametrize("old,new,expected", [
    ("message M { int32 a = 1; }", "message M { int32 a = 1; string b = 2; }", []),
    ("message M { int32 a = 1; }", "message M { int64 renamed = 1; }", []),
    ("message M { string a = 1; }", "message M { bytes a = 1; }", []),
    ("message M { int32 a = 1; }", "message M { string a = 1; }", ["FIELD_SCALAR_KIND_CHANGED"]),
    ("message M { int32 a = 1; } message N { int32 x = 1; }", "message M { int32 a = 1; }", ["MESSAGE_REMOVED"]),
    ("message M { N a = 1; } message N { int32 x = 1; }", "message M { int32 a = 1; } message N { int32 x = 1; }",
     ["FIELD_KIND_CHANGED"]),
    ("message M { int32 a = 1; int32 b = 2; }", "message M { oneof o { int32 a = 1; int32 b = 2; } }",
     ["MULTIPLE_FIELDS_MOVED_TO_ONEOF"]),
])
def test_protobuf_rules(old, new, expected):
    assert [kind for kind, _ in compat_protobuf.check(_proto(new), _proto(old))] == expected


def test_same_schema_same_identity_whatever_its_spelling():
    a = parse("AVRO", '{"type": "record", "fields": [{"type": "int", "name": "x"}], "name": "R"}', (), [])
    b = parse("AVRO", '{"name":"R","type":"record","fields":[{"name":"x","type":"int"}]}', (), [])
    assert a.identity == b.identity and a.schema.text == '{"type":"record","name":"R","fields":[{"name":"x",' \
                                                         '"type":"int"}]}'
    text = 'syntax = "proto3";\nmessage M { string a = 1; }\n'
    p1 = parse("PROTOBUF", text, (), [])
    p2 = parse("PROTOBUF", protobuf.serialized(p1.obj), (), [])
    assert p1.identity == p2.identity
    dep = parse("AVRO", '{"type":"fixed","name":"F","size":2}', (), [])
    with_ref = parse("AVRO", '{"type":"record","name":"R2","fields":[{"name":"f","type":"F"}]}',
                     (Reference("F", "f-subject", 1),), [dep])
    assert with_ref.schema.references == (Reference("F", "f-subject", 1),)
