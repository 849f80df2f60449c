"""The registry's state as the `_schemas` topic describes it: every record applied in offset order rebuilds it.
Keys and values are Confluent's JSON (also Karapace's): SCHEMA, CONFIG, MODE, DELETE_SUBJECT, CLEAR_SUBJECT, NOOP.
No I/O here; store.py feeds the records in."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from brook.registry.schemas import Reference, Schema

log = logging.getLogger("io.confluent.kafka.schemaregistry.storage.KafkaStoreReaderThread")


@dataclass
class Version:
    subject: str
    version: int
    schema_id: int
    deleted: bool


@dataclass
class State:
    schemas: dict[int, Schema] = field(default_factory=dict)
    subjects: dict[str, dict[int, Version]] = field(default_factory=dict)
    configs: dict[str | None, str] = field(default_factory=dict)   # None: the global level
    modes: dict[str | None, str] = field(default_factory=dict)
    by_schema: dict[Schema, int] = field(default_factory=dict)     # the first id each stored schema got
    max_id: int = 0

    # --- keys and values, as Confluent writes them (key fields in its order: keytype, subject, version, magic)

    @staticmethod
    def schema_key(subject: str, version: int) -> bytes:
        return _dumps({"keytype": "SCHEMA", "subject": subject, "version": version, "magic": 1})

    @staticmethod
    def schema_value(subject: str, version: int, schema_id: int, schema: Schema, deleted: bool) -> bytes:
        value: dict = {"subject": subject, "version": version, "id": schema_id}
        if schema.schema_type != "AVRO":
            value["schemaType"] = schema.schema_type
        if schema.references:
            value["references"] = [r.to_json() for r in schema.references]
        value["schema"] = schema.text
        value["deleted"] = deleted
        return _dumps(value)

    @staticmethod
    def config_key(subject: str | None) -> bytes:
        return _dumps({"keytype": "CONFIG", "subject": subject, "magic": 0})

    @staticmethod
    def config_value(level: str) -> bytes:
        return _dumps({"compatibilityLevel": level})

    @staticmethod
    def mode_key(subject: str | None) -> bytes:
        return _dumps({"keytype": "MODE", "subject": subject, "magic": 0})

    @staticmethod
    def mode_value(mode: str) -> bytes:
        return _dumps({"mode": mode})

    @staticmethod
    def delete_subject_key(subject: str) -> bytes:
        return _dumps({"keytype": "DELETE_SUBJECT", "subject": subject, "magic": 0})

    @staticmethod
    def delete_subject_value(subject: str, version: int) -> bytes:
        return _dumps({"subject": subject, "version": version})

    @staticmethod
    def noop_key() -> bytes:
        return _dumps({"keytype": "NOOP", "magic": 0})

    # --- applying records

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        try:
            k = json.loads(key) if key else None
            v = json.loads(value) if value else None
        except ValueError:
            log.warning("Ignoring a record of the schemas topic that is not JSON: %r", key)
            return
        if not isinstance(k, dict):
            return
        kind = k.get("keytype")
        subject = k.get("subject")  # None only for the global CONFIG and MODE
        if kind == "SCHEMA" and subject is not None:
            self._apply_schema(subject, int(k.get("version", 0)), v)
        elif kind == "CONFIG":
            if v is None:
                self.configs.pop(subject, None)
            elif "compatibilityLevel" in v:
                self.configs[subject] = str(v["compatibilityLevel"]).upper()
        elif kind == "MODE":
            if v is None:
                self.modes.pop(subject, None)
            else:
                self.modes[subject] = str(v.get("mode", "READWRITE")).upper()
        elif kind == "DELETE_SUBJECT" and v is not None and subject is not None:
            upto = int(v.get("version", 0))
            for ver in self.subjects.get(subject, {}).values():
                if ver.version <= upto:
                    ver.deleted = True
        elif kind == "CLEAR_SUBJECT" and v is not None and subject is not None:
            versions = self.subjects.get(subject, {})
            for n in [n for n, ver in versions.items() if ver.deleted]:
                del versions[n]
            if not versions:
                self.subjects.pop(subject, None)

    def _apply_schema(self, subject: str, version: int, v: dict | None) -> None:
        versions = self.subjects.setdefault(subject, {})
        if v is None:  # a tombstone: the version was permanently deleted
            versions.pop(version, None)
            if not versions:
                del self.subjects[subject]
            return
        schema_id = int(v["id"])
        refs = tuple(Reference(r["name"], r["subject"], int(r["version"])) for r in v.get("references") or ())
        schema = self.schemas.setdefault(schema_id, Schema(v.get("schemaType", "AVRO") or "AVRO", v["schema"], refs))
        self.by_schema.setdefault(schema, schema_id)
        versions[version] = Version(subject, version, schema_id, bool(v.get("deleted", False)))
        self.max_id = max(self.max_id, schema_id)

    # --- queries

    def versions(self, subject: str, deleted: bool = False) -> list[Version]:
        return [v for _, v in sorted(self.subjects.get(subject, {}).items()) if deleted or not v.deleted]

    def subject_names(self, deleted: bool = False) -> list[str]:
        return sorted(s for s in self.subjects if self.versions(s, deleted))

    def uses_of(self, schema_id: int, deleted: bool = False) -> list[Version]:
        return sorted((v for vs in self.subjects.values() for v in vs.values()
                       if v.schema_id == schema_id and (deleted or not v.deleted)),
                      key=lambda v: (v.subject, v.version))

    def referenced_by(self, subject: str, version: int) -> list[int]:
        """Ids of live schemas that reference subject/version."""
        ids = {v.schema_id for vs in self.subjects.values() for v in vs.values() if not v.deleted}
        return sorted(i for i in ids if any(r.subject == subject and r.version == version
                                            for r in self.schemas[i].references))


def _dumps(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()
