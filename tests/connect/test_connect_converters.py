"""Converters against Kafka's documented output, and the offsets file in Java's serialization format."""

from __future__ import annotations

import base64
import datetime as dt
import decimal

import pytest

from brook.connect.converters import ByteArrayConverter, JsonConverter, StringConverter
from brook.connect.data import (
    DATE_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    TIMESTAMP_SCHEMA,
    DataError,
    Schema,
    Struct,
    decimal_schema,
    prim,
    struct_schema,
)
from brook.connect.javaser import dump_map, load_map
from brook.connect.offsets import FileOffsetStore


def json_converter(schemas: bool = True) -> JsonConverter:
    c = JsonConverter()
    c.configure({"schemas.enable": str(schemas).lower()}, False)
    return c


def test_json_envelope_as_kafka_writes_it():
    c = json_converter()
    assert c.from_connect_data("t", STRING_SCHEMA, "foo") == \
        b'{"schema":{"type":"string","optional":false},"payload":"foo"}'
    assert c.from_connect_data("t", None, None) is None
    person = struct_schema([("name", STRING_SCHEMA), ("age", prim("int32", True))], name="Person")
    out = c.from_connect_data("t", person, Struct(person, {"name": "ann", "age": 3}))
    assert out == (b'{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"name"},'
                   b'{"type":"int32","optional":true,"field":"age"}],"optional":false,"name":"Person"},'
                   b'"payload":{"name":"ann","age":3}}')
    assert c.to_connect_data("t", out) == (person, Struct(person, {"name": "ann", "age": 3}))
    arr = Schema("array", value_schema=prim("int64"))
    assert c.from_connect_data("t", arr, [1, 2]) == \
        b'{"schema":{"type":"array","items":{"type":"int64","optional":false},"optional":false},"payload":[1,2]}'


def test_json_logical_types_and_bytes():
    c = json_converter()
    ts = dt.datetime(2024, 1, 2, 3, 4, 5, 6000, tzinfo=dt.UTC)
    out = c.from_connect_data("t", TIMESTAMP_SCHEMA, ts)
    assert out == (b'{"schema":{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp",'
                   b'"version":1},"payload":1704164645006}')
    assert c.to_connect_data("t", out) == (TIMESTAMP_SCHEMA, ts)
    assert c.to_connect_data("t", c.from_connect_data("t", DATE_SCHEMA, dt.datetime(1970, 1, 11, tzinfo=dt.UTC)))[1] \
        == dt.datetime(1970, 1, 11, tzinfo=dt.UTC)
    dec = decimal_schema(2)
    out = c.from_connect_data("t", dec, decimal.Decimal("1.23"))
    assert b'"payload":"ew=="' in out and b'"parameters":{"scale":"2"}' in out
    assert c.to_connect_data("t", out)[1] == decimal.Decimal("1.23")
    assert c.from_connect_data("t", prim("bytes"), b"\x00\x01") == \
        b'{"schema":{"type":"bytes","optional":false},"payload":"' + base64.b64encode(b"\x00\x01") + b'"}'


def test_json_converter_settings():
    numeric = JsonConverter()
    numeric.configure({"decimal.format": "NUMERIC"}, False)
    out = numeric.from_connect_data("t", decimal_schema(2), decimal.Decimal("1.50"))
    assert out.endswith(b'"payload":1.50}')  # Jackson's BigDecimal text, the scale kept
    assert str(numeric.to_connect_data("t", out)[1]) == "1.50"
    with_default = Schema("int32", optional=True, default=7)
    assert json_converter(False).from_connect_data("t", with_default, None) == b"7"
    keep_null = JsonConverter()
    keep_null.configure({"schemas.enable": "false", "replace.null.with.default": "false"}, False)
    assert keep_null.from_connect_data("t", with_default, None) == b"null"


def test_json_schemaless():
    c = json_converter(False)
    assert c.from_connect_data("t", None, {"a": [1, 2.5, True, None]}) == b'{"a":[1,2.5,true,null]}'
    assert c.to_connect_data("t", b'{"a":[1,2.5,true,null]}') == (None, {"a": [1, 2.5, True, None]})


def test_json_errors_are_kafkas():
    with pytest.raises(DataError, match="Converting byte\\[\\] to Kafka Connect data failed due to serialization"):
        json_converter().to_connect_data("t", b"not json")
    with pytest.raises(DataError, match='JsonConverter with schemas.enable requires "schema" and "payload" fields'):
        json_converter().to_connect_data("t", b'{"a":1}')
    with pytest.raises(DataError, match="null value for field that is required"):
        json_converter().to_json(STRING_SCHEMA, None)


def test_string_and_byte_array_converters():
    s = StringConverter()
    s.configure({}, False)
    assert s.from_connect_data("t", STRING_SCHEMA, "héllo") == "héllo".encode()
    assert s.from_connect_data("t", None, 42) == b"42"
    assert s.to_connect_data("t", b"x") == (OPTIONAL_STRING_SCHEMA, "x")
    assert s.to_connect_data("t", None) == (OPTIONAL_STRING_SCHEMA, None)
    utf16 = StringConverter()
    utf16.configure({"converter.encoding": "UTF-16"}, False)
    assert utf16.from_connect_data("t", STRING_SCHEMA, "hé") == b"\xfe\xff\x00h\x00\xe9"  # as Java's UTF-16
    assert utf16.to_connect_data("t", b"\xfe\xff\x00h\x00\xe9")[1] == "hé"
    assert utf16.to_connect_data("t", b"\x00h")[1] == "h"
    b = ByteArrayConverter()
    b.configure({}, True)
    assert b.from_connect_data("t", prim("bytes", True), b"\x01") == b"\x01"
    with pytest.raises(DataError, match="Invalid schema type for ByteArrayConverter: STRING"):
        b.from_connect_data("t", STRING_SCHEMA, "x")


def test_offsets_file_is_javas_hashmap(tmp_path):
    # ObjectOutputStream.writeObject(new HashMap<byte[], byte[]>()) as the JDK writes it
    assert dump_map({}).hex() == ("aced0005737200116a6176612e7574696c2e486173684d61700507dac1c31660d10300024600"
                                  "0a6c6f6164466163746f724900097468726573686f6c6478703f4000000000000077080000"
                                  "001000000000" "78")
    data = {b'["c",{"filename":"a"}]': b'{"position":4}', b"k": None}
    assert load_map(dump_map(data)) == data
    store = FileOffsetStore(str(tmp_path / "offsets"))
    store.put("c", {store.key("c", {"filename": "a"}): {"position": 4}})
    assert FileOffsetStore(str(tmp_path / "offsets")).get("c", {"filename": "a"}) == {"position": 4}
    assert load_map((tmp_path / "offsets").read_bytes()) == {b'["c",{"filename":"a"}]': b'{"position":4}'}


def test_validation_masks_passwords_and_reports_kafkas_shape():
    from brook.connect.configdef import ConfigDef, Key, config_infos

    defs = ConfigDef(Key("connection.password", "PASSWORD", None, "The password.", group="Connection", order=1),
                     Key("connection.user", "STRING", doc="The user.", group="Connection", order=2))
    values = defs.validate_all({"connection.password": "s3cret"})
    infos = config_infos("Example", defs.keys, values, defs.groups())
    assert infos["error_count"] == 1 and infos["groups"] == ["Connection"]
    password, user = infos["configs"]
    assert password["definition"]["type"] == "PASSWORD"
    assert password["value"] == {"name": "connection.password", "value": "[hidden]", "recommended_values": [],
                                 "errors": [], "visible": True}
    assert user["value"]["errors"] == ['Missing required configuration "connection.user" which has no default value.']
    assert "s3cret" not in str(infos)
