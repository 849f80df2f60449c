"""The REST API over HTTP as curl sends it: answers and every error code where Confluent returns it."""

from __future__ import annotations

import json

import pytest
from registry_helpers import module_registry


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    with module_registry(tmp_path_factory, "registry-rest") as (_, r):
        yield r


def avro(*fields: tuple[str, str], default: dict | None = None) -> str:
    fs = [{"name": n, "type": t, **({"default": default[n]} if default and n in default else {})} for n, t in fields]
    return json.dumps({"type": "record", "name": "User", "namespace": "brook.test", "fields": fs})


def test_register_list_get_lookup(reg):
    assert reg.call("POST", "/subjects/users-value/versions", {"schema": avro(("name", "string"))}) == (200, {"id": 1})
    # the same schema again, under the same subject and under another: the same id, no new version
    assert reg.call("POST", "/subjects/users-value/versions", {"schema": avro(("name", "string"))}) == (200, {"id": 1})
    assert reg.call("POST", "/subjects/copy-value/versions", {"schema": avro(("name", "string"))}) == (200, {"id": 1})
    v2 = avro(("name", "string"), ("age", "int"), default={"age": 0})
    assert reg.call("POST", "/subjects/users-value/versions", {"schema": v2}) == (200, {"id": 2})
    assert reg.call("GET", "/subjects/users-value/versions") == (200, [1, 2])
    status, latest = reg.call("GET", "/subjects/users-value/versions/latest")
    assert status == 200 and latest["version"] == 2 and latest["id"] == 2 and latest["subject"] == "users-value"
    assert json.loads(latest["schema"])["fields"][1] == {"name": "age", "type": "int", "default": 0}
    assert reg.call("GET", "/subjects/users-value/versions/-1")[1]["version"] == 2
    assert reg.call("GET", "/subjects/users-value/versions/1/schema")[1]["fields"] == [{"name": "name",
                                                                                        "type": "string"}]
    assert reg.call("GET", "/schemas/ids/1")[1] == {"schema": latest["schema"].replace(
        ',{"name":"age","type":"int","default":0}', "")}
    assert reg.call("GET", "/schemas/ids/1/subjects") == (200, ["copy-value", "users-value"])
    assert reg.call("GET", "/schemas/ids/1/versions") == (200, [{"subject": "copy-value", "version": 1},
                                                                {"subject": "users-value", "version": 1}])
    status, found = reg.call("POST", "/subjects/users-value", {"schema": avro(("name", "string"))})
    assert status == 200 and (found["version"], found["id"]) == (1, 1)
    assert reg.call("GET", "/subjects?subjectPrefix=users") == (200, ["users-value"])
    assert reg.call("GET", "/schemas/types") == (200, ["JSON", "PROTOBUF", "AVRO"])
    assert reg.call("GET", "/") == (200, {})


def test_compatibility_levels(reg):
    base = avro(("id", "long"))
    assert reg.call("POST", "/subjects/compat/versions", {"schema": base})[0] == 200
    incompatible = avro(("id", "long"), ("required", "string"))
    status, body = reg.call("POST", "/subjects/compat/versions", {"schema": incompatible})
    assert status == 409 and body["error_code"] == 409
    assert body["message"].startswith('Schema being registered is incompatible with an earlier schema for subject '
                                      '"compat"')
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in body["message"]
    path = "/compatibility/subjects/compat/versions/latest"
    assert reg.call("POST", path, {"schema": incompatible}) == (200, {"is_compatible": False})
    status, verbose = reg.call("POST", path + "?verbose=true", {"schema": incompatible})
    assert verbose["is_compatible"] is False and "{compatibility: 'BACKWARD'}" in verbose["messages"]
    assert reg.call("POST", path, {"schema": avro(("id", "long"), ("x", "int"), default={"x": 1})}) == (
        200, {"is_compatible": True})
    # FORWARD: the old schema must read the new one; removing a field without default breaks that
    assert reg.call("PUT", "/config/compat", {"compatibility": "FORWARD"}) == (200, {"compatibility": "FORWARD"})
    assert reg.call("GET", "/config/compat") == (200, {"compatibilityLevel": "FORWARD"})
    assert reg.call("POST", "/subjects/compat/versions", {"schema": incompatible})[0] == 200
    assert reg.call("POST", "/subjects/compat/versions", {"schema": avro(("required", "string"))})[0] == 409
    # NONE accepts anything
    assert reg.call("PUT", "/config/compat", {"compatibility": "none"}) == (200, {"compatibility": "NONE"})
    assert reg.call("POST", "/subjects/compat/versions", {"schema": avro(("other", "boolean"))})[0] == 200
    # FULL_TRANSITIVE checks every version
    assert reg.call("PUT", "/config/compat", {"compatibility": "FULL_TRANSITIVE"})[0] == 200
    assert reg.call("POST", "/subjects/compat/versions", {"schema": avro(("other", "boolean"))})[0] == 200  # known
    assert reg.call("POST", "/subjects/compat/versions",
                    {"schema": avro(("other", "boolean"), ("n", "int"), default={"n": 1})})[0] == 409
    assert reg.call("DELETE", "/config/compat") == (200, {"compatibilityLevel": "FULL_TRANSITIVE"})
    assert reg.call("GET", "/config/compat")[1]["error_code"] == 40408
    assert reg.call("GET", "/config/compat?defaultToGlobal=true") == (200, {"compatibilityLevel": "BACKWARD"})
    assert reg.call("GET", "/config") == (200, {"compatibilityLevel": "BACKWARD"})


def test_json_schema_rules(reg):
    def js(doc: dict) -> dict:
        return {"schemaType": "JSON", "schema": json.dumps(doc)}

    closed = {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}
    assert reg.call("POST", "/subjects/js/versions", js(closed))[0] == 200
    # a closed content model may gain an optional property (BACKWARD) ...
    wider = {**closed, "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}}
    assert reg.call("POST", "/subjects/js/versions", js(wider))[0] == 200
    # ... but not narrow a type, nor require a new property without default
    narrowed = {**wider, "properties": {"a": {"type": "string", "maxLength": 3}, "b": {"type": "integer"}}}
    status, body = reg.call("POST", "/subjects/js/versions", js(narrowed))
    assert status == 409 and "MAX_LENGTH_ADDED" in body["message"]
    changed = {**wider, "properties": {"a": {"type": "number"}, "b": {"type": "integer"}}}
    assert reg.call("POST", "/subjects/js/versions", js(changed))[0] == 409
    status, got = reg.call("GET", "/subjects/js/versions/latest")
    assert got["schemaType"] == "JSON" and json.loads(got["schema"]) == wider
    assert reg.call("POST", "/subjects/js/versions", js({"type": "object", "minLength": "x"}))[1]["error_code"] == 42201


def test_protobuf_register_and_read_back(reg):
    proto = 'syntax = "proto3";\npackage brook.test;\n\nmessage Order {\n  string id = 1;\n  int64 amount = 2;\n}\n'
    status, body = reg.call("POST", "/subjects/orders-value/versions", {"schemaType": "PROTOBUF", "schema": proto})
    assert status == 200
    schema_id = body["id"]
    assert reg.call("GET", f"/schemas/ids/{schema_id}") == (200, {"schemaType": "PROTOBUF", "schema": proto})
    # a field whose wire type changes is refused under BACKWARD; a new field is accepted
    bad = proto.replace("int64 amount", "string amount")
    status, body = reg.call("POST", "/subjects/orders-value/versions", {"schemaType": "PROTOBUF", "schema": bad})
    assert status == 409 and "FIELD_SCALAR_KIND_CHANGED" in body["message"]
    good = proto.replace("int64 amount = 2;", "int64 amount = 2;\n  string note = 3;")
    assert reg.call("POST", "/subjects/orders-value/versions", {"schemaType": "PROTOBUF", "schema": good})[0] == 200
    status, body = reg.call("POST", "/subjects/p2/versions", {"schemaType": "PROTOBUF", "schema": "message {"})
    assert status == 422 and body["error_code"] == 42201


def test_references(reg):
    address = json.dumps({"type": "record", "name": "Address", "namespace": "brook.ref",
                          "fields": [{"name": "city", "type": "string"}]})
    assert reg.call("POST", "/subjects/address/versions", {"schema": address})[0] == 200
    person = json.dumps({"type": "record", "name": "Person", "namespace": "brook.ref",
                         "fields": [{"name": "home", "type": "brook.ref.Address"}]})
    refs = [{"name": "brook.ref.Address", "subject": "address", "version": 1}]
    status, body = reg.call("POST", "/subjects/person/versions", {"schema": person, "references": refs})
    assert status == 200
    person_id = body["id"]
    assert reg.call("GET", f"/schemas/ids/{person_id}")[1]["references"] == refs
    assert reg.call("GET", "/subjects/address/versions/1/referencedby") == (200, [person_id])
    # a referenced version cannot be deleted
    assert reg.call("DELETE", "/subjects/address/versions/1")[1]["error_code"] == 42206
    assert reg.call("DELETE", "/subjects/address")[1]["error_code"] == 42206
    missing = [{"name": "brook.ref.Address", "subject": "address", "version": 7}]
    assert reg.call("POST", "/subjects/p3/versions", {"schema": person, "references": missing})[1]["error_code"] \
        == 42201


def test_deletes(reg):
    for i in range(3):
        assert reg.call("POST", "/subjects/del/versions",
                        {"schema": avro(("f", "string"), *[(f"g{j}", "int") for j in range(i)],
                                        default={f"g{j}": 0 for j in range(i)})})[0] == 200
    assert reg.call("DELETE", "/subjects/del/versions/1?permanent=true")[1]["error_code"] == 40407
    assert reg.call("DELETE", "/subjects/del/versions/1") == (200, 1)
    assert reg.call("DELETE", "/subjects/del/versions/1")[1]["error_code"] == 40406
    assert reg.call("GET", "/subjects/del/versions") == (200, [2, 3])
    assert reg.call("GET", "/subjects/del/versions?deleted=true") == (200, [1, 2, 3])
    assert reg.call("GET", "/subjects/del/versions/1")[1]["error_code"] == 40402
    assert reg.call("GET", "/subjects/del/versions/1?deleted=true")[1]["version"] == 1
    assert reg.call("DELETE", "/subjects/del/versions/1?permanent=true") == (200, 1)
    assert reg.call("GET", "/subjects/del/versions?deleted=true") == (200, [2, 3])
    assert reg.call("DELETE", "/subjects/del?permanent=true")[1]["error_code"] == 40405
    assert reg.call("DELETE", "/subjects/del") == (200, [2, 3])
    assert reg.call("DELETE", "/subjects/del")[1]["error_code"] == 40404
    assert "del" not in reg.call("GET", "/subjects")[1]
    assert "del" in reg.call("GET", "/subjects?deleted=true")[1]
    assert reg.call("GET", "/subjects/del/versions")[1]["error_code"] == 40401
    assert reg.call("DELETE", "/subjects/del?permanent=true") == (200, [2, 3])
    assert "del" not in reg.call("GET", "/subjects?deleted=true")[1]
    # a new registration after the deletes starts above every version the subject had
    status, _ = reg.call("POST", "/subjects/del/versions", {"schema": avro(("f", "string"))})
    assert status == 200 and reg.call("GET", "/subjects/del/versions") == (200, [1])


def test_mode(reg):
    assert reg.call("GET", "/mode") == (200, {"mode": "READWRITE"})
    assert reg.call("PUT", "/mode/ro", {"mode": "READONLY"}) == (200, {"mode": "READONLY"})
    status, body = reg.call("POST", "/subjects/ro/versions", {"schema": avro(("f", "string"))})
    assert (status, body["error_code"]) == (422, 42205)
    assert reg.call("PUT", "/mode/ro", {"mode": "SOMETIMES"})[1]["error_code"] == 42204
    assert reg.call("DELETE", "/mode/ro") == (200, {"mode": "READONLY"})
    assert reg.call("GET", "/mode/ro")[1]["error_code"] == 40409
    assert reg.call("GET", "/mode/ro?defaultToGlobal=true") == (200, {"mode": "READWRITE"})


@pytest.mark.parametrize("method,path,body,status,code", [
    ("GET", "/subjects/unknown/versions", None, 404, 40401),
    ("GET", "/subjects/unknown/versions/1", None, 404, 40401),
    ("GET", "/subjects/users-value/versions/99", None, 404, 40402),
    ("GET", "/subjects/users-value/versions/0", None, 422, 42202),
    ("GET", "/subjects/users-value/versions/abc", None, 422, 42202),
    ("GET", "/schemas/ids/4242", None, 404, 40403),
    ("GET", "/schemas/ids/abc", None, 404, 404),
    ("POST", "/subjects/users-value", {"schema": '"bytes"'}, 404, 40403),
    ("POST", "/subjects/unknown", {"schema": '"bytes"'}, 404, 40401),
    ("POST", "/subjects/bad/versions", {"schema": '{"type": "nothing"}'}, 422, 42201),
    ("POST", "/subjects/bad/versions", {"schema": '{"type": "record"'}, 422, 42201),
    ("POST", "/subjects/bad/versions", {"schema": "x", "schemaType": "XML"}, 422, 42201),
    ("POST", "/subjects/bad/versions", {}, 422, 42201),
    ("POST", "/subjects/bad/versions", [1, 2], 422, 422),
    ("PUT", "/config", {"compatibility": "SOMETIMES"}, 422, 42203),
    ("DELETE", "/subjects/unknown", None, 404, 40401),
    ("DELETE", "/subjects/unknown/versions/1", None, 404, 40401),
    ("GET", "/no/such/route", None, 404, 404),
    ("PATCH", "/subjects", None, 405, 405),
])
def test_error_codes(reg, method, path, body, status, code):
    got_status, got = reg.call(method, path, body)
    assert (got_status, got["error_code"]) == (status, code)
    assert set(got) == {"error_code", "message"} and got["message"]


def test_bad_bodies_and_media_types(reg):
    status, body = reg.call("POST", "/subjects/x/versions", raw=b"{not json")
    assert status == 400 and body["error_code"] == 400 and set(body) == {"error_code", "message"}
    status, body = reg.call("POST", "/subjects/x/versions", raw=b"\xff\xfe", content_type="application/json")
    assert status == 400 and body["error_code"] == 400
    status, body = reg.call("POST", "/subjects/x/versions", raw=b"schema=x",
                            content_type="application/x-www-form-urlencoded")
    assert (status, body) == (415, {"error_code": 415, "message": "HTTP 415 Unsupported Media Type"})
    for ctype in ("application/vnd.schemaregistry+json", "application/json"):
        assert reg.call("POST", "/subjects/ct/versions", {"schema": '"string"'}, content_type=ctype)[0] == 200
    assert reg.alive()
    assert reg.call("GET", "/subjects/ct/versions") == (200, [1])
