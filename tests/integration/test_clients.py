"""Real, unmocked clients against a real Brook process: produce keyed messages with headers under every
compression codec, consume them back by partition assignment (no consumer groups), and check order, keys,
values, headers, contiguous offsets from 0, and -- from the log files on disk -- that the client really
compressed its batches with the requested codec."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import struct
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from conftest import BrokerProcess, module_broker

PARTITIONS = 3
PER_PARTITION = 12
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
CLIENTS = ["confluent", "kafka-python", "aiokafka", "kcat"]
KCAT = shutil.which("kcat") or "/usr/bin/kcat"
TIMEOUT = 20.0


@dataclass(frozen=True)
class Msg:
    partition: int
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class Got:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


@pytest.fixture(scope="module")
def shared_broker(tmp_path_factory):
    with module_broker(tmp_path_factory, "clients") as b:
        yield b


def create_topic(bootstrap: str, partitions: int = PARTITIONS) -> str:
    name = f"clients-{uuid.uuid4().hex[:10]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(name, partitions, 1)], operation_timeout=10).values():
        f.result(timeout=TIMEOUT)
    return name


def make_messages(tag: str, per_message_headers: bool) -> list[Msg]:
    """Keyed, compressible messages, produced round-robin over the partitions. kcat can only set the same
    headers for a whole invocation, so its messages carry per-partition headers instead of per-message ones."""
    out = []
    for i in range(PARTITIONS * PER_PARTITION):
        p = i % PARTITIONS
        key = f"{tag}-key-{i}".encode()
        value = (f"{tag}-value-{i}-" + "brook" * (20 + i)).encode()
        if per_message_headers:
            headers = (("seq", str(i).encode()), ("dup", b"first"), ("dup", b"second"), ("empty", b""))
        else:
            headers = (("part", str(p).encode()), ("dup", b"first"), ("dup", b"second"))
        out.append(Msg(p, key, value, headers))
    return out


# -- producers: each returns the (partition, offset) the broker acknowledged per message, or None ----------
def produce_confluent(bootstrap: str, topic: str, msgs: list[Msg], codec: str) -> list[tuple[int, int]] | None:
    p = Producer({"bootstrap.servers": bootstrap, "compression.type": codec, "linger.ms": 20, "acks": "all"})
    acked: dict[int, tuple[int, int]] = {}
    errors = []

    def report(i):  # type: ignore[no-untyped-def]
        def cb(err, m):  # type: ignore[no-untyped-def]
            if err is not None:
                errors.append(err)
            else:
                acked[i] = (m.partition(), m.offset())
        return cb

    for i, m in enumerate(msgs):
        p.produce(topic, key=m.key, value=m.value, headers=list(m.headers), partition=m.partition,
                  on_delivery=report(i))
    assert p.flush(TIMEOUT) == 0, "confluent producer did not deliver everything in time"
    assert not errors, errors
    return [acked[i] for i in range(len(msgs))]


def produce_kafka_python(bootstrap: str, topic: str, msgs: list[Msg], codec: str) -> list[tuple[int, int]] | None:
    from kafka import KafkaProducer

    p = KafkaProducer(bootstrap_servers=bootstrap, compression_type=None if codec == "none" else codec,
                      linger_ms=20, acks="all")  # idempotent by default with acks=all
    try:
        futures = [p.send(topic, key=m.key, value=m.value, headers=list(m.headers), partition=m.partition)
                   for m in msgs]
        p.flush(TIMEOUT)
        metas = [f.get(timeout=TIMEOUT) for f in futures]
    finally:
        p.close(timeout=5)
    return [(md.partition, md.offset) for md in metas]


def produce_aiokafka(bootstrap: str, topic: str, msgs: list[Msg], codec: str) -> list[tuple[int, int]] | None:
    from aiokafka import AIOKafkaProducer

    async def run() -> list[tuple[int, int]]:
        p = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type=None if codec == "none" else codec,
                             linger_ms=20, acks="all", request_timeout_ms=int(TIMEOUT * 1000))
        await asyncio.wait_for(p.start(), TIMEOUT)
        try:
            futures = [await p.send(topic, key=m.key, value=m.value, headers=list(m.headers),
                                    partition=m.partition) for m in msgs]
            metas = await asyncio.wait_for(asyncio.gather(*futures), TIMEOUT)
        finally:
            await p.stop()
        return [(md.partition, md.offset) for md in metas]

    return asyncio.run(run())


def produce_kcat(bootstrap: str, topic: str, msgs: list[Msg], codec: str) -> list[tuple[int, int]] | None:
    for p in range(PARTITIONS):
        part = [m for m in msgs if m.partition == p]
        headers = part[0].headers
        assert all(m.headers == headers for m in part), "kcat sets one header list per invocation"
        args = [KCAT, "-b", bootstrap, "-P", "-t", topic, "-p", str(p), "-K", "\t", "-z", codec,
                "-X", "linger.ms=20", "-X", "acks=all"]
        for name, value in headers:
            args += ["-H", f"{name}={value.decode()}"]
        stdin = b"".join(m.key + b"\t" + m.value + b"\n" for m in part)
        r = subprocess.run(args, input=stdin, capture_output=True, timeout=TIMEOUT)
        assert r.returncode == 0, r.stderr.decode()
    return None


# -- consumers: return every record of the topic, read by assignment from offset 0 ------------------------
def consume_confluent(bootstrap: str, topic: str, expected: int) -> list[Got]:
    # librdkafka insists on a group.id, but assign() with auto commit off never talks to a coordinator
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False,
                  "enable.auto.offset.store": False})
    out: list[Got] = []
    try:
        c.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
        deadline = time.monotonic() + TIMEOUT
        while len(out) < expected and time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is None:
                continue
            assert m.error() is None, m.error()
            out.append(Got(m.partition(), m.offset(), m.key(), m.value(), tuple(m.headers() or ())))
    finally:
        c.close()
    return out


def consume_kafka_python(bootstrap: str, topic: str, expected: int) -> list[Got]:
    from kafka import KafkaConsumer
    from kafka import TopicPartition as KTP

    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    out: list[Got] = []
    try:
        tps = [KTP(topic, p) for p in range(PARTITIONS)]
        c.assign(tps)
        for tp in tps:
            c.seek(tp, 0)
        deadline = time.monotonic() + TIMEOUT
        while len(out) < expected and time.monotonic() < deadline:
            for records in c.poll(timeout_ms=200).values():
                out += [Got(r.partition, r.offset, r.key, r.value, tuple(r.headers)) for r in records]
    finally:
        c.close()
    return out


def consume_aiokafka(bootstrap: str, topic: str, expected: int) -> list[Got]:
    from aiokafka import AIOKafkaConsumer
    from aiokafka.structs import TopicPartition as ATP

    async def run() -> list[Got]:
        c = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
        await asyncio.wait_for(c.start(), TIMEOUT)
        out: list[Got] = []
        try:
            tps = [ATP(topic, p) for p in range(PARTITIONS)]
            c.assign(tps)
            for tp in tps:
                c.seek(tp, 0)
            deadline = time.monotonic() + TIMEOUT
            while len(out) < expected and time.monotonic() < deadline:
                for records in (await c.getmany(timeout_ms=200)).values():
                    out += [Got(r.partition, r.offset, r.key, r.value, tuple(r.headers)) for r in records]
        finally:
            await c.stop()
        return out

    return asyncio.run(run())


def consume_kcat(bootstrap: str, topic: str, expected: int) -> list[Got]:
    out: list[Got] = []
    for p in range(PARTITIONS):
        r = subprocess.run([KCAT, "-b", bootstrap, "-C", "-t", topic, "-p", str(p), "-o", "beginning", "-e",
                            "-J", "-q", "-X", "fetch.wait.max.ms=20"], capture_output=True, timeout=TIMEOUT)
        assert r.returncode == 0, r.stderr.decode()
        for line in r.stdout.decode().splitlines():
            j = json.loads(line)
            h = j.get("headers") or []
            headers = tuple((h[i], (h[i + 1] or "").encode()) for i in range(0, len(h), 2))
            out.append(Got(j["partition"], j["offset"], None if j["key"] is None else j["key"].encode(),
                           None if j["payload"] is None else j["payload"].encode(), headers))
    return out


PRODUCERS = {"confluent": produce_confluent, "kafka-python": produce_kafka_python,
             "aiokafka": produce_aiokafka, "kcat": produce_kcat}
CONSUMERS = {"confluent": consume_confluent, "kafka-python": consume_kafka_python,
             "aiokafka": consume_aiokafka, "kcat": consume_kcat}


def stored_batches(data_dir: Path, topic: str) -> list[tuple[int, int]]:
    """(compression codec, producer id) of every RecordBatch in the topic's log files, read from disk."""
    out = []
    for p in range(PARTITIONS):
        for seg in sorted((data_dir / f"{topic}-{p}").glob("*.log")):
            data = seg.read_bytes()
            pos = 0
            while pos + 61 <= len(data):
                (length,) = struct.unpack_from(">i", data, pos + 8)
                (attributes,) = struct.unpack_from(">h", data, pos + 21)
                (producer_id,) = struct.unpack_from(">q", data, pos + 43)
                out.append((attributes & 0x7, producer_id))
                pos += 12 + length
            assert pos == len(data), f"{seg} does not end on a batch boundary"
    return out


def check_round_trip(sent: list[Msg], got: list[Got], acked: list[tuple[int, int]] | None) -> None:
    assert len(got) == len(sent), f"consumed {len(got)} of {len(sent)} messages"
    for p in range(PARTITIONS):
        want = [m for m in sent if m.partition == p]
        have = [g for g in got if g.partition == p]
        assert [g.offset for g in have] == list(range(len(want))), f"partition {p}: offsets not 0..n contiguous"
        assert [g.key for g in have] == [m.key for m in want], f"partition {p}: keys or order differ"
        assert [g.value for g in have] == [m.value for m in want], f"partition {p}: values or order differ"
        assert [g.headers for g in have] == [m.headers for m in want], f"partition {p}: headers differ"
    if acked is not None:
        # the offsets the producer was told are the offsets the consumer reads the messages at
        by_value = {(g.partition, g.value): g.offset for g in got}
        assert [by_value[(m.partition, m.value)] for m in sent] == [o for _, o in acked]
        assert [p for p, _ in acked] == [m.partition for m in sent]


def round_trip(broker: BrokerProcess, producer: str, consumer: str, codec: str) -> None:
    topic = create_topic(broker.bootstrap)
    sent = make_messages(f"{producer}>{consumer}/{codec}", per_message_headers=producer != "kcat")
    acked = PRODUCERS[producer](broker.bootstrap, topic, sent, codec)
    stored = stored_batches(broker.data_dir, topic)
    assert {c for c, _ in stored} == {CODEC_IDS[codec]}, "batches not stored with the codec"
    # kafka-python is idempotent by default with acks=all (a producer id from InitProducerId); the others not
    assert all((pid >= 0) == (producer == "kafka-python") for _, pid in stored)
    got = CONSUMERS[consumer](broker.bootstrap, topic, len(sent))
    check_round_trip(sent, got, acked)


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("client", CLIENTS)
def test_same_client_round_trip(shared_broker, client, codec):
    round_trip(shared_broker, client, client, codec)


@pytest.mark.parametrize(("producer", "consumer", "codec"), [
    ("confluent", "kafka-python", "zstd"),
    ("kafka-python", "aiokafka", "snappy"),
    ("aiokafka", "kcat", "lz4"),
    ("kcat", "confluent", "gzip"),
    ("confluent", "aiokafka", "snappy"),
    ("aiokafka", "confluent", "zstd"),
])
def test_cross_client_round_trip(shared_broker, producer, consumer, codec):
    round_trip(shared_broker, producer, consumer, codec)


def test_consume_from_the_middle(shared_broker):
    """A consumer assigned at an offset inside a compressed batch gets exactly the records from there on."""
    topic = create_topic(shared_broker.bootstrap)
    sent = make_messages("middle", per_message_headers=True)
    produce_confluent(shared_broker.bootstrap, topic, sent, "lz4")
    start = 5
    c = Consumer({"bootstrap.servers": shared_broker.bootstrap, "group.id": "unused",
                  "enable.auto.commit": False})
    got: list[Got] = []
    try:
        c.assign([TopicPartition(topic, 1, start)])
        deadline = time.monotonic() + TIMEOUT
        while len(got) < PER_PARTITION - start and time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is not None:
                assert m.error() is None, m.error()
                got.append(Got(m.partition(), m.offset(), m.key(), m.value(), tuple(m.headers() or ())))
    finally:
        c.close()
    want = [m for m in sent if m.partition == 1][start:]
    assert [g.offset for g in got] == list(range(start, PER_PARTITION))
    assert [g.value for g in got] == [m.value for m in want]


@pytest.mark.parametrize("consumer", ["confluent", "kafka-python", "aiokafka"])
def test_null_empty_and_large_records(shared_broker, consumer):
    topic = create_topic(shared_broker.bootstrap)
    sent = [(None, None), (b"", b""), (b"tombstone", None), (None, b"no key"), (b"big", bytes(range(256)) * 3500)]
    p = Producer({"bootstrap.servers": shared_broker.bootstrap, "linger.ms": 5})
    for key, value in sent:
        p.produce(topic, key=key, value=value, partition=0)
    assert p.flush(TIMEOUT) == 0
    got = CONSUMERS[consumer](shared_broker.bootstrap, topic, len(sent))
    assert [(g.offset, g.key, g.value) for g in got] == [(i, k, v) for i, (k, v) in enumerate(sent)]


def test_oversized_batch_is_refused(shared_broker):
    topic = create_topic(shared_broker.bootstrap)
    errors = []
    p = Producer({"bootstrap.servers": shared_broker.bootstrap, "message.max.bytes": 4_000_000})
    # incompressible, and larger than the topic's max.message.bytes (1048588)
    p.produce(topic, value=os.urandom(1_100_000), partition=0,
              on_delivery=lambda err, m: errors.append(err))
    p.produce(topic, value=b"fits", partition=1, on_delivery=lambda err, m: errors.append(err))
    assert p.flush(TIMEOUT) == 0
    assert sorted(str(e and e.code()) for e in errors) == sorted([str(KafkaError.MSG_SIZE_TOO_LARGE), "None"])
    got = consume_confluent(shared_broker.bootstrap, topic, 1)
    assert [(g.partition, g.offset, g.value) for g in got] == [(1, 0, b"fits")]


def test_waiting_fetch_wakes_up_on_produce(shared_broker):
    """A consumer parked in a long-poll fetch (fetch.wait.max.ms 5 s) gets a new record at once."""
    topic = create_topic(shared_broker.bootstrap)
    c = Consumer({"bootstrap.servers": shared_broker.bootstrap, "group.id": "unused", "enable.auto.commit": False,
                  "fetch.wait.max.ms": 5000})
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        assert c.poll(1.0) is None  # now waiting in the broker on an empty partition
        p = Producer({"bootstrap.servers": shared_broker.bootstrap, "linger.ms": 0})
        p.produce(topic, value=b"wake up", partition=0)
        assert p.flush(TIMEOUT) == 0
        sent = time.monotonic()
        m = None
        while m is None and time.monotonic() - sent < TIMEOUT:
            m = c.poll(0.05)
        assert m is not None and m.error() is None and m.value() == b"wake up"
        assert time.monotonic() - sent < 2.5, "the fetch waited out its max wait instead of waking up"
    finally:
        c.close()
