"""Transactions and idempotence with real clients against real Brook processes: commit/abort visibility under
read_committed and read_uncommitted (confluent-kafka and aiokafka), the last stable offset, an exactly-once
consume-transform-produce copier that survives a broker kill -9 and its own kill -9, an idempotent producer whose
connections are cut mid-flight, fencing, transaction timeouts, Kafka's error codes, and crash recovery."""

from __future__ import annotations

import asyncio
import collections
import datetime
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka import TopicPartition as AioTP
from aiokafka.errors import ProducerFenced
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic
from conftest import module_broker
from kafka_wire import Conn, wait_for

TIMEOUT = 20.0
COPIER = Path(__file__).with_name("eos_copier.py")
TXN_BROKER = {"transaction.abort.timed.out.transaction.cleanup.interval.ms": "500",
              "group.min.session.timeout.ms": "500"}

# Kafka error codes
UNKNOWN_MEMBER_ID = 25
INVALID_PRODUCER_EPOCH = 47
INVALID_TXN_STATE = 48
INVALID_PRODUCER_ID_MAPPING = 49
INVALID_TRANSACTION_TIMEOUT = 50
PRODUCER_FENCED = 90


# -- helpers -----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shared_broker(tmp_path_factory):
    with module_broker(tmp_path_factory, "txn", dict(TXN_BROKER)) as b:
        yield b


def uniq(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_topic(bootstrap: str, partitions: int = 1, name: str | None = None,
                 config: dict[str, str] | None = None) -> str:
    name = name or uniq("txn")
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(name, partitions, 1, config=config or {})], operation_timeout=10).values():
        f.result(timeout=TIMEOUT)
    return name


def txn_producer(bootstrap: str, txn_id: str, **extra: object) -> Producer:
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": txn_id, "linger.ms": 1,
                  "reconnect.backoff.max.ms": 200, **extra})
    p.init_transactions(TIMEOUT)
    return p


def plain_produce(bootstrap: str, topic: str, values: list[bytes], partitions: int = 1) -> None:
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 20,
                  "batch.num.messages": 5000})
    for i, v in enumerate(values):
        while True:
            try:
                p.produce(topic, key=b"%d" % i, value=v, partition=i % partitions)
                break
            except BufferError:
                p.poll(0.05)
    assert p.flush(TIMEOUT) == 0


def read_topic(bootstrap: str, topic: str, isolation: str, partitions: int = 1,
               timeout: float = TIMEOUT) -> dict[int, list[bytes]]:
    """Every record value of every partition, read to the partition's end (the LSO under read_committed)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": uniq("reader"), "isolation.level": isolation,
                  "enable.auto.commit": False, "enable.partition.eof": True, "fetch.wait.max.ms": 50})
    out: dict[int, list[bytes]] = {p: [] for p in range(partitions)}
    try:
        c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        at_end: set[int] = set()
        deadline = time.monotonic() + timeout
        while len(at_end) < partitions:
            assert time.monotonic() < deadline, f"read {sum(map(len, out.values()))} records of {topic}"
            for m in c.consume(1000, 0.2):
                if m.error() is not None:
                    assert m.error().code() == KafkaError._PARTITION_EOF, m.error()
                    at_end.add(m.partition())
                    continue
                out[m.partition()].append(m.value())
    finally:
        c.close()
    return out


def watermarks(bootstrap: str, topic: str, isolation: str, partition: int = 0) -> tuple[int, int]:
    """(low, high) from ListOffsets; high is the last stable offset under read_committed."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": uniq("wm"), "isolation.level": isolation})
    try:
        return c.get_watermark_offsets(TopicPartition(topic, partition), timeout=TIMEOUT, cached=False)
    finally:
        c.close()


def list_offsets_raw(port: int, topic: str, isolation_level: int, partition: int = 0) -> int:
    """ListOffsets v7 LATEST with an explicit isolation level, by raw kio request."""
    from kio.schema.list_offsets.v7.request import ListOffsetsPartition, ListOffsetsRequest, ListOffsetsTopic
    from kio.schema.list_offsets.v7.response import ListOffsetsResponse

    req = ListOffsetsRequest(replica_id=-1, isolation_level=isolation_level, topics=(ListOffsetsTopic(
        name=topic, partitions=(ListOffsetsPartition(partition_index=partition, timestamp=-1),)),))
    with Conn(port) as conn:
        resp = conn.request(req, ListOffsetsResponse)
    part = resp.topics[0].partitions[0]
    assert part.error_code == 0, part
    return part.offset


def txn_values(tag: str, n: int) -> list[bytes]:
    return [f"{tag}-{i}".encode() for i in range(n)]


# -- 1. visibility -----------------------------------------------------------------------------------------------
def test_confluent_commit_and_abort_visibility(shared_broker):
    b = shared_broker.bootstrap
    topic = create_topic(b, partitions=2)
    p = txn_producer(b, uniq("tx-vis"))
    committed, aborted, committed2 = txn_values("c", 20), txn_values("a", 20), txn_values("d", 20)
    for values, commit in ((committed, True), (aborted, False), (committed2, True)):
        p.begin_transaction()
        for i, v in enumerate(values):
            p.produce(topic, value=v, partition=i % 2)
        if commit:
            p.commit_transaction(TIMEOUT)
        else:
            assert p.flush(TIMEOUT) == 0  # the records reach the log before the abort
            p.abort_transaction(TIMEOUT)

    rc = read_topic(b, topic, "read_committed", 2)
    ru = read_topic(b, topic, "read_uncommitted", 2)
    for part in range(2):
        assert rc[part] == committed[part::2] + committed2[part::2]
        assert ru[part] == committed[part::2] + aborted[part::2] + committed2[part::2]
    # 60 records + 3 markers in each partition; nothing is open, so LSO == high watermark
    assert watermarks(b, topic, "read_committed", 0) == watermarks(b, topic, "read_uncommitted", 0) == (0, 33)

    async def aio_read() -> list[bytes]:
        c = AIOKafkaConsumer(bootstrap_servers=b, isolation_level="read_committed", enable_auto_commit=False,
                             auto_offset_reset="earliest")
        await c.start()
        try:
            tps = [AioTP(topic, i) for i in range(2)]
            c.assign(tps)
            await c.seek_to_beginning(*tps)
            got: list[bytes] = []
            deadline = time.monotonic() + TIMEOUT
            while len(got) < 40 and time.monotonic() < deadline:
                for records in (await c.getmany(timeout_ms=200)).values():
                    got.extend(r.value for r in records)
            assert await c.end_offsets(tps) == {tp: 33 for tp in tps}
            return got
        finally:
            await c.stop()

    assert sorted(asyncio.run(aio_read())) == sorted(committed + committed2)


def test_aiokafka_transactional_producer(shared_broker):
    b = shared_broker.bootstrap
    topic = create_topic(b)
    committed, aborted = txn_values("aio-c", 15), txn_values("aio-a", 15)

    class Rollback(Exception):
        pass

    async def produce_and_read() -> tuple[list[bytes], list[bytes]]:
        p = AIOKafkaProducer(bootstrap_servers=b, transactional_id=uniq("tx-aio"))
        await p.start()
        try:
            async with p.transaction():
                for v in committed[:5]:
                    await p.send_and_wait(topic, v, partition=0)
            with pytest.raises(Rollback):
                async with p.transaction():  # an exception inside the block aborts the transaction
                    for v in aborted:
                        await p.send_and_wait(topic, v, partition=0)
                    raise Rollback
            async with p.transaction():
                for v in committed[5:]:
                    await p.send(topic, v, partition=0)
        finally:
            await p.stop()
        out = []
        for isolation in ("read_committed", "read_uncommitted"):
            c = AIOKafkaConsumer(bootstrap_servers=b, isolation_level=isolation, enable_auto_commit=False)
            await c.start()
            try:
                tp = AioTP(topic, 0)
                c.assign([tp])
                await c.seek_to_beginning(tp)
                got: list[bytes] = []
                deadline = time.monotonic() + TIMEOUT
                want = len(committed) + (len(aborted) if isolation == "read_uncommitted" else 0)
                while len(got) < want and time.monotonic() < deadline:
                    for records in (await c.getmany(timeout_ms=200)).values():
                        got.extend(r.value for r in records)
                out.append(got)
            finally:
                await c.stop()
        return out[0], out[1]

    rc, ru = asyncio.run(produce_and_read())
    assert rc == committed
    assert ru == committed[:5] + aborted + committed[5:]
    assert read_topic(b, topic, "read_committed")[0] == committed


def test_open_transaction_holds_back_the_last_stable_offset(shared_broker):
    b = shared_broker.bootstrap
    topic = create_topic(b)
    plain_produce(b, topic, [b"before-0", b"before-1"])
    p = txn_producer(b, uniq("tx-lso"))
    p.begin_transaction()
    for v in txn_values("open", 5):
        p.produce(topic, value=v, partition=0)
    assert p.flush(TIMEOUT) == 0
    plain_produce(b, topic, [b"after-0", b"after-1"])  # non-transactional, but behind the open transaction

    assert watermarks(b, topic, "read_uncommitted") == (0, 9)
    assert watermarks(b, topic, "read_committed") == (0, 2)  # the LSO: the open transaction's first offset
    assert list_offsets_raw(shared_broker.port, topic, 0) == 9
    assert list_offsets_raw(shared_broker.port, topic, 1) == 2

    c = Consumer({"bootstrap.servers": b, "group.id": uniq("lso"), "isolation.level": "read_committed",
                  "enable.auto.commit": False, "fetch.wait.max.ms": 50})
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        got: list[bytes] = []
        wait_for(lambda: got.extend(m.value() for m in c.consume(100, 0.1) if not m.error()) or len(got) >= 2,
                 TIMEOUT, what="the records before the transaction")
        # a few more fetches return nothing past the LSO
        for _ in range(5):
            assert [m for m in c.consume(100, 0.1) if not m.error()] == []
        assert got == [b"before-0", b"before-1"]
        p.commit_transaction(TIMEOUT)
        wait_for(lambda: got.extend(m.value() for m in c.consume(100, 0.1) if not m.error()) or len(got) >= 9,
                 TIMEOUT, what="the committed transaction and the records after it")
        assert got == [b"before-0", b"before-1", *txn_values("open", 5), b"after-0", b"after-1"]
    finally:
        c.close()
    assert watermarks(b, topic, "read_committed") == (0, 10)
    assert list_offsets_raw(shared_broker.port, topic, 1) == list_offsets_raw(shared_broker.port, topic, 0) == 10


# -- 2. exactly once -----------------------------------------------------------------------------------------------
class CopierProcess:
    """eos_copier.py as a subprocess; a reader thread follows its progress lines."""

    def __init__(self, log_dir: Path, args: list[str]) -> None:
        self.stderr = open(log_dir / f"copier-{uuid.uuid4().hex[:6]}.err", "w")
        self.proc = subprocess.Popen([sys.executable, str(COPIER), *args], stdout=subprocess.PIPE,
                                     stderr=self.stderr, text=True)
        self.progress = -1
        self.holding = False  # "holding": stopped inside a transaction whose records are in the log
        self.events: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.strip()
            self.events.append(line)
            if line.startswith("progress "):
                self.progress = max(self.progress, int(line.split()[1]))
            elif line.startswith("holding "):
                self.holding = True

    def exited(self) -> bool:
        return self.proc.poll() is not None

    def send(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def kill9(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.reader.join(10)
        self.stderr.close()

    def wait(self, timeout: float) -> int:
        rc = self.proc.wait(timeout)
        self.reader.join(10)
        return rc


@pytest.fixture
def copiers(tmp_path):
    """Start eos_copier.py instances; any still running at the end are killed."""
    started: list[CopierProcess] = []

    def start(args: list[str]) -> CopierProcess:
        started.append(CopierProcess(tmp_path, args))
        return started[-1]

    yield start
    for c in started:
        c.kill9()


def test_consume_transform_produce_exactly_once(broker_factory, copiers):
    n, partitions = 100_000, 3
    broker = broker_factory(TXN_BROKER)
    b = broker.bootstrap
    src, dst, group, txn_id = uniq("eos-in"), uniq("eos-out"), uniq("eos-group"), uniq("eos-tx")
    create_topic(b, partitions, src)
    create_topic(b, partitions, dst, config={"max.message.bytes": "200"})  # every batch of the copier is refused
    values = [b"%07d" % i for i in range(n)]
    plain_produce(b, src, values, partitions)
    args = [b, src, dst, group, txn_id, "1000"]

    copier = copiers(args)
    # (0) abortable errors: the broker refuses the output batches (MESSAGE_TOO_LARGE), so the copier aborts and
    # rewinds to the committed offsets, again and again, until the topic accepts them
    wait_for(lambda: sum(e.startswith("abort ") for e in copier.events) >= 3 or copier.exited(), 20,
             what="the copier's aborts")
    assert copier.progress < 0 and not copier.exited(), copier.events[-5:]
    admin = AdminClient({"bootstrap.servers": b})
    resource = ConfigResource("topic", dst, incremental_configs=[
        ConfigEntry("max.message.bytes", "1048588", incremental_operation=AlterConfigOpType.SET)])
    for f in admin.incremental_alter_configs([resource]).values():
        f.result(timeout=TIMEOUT)
    aborts = sum(e.startswith("abort ") for e in copier.events)
    # (a) the broker dies by kill -9 a third of the way through, and comes back on the same port
    wait_for(lambda: copier.progress >= n // 3 or copier.exited(), 40, what="a third of the copy")
    assert not copier.exited() and copier.progress < n, copier.events[-5:]
    broker.kill9()
    broker.start()
    # (b) the copier dies by kill -9 two thirds of the way through, mid-transaction; a new instance with the
    # same transactional.id fences it and aborts its open transaction
    seen = copier.progress
    wait_for(lambda: copier.progress >= max(2 * n // 3, seen + 2000) or copier.exited(), 40,
             what="two thirds of the copy")

    def open_in_log() -> int:  # records (and markers) of the copier's open transaction already in the log
        return sum(list_offsets_raw(broker.port, dst, 0, p) - list_offsets_raw(broker.port, dst, 1, p)
                   for p in range(partitions))

    copier.send(signal.SIGUSR2)  # stop before the next commit, the transaction's records in the log
    wait_for(lambda: copier.holding or copier.exited(), 20, what="the copier holding an open transaction")
    assert not copier.exited() and copier.progress < n, copier.events[-5:]
    copier.kill9()
    killed_at, left_open = copier.progress, open_in_log()
    assert left_open > 0
    restarts = 0
    while True:  # a copier that exits on a fatal error is replaced, as an application's supervisor would
        copier = copiers(args)
        rc = copier.wait(60)
        if rc == 0:
            break
        restarts += 1
        assert restarts <= 3, f"copier exited {rc}: {copier.events[-5:]}"
    assert copier.events[-1] == "done"
    assert copier.progress == n and killed_at < n, copier.events

    committed = read_topic(b, dst, "read_committed", partitions, timeout=40)
    for part in range(partitions):
        assert committed[part] == values[part::partitions], f"partition {part}: not each input exactly once"
    assert collections.Counter(v for vs in committed.values() for v in vs) == collections.Counter(values)
    everything = read_topic(b, dst, "read_uncommitted", partitions, timeout=40)
    aborted = sum(map(len, everything.values())) - n
    assert aborted >= left_open  # the killed instance's open transaction was aborted, not lost or committed

    c = Consumer({"bootstrap.servers": b, "group.id": group})
    try:
        offsets = c.committed([TopicPartition(src, p) for p in range(partitions)], timeout=TIMEOUT)
        ends = [c.get_watermark_offsets(TopicPartition(src, p), timeout=TIMEOUT)[1] for p in range(partitions)]
    finally:
        c.close()
    assert [tp.offset for tp in offsets] == ends == [len(values[p::partitions]) for p in range(partitions)]
    print(f"exactly once: {n} records copied; {aborts} aborts on refused batches; {aborted} aborted records in the "
          f"output ({left_open} open at the copier's kill -9); {restarts} extra restarts")


# -- 3. idempotence through a connection-cutting proxy ----------------------------------------------------------
class CuttingProxy:
    """A TCP forwarder on 127.0.0.1. After `arm()` the broker's responses on connections that carry records are
    swallowed; `cut()` waits until one was -- a produce the broker has appended went unanswered -- then resets every
    proxied connection and forwards normally again."""

    BUSY = 2_000  # request bytes after which a connection counts as a producing one (not just metadata)

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.target = 0
        self.lock = threading.Lock()
        self.conns: dict[socket.socket, tuple[socket.socket, list[int]]] = {}  # client -> (upstream, [request bytes])
        self.swallow = threading.Event()
        self.swallowed = 0  # response bytes dropped on producing connections
        self.armed_at = 0
        self.cuts = 0
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            sent = [0]
            with self.lock:
                self.conns[client] = (upstream, sent)
            threading.Thread(target=self._pipe, args=(client, upstream, sent, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, sent, True), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, sent: list[int], responses: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if not responses:
                    sent[0] += len(data)
                elif self.swallow.is_set() and sent[0] > self.BUSY:
                    self.swallowed += len(data)
                    continue
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            with self.lock:
                self.conns.pop(dst if responses else src, None)

    def arm(self) -> None:
        self.armed_at = self.swallowed
        self.swallow.set()

    def cut(self) -> None:
        try:
            wait_for(lambda: self.swallowed > self.armed_at, 10, 0.001, "a produce response to swallow")
        finally:
            with self.lock:
                conns, self.conns = self.conns, {}
            for client, (upstream, _) in conns.items():
                for s in (client, upstream):
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with RST
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    s.close()
            self.swallow.clear()
        self.cuts += 1

    def close(self) -> None:
        self.closed = True
        self.server.close()
        with self.lock:
            for client, (upstream, _) in self.conns.items():
                client.close()
                upstream.close()


def test_idempotent_producer_survives_cut_connections(broker_factory):
    proxy = CuttingProxy()
    try:
        broker = broker_factory({"advertised.listeners": f"PLAINTEXT://127.0.0.1:{proxy.port}"})
        proxy.target = broker.port
        via = f"127.0.0.1:{proxy.port}"
        topic = create_topic(via)
        n = 20_000
        p = Producer({"bootstrap.servers": via, "enable.idempotence": True, "acks": "all", "linger.ms": 2,
                      "batch.num.messages": 100, "max.in.flight.requests.per.connection": 5,
                      "reconnect.backoff.ms": 10, "reconnect.backoff.max.ms": 100})
        delivered: list[int] = []
        errors: list[KafkaError] = []

        def on_delivery(err, msg) -> None:  # type: ignore[no-untyped-def]
            if err is not None:
                errors.append(err)
            else:
                delivered.append(int(msg.value()))

        cuts_at = []
        chunk = n // 4
        for start in range(0, n, chunk):  # four chunks; the connections are cut while each one is in flight
            proxy.arm()
            for i in range(start, start + chunk):
                while True:
                    try:
                        p.produce(topic, value=b"%06d" % i, partition=0, on_delivery=on_delivery)
                        break
                    except BufferError:
                        p.poll(0.01)
            proxy.cut()
            p.poll(0)
            cuts_at.append(len(delivered))
        assert p.flush(60) == 0
        assert not errors, errors[:5]
        assert proxy.cuts == 4 and all(c < n for c in cuts_at), cuts_at
        assert sorted(delivered) == list(range(n))
        got = read_topic(via, topic, "read_uncommitted")[0]
        assert len(got) == n, f"{len(got) - n} extra records"
        assert got == [b"%06d" % i for i in range(n)]
        print(f"idempotence: {n} records, cuts after {cuts_at} deliveries, {proxy.swallowed} produce-response bytes "
              "swallowed")
    finally:
        proxy.close()


# -- 4. fencing, timeouts, error codes ------------------------------------------------------------------------
def test_second_producer_fences_the_first(shared_broker):
    b = shared_broker.bootstrap
    topic = create_topic(b)
    txn_id = uniq("tx-fence")
    old = txn_producer(b, txn_id)
    old.begin_transaction()
    for v in txn_values("zombie", 5):
        old.produce(topic, value=v, partition=0)
    assert old.flush(TIMEOUT) == 0
    new = txn_producer(b, txn_id)  # bumps the epoch and aborts the old instance's transaction
    new.begin_transaction()
    new.produce(topic, value=b"new", partition=0)
    new.commit_transaction(TIMEOUT)
    with pytest.raises(KafkaException) as e:
        old.commit_transaction(TIMEOUT)
    err = e.value.args[0]
    assert err.fatal(), err
    assert err.code() in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED), err
    assert read_topic(b, topic, "read_committed")[0] == [b"new"]


def test_aiokafka_producer_is_fenced(shared_broker):
    b = shared_broker.bootstrap
    topic = create_topic(b)
    txn_id = uniq("tx-aio-fence")

    async def run() -> None:
        old = AIOKafkaProducer(bootstrap_servers=b, transactional_id=txn_id)
        await old.start()
        new = AIOKafkaProducer(bootstrap_servers=b, transactional_id=txn_id)
        try:
            await old.begin_transaction()
            await old.send_and_wait(topic, b"zombie", partition=0)
            await new.start()
            async with new.transaction():
                await new.send_and_wait(topic, b"new", partition=0)
            with pytest.raises(ProducerFenced):
                await old.commit_transaction()
        finally:
            await new.stop()
            await old.stop()

    asyncio.run(run())
    assert read_topic(b, topic, "read_committed")[0] == [b"new"]


def test_timed_out_transaction_is_aborted_by_the_broker(shared_broker):
    b = shared_broker.bootstrap
    topic = create_topic(b)
    p = txn_producer(b, uniq("tx-timeout"), **{"transaction.timeout.ms": 2000})
    p.begin_transaction()
    for v in txn_values("never", 5):
        p.produce(topic, value=v, partition=0)
    assert p.flush(TIMEOUT) == 0
    assert watermarks(b, topic, "read_committed") == (0, 0)
    # the coordinator aborts it (an abort marker at offset 5); read_committed consumers move past it
    wait_for(lambda: watermarks(b, topic, "read_committed") == (0, 6), 15, 0.1, "the timed-out transaction's abort")
    plain_produce(b, topic, [b"later"])
    assert read_topic(b, topic, "read_committed")[0] == [b"later"]
    assert read_topic(b, topic, "read_uncommitted")[0] == [*txn_values("never", 5), b"later"]
    with pytest.raises(KafkaException) as e:  # its epoch was bumped: the producer cannot commit it any more
        p.commit_transaction(TIMEOUT)
    print("timed-out transaction's commit:", e.value.args[0])


def test_error_codes(shared_broker):
    from kio.schema.add_offsets_to_txn.v3.request import AddOffsetsToTxnRequest
    from kio.schema.add_offsets_to_txn.v3.response import AddOffsetsToTxnResponse
    from kio.schema.end_txn.v1.request import EndTxnRequest as EndTxnV1
    from kio.schema.end_txn.v1.response import EndTxnResponse as EndTxnV1Response
    from kio.schema.end_txn.v3.request import EndTxnRequest
    from kio.schema.end_txn.v3.response import EndTxnResponse
    from kio.schema.init_producer_id.v4.request import InitProducerIdRequest
    from kio.schema.init_producer_id.v4.response import InitProducerIdResponse
    from kio.schema.txn_offset_commit.v3.request import (
        TxnOffsetCommitRequest,
        TxnOffsetCommitRequestPartition,
        TxnOffsetCommitRequestTopic,
    )
    from kio.schema.txn_offset_commit.v3.response import TxnOffsetCommitResponse

    topic = create_topic(shared_broker.bootstrap)
    group = uniq("raw-group")
    plain_produce(shared_broker.bootstrap, topic, [b"x"])
    with Conn(shared_broker.port) as conn:
        def init(txn_id: str, timeout_ms: int = 10000) -> InitProducerIdResponse:
            return conn.request(InitProducerIdRequest(transactional_id=txn_id,
                                                      transaction_timeout=datetime.timedelta(milliseconds=timeout_ms)),
                                InitProducerIdResponse)

        def end(txn_id: str, pid: int, epoch: int, version: int = 3) -> int:
            req_cls, resp_cls = (EndTxnRequest, EndTxnResponse) if version == 3 else (EndTxnV1, EndTxnV1Response)
            resp = conn.request(req_cls(transactional_id=txn_id, producer_id=pid, producer_epoch=epoch,
                                        committed=True), resp_cls)
            return resp.error_code

        assert init(uniq("raw"), 24 * 3600 * 1000).error_code == INVALID_TRANSACTION_TIMEOUT  # > max timeout
        txn_id = uniq("raw")
        r = init(txn_id)
        assert r.error_code == 0 and r.producer_id >= 0
        pid, epoch = r.producer_id, r.producer_epoch
        assert end(txn_id, pid, epoch) == INVALID_TXN_STATE  # no transaction is open
        assert end(uniq("unknown"), pid, epoch) == INVALID_PRODUCER_ID_MAPPING
        assert end(txn_id, pid + 1000, epoch) == INVALID_PRODUCER_ID_MAPPING
        assert end(txn_id, pid, epoch - 1 if epoch else epoch + 1) == PRODUCER_FENCED
        assert end(txn_id, pid, epoch - 1 if epoch else epoch + 1, version=1) == INVALID_PRODUCER_EPOCH

        add = conn.request(AddOffsetsToTxnRequest(transactional_id=txn_id, producer_id=pid, producer_epoch=epoch,
                                                  group_id=group), AddOffsetsToTxnResponse)
        assert add.error_code == 0
        commit = conn.request(TxnOffsetCommitRequest(
            transactional_id=txn_id, group_id=group, producer_id=pid, producer_epoch=epoch, generation_id=1,
            member_id="no-such-member", topics=(TxnOffsetCommitRequestTopic(name=topic, partitions=(
                TxnOffsetCommitRequestPartition(partition_index=0, committed_offset=1, committed_metadata=""),)),)),
            TxnOffsetCommitResponse)
        assert commit.topics[0].partitions[0].error_code == UNKNOWN_MEMBER_ID
        assert end(txn_id, pid, epoch) == 0  # the transaction (holding only the group) commits, with no offsets
    c = Consumer({"bootstrap.servers": shared_broker.bootstrap, "group.id": group})
    try:
        assert c.committed([TopicPartition(topic, 0)], timeout=TIMEOUT)[0].offset < 0
    finally:
        c.close()


# -- 5. crash recovery -----------------------------------------------------------------------------------------
def test_transactions_survive_broker_kill9(broker_factory):
    broker = broker_factory(TXN_BROKER)
    b = broker.bootstrap
    done, resumed, timed_out, reinit = (create_topic(b) for _ in range(4))
    input_topic = create_topic(b)
    group = uniq("crash-group")

    # committed and aborted transactions before the crash
    p = txn_producer(b, uniq("tx-done"))
    for tag, commit in (("c", True), ("a", False), ("d", True)):
        p.begin_transaction()
        for v in txn_values(tag, 5):
            p.produce(done, value=v, partition=0)
        if commit:
            p.commit_transaction(TIMEOUT)
        else:
            assert p.flush(TIMEOUT) == 0
            p.abort_transaction(TIMEOUT)

    # open at the crash: one to be finished by its producer (with offsets sent to the transaction), one to time
    # out, one to be aborted by a new instance of its transactional id
    consumer = Consumer({"bootstrap.servers": b, "group.id": group, "enable.auto.commit": False})
    p_resume = txn_producer(b, uniq("tx-resume"))
    p_resume.begin_transaction()
    for v in txn_values("r1", 5):
        p_resume.produce(resumed, value=v, partition=0)
    assert p_resume.flush(TIMEOUT) == 0
    p_resume.send_offsets_to_transaction([TopicPartition(input_topic, 0, 42)], consumer.consumer_group_metadata(),
                                         TIMEOUT)
    p_timeout = txn_producer(b, uniq("tx-timeout"), **{"transaction.timeout.ms": 3000})
    p_timeout.begin_transaction()
    for v in txn_values("t", 5):
        p_timeout.produce(timed_out, value=v, partition=0)
    assert p_timeout.flush(TIMEOUT) == 0
    reinit_id = uniq("tx-reinit")
    p_old = txn_producer(b, reinit_id)
    p_old.begin_transaction()
    for v in txn_values("z", 5):
        p_old.produce(reinit, value=v, partition=0)
    assert p_old.flush(TIMEOUT) == 0
    for topic in (resumed, timed_out, reinit):
        assert watermarks(b, topic, "read_committed") == (0, 0)

    broker.kill9()
    broker.start()

    assert read_topic(b, done, "read_committed")[0] == txn_values("c", 5) + txn_values("d", 5)
    assert read_topic(b, done, "read_uncommitted")[0] == txn_values("c", 5) + txn_values("a", 5) + txn_values("d", 5)
    # still open after the restart: the LSO holds at each transaction's first offset
    for topic in (resumed, reinit):
        assert watermarks(b, topic, "read_committed") == (0, 0)
        assert watermarks(b, topic, "read_uncommitted") == (0, 5)

    # completed by its producer after the restart
    for v in txn_values("r2", 5):
        p_resume.produce(resumed, value=v, partition=0)
    p_resume.commit_transaction(TIMEOUT)
    assert read_topic(b, resumed, "read_committed")[0] == txn_values("r1", 5) + txn_values("r2", 5)
    assert consumer.committed([TopicPartition(input_topic, 0)], timeout=TIMEOUT)[0].offset == 42
    consumer.close()

    # aborted by a new instance of the transactional id
    p_new = txn_producer(b, reinit_id)
    assert watermarks(b, reinit, "read_committed") == (0, 6)
    p_new.begin_transaction()
    p_new.produce(reinit, value=b"fresh", partition=0)
    p_new.commit_transaction(TIMEOUT)
    assert read_topic(b, reinit, "read_committed")[0] == [b"fresh"]

    # aborted by the coordinator once its timeout passed
    wait_for(lambda: watermarks(b, timed_out, "read_committed") == (0, 6), 15, 0.1, "the timed-out abort")
    plain_produce(b, timed_out, [b"later"])
    assert read_topic(b, timed_out, "read_committed")[0] == [b"later"]

    # and all of it again after a clean restart
    broker.restart()
    assert read_topic(b, done, "read_committed")[0] == txn_values("c", 5) + txn_values("d", 5)
    assert read_topic(b, resumed, "read_committed")[0] == txn_values("r1", 5) + txn_values("r2", 5)
    assert read_topic(b, reinit, "read_committed")[0] == [b"fresh"]
    assert read_topic(b, timed_out, "read_committed")[0] == [b"later"]
    c = Consumer({"bootstrap.servers": b, "group.id": group})
    try:
        assert c.committed([TopicPartition(input_topic, 0)], timeout=TIMEOUT)[0].offset == 42
    finally:
        c.close()
    for prod in (p_timeout, p_old):
        prod.purge()
