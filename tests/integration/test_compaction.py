"""Compaction in a real Brook process: a cleanup.policy=compact topic loaded with 100,000 records over 1,000 keys
(overwritten, some deleted with tombstones) while a producer and a consumer keep running against it ends up with
exactly the latest value of each live key, and that holds across kill -9 and a restart."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from conftest import BrokerProcess

TOPIC = "compacted"
KEYS = 1000
RECORDS = 100_000
DELETED = range(0, 100)  # tombstoned at the end of the load, never written again
REVIVED = range(100, 150)  # tombstoned, then written again: the new value must survive
LIVE_KEYS = 50  # the background producer's keys
TIMEOUT = 30.0
TOPIC_CONFIG = {"cleanup.policy": "compact", "segment.bytes": "20000", "segment.ms": "500",
                "min.cleanable.dirty.ratio": "0.01", "delete.retention.ms": "1000"}


def _wait(cond: Callable[[], bool], timeout: float, what: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what()}")
        time.sleep(0.2)


def _producer(b: BrokerProcess, **extra: object) -> Producer:
    return Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "enable.idempotence": True,
                     "linger.ms": 5, "batch.size": 8000, **extra})


def _send(p: Producer, key: bytes, value: bytes | None) -> None:
    while True:
        try:
            p.produce(TOPIC, key=key, value=value, partition=0)
            return
        except BufferError:
            p.poll(0.05)


def _load(b: BrokerProcess, start: int, end: int, expected: dict[bytes, bytes | None]) -> None:
    """Records start..end-1: key i % KEYS, value carrying i (so a reader can see that a key only moves forward)."""
    p = _producer(b, **{"compression.type": "lz4"})
    for i in range(start, end):
        key = b"key-%d" % (i % KEYS)
        value = b"%s:%08d:%s" % (key, i, b"x" * 30)
        _send(p, key, value)
        expected[key] = value
        p.poll(0)
    assert p.flush(TIMEOUT) == 0


def _read_all(b: BrokerProcess) -> list[tuple[int, bytes, bytes | None]]:
    """(offset, key, value) of every record from the start to the end of the partition."""
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "verifier", "enable.auto.commit": False,
                  "enable.partition.eof": True, "fetch.wait.max.ms": 50})
    out: list[tuple[int, bytes, bytes | None]] = []
    try:
        c.assign([TopicPartition(TOPIC, 0, 0)])
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error() is not None:
                assert m.error().code() == KafkaError._PARTITION_EOF, m.error()
                return out
            out.append((m.offset(), m.key(), m.value()))
        raise AssertionError(f"no end of partition after reading {len(out)} records")
    finally:
        c.close()


def _disk_bytes(b: BrokerProcess) -> int:
    return sum(p.stat().st_size for p in (b.data_dir / f"{TOPIC}-0").glob("*.log"))


class _Background:
    """A producer overwriting LIVE_KEYS keys and a consumer tailing the topic, both until stopped."""

    def __init__(self, b: BrokerProcess) -> None:
        self.b = b
        self.stop = threading.Event()
        self.acked: dict[bytes, bytes] = {}
        self.errors: list[str] = []
        self.consumed = 0
        self.threads = [threading.Thread(target=self._produce), threading.Thread(target=self._consume)]
        for t in self.threads:
            t.start()

    def _produce(self) -> None:
        p = _producer(self.b)
        n = 0

        def acked(err, m):  # type: ignore[no-untyped-def]
            if err is not None:
                self.errors.append(f"produce: {err}")
            else:
                self.acked[m.key()] = m.value()

        while not self.stop.is_set():
            key = b"live-%d" % (n % LIVE_KEYS)
            p.produce(TOPIC, key=key, value=b"%s:%08d" % (key, n), partition=0, on_delivery=acked)
            n += 1
            p.poll(0.002)
        if p.flush(TIMEOUT):
            self.errors.append("produce: flush timed out")

    def _consume(self) -> None:
        """Reads from the start while the cleaner rewrites segments under it: offsets only go up, and each key's
        values only move forward (compaction removes records, never reorders or revives them)."""
        c = Consumer({"bootstrap.servers": self.b.bootstrap, "group.id": "tailer", "auto.offset.reset": "earliest",
                      "fetch.wait.max.ms": 50})
        last_offset = -1
        last_seq: dict[bytes, int] = {}
        try:
            c.assign([TopicPartition(TOPIC, 0, 0)])
            while not self.stop.is_set():
                m = c.poll(0.1)
                if m is None:
                    continue
                if m.error() is not None:
                    self.errors.append(f"consume: {m.error()}")
                    continue
                if m.offset() <= last_offset:
                    self.errors.append(f"consume: offset {m.offset()} after {last_offset}")
                last_offset = m.offset()
                if m.value() is not None:
                    seq = int(m.value().split(b":")[1])
                    if seq <= last_seq.get(m.key(), -1):
                        self.errors.append(f"consume: {m.key()!r} went back to {seq}")
                    last_seq[m.key()] = seq
                self.consumed += 1
        finally:
            c.close()

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(TIMEOUT)
        assert not self.errors, self.errors[:10]


def _check(records: list[tuple[int, bytes, bytes | None]], expected: dict[bytes, bytes]) -> str | None:
    """None when the records are exactly one per live key with its latest value; else what is wrong."""
    keys = [k for _o, k, _v in records]
    if len(keys) != len(set(keys)):
        return f"{len(keys) - len(set(keys))} superseded records left"
    got = {k: v for _o, k, v in records}
    if got != expected:
        wrong = [k for k in set(got) | set(expected) if got.get(k) != expected.get(k)]
        return f"{len(wrong)} keys differ, e.g. {sorted(wrong)[:3]}"
    return None


def test_compaction_under_load_keeps_latest_value_per_key_across_kill9(broker_factory, tmp_path: Path) -> None:
    t0 = time.monotonic()
    b = broker_factory({"log.cleaner.backoff.ms": "200"})
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    for f in a.create_topics([NewTopic(TOPIC, 1, 1, config=TOPIC_CONFIG)], operation_timeout=10).values():
        f.result(timeout=TIMEOUT)
    expected: dict[bytes, bytes | None] = {}

    # first half, then kill -9 while the cleaner is (most likely) in the middle of a pass
    _load(b, 0, RECORDS // 2, expected)
    b.kill9()
    b.start()

    # second half with a producer and a consumer running alongside, then tombstones
    bg = _Background(b)
    _load(b, RECORDS // 2, RECORDS, expected)
    p = _producer(b)
    for k in list(DELETED) + list(REVIVED):
        _send(p, b"key-%d" % k, None)
        expected.pop(b"key-%d" % k)
    for k in REVIVED:
        _send(p, b"key-%d" % k, b"key-%d:%08d:revived" % (k, RECORDS + k))
        expected[b"key-%d" % k] = b"key-%d:%08d:revived" % (k, RECORDS + k)
    assert p.flush(TIMEOUT) == 0
    time.sleep(1.0)  # let the tailer read across a few cleaner swaps
    bg.finish()
    assert bg.consumed > 0
    expected.update(bg.acked)

    # an idle moment longer than segment.ms, then one last record: it rolls the segment holding everything
    # else, which leaves the active segment with that record alone
    time.sleep(0.6)
    _send(p, b"sentinel", b"sentinel:%08d" % 0)
    assert p.flush(TIMEOUT) == 0
    expected[b"sentinel"] = b"sentinel:%08d" % 0
    assert len(expected) == KEYS - len(DELETED) + LIVE_KEYS + 1

    # compaction (and, past delete.retention.ms, the tombstones' removal) happens by itself
    records: list[tuple[int, bytes, bytes | None]] = []

    def compacted() -> bool:
        nonlocal records
        records = _read_all(b)
        return _check(records, expected) is None  # type: ignore[arg-type]

    _wait(compacted, TIMEOUT, lambda: f"compaction: {_check(records, expected)}")  # type: ignore[arg-type]
    assert _disk_bytes(b) < RECORDS * 50 // 20  # under 5% of what was written
    offsets = [o for o, _k, _v in records]
    assert offsets == sorted(offsets) and offsets[-1] > RECORDS  # offsets kept: gaps, never renumbering

    b.kill9()
    b.start()
    assert _read_all(b) == records
    assert time.monotonic() - t0 < 60


def test_a_kept_tombstone_carries_its_delete_horizon_on_disk(broker_factory) -> None:
    """KIP-534 end to end: the cleaner stamps the tombstone's batch (kafka-dump-log shows deleteHorizonMs, Kafka's
    DumpLogSegments batch line), and a consumer still sees every record's own CreateTime timestamp."""
    b = broker_factory({"log.cleaner.backoff.ms": "100"})
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    cfg = {**TOPIC_CONFIG, "delete.retention.ms": "86400000", "segment.ms": "300"}
    for f in a.create_topics([NewTopic("horizon", 1, 1, config=cfg)], operation_timeout=10).values():
        f.result(timeout=TIMEOUT)
    p = _producer(b)
    stamps = {b"a": 1_600_000_000_000, b"b": 1_600_000_000_007}
    for k, v in ((b"a", b"1"), (b"b", None), (b"a", b"2")):
        p.produce("horizon", key=k, value=v, partition=0, timestamp=stamps[k])
        assert p.flush(TIMEOUT) == 0

    def rolled() -> bool:  # once segment.ms has passed, a record rolls the tombstone's segment: it can be cleaned
        p.produce("horizon", key=b"z", value=b"z", partition=0)
        assert p.flush(TIMEOUT) == 0
        return any(int(f.stem) > 2 for f in (b.data_dir / "horizon-0").glob("*.log"))

    _wait(rolled, TIMEOUT, lambda: "a segment roll after segment.ms")

    def stamped() -> re.Match | None:
        files = ",".join(sorted(str(f) for f in (b.data_dir / "horizon-0").glob("*.log")))  # cleaning merges them
        out = subprocess.run([Path(sys.executable).parent / "kafka-dump-log", "--files", files],
                             capture_output=True, text=True, timeout=TIMEOUT).stdout
        return re.search(r"baseOffset: 1 lastOffset: 1 count: 1 .*isControl: false deleteHorizonMs: "
                         r"OptionalLong\[(\d+)\] position: \d+ CreateTime: 1600000000007 ", out)

    _wait(lambda: stamped() is not None, TIMEOUT, lambda: "the tombstone's delete horizon")
    horizon = int(stamped().group(1))  # type: ignore[union-attr]
    assert abs(horizon - (time.time() * 1000 + 86_400_000)) < 60_000

    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "ts", "enable.partition.eof": True})
    c.assign([TopicPartition("horizon", 0, 0)])
    seen = []
    while True:  # to the end of the partition (enable.partition.eof), each poll bounded
        m = c.poll(5)
        assert m is not None, "no record nor end of partition within 5 s"
        if m.error() is not None and m.error().code() == KafkaError._PARTITION_EOF:
            break
        assert m.error() is None, m.error()
        seen.append((m.offset(), m.key(), m.timestamp()[1]))
    c.close()
    assert seen[:2] == [(1, b"b", stamps[b"b"]), (2, b"a", stamps[b"a"])]
