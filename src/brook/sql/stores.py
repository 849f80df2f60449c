"""A query's state stores: RocksDB (rocksdict) directories under ksql.streams.state.dir/<application id>/, each
backed by a compacted changelog topic named as Kafka Streams names it (<application id>-<store>-changelog).  Writes
go to the store at once and to the changelog once per batch (the last value of each key, as Kafka Streams' cache),
in the batch's transaction under exactly_once_v2; a clean stop leaves a checkpoint that spares the next restore."""

from __future__ import annotations

import base64
import decimal
import json
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


def _encode(value: Any) -> Any:
    """json.dumps' fallback: a BYTES value (a row's column, an aggregate's state) as tagged base64, a DECIMAL as
    its tagged text (exact)."""
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _decode(obj: dict) -> Any:
    if len(obj) == 1:
        if "$bytes" in obj:
            return base64.b64decode(obj["$bytes"])
        if "$decimal" in obj:
            return decimal.Decimal(obj["$decimal"])
    return obj


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=_encode).encode()


def loads(raw: bytes) -> Any:
    return json.loads(raw, object_hook=_decode)


class Store:
    def __init__(self, name: str, app_id: str, root: Path) -> None:
        self.name = name
        self.changelog = f"{app_id}-{name}-changelog"
        self.path = root / name
        self.db: Any = None
        self.dirty: dict[bytes, int] = {}  # key -> the partition its changelog record goes to

    def open(self) -> None:
        from rocksdict import Rdict

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = Rdict(str(self.path))

    def get(self, key: bytes) -> Any:
        raw = self.db.get(key)
        return None if raw is None else loads(raw)

    def put(self, key: bytes, value: Any, partition: int) -> None:
        if value is None:
            self.db.delete(key)
        else:
            self.db[key] = dumps(value)
        self.dirty[key] = partition

    def delete_local(self, key: bytes) -> None:
        """Expiry (a window past its retention): the changelog keeps the record until its own retention."""
        self.db.delete(key)
        self.dirty.pop(key, None)

    def items(self, start: bytes | None = None) -> Iterator[tuple[bytes, Any]]:
        it = self.db.items() if start is None else self.db.items(from_key=start)
        for k, v in it:
            yield k, loads(v)

    def flush_changelog(self, producer: Any) -> None:
        for key, partition in self.dirty.items():
            raw = self.db.get(key)
            producer.produce(self.changelog, key=key, value=raw, partition=partition)
        self.dirty.clear()


class Stores:
    def __init__(self, state_dir: str, app_id: str) -> None:
        self.root = Path(state_dir) / app_id
        self.app_id = app_id
        self.stores: dict[str, Store] = {}
        # (changelog, partition) -> the offset the store has read it to (restore, then catch_up)
        self.positions: dict[tuple[str, int], int] = {}

    def add(self, name: str) -> Store:
        store = self.stores.get(name)
        if store is None:
            store = self.stores[name] = Store(name, self.app_id, self.root)
        return store

    @property
    def checkpoint(self) -> Path:
        return self.root / ".checkpoint"

    def _ends(self, consumer: Any) -> dict[str, dict[str, int]]:
        from confluent_kafka import TopicPartition

        out = {}
        topics = consumer.list_topics(timeout=10).topics
        for store in self.stores.values():
            md = topics.get(store.changelog)
            out[store.changelog] = {str(p): consumer.get_watermark_offsets(
                TopicPartition(store.changelog, p), timeout=10)[1] for p in sorted(md.partitions if md else {})}
        return out

    def restore(self, consumer_conf: dict, stop: threading.Event) -> None:
        """Open every store; rebuild them from their changelogs unless a clean stop left a matching checkpoint."""
        from confluent_kafka import Consumer, TopicPartition

        c = Consumer({**consumer_conf, "group.id": self.app_id + "-restore", "enable.auto.commit": False,
                      "isolation.level": "read_committed"})
        try:
            ends = self._ends(c)
            self.positions = {(log, int(p)): end for log, parts in ends.items() for p, end in parts.items()}
            valid = self.checkpoint.exists() and json.loads(self.checkpoint.read_text()) == ends
            # from here on the local stores run ahead of what is committed: a crash must restore, not trust them
            self.checkpoint.unlink(missing_ok=True)
            if valid:
                for store in self.stores.values():
                    store.open()
                return
            for store in self.stores.values():
                shutil.rmtree(store.path, ignore_errors=True)
                store.open()
                for p, end in ends[store.changelog].items():
                    if end <= 0:
                        continue
                    _replay(c, store, TopicPartition(store.changelog, int(p), 0), end, lambda: stop.is_set())
        finally:
            c.close()

    def catch_up(self, consumer_conf: dict, partitions: set[int], stop: threading.Event,
                 timeout: float = 30.0) -> None:
        """A task that moves here from another server sharing the query's group: what that server wrote to the
        changelogs of these partitions since this store last read them (Kafka Streams restores a migrated task)."""
        import time

        from confluent_kafka import Consumer, TopicPartition

        if not self.stores or not partitions:
            return
        c = Consumer({**consumer_conf, "group.id": self.app_id + "-restore", "enable.auto.commit": False,
                      "isolation.level": "read_committed"})
        deadline = time.monotonic() + timeout
        try:
            for store in self.stores.values():
                for p in sorted(partitions):
                    if (store.changelog, p) not in self.positions:
                        continue  # a changelog with fewer partitions than the inputs (a foreign-key join's)
                    tp = TopicPartition(store.changelog, p, self.positions[(store.changelog, p)])
                    _, end = c.get_watermark_offsets(tp, timeout=10)
                    if end <= tp.offset:
                        continue
                    _replay(c, store, tp, end, lambda: stop.is_set() or time.monotonic() >= deadline)
                    self.positions[(store.changelog, p)] = c.position([tp])[0].offset
        finally:
            c.close()

    def close(self, consumer_conf: dict | None) -> None:
        """Close the stores; with consumer_conf (a clean stop) write the checkpoint of the changelogs' ends."""
        for store in self.stores.values():
            if store.db is not None:
                store.db.flush()
                store.db.close()
                store.db = None
        if consumer_conf is None or not self.stores:
            return
        from confluent_kafka import Consumer

        c = Consumer({**consumer_conf, "group.id": self.app_id + "-restore"})
        try:
            self.checkpoint.write_text(json.dumps(self._ends(c)))
        finally:
            c.close()


def _replay(c: Any, store: Store, tp: Any, end: int, stopped: Callable[[], bool]) -> None:
    """A changelog partition from tp's offset up to `end` into the store (a tombstone deletes); by the consumer's
    position, not the last record's offset, since transaction markers take offsets too."""
    c.assign([tp])
    while c.position([tp])[0].offset < end and not stopped():
        for msg in c.consume(500, 0.2):
            if msg.error():
                continue
            if msg.value() is None:
                store.db.delete(msg.key())
            else:
                store.db[msg.key()] = msg.value()
