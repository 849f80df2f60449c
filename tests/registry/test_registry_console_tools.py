"""kafka-avro-console-producer/-consumer and the json-schema and protobuf pairs, with Confluent's properties."""

from __future__ import annotations

import json

import pytest
from registry_helpers import module_registry, tool

USER = json.dumps({"type": "record", "name": "User", "namespace": "brook.tools",
                   "fields": [{"name": "name", "type": "string"},
                              {"name": "nick", "type": ["null", "string"], "default": None}]})


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with module_registry(tmp_path_factory, "registry-tools") as (broker, reg):
        yield broker.bootstrap, reg


def produce(kind: str, bootstrap: str, url: str, topic: str, lines: list[str], *props: str):  # noqa: ANN201
    args = ["--bootstrap-server", bootstrap, "--topic", topic, "--property", f"schema.registry.url={url}"]
    for p in props:
        args += ["--property", p]
    return tool(f"kafka-{kind}-console-producer", *args, stdin="".join(line + "\n" for line in lines))


def consume(kind: str, bootstrap: str, url: str, topic: str, count: int, *props: str) -> list[str]:
    args = ["--bootstrap-server", bootstrap, "--topic", topic, "--partition", "0", "--offset", "earliest",
            "--max-messages", str(count),
            "--property", f"schema.registry.url={url}"]
    for p in props:
        args += ["--property", p]
    result = tool(f"kafka-{kind}-console-consumer", *args)
    assert result.returncode == 0, result.stderr
    assert f"Processed a total of {count} messages" in result.stderr
    return result.stdout.splitlines()


def test_avro_tools(stack):
    bootstrap, reg = stack
    result = produce("avro", bootstrap, reg.url, "tool-users",
                     ['{"name": "ann", "nick": null}', '{"name": "bob", "nick": {"string": "b"}}'],
                     f"value.schema={USER}")
    assert result.returncode == 0, result.stderr
    status, latest = reg.call("GET", "/subjects/tool-users-value/versions/latest")
    schema_id = latest["id"]
    # an existing schema by id, and keys with their own schema
    result = produce("avro", bootstrap, reg.url, "tool-users", ['"k"\t{"name": "cy", "nick": null}'],
                     f"value.schema.id={schema_id}", "parse.key=true", 'key.schema="string"')
    assert result.returncode == 0, result.stderr
    key_id = reg.call("GET", "/subjects/tool-users-key/versions/latest")[1]["id"]
    lines = consume("avro", bootstrap, reg.url, "tool-users", 3, "print.key=true", "print.schema.ids=true")
    assert lines == [f'null\t{{"name":"ann","nick":null}}\t{schema_id}',
                     f'null\t{{"name":"bob","nick":{{"string":"b"}}}}\t{schema_id}',
                     f'"k"\t{key_id}\t{{"name":"cy","nick":null}}\t{schema_id}']
    assert consume("avro", bootstrap, reg.url, "tool-users", 1) == ['{"name":"ann","nick":null}']


def test_avro_producer_bad_input(stack):
    bootstrap, reg = stack
    result = produce("avro", bootstrap, reg.url, "tool-bad", ['{"nope": 1}'], f"value.schema={USER}")
    assert result.returncode == 1
    assert "org.apache.kafka.common.errors.SerializationException: Error deserializing json" in result.stderr
    result = produce("avro", bootstrap, reg.url, "tool-bad", ['{"name": "x"}'], 'value.schema={"type": "nope"}')
    assert result.returncode == 1 and "nope" in result.stderr
    result = produce("avro", bootstrap, reg.url, "tool-bad", ['{"name": "x"}'], "value.schema.id=9999")
    assert result.returncode == 1 and "error code: 40403" in result.stderr


def test_json_schema_tools(stack):
    bootstrap, reg = stack
    schema = json.dumps({"type": "object", "properties": {"id": {"type": "integer"}, "tags": {"type": "array",
                                                                                             "items": {"type":
                                                                                                       "string"}}}})
    result = produce("json-schema", bootstrap, reg.url, "tool-json", ['{"id": 1, "tags": ["a", "b"]}'],
                     f"value.schema={schema}")
    assert result.returncode == 0, result.stderr
    assert consume("json-schema", bootstrap, reg.url, "tool-json", 1) == ['{"id":1,"tags":["a","b"]}']


def test_protobuf_tools(stack):
    bootstrap, reg = stack
    proto = 'syntax = "proto3"; package brook.tools; message Pay { string id = 1; double amount = 2; }'
    result = produce("protobuf", bootstrap, reg.url, "tool-pb", ['{"id": "p1", "amount": 2.5}'],
                     f"value.schema={proto}")
    assert result.returncode == 0, result.stderr
    schema_id = reg.call("GET", "/subjects/tool-pb-value/versions/latest")[1]["id"]
    assert consume("protobuf", bootstrap, reg.url, "tool-pb", 1, "print.schema.ids=true") == [
        f'{{"id":"p1","amount":2.5}}\t{schema_id}']
