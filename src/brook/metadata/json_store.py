"""The single broker's metadata store: the whole image in brook-metadata.json in the first log dir.

Each write rewrites the file crash-safely: the new image goes to brook-metadata.json.tmp, is fsynced, renamed
over the file, and the directory is fsynced; only then does the image in memory change and do subscribers hear
of it. A crash leaves the old file or the new one, never a torn one (a stale .tmp is ignored).

Version 1 files (written before the store had replica assignments and per-broker config keys) are read and
upgraded in place at open: every partition's replicas are this broker, the broker configs are this broker's.
Version 2 keeps version 1's fields (partition count, replication factor) beside the assignment."""

from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any

from brook.acl import AclBinding
from brook.errors import ErrorCode, KafkaError

from .records import ScramCredential, TopicInfo, frozen, uniform_assignment
from .store import MemoryMetadataStore

FILE = "brook-metadata.json"
VERSION = 2

log = logging.getLogger("kafka.server.MetadataStore")


class JsonMetadataStore(MemoryMetadataStore):
    def __init__(self, directory: Path, broker_id: int) -> None:
        super().__init__()
        self.path = directory / FILE
        self._tmp = directory / (FILE + ".tmp")
        self.broker_id = broker_id
        if self.path.exists():
            version = self._load(json.loads(self.path.read_text()))
            if version < VERSION:
                self._persist()

    def _load(self, data: dict[str, Any]) -> int:
        version = int(data.get("version", 1))
        if version > VERSION:
            raise ValueError(f"{self.path} is version {version}; this broker reads versions up to {VERSION}")
        for t in data.get("topics", []):
            assignment = t.get("assignment") or uniform_assignment(t["partitions"], self.broker_id)
            info = TopicInfo(t["name"], uuid.UUID(t["id"]), tuple(tuple(r) for r in assignment),
                             frozen(t.get("configs", {})))
            self._topics[info.name] = self._topics_by_id[info.topic_id] = info
        brokers = data.get("broker_configs", {})
        if version == 1:  # this broker's dynamic configs
            brokers = {str(self.broker_id): brokers} if brokers else {}
        for broker_id, configs in brokers.items():
            self._broker_configs[int(broker_id)] = frozen(configs)
        if data.get("broker_default_configs"):
            self._broker_configs[None] = frozen(data["broker_default_configs"])
        for q in data.get("client_quotas", []):
            if q["values"]:
                self._quotas[tuple((e["type"], e["name"]) for e in q["entity"])] = frozen(q["values"])
        for user, creds in data.get("scram_credentials", {}).items():
            if creds:
                self._scram[user] = frozen({m: ScramCredential.from_json(c) for m, c in creds.items()})
        for d in data.get("acls", []):
            b = AclBinding.from_json(d)
            self._acls[b.pattern] = (*self._acls.get(b.pattern, ()), b)
        self._producer_ids_end = int(data.get("producer_id_block_end", 0))
        return version

    def _image(self) -> dict[str, object]:
        return {
            "version": VERSION,
            "topics": [{"name": t.name, "id": str(t.topic_id), "partitions": t.partitions,
                        "replication_factor": t.replication_factor, "assignment": [list(r) for r in t.assignment],
                        "configs": dict(t.configs)} for t in self._topics.values()],
            "broker_configs": {str(b): dict(c) for b, c in self._broker_configs.items() if b is not None},
            "broker_default_configs": dict(self._broker_configs.get(None, {})),
            "client_quotas": [{"entity": [{"type": t, "name": n} for t, n in entity], "values": dict(values)}
                              for entity, values in self._quotas.items()],
            "scram_credentials": {user: {m: c.to_json() for m, c in creds.items()}
                                  for user, creds in self._scram.items()},
            "acls": [b.to_json() for bindings in self._acls.values() for b in bindings],
            "producer_id_block_end": self._producer_ids_end,
        }

    def _persist(self) -> None:
        """Write the image crash-safely; a write that fails (a full disk) raises KAFKA_STORAGE_ERROR, and the
        caller's _commit puts the image in memory back, so nothing half-done is visible or acknowledged."""
        try:
            self._write(json.dumps(self._image(), indent=1).encode())
        except OSError as e:
            self._tmp.unlink(missing_ok=True)  # a partial .tmp only holds space the next write needs
            log.warning("Error while writing the metadata file %s: %s", self.path, e)
            raise KafkaError(ErrorCode.kafka_storage_error,
                             f"Error while writing the metadata file {self.path}: {e.strerror or e}") from None

    def _write(self, data: bytes) -> None:
        with open(self._tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(self._tmp, self.path)
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:  # the rename itself survives a power loss only once the directory is synced
            os.fsync(fd)
        finally:
            os.close(fd)
