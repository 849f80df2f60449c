"""Compatibility levels (BACKWARD, FORWARD, FULL, their _TRANSITIVE forms, NONE) over Avro, JSON Schema and
Protobuf, with Confluent's verbose messages."""

from __future__ import annotations

import avro.compatibility

from brook.registry import compat_json, compat_protobuf
from brook.registry.schemas import Parsed


def _pairs(level: str, new: Parsed, old: Parsed) -> list[tuple[Parsed, Parsed]]:
    """(reader, writer) pairs that the level asks to hold between the new schema and an old one."""
    base = level.removesuffix("_TRANSITIVE")
    if base == "BACKWARD":
        return [(new, old)]
    if base == "FORWARD":
        return [(old, new)]
    if base == "FULL":
        return [(new, old), (old, new)]
    return []


def _reader_issues(reader: Parsed, writer: Parsed) -> list[str]:
    """Confluent's messages for what `reader` cannot read of what `writer` wrote."""
    kind = reader.schema.schema_type
    if kind != writer.schema.schema_type:
        return ["{errorType:'TYPE_MISMATCH', description:'The schema type changed from "
                f"{writer.schema.schema_type} to {kind}'}}"]
    if kind == "AVRO":
        result = avro.compatibility.ReaderWriterCompatibilityChecker().get_compatibility(reader.obj, writer.obj)
        if result.compatibility is avro.compatibility.SchemaCompatibilityType.compatible:
            return []
        out = []
        for incompatibility, message, where in zip(result.incompatibilities, sorted(result.messages),
                                                   sorted(result.locations) * len(result.incompatibilities),
                                                   strict=False):
            name = incompatibility.name.upper()
            text = (f"The field '{message}' at path '{where}' in the new schema has no default value and is "
                    f"missing in the old schema" if name == "READER_FIELD_MISSING_DEFAULT_VALUE"
                    else f"{message} at path '{where}'")
            out.append(f"{{errorType:'{name}', description:'{text}', additionalInfo:'{message}'}}")
        return out
    if kind == "JSON":
        issues = compat_json.check(reader.obj, writer.obj)
    else:
        issues = compat_protobuf.check(reader.obj, writer.obj)
    return [f"{{errorType:'{t}', description:'Found incompatible change: Difference{{jsonPath='{p}', type={t}}}'}}"
            for t, p in issues]


def check(level: str, new: Parsed, olds: list[tuple[int, Parsed]]) -> list[str]:
    """The messages of every incompatibility of `new` with the `olds` (version, schema) that `level` covers,
    newest first; empty when compatible.  The caller passes all live versions for a _TRANSITIVE level and the
    latest one otherwise."""
    if level == "NONE":
        return []
    for version, old in sorted(olds, key=lambda x: -x[0]):
        messages: list[str] = []
        for reader, writer in _pairs(level, new, old):
            messages += _reader_issues(reader, writer)
        if messages:
            return messages + [f"{{oldSchemaVersion: {version}}}", f"{{oldSchema: '{old.schema.text}'}}",
                               f"{{compatibility: '{level}'}}"]
    return []
