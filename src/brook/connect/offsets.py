"""Source offsets of a standalone worker: Kafka's FileOffsetBackingStore and OffsetStorageWriter.

Keys are the schemaless JSON of [connector name, source partition], values the JSON of the source offset, and
the file is the Java-serialized HashMap Kafka writes (javaser.py): a Kafka worker can take over Brook's file and
the other way round. The file is replaced atomically (write, fsync, rename) so a crash never leaves it torn.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from brook.connect.converters import internal_json
from brook.connect.javaser import dump_map, load_map


class FileOffsetStore:
    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._json = internal_json()
        self.data: dict[bytes | None, bytes | None] = {}
        if self.path.exists() and self.path.stat().st_size:
            self.data = load_map(self.path.read_bytes())

    def key(self, namespace: str, partition: dict) -> bytes:
        return self._json.from_connect_data(namespace, None, [namespace, partition])

    def get(self, namespace: str, partition: dict) -> dict | None:
        with self._lock:
            raw = self.data.get(self.key(namespace, partition))
        return None if raw is None else json.loads(raw)

    def put(self, namespace: str, offsets: dict[bytes, dict | None]) -> None:
        """Write the offsets (keyed by key()) of one flush, then save the whole map (OffsetStorageWriter.doFlush)."""
        if not offsets:
            return
        with self._lock:
            for k, v in offsets.items():
                if v is None:
                    self.data.pop(k, None)
                else:
                    self.data[k] = self._json.from_connect_data(namespace, None, v)
            self._save()

    def partitions(self, namespace: str) -> list[tuple[dict, dict]]:
        """(source partition, offset) of every live offset of a connector (GET /connectors/{name}/offsets)."""
        out = []
        with self._lock:
            for k, v in self.data.items():
                try:
                    key = json.loads(k) if k is not None else None
                except ValueError:
                    continue
                if isinstance(key, list) and len(key) == 2 and key[0] == namespace and v is not None:
                    out.append((key[1], json.loads(v)))
        return out

    def remove(self, namespace: str, keys: list[bytes]) -> None:
        """Tombstones: the offsets are forgotten (KIP-875's alter with a null offset, and reset)."""
        with self._lock:
            for k in keys:
                self.data.pop(k, None)
            self._save()

    def _save(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(dump_map(self.data))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
