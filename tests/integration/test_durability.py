"""Durability of a real Brook process: acknowledged messages survive kill -9, a clean stop keeps everything in
Kafka's on-disk layout, segments roll and recover, and a torn tail is truncated on start-up."""

from __future__ import annotations

import os
import random
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from conftest import BrokerProcess

TIMEOUT = 20.0
FIRST = "00000000000000000000"


def wait_until(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.01)


def create_topic(b: BrokerProcess, topic: str, partitions: int = 1, config: dict[str, str] | None = None) -> None:
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    for f in a.create_topics([NewTopic(topic, partitions, 1, config=config or {})], operation_timeout=10).values():
        f.result(timeout=TIMEOUT)


def produce(b: BrokerProcess, topic: str, values: list[bytes], partition: int = 0,
            extra: dict[str, object] | None = None) -> list[int]:
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 2, **(extra or {})})
    offsets: dict[int, int] = {}
    errors = []

    def report(i: int):  # type: ignore[no-untyped-def]
        def cb(err, m):  # type: ignore[no-untyped-def]
            if err:
                errors.append(err)
            else:
                offsets[i] = m.offset()
        return cb

    for i, v in enumerate(values):
        while True:
            try:
                p.produce(topic, key=b"k%d" % i, value=v, partition=partition, on_delivery=report(i))
                break
            except BufferError:
                p.poll(0.05)
    assert p.flush(TIMEOUT) == 0
    assert not errors, errors
    return [offsets[i] for i in range(len(values))]


def read_all(b: BrokerProcess, topic: str, partition: int = 0, start: int = 0) -> list[tuple[int, bytes | None]]:
    """(offset, value) of every record from start up to the high watermark."""
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "unused", "enable.auto.commit": False,
                  "fetch.wait.max.ms": 50})
    out: list[tuple[int, bytes | None]] = []
    try:
        _, high = c.get_watermark_offsets(TopicPartition(topic, partition), timeout=TIMEOUT)
        c.assign([TopicPartition(topic, partition, start)])
        deadline = time.monotonic() + 2 * TIMEOUT
        while (not out or out[-1][0] < high - 1) and high > start:
            assert time.monotonic() < deadline, f"read {len(out)} records, high watermark {high}"
            m = c.poll(0.2)
            if m is None:
                continue
            assert m.error() is None, m.error()
            out.append((m.offset(), m.value()))
    finally:
        c.close()
    return out


def batches(path: Path) -> list[tuple[int, int, int]]:
    """(position, base offset, last offset) of every batch in a .log file, parsed from Kafka's v2 format."""
    data = path.read_bytes()
    out, pos = [], 0
    while pos + 61 <= len(data):
        base, length = struct.unpack_from(">qi", data, pos)
        (delta,) = struct.unpack_from(">i", data, pos + 23)
        out.append((pos, base, base + delta))
        pos += 12 + length
    assert pos == len(data), f"{path} has {len(data) - pos} trailing bytes"
    return out


def checkpoint(path: Path) -> dict[tuple[str, int], int]:
    lines = path.read_text().splitlines()
    assert lines[0] == "0", f"{path.name} version"
    assert int(lines[1]) == len(lines) - 2, f"{path.name} entry count"
    out = {}
    for line in lines[2:]:
        topic, partition, offset = line.rsplit(" ", 2)
        out[(topic, int(partition))] = int(offset)
    return out


# -- (a) kill -9 under a continuous acks=all load -----------------------------------------------------------
@pytest.mark.parametrize("idempotent", [False, True], ids=["plain", "idempotent"])
def test_acknowledged_messages_survive_kill9(broker, idempotent):
    topic = "crash"
    create_topic(broker, topic, config={"segment.bytes": "100000"})  # several segments roll under the load
    acked: list[tuple[int, bytes, int]] = []  # (sequence, value, offset) in acknowledgement order
    errors: list[object] = []
    stop = threading.Event()
    p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 1, "batch.num.messages": 40,
                  "queue.buffering.max.messages": 2000, "message.timeout.ms": 60000, "retry.backoff.ms": 20,
                  "reconnect.backoff.ms": 20, "reconnect.backoff.max.ms": 200, "enable.idempotence": idempotent})

    def on_delivery(err, m):  # type: ignore[no-untyped-def]
        if err is not None:
            errors.append(err)
        else:
            acked.append((int(m.key()), m.value(), m.offset()))

    def run() -> None:
        seq = 0
        while not stop.is_set():
            try:
                p.produce(topic, key=str(seq).encode(), value=b"value-%d-" % seq + b"x" * (seq % 50),
                          partition=0, on_delivery=on_delivery)
                seq += 1
            except BufferError:
                p.poll(0.01)
            p.poll(0)
        p.flush(TIMEOUT)

    producer = threading.Thread(target=run, daemon=True)
    producer.start()
    kills: list[tuple[int, int]] = []  # (acks so far, messages unacknowledged) at each kill -9
    try:
        # kill at arbitrary points of the stream: once after some thousands of acks, then again soon after
        # the restart, while the producer is still re-sending what the first crash left unacknowledged
        for target in (random.randint(3000, 6000), random.randint(200, 1500)):
            goal = len(acked) + target
            wait_until(lambda g=goal: len(acked) >= g, 60, f"{goal} acks")
            broker.kill9()
            kills.append((len(acked), len(p)))
            broker.start()
        # the producer reconnects to the restarted broker and carries on
        wait_until(lambda: len(acked) >= kills[-1][0] + 1000, 60, "acks after the restarts")
    finally:
        stop.set()
        producer.join(2 * TIMEOUT)
    assert not producer.is_alive()
    assert all(in_flight > 0 for _, in_flight in kills), f"a kill did not land mid-stream: {kills}"
    assert not errors, errors[:5]
    # the fresh start, then two recoveries after the kills
    assert broker.log_text().count("(clean shutdown: False)") == 3
    assert len(list((broker.data_dir / f"{topic}-0").glob("*.log"))) >= 3

    log = read_all(broker, topic)
    offsets = [o for o, _ in log]
    assert offsets == list(range(len(log))), "offsets are not contiguous from 0"
    stored = dict(log)
    lost = [(seq, off) for seq, value, off in acked if stored.get(off) != value]
    assert not lost, f"{len(lost)} acknowledged messages missing or moved, first: {lost[:5]}"
    # acknowledgements before the crash came in production order, at increasing offsets
    before = sorted(acked[:kills[0][0]])
    assert [off for _, _, off in before] == sorted(off for _, _, off in before)
    assert len({off for _, _, off in acked}) == len(acked), "two acknowledged messages share an offset"
    if idempotent:
        # the producer state survived the crashes: retried batches were not written twice, nothing was
        # reordered, and the log is exactly the sequence that was produced
        seqs = [int(v.split(b"-")[1]) for _, v in log]
        assert seqs == list(range(len(seqs))), "duplicates or reordering in an idempotent producer's log"
        assert sorted(seq for seq, _, _ in acked) == seqs


# -- (b) clean stop: everything kept, Kafka's layout ---------------------------------------------------------
def test_clean_restart_keeps_everything_in_kafkas_layout(broker):
    create_topic(broker, "layout", partitions=2)
    values = [b"clean-%d" % i for i in range(300)]
    assert produce(broker, "layout", values[:200], partition=0) == list(range(200))
    assert produce(broker, "layout", values[200:], partition=1) == list(range(100))
    assert broker.stop() == 0
    assert "shut down completed" in broker.log_text()

    d = broker.data_dir
    for p in (0, 1):
        part = d / f"layout-{p}"
        for suffix in (".log", ".index", ".timeindex"):
            assert (part / f"{FIRST}{suffix}").is_file(), f"{part.name}/{FIRST}{suffix}"
        assert (part / "partition.metadata").read_text().startswith("version: 0\ntopic_id: ")
        epochs = (part / "leader-epoch-checkpoint").read_text().splitlines()
        assert epochs[0] == "0" and int(epochs[1]) == len(epochs) - 2 >= 1
        assert epochs[2].split() == ["0", "0"]  # epoch 0 starts at offset 0
    meta = dict(line.split("=", 1) for line in (d / "meta.properties").read_text().splitlines()
                if "=" in line and not line.startswith("#"))
    assert meta["broker.id"] == "0" and meta["version"] == "0" and meta["cluster.id"]
    recovery = checkpoint(d / "recovery-point-offset-checkpoint")
    starts = checkpoint(d / "log-start-offset-checkpoint")
    high = checkpoint(d / "replication-offset-checkpoint")
    assert high[("layout", 0)] == 200 and high[("layout", 1)] == 100
    assert recovery[("layout", 0)] == 200 and recovery[("layout", 1)] == 100  # everything flushed at stop
    assert starts.get(("layout", 0), 0) == 0
    assert [b[1] for b in batches(d / "layout-0" / f"{FIRST}.log")][0] == 0
    assert batches(d / "layout-0" / f"{FIRST}.log")[-1][2] == 199

    broker.start()
    assert "clean shutdown: True" in broker.log_text()
    assert read_all(broker, "layout", 0) == [(i, values[i]) for i in range(200)]
    assert read_all(broker, "layout", 1) == [(i, values[200 + i]) for i in range(100)]
    assert produce(broker, "layout", [b"next"], partition=0) == [200]
    assert meta["cluster.id"] in (d / "meta.properties").read_text()  # the same cluster after the restart


# -- (c) segment roll, then kill -9 ---------------------------------------------------------------------------
def test_segments_roll_and_recover_after_kill9(broker):
    topic = "rolling"
    create_topic(broker, topic, config={"segment.bytes": "10000"})
    values = [b"segment-%04d-" % i + os.urandom(150) for i in range(600)]
    assert produce(broker, topic, values, extra={"batch.num.messages": 10}) == list(range(600))
    part = broker.data_dir / f"{topic}-0"
    logs = sorted(part.glob("*.log"))
    assert len(logs) >= 8, f"only {len(logs)} segments"
    expected_next = 0
    for seg in logs:
        assert seg.stat().st_size <= 10000, f"{seg.name} is larger than segment.bytes"
        assert (part / f"{seg.stem}.index").exists() and (part / f"{seg.stem}.timeindex").exists()
        found = batches(seg)
        assert int(seg.stem) == found[0][1] == expected_next, f"{seg.name} does not start where the last ended"
        expected_next = found[-1][2] + 1
    assert expected_next == 600

    broker.kill9()
    broker.start()
    assert sorted(part.glob("*.log")) == logs
    assert read_all(broker, topic) == list(enumerate(values))
    # reading from the first offset of a middle segment, and from inside one
    middle = int(logs[len(logs) // 2].stem)
    assert read_all(broker, topic, start=middle) == [(i, values[i]) for i in range(middle, 600)]
    assert read_all(broker, topic, start=middle + 3)[0] == (middle + 3, values[middle + 3])
    assert produce(broker, topic, [b"after the crash"]) == [600]


# -- (d) a torn tail is truncated ------------------------------------------------------------------------------
def torn_tails(log: Path) -> dict[str, bytes]:
    data = log.read_bytes()
    pos, base, last = batches(log)[-1]
    whole = bytearray(data[pos:])
    struct.pack_into(">q", whole, 0, last + 1)  # as if the next batch had been written
    bad_crc = bytearray(whole)
    bad_crc[-1] ^= 0xFF
    return {
        "random garbage": os.urandom(333),
        "half a batch": bytes(whole[: len(whole) // 2]),
        "batch with a bad crc": bytes(bad_crc),
        "zeros": bytes(4096),
    }


def test_torn_tail_is_truncated_on_restart(broker):
    topic = "torn"
    create_topic(broker, topic)
    values = [b"before-the-tear-%d" % i for i in range(50)]
    produce(broker, topic, values)
    log = broker.data_dir / f"{topic}-0" / f"{FIRST}.log"
    n = len(values)
    for kind, tail in torn_tails(log).items():
        broker.stop()
        good = log.read_bytes()
        with open(log, "ab") as f:
            f.write(tail)
        (log.parent / f"{FIRST}.index").unlink()
        warned = broker.log_text().count(f"Recovered log {topic}-0: truncated {len(tail)} bytes of a torn tail")
        broker.start()
        assert log.read_bytes() == good, f"{kind}: the tail was not truncated to the last whole batch"
        assert (log.parent / f"{FIRST}.index").exists(), f"{kind}: index not rebuilt"
        assert broker.log_text().count(f"Recovered log {topic}-0: truncated {len(tail)} bytes of a torn tail") \
            == warned + 1, f"{kind}: no warning about the truncation"
        assert read_all(broker, topic) == list(enumerate(values)), kind
        more = [b"after-%s-%d" % (kind.encode(), i) for i in range(5)]
        assert produce(broker, topic, more) == list(range(n, n + 5)), kind
        values += more
        n += 5
    # and after a kill -9 with a torn tail too
    broker.kill9()
    with open(log, "ab") as f:
        f.write(torn_tails(log)["half a batch"])
    broker.start()
    assert read_all(broker, topic) == list(enumerate(values))
    assert produce(broker, topic, [b"last"]) == [n]
