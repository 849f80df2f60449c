"""Retention over a real broker: old segments go by time and by size, the log start offset moves (and
survives kill -9), and consumers at an old offset get OFFSET_OUT_OF_RANGE and reset as configured."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

RETENTION_CHECK = {"log.retention.check.interval.ms": "200"}


def _wait(cond, timeout: float = 20.0, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _create(bootstrap: str, topic: str, configs: dict[str, str]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(topic, 1, 1, config=configs)]).values():
        f.result(10)


def _produce(bootstrap: str, topic: str, n: int, timestamp_ms: int | None = None) -> None:
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "batch.num.messages": 1})
    for i in range(n):
        if timestamp_ms is None:
            p.produce(topic, value=b"v%05d" % i + b"x" * 90)
        else:
            p.produce(topic, value=b"v%05d" % i + b"x" * 90, timestamp=timestamp_ms)
        p.poll(0)
    assert p.flush(15) == 0


def _watermarks(bootstrap: str, topic: str) -> tuple[int, int]:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "wm"})
    try:
        return c.get_watermark_offsets(TopicPartition(topic, 0), timeout=5)
    finally:
        c.close()


def test_size_retention_deletes_whole_old_segments(broker_factory):
    broker = broker_factory(RETENTION_CHECK)
    _create(broker.bootstrap, "by-size", {"segment.bytes": "2000", "retention.bytes": "6000"})
    _produce(broker.bootstrap, "by-size", 200)
    low, high = _wait(lambda: (wm := _watermarks(broker.bootstrap, "by-size"))[0] > 0 and wm, what="retention")
    assert high == 200 and 0 < low < 200
    segments = sorted((broker.data_dir / "by-size-0").glob("*.log"))
    assert int(segments[0].stem) == low  # the log now starts at its oldest segment's base offset
    assert sum(p.stat().st_size for p in segments) - segments[0].stat().st_size < 6000
    broker.kill9()
    broker.start()
    assert _watermarks(broker.bootstrap, "by-size") == (low, 200)  # the start offset was checkpointed


def test_time_retention_and_out_of_range_consumers(broker_factory):
    broker = broker_factory(RETENTION_CHECK)
    _create(broker.bootstrap, "by-time", {"segment.bytes": "2000", "retention.ms": "60000"})
    _produce(broker.bootstrap, "by-time", 100, timestamp_ms=int(time.time() * 1000) - 3_600_000)  # an hour old
    _produce(broker.bootstrap, "by-time", 30)  # fresh: their segments stay
    low, high = _wait(lambda: (wm := _watermarks(broker.bootstrap, "by-time"))[0] >= 80 and wm,
                      what="time retention")
    assert high == 130 and low <= 100

    # auto.offset.reset=earliest: a consumer at offset 0 is moved to the log start offset
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "r1", "auto.offset.reset": "earliest"})
    c.assign([TopicPartition("by-time", 0, 0)])
    first = _wait(lambda: (m := c.poll(0.2)) is not None and not m.error() and m, what="a record")
    assert first.offset() == low
    c.close()

    # auto.offset.reset=error: the consumer sees OFFSET_OUT_OF_RANGE
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "r2", "auto.offset.reset": "error"})
    c.assign([TopicPartition("by-time", 0, 0)])
    err = _wait(lambda: (m := c.poll(0.2)) is not None and m.error() and m.error(), what="an error")
    assert err.code() in (KafkaError.OFFSET_OUT_OF_RANGE, KafkaError._AUTO_OFFSET_RESET)
    c.close()


def test_retention_leaves_compacted_topics_alone(broker_factory):
    broker = broker_factory({**RETENTION_CHECK, "log.cleaner.enable": "false"})
    old = int(time.time() * 1000) - 3_600_000
    for topic, policy in (("kept", "compact"), ("dropped", "delete")):
        _create(broker.bootstrap, topic, {"segment.bytes": "2000", "retention.ms": "1000", "cleanup.policy": policy})
        p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0, "batch.num.messages": 1})
        for i in range(60):
            p.produce(topic, key=b"k%d" % i, value=b"x" * 100, timestamp=old)
        assert p.flush(15) == 0
    # once retention has visibly run on the delete-policy topic, the compacted one must be untouched
    _wait(lambda: _watermarks(broker.bootstrap, "dropped")[0] > 0, what="retention on the delete topic")
    assert _watermarks(broker.bootstrap, "kept") == (0, 60)
