"""KafkaOffsetBackingStore: source offsets in offset.storage.topic, with the offsets file's keys and values
(`["<connector>",{partition}]` -> `{offset}`, schemaless JSON), partitioned by Kafka's murmur2 of the key."""

from __future__ import annotations

import json
import threading

from brook.connect.converters import internal_json
from brook.connect.kafkalog import KafkaBasedLog


class KafkaOffsetStore:
    def __init__(self, bootstrap: str, topic: str, client_id: str) -> None:
        self._json = internal_json()
        self._lock = threading.Lock()
        self.data: dict[bytes, bytes] = {}
        self.log = KafkaBasedLog(bootstrap, topic, self._apply, client_id)

    def start(self) -> None:
        self.log.start()

    def stop(self) -> None:
        self.log.stop()

    def _apply(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        with self._lock:
            if value is None:
                self.data.pop(key, None)
            else:
                self.data[key] = value

    def key(self, namespace: str, partition: dict) -> bytes:
        return self._json.from_connect_data(namespace, None, [namespace, partition])

    def get(self, namespace: str, partition: dict) -> dict | None:
        self.log.read_to_end()
        with self._lock:
            raw = self.data.get(self.key(namespace, partition))
        return None if raw is None else json.loads(raw)

    def put(self, namespace: str, offsets: dict[bytes, dict | None]) -> None:
        for k, v in offsets.items():
            self.log.send(k, None if v is None else self._json.from_connect_data(namespace, None, v), wait=False)
            self._apply(k, None if v is None else self._json.from_connect_data(namespace, None, v))
        if self.log.producer.flush(30):
            from brook.connect.data import ConnectError

            raise ConnectError("Timed out while writing offsets to Kafka")

    def partitions(self, namespace: str) -> list[tuple[dict, dict]]:
        self.log.read_to_end()
        out = []
        with self._lock:
            for k, v in self.data.items():
                try:
                    key = json.loads(k)
                except ValueError:
                    continue
                if isinstance(key, list) and len(key) == 2 and key[0] == namespace:
                    out.append((key[1], json.loads(v)))
        return out

    def remove(self, namespace: str, keys: list[bytes]) -> None:
        self.put(namespace, dict.fromkeys(keys))
