"""A log dir with no space left (a 4 MiB tmpfs): produce answers KAFKA_STORAGE_ERROR with one ERROR line in the
broker's log, reads go on, offset commits answer NOT_COORDINATOR (Kafka's mapping of storage errors), writes resume
once space returns, and every acknowledged record survives kill -9 (no torn batch is left in the log)."""

from __future__ import annotations

import errno
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from conftest import BrokerProcess
from kafka_wire import Conn, wait_for
from kio.schema.errors import ErrorCode
from kio.schema.init_producer_id.v4.request import InitProducerIdRequest
from kio.schema.init_producer_id.v4.response import InitProducerIdResponse
from kio.schema.offset_commit.v8 import request as oc_req
from kio.schema.offset_commit.v8.response import OffsetCommitResponse
from kio.schema.offset_fetch.v7 import request as of_req
from kio.schema.offset_fetch.v7.response import OffsetFetchResponse
from kio.static.primitive import i32, i64

from brook.protocol.records.batch import iter_batch_positions

TIMEOUT = 20.0
TOPIC = "full"
GROUP = "g-full"
CHUNK = b"\0" * (64 << 10)


@pytest.fixture
def disk(tmp_path: Path):
    """A 4 MiB tmpfs, unmounted afterwards; skipped where mounting is not permitted (not root, no CAP_SYS_ADMIN)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs for the full-disk test: {r.stderr.strip() or r.returncode}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(directory: Path) -> list[Path]:
    """Files of zeros until the file system refuses a byte more; returns them."""
    files = []
    while True:
        path = directory / f"filler-{len(files)}"
        files.append(path)
        with open(path, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(CHUNK)
            except OSError as e:
                assert e.errno == errno.ENOSPC
        if path.stat().st_size < len(CHUNK):
            return files


def produce(b: BrokerProcess, values: list[bytes]) -> list[tuple[KafkaError | None, int, bytes]]:
    """One delivery report per value: (error, offset, value). No retries: the broker's answer is what is reported."""
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 0, "retries": 0,
                  "enable.idempotence": False, "message.timeout.ms": 10000})
    reports: list[tuple[KafkaError | None, int, bytes]] = []
    for v in values:
        p.produce(TOPIC, value=v, partition=0, on_delivery=lambda err, m: reports.append((err, m.offset(), m.value())))
        p.flush(TIMEOUT)  # one batch per request, so each gets its own answer
    assert len(reports) == len(values)
    return reports


def read_all(b: BrokerProcess) -> dict[int, bytes]:
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "reader", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest", "fetch.max.bytes": 4 << 20})
    try:
        _, high = c.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=TIMEOUT)
        c.assign([TopicPartition(TOPIC, 0, 0)])
        out: dict[int, bytes] = {}
        wait_for(lambda: _poll_into(c, out) >= high, TIMEOUT, what=f"{high} records")
        return out
    finally:
        c.close()


def _poll_into(c: Consumer, out: dict[int, bytes]) -> int:
    m = c.poll(0.5)
    if m is not None:
        assert m.error() is None, m.error()
        out[m.offset()] = m.value()
    return len(out)


def commit(b: BrokerProcess, offset: int, metadata: str = "") -> ErrorCode:
    part = oc_req.OffsetCommitRequestPartition(partition_index=i32(0), committed_offset=i64(offset),
                                               committed_leader_epoch=i32(-1), committed_metadata=metadata)
    request = oc_req.OffsetCommitRequest(group_id=GROUP, generation_id_or_member_epoch=i32(-1), member_id="",
                                         group_instance_id=None,
                                         topics=(oc_req.OffsetCommitRequestTopic(name=TOPIC, partitions=(part,)),))
    with Conn(b.port) as conn:
        return conn.request(request, OffsetCommitResponse).topics[0].partitions[0].error_code


def init_producer_id(b: BrokerProcess, transactional_id: str) -> ErrorCode:
    request = InitProducerIdRequest(transactional_id=transactional_id, transaction_timeout=timedelta(seconds=60))
    with Conn(b.port) as conn:
        return conn.request(request, InitProducerIdResponse).error_code


def committed(b: BrokerProcess) -> int:
    request = of_req.OffsetFetchRequest(group_id=GROUP, require_stable=False, topics=(
        of_req.OffsetFetchRequestTopic(name=TOPIC, partition_indexes=(i32(0),)),))
    with Conn(b.port) as conn:
        return conn.request(request, OffsetFetchResponse).topics[0].partitions[0].committed_offset


def test_full_disk_answers_storage_errors_keeps_reads_and_resumes(tmp_path: Path, disk: Path) -> None:
    b = BrokerProcess(tmp_path / "data", {"log.dirs": str(disk / "logs"), "offsets.topic.num.partitions": "1",
                                                   "transaction.state.log.num.partitions": "1"})
    b.start()
    try:
        a = AdminClient({"bootstrap.servers": b.bootstrap})
        a.create_topics([NewTopic(TOPIC, 1, 1)], operation_timeout=10)[TOPIC].result(TIMEOUT)
        before = produce(b, [b"before-%d-" % i + b"x" * 1000 for i in range(50)])
        assert all(err is None for err, _, _ in before)
        assert commit(b, 10) == ErrorCode.none  # creates __consumer_offsets while there is room
        assert init_producer_id(b, "tx-before") == ErrorCode.none  # and __transaction_state

        fillers = fill(disk)
        while_full = produce(b, [b"full-%d-" % i + b"y" * 20000 for i in range(20)])
        refused = [err for err, _, _ in while_full if err is not None]
        assert refused, "the full disk took every batch"
        assert {e.code() for e in refused} == {KafkaError.KAFKA_STORAGE_ERROR}
        # the refused batches were taken back: the segment files end with the last whole batch, nothing torn
        for segment in (disk / "logs" / f"{TOPIC}-0").glob("*.log"):
            data = segment.read_bytes()
            assert sum(size for _, _, size in iter_batch_positions(data)) == len(data), segment
        # reads go on: metadata, list offsets and fetch while the disk is full
        acked = {off: v for err, off, v in before + while_full if err is None}
        stored = read_all(b)
        assert {off: stored.get(off) for off in acked} == acked
        # GroupMetadataManager answers a storage error as NOT_COORDINATOR (a commit may first fill the slack of
        # its segment's last page)
        codes = [commit(b, offset, "m" * 4000) for offset in range(11, 15)]
        assert ErrorCode.not_coordinator in codes, codes
        last_ok = 10 + codes.index(ErrorCode.not_coordinator)
        assert set(codes[last_ok - 10:]) == {ErrorCode.not_coordinator}
        assert committed(b) == last_ok  # the refused commits are not visible
        # TransactionStateManager too: NOT_COORDINATOR for a state it cannot write (long ids fill the slack fast)
        long_ids = ["tx-" + "i" * 3000 + str(i) for i in range(4)]
        txn_codes = [init_producer_id(b, t) for t in long_ids]
        assert ErrorCode.not_coordinator in txn_codes, txn_codes
        # admin writes too: the metadata file cannot be rewritten, so the topic is not created (Kafka's storage
        # error, the store unchanged) and the connection stays usable
        failed = a.create_topics([NewTopic("while-full", 1, 1)], operation_timeout=10)["while-full"].exception(TIMEOUT)
        assert failed is not None and failed.args[0].code() == KafkaError.KAFKA_STORAGE_ERROR, failed
        assert "No space left on device" in failed.args[0].str()
        assert "while-full" not in a.list_topics(timeout=TIMEOUT).topics
        log = b.log_text()
        assert "Traceback" not in log
        lines = [line for line in log.splitlines() if " ERROR " in line]
        assert len(lines) == 1, lines  # one line for the episode, not one per request
        assert "Error while appending records to" in lines[0] and "No space left on device" in lines[0]

        assert b.stop() == 0  # a clean stop on a full disk (its checkpoints cannot be written: recovery follows)
        assert "Traceback" not in b.log_text()
        for f in fillers:
            f.unlink()
        b.start()
        assert b.log_text().count("(clean shutdown: False)") == 2  # the first start, and this recovery
        after = produce(b, [b"after-%d-" % i + b"z" * 1000 for i in range(50)])
        assert all(err is None for err, _, _ in after)
        assert commit(b, 30) == ErrorCode.none
        a = AdminClient({"bootstrap.servers": b.bootstrap})
        a.create_topics([NewTopic("while-full", 1, 1)], operation_timeout=10)["while-full"].result(TIMEOUT)
        assert [init_producer_id(b, t) for t in long_ids] == [ErrorCode.none] * 4
        acked.update({off: v for err, off, v in after})

        b.kill9()
        b.start()
        stored = read_all(b)
        assert sorted(stored) == list(range(len(stored))), "offsets are not contiguous"
        assert {off: stored.get(off) for off in acked} == acked
        assert len(stored) == len(acked)  # nothing refused was kept
        assert committed(b) == 30
    finally:
        b.stop()
        os.sync()
