"""Parsing a schema of each type into the canonical string the registry stores and returns, and the identity
under which the same schema gets the same id in every subject (Confluent's canonicalString and references)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import avro.errors
import avro.name
import avro.schema
import jsonschema
import jsonschema.exceptions
import jsonschema.validators

from brook.registry import protobuf
from brook.registry.errors import invalid_schema

SCHEMA_TYPES = ("JSON", "PROTOBUF", "AVRO")  # GET /schemas/types answers in Confluent's order


@dataclass(frozen=True)
class Reference:
    name: str
    subject: str
    version: int

    def to_json(self) -> dict:
        return {"name": self.name, "subject": self.subject, "version": self.version}


@dataclass(frozen=True)
class Schema:
    """A schema as stored: its type, its text and its references (what the `_schemas` value holds)."""

    schema_type: str
    text: str
    references: tuple[Reference, ...] = ()

    def to_json(self) -> dict:
        out: dict[str, Any] = {}
        if self.schema_type != "AVRO":
            out["schemaType"] = self.schema_type
        if self.references:
            out["references"] = [r.to_json() for r in self.references]
        out["schema"] = self.text
        return out


@dataclass
class Parsed:
    schema: Schema          # with the canonical text
    identity: str           # equal for the same schema, whatever its spelling
    obj: Any                # avro.schema.Schema, a JSON document, or a FileDescriptorProto
    deps: list[Parsed]      # parsed references, depth first


# Avro's Schema.toString() (Java) writes these keys first, in this order; other properties follow
_RECORD_ORDER = ("type", "name", "namespace", "doc", "fields")
_FIELD_ORDER = ("name", "type", "doc", "default", "order", "aliases")


def _java_order(node: Any, is_field: bool = False) -> Any:
    if isinstance(node, list):
        return [_java_order(x) for x in node]
    if not isinstance(node, dict):
        return node
    first = _FIELD_ORDER if is_field else _RECORD_ORDER
    out = {k: node[k] for k in first if k in node}
    out.update((k, v) for k, v in node.items() if k not in out)
    for k, v in out.items():
        out[k] = [_java_order(f, True) for f in v] if k == "fields" and isinstance(v, list) else _java_order(v)
    return out


def _compact(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def _parse_avro(text: str, deps: list[tuple[str, Parsed]]) -> Parsed:
    names = avro.name.Names(validate_names=True)
    for _, d in _flatten(deps):
        if d.schema.schema_type == "AVRO":
            avro.schema.make_avsc_object(json.loads(d.schema.text), names)
    try:
        doc = json.loads(text)
    except ValueError:
        doc = text  # a bare name such as `string` or a referenced type's name
    try:
        parsed = avro.schema.make_avsc_object(doc, names)
    except (avro.errors.AvroException, TypeError, ValueError, KeyError, AttributeError) as e:
        raise invalid_schema(f"{text}, details: {e}") from e
    canonical = _compact(_java_order(parsed.to_json(avro.name.Names(validate_names=False))))
    return Parsed(Schema("AVRO", canonical), canonical, parsed, [d for _, d in deps])


def _parse_json(text: str, deps: list[tuple[str, Parsed]]) -> Parsed:
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise invalid_schema(f"{text}, details: {e}") from e
    if not isinstance(doc, dict | bool):
        raise invalid_schema(f"{text}, details: a JSON schema is an object or a boolean")
    try:
        jsonschema.validators.validator_for(doc).check_schema(doc)
    except jsonschema.exceptions.SchemaError as e:
        raise invalid_schema(f"{text}, details: {e.message}") from e
    canonical = _compact(doc)
    return Parsed(Schema("JSON", canonical), canonical, doc, [d for _, d in deps])


def _parse_protobuf(text: str, deps: list[tuple[str, Parsed]]) -> Parsed:
    files = {}
    for name, d in _flatten(deps):
        if d.schema.schema_type == "PROTOBUF":
            files[name] = d.obj
    try:
        fd = protobuf.parse(text, files)
    except protobuf.ProtobufError as e:
        raise invalid_schema(f"{text}, details: {e}") from e
    return Parsed(Schema("PROTOBUF", protobuf.to_text(fd) if protobuf.is_serialized(text) else text),
                  protobuf.identity(fd), fd, [d for _, d in deps])


PARSERS: dict[str, Callable[[str, list[tuple[str, Parsed]]], Parsed]] = {
    "AVRO": _parse_avro, "JSON": _parse_json, "PROTOBUF": _parse_protobuf}


def _flatten(deps: Sequence[tuple[str, Parsed]]) -> list[tuple[str, Parsed]]:
    """References depth first, each with the name it is imported by (a protobuf dependency's file name)."""
    out: list[tuple[str, Parsed]] = []
    for name, d in deps:
        out += _flatten([(r.name, dd) for r, dd in zip(d.schema.references, d.deps, strict=True)])
        out.append((name, d))
    return out


def parse(schema_type: str, text: str, references: Sequence[Reference], deps: list[Parsed]) -> Parsed:
    """`deps` are the references' parsed schemas, in the order of `references`."""
    p = PARSERS[schema_type](text, [(r.name, d) for r, d in zip(references, deps, strict=True)])
    refs = tuple(references)
    identity = p.identity + "".join(f"|{r.name}={r.subject}/{r.version}" for r in refs)
    return Parsed(Schema(schema_type, p.schema.text, refs), f"{schema_type}:{identity}", p.obj, deps)
