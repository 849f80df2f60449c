"""The registry's operations (Confluent's KafkaSchemaRegistry): register, look up, check, delete, configure.
Reads look at the state under the store's lock; writes are serialized by a writer lock, decided on the state as
the reader left it, and answered once the reader has applied what they wrote."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from brook.registry import compat, errors
from brook.registry.config import COMPATIBILITY_LEVELS, MODES, RegistryConfig
from brook.registry.schemas import SCHEMA_TYPES, Parsed, Reference, Schema, parse
from brook.registry.state import State, Version
from brook.registry.store import KafkaStore

MAX_VERSION = 2**31 - 1
_CACHE_SIZE = 1000


@dataclass
class Request:
    """A POST body naming a schema (register, lookup, compatibility)."""

    schema: str
    schema_type: str = "AVRO"
    references: tuple[Reference, ...] = ()
    schema_id: int | None = None   # IMPORT mode only
    version: int | None = None     # IMPORT mode only


class Registry:
    def __init__(self, config: RegistryConfig, store: KafkaStore) -> None:
        self.config = config
        self.store = store
        self.state: State = store.state
        self._write_lock = threading.Lock()
        self._parsed: OrderedDict[tuple, Parsed] = OrderedDict()

    # --- parsing, with the references resolved from the state

    def parse(self, schema: Schema) -> Parsed:
        key = (schema.schema_type, schema.text, schema.references)
        hit = self._parsed.get(key)
        if hit is not None:
            self._parsed.move_to_end(key)
            return hit
        if schema.schema_type not in SCHEMA_TYPES:
            raise errors.RestError(422, 42201, f"Invalid schema type {schema.schema_type}")
        deps = []
        for ref in schema.references:
            with self.store.lock:
                v = self.state.subjects.get(ref.subject, {}).get(ref.version)
                dep = self.state.schemas.get(v.schema_id) if v is not None else None
            if dep is None:
                raise errors.invalid_schema(f"{schema.text}, details: reference {ref.name} to subject "
                                            f"{ref.subject} version {ref.version} not found")
            deps.append(self.parse(dep))
        parsed = parse(schema.schema_type, schema.text, schema.references, deps)
        self._parsed[key] = parsed
        if len(self._parsed) > _CACHE_SIZE:
            self._parsed.popitem(last=False)
        return parsed

    # --- levels and modes

    def compatibility(self, subject: str | None) -> str:
        with self.store.lock:
            if subject is not None and subject in self.state.configs:
                return self.state.configs[subject]
            return self.state.configs.get(None, self.config.compatibility)

    def mode(self, subject: str | None) -> str:
        with self.store.lock:
            if subject is not None and subject in self.state.modes:
                return self.state.modes[subject]
            return self.state.modes.get(None, "READWRITE")

    def set_compatibility(self, subject: str | None, level: object) -> str:
        if not isinstance(level, str) or level.upper() not in COMPATIBILITY_LEVELS:
            raise errors.invalid_compatibility_level(level)
        self.store.write([(State.config_key(subject), State.config_value(level.upper()))])
        return level.upper()

    def delete_compatibility(self, subject: str | None) -> str:
        with self._write_lock:
            with self.store.lock:
                had = self.state.configs.get(subject)
                known = subject is None or subject in self.state.subjects
            if had is None and not known:
                raise errors.subject_not_found(subject or "")
            if had is not None:
                self.store.write([(State.config_key(subject), None)])
            return had or self.config.compatibility

    def set_mode(self, subject: str | None, mode: object, force: bool = False) -> str:
        if not isinstance(mode, str) or mode.upper() not in MODES:
            raise errors.invalid_mode(mode)
        if not self.config.mode_mutability:
            raise errors.operation_not_permitted("Mode changes are not allowed")
        mode = mode.upper()
        with self._write_lock:
            with self.store.lock:
                nonempty = bool(self.state.subject_names(deleted=True) if subject is None
                                else self.state.versions(subject, deleted=True))
            if mode == "IMPORT" and nonempty and not force:
                raise errors.operation_not_permitted(
                    "Cannot import since found existing subjects" if subject is None
                    else f"Cannot import since found existing subjects in subject {subject}")
            self.store.write([(State.mode_key(subject), State.mode_value(mode))])
        return mode

    def delete_mode(self, subject: str) -> str:
        with self._write_lock:
            with self.store.lock:
                had = self.state.modes.get(subject)
            if had is None:
                raise errors.subject_mode_not_configured(subject)
            self.store.write([(State.mode_key(subject), None)])
        return had

    # --- versions

    @staticmethod
    def parse_version(raw: str) -> int:
        """`latest` and -1 are -1; otherwise 1..2^31-1 (42202 for anything else)."""
        if raw == "latest":
            return -1
        try:
            v = int(raw)
        except ValueError:
            raise errors.invalid_version(raw) from None
        if v == -1:
            return -1
        if v < 1 or v > MAX_VERSION:
            raise errors.invalid_version(raw)
        return v

    def version(self, subject: str, raw: str, deleted: bool = False) -> Version:
        number = self.parse_version(raw)
        with self.store.lock:
            all_versions = self.state.versions(subject, deleted=True)
            if not all_versions or (not deleted and not self.state.versions(subject)):
                raise errors.subject_not_found(subject)
            live = self.state.versions(subject, deleted=deleted)
            if number == -1:
                if not live:
                    raise errors.version_not_found(raw)
                return live[-1]
            for v in live:
                if v.version == number:
                    return v
        raise errors.version_not_found(number)

    def schema_of(self, v: Version) -> Schema:
        with self.store.lock:
            return self.state.schemas[v.schema_id]

    # --- registration and lookup

    def _find_in_subject(self, subject: str, parsed: Parsed, deleted: bool) -> Version | None:
        with self.store.lock:
            candidates = [(v, self.state.schemas[v.schema_id]) for v in self.state.versions(subject, deleted)]
        for v, s in reversed(candidates):
            if s.schema_type == parsed.schema.schema_type and self.parse(s).identity == parsed.identity:
                return v
        return None

    def _find_id(self, parsed: Parsed) -> int | None:
        with self.store.lock:
            found = self.state.by_schema.get(parsed.schema)
            if found is not None or parsed.schema.schema_type != "PROTOBUF":
                return found
            # .proto texts that differ in spelling can still be the same schema: compare descriptors
            candidates = list(self.state.schemas.items())
        for schema_id, s in candidates:
            if s.schema_type == parsed.schema.schema_type and s.references == parsed.schema.references:
                if self.parse(s).identity == parsed.identity:
                    return schema_id
        return None

    def lookup(self, subject: str, req: Request, deleted: bool = False) -> tuple[Version, Schema]:
        with self.store.lock:
            known = bool(self.state.versions(subject, deleted=deleted))
        if not known:
            raise errors.subject_not_found(subject)
        parsed = self.parse(Schema(req.schema_type, req.schema, req.references))
        v = self._find_in_subject(subject, parsed, deleted)
        if v is None:
            raise errors.schema_not_found()
        return v, self.schema_of(v)

    def register(self, subject: str, req: Request) -> int:
        parsed = self.parse(Schema(req.schema_type, req.schema, req.references))
        mode = self.mode(subject)
        if mode in ("READONLY", "READONLY_OVERRIDE"):
            raise errors.operation_not_permitted(f"Subject {subject} is in read-only mode")
        if req.schema_id is not None and mode != "IMPORT":
            raise errors.operation_not_permitted(f"Subject {subject} is not in import mode")
        with self._write_lock:
            existing = self._find_in_subject(subject, parsed, deleted=False)
            if existing is not None and req.schema_id in (None, existing.schema_id):
                return existing.schema_id
            with self.store.lock:
                history = self.state.versions(subject, deleted=True)
                live = [(v.version, self.state.schemas[v.schema_id]) for v in self.state.versions(subject)]
            if mode != "IMPORT":
                level = self.compatibility(subject)
                olds = live if level.endswith("_TRANSITIVE") else live[-1:]
                messages = compat.check(level, parsed, [(n, self.parse(s)) for n, s in olds])
                if messages:
                    raise errors.incompatible_schema(subject, messages)
            schema_id = req.schema_id if req.schema_id is not None else self._find_id(parsed)
            if schema_id is None:
                with self.store.lock:
                    schema_id = self.state.max_id + 1
            elif req.schema_id is not None:
                with self.store.lock:
                    taken = self.state.schemas.get(schema_id)
                if taken is not None and self.parse(taken).identity != parsed.identity:
                    raise errors.RestError(422, 42207, f"Overwrite new schema with id {schema_id} is not permitted.")
            version = req.version or ((history[-1].version if history else 0) + 1)
            self.store.write([(State.schema_key(subject, version),
                               State.schema_value(subject, version, schema_id, parsed.schema, False))])
            return schema_id

    def check_compatibility(self, subject: str, raw_version: str | None, req: Request) -> list[str]:
        parsed = self.parse(Schema(req.schema_type, req.schema, req.references))
        level = self.compatibility(subject)
        if raw_version is None:
            with self.store.lock:
                olds = [(v.version, self.state.schemas[v.schema_id]) for v in self.state.versions(subject)]
            if not level.endswith("_TRANSITIVE"):
                olds = olds[-1:]
        else:
            number = self.parse_version(raw_version)
            with self.store.lock:
                live = self.state.versions(subject)
            if not live and number == -1:
                return []
            if not live:
                raise errors.subject_not_found(subject)
            v = self.version(subject, raw_version)
            olds = [(v.version, self.schema_of(v))]
        return compat.check(level if level != "NONE" or raw_version is None else "NONE", parsed,
                            [(n, self.parse(s)) for n, s in olds])

    # --- deletes

    def delete_subject(self, subject: str, permanent: bool) -> list[int]:
        with self._write_lock:
            with self.store.lock:
                every = self.state.versions(subject, deleted=True)
                live = self.state.versions(subject)
            if not every:
                raise errors.subject_not_found(subject)
            if permanent:
                if live:
                    raise errors.subject_not_soft_deleted(subject)
                for v in every:
                    self._refuse_if_referenced(subject, v.version)
                records = [(State.schema_key(subject, v.version), None) for v in every]
                with self.store.lock:
                    if subject in self.state.configs:
                        records.append((State.config_key(subject), None))
                    if subject in self.state.modes:
                        records.append((State.mode_key(subject), None))
                self.store.write(records)
                return [v.version for v in every]
            if not live:
                raise errors.subject_soft_deleted(subject)
            for v in live:
                self._refuse_if_referenced(subject, v.version)
            self.store.write([(State.delete_subject_key(subject),
                               State.delete_subject_value(subject, live[-1].version))])
            return [v.version for v in live]

    def delete_version(self, subject: str, raw: str, permanent: bool) -> int:
        number = self.parse_version(raw)
        with self._write_lock:
            with self.store.lock:
                every = self.state.versions(subject, deleted=True)
                live = self.state.versions(subject)
            if not every or (not permanent and not live):
                raise errors.subject_not_found(subject)
            pool = live if number == -1 and not permanent else every
            v = pool[-1] if number == -1 and pool else next((x for x in pool if x.version == number), None)
            if v is None:
                raise errors.version_not_found(raw if number == -1 else number)
            if permanent and not v.deleted:
                raise errors.version_not_soft_deleted(subject, v.version)
            if not permanent and v.deleted:
                raise errors.version_soft_deleted(subject, v.version)
            self._refuse_if_referenced(subject, v.version)
            schema = self.schema_of(v)
            value = None if permanent else State.schema_value(subject, v.version, v.schema_id, schema, True)
            self.store.write([(State.schema_key(subject, v.version), value)])
            return v.version

    def _refuse_if_referenced(self, subject: str, version: int) -> None:
        with self.store.lock:
            if self.state.referenced_by(subject, version):
                raise errors.reference_exists(subject, version)
