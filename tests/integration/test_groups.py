"""Consumer groups (classic protocol) with real, unmocked clients against a real Brook process.

Group members run as subprocesses -- one confluent-kafka, one kafka-python, one aiokafka consumer each -- that
report their rebalance callbacks and every record they read as JSON lines, so a member can be closed cleanly
(a "close" line on its stdin) or killed with SIGKILL. Checked: partitions shared with no overlap, session
expiry and LeaveGroup rebalances, committed offsets across clients and across a broker kill -9, KIP-345 static
members, KIP-429 cooperative rebalances, the group admin APIs, and the error codes clients rely on.
Every wait is bounded and polls a condition. GROUPS_DEBUG=1 turns on the members' client debug logs (their stderr
files are in each test's tmp_path and quoted in failure messages).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import (
    Consumer,
    ConsumerGroupState,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic
from conftest import module_broker
from kafka_wire import Conn, decode_response, request_frame, wait_for

from brook.errors import ErrorCode

TIMEOUT = 20.0
# KP_METADATA: kafka-python (3.0.12) joins before its first metadata for the subscribed topic has arrived; with
# group.initial.rebalance.delay.ms=0 the join completes at once, so as leader it assigns from empty metadata ("No
# partition metadata for topic") and, when the metadata arrives, rejoins -- a second rebalance of the whole group,
# which in rare runs never came and left the member with no partitions. Its leader also compares the metadata
# it assigned with against a snapshot taken only on metadata updates after subscribe(). A blocking metadata fetch
# right after subscribe() (topics()) fills both before the first join.
PARTITIONS = 6
SESSION_MS = 6000  # group.min.session.timeout.ms, Kafka's default and Brook's

# A group member in its own process: argv[1] is a JSON config; it prints one JSON object per line
# (started, assign, revoke, lost, msg, error, closed) and closes cleanly on a "close" line or EOF on stdin.
MEMBER = r'''
import json, sys, threading

cfg = json.loads(sys.argv[1])
stop = threading.Event()
lock = threading.Lock()


def emit(ev, **kw):
    with lock:
        sys.stdout.write(json.dumps({"ev": ev, **kw}) + "\n")
        sys.stdout.flush()


def watch_stdin():
    for line in sys.stdin:
        if line.strip() == "close":
            break
    stop.set()


threading.Thread(target=watch_stdin, daemon=True).start()
import logging

logging.basicConfig(level=logging.DEBUG if cfg.get("debug") else logging.INFO, stream=sys.stderr,
                    format="%(asctime)s %(name)s %(message)s")
client, topic = cfg["client"], cfg["topic"]
session, heartbeat = cfg["session_timeout_ms"], cfg["heartbeat_interval_ms"]
instance = cfg.get("instance_id")

if client == "confluent":
    from confluent_kafka import Consumer

    conf = {"bootstrap.servers": cfg["bootstrap"], "group.id": cfg["group"], "client.id": cfg["name"],
            "auto.offset.reset": "earliest", "session.timeout.ms": session, "heartbeat.interval.ms": heartbeat,
            "enable.auto.commit": False}
    if instance:
        conf["group.instance.id"] = instance
    if cfg.get("assignor"):
        conf["partition.assignment.strategy"] = cfg["assignor"]
    if cfg.get("debug"):
        conf["debug"] = "cgrp"
    c = Consumer(conf)

    def tps(parts):
        return sorted(p.partition for p in parts)

    c.subscribe([topic], on_assign=lambda c, ps: emit("assign", tps=tps(ps), member=c.memberid()),
                on_revoke=lambda c, ps: emit("revoke", tps=tps(ps)),
                on_lost=lambda c, ps: emit("lost", tps=tps(ps)))
    emit("started")
    while not stop.is_set():
        m = c.poll(0.05)
        if m is None:
            continue
        if m.error():
            emit("error", code=m.error().code(), name=m.error().name())
            continue
        emit("msg", p=m.partition(), o=m.offset())
    c.close()
    emit("closed")

elif client == "kafka-python":
    from kafka import ConsumerRebalanceListener, KafkaConsumer

    c = KafkaConsumer(bootstrap_servers=cfg["bootstrap"], group_id=cfg["group"], client_id=cfg["name"],
                      auto_offset_reset="earliest", session_timeout_ms=session, heartbeat_interval_ms=heartbeat,
                      enable_auto_commit=False, group_instance_id=instance)

    def member_id():
        gen = getattr(c._coordinator, "_generation", None)
        return getattr(gen, "member_id", None)

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            emit("revoke", tps=sorted(tp.partition for tp in revoked))

        def on_partitions_assigned(self, assigned):
            emit("assign", tps=sorted(tp.partition for tp in assigned), member=member_id())

    c.subscribe([topic], listener=Listener())
    c.topics()  # see KP_METADATA in the test module
    emit("started")
    while not stop.is_set():
        for records in c.poll(timeout_ms=50).values():
            for r in records:
                emit("msg", p=r.partition, o=r.offset)
    c.close()
    emit("closed")

elif client == "aiokafka":
    import asyncio

    from aiokafka import AIOKafkaConsumer
    from aiokafka.abc import ConsumerRebalanceListener

    async def main():
        c = AIOKafkaConsumer(bootstrap_servers=cfg["bootstrap"], group_id=cfg["group"], client_id=cfg["name"],
                             auto_offset_reset="earliest", session_timeout_ms=session,
                             heartbeat_interval_ms=heartbeat, enable_auto_commit=False, group_instance_id=instance)

        class Listener(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked):
                emit("revoke", tps=sorted(tp.partition for tp in revoked))

            def on_partitions_assigned(self, assigned):
                emit("assign", tps=sorted(tp.partition for tp in assigned), member=c._coordinator.member_id)

        await c.start()
        c.subscribe([topic], listener=Listener())
        emit("started")
        while not stop.is_set():
            for records in (await c.getmany(timeout_ms=50)).values():
                for r in records:
                    emit("msg", p=r.partition, o=r.offset)
        await c.stop()
        emit("closed")

    asyncio.run(main())
'''


class Member:
    """One consumer subprocess; its events arrive on a reader thread and update the tracked assignment."""

    def __init__(self, log_dir: Path, client: str, bootstrap: str, group: str, topic: str, *,
                 session_timeout_ms: int = SESSION_MS, heartbeat_interval_ms: int = 500,
                 instance_id: str | None = None, assignor: str | None = None, name: str | None = None) -> None:
        self.client = client
        self.name = name or f"{client}-{uuid.uuid4().hex[:6]}"
        cfg = {"client": client, "bootstrap": bootstrap, "group": group, "topic": topic, "name": self.name,
               "session_timeout_ms": session_timeout_ms, "heartbeat_interval_ms": heartbeat_interval_ms,
               "instance_id": instance_id, "assignor": assignor, "debug": bool(os.environ.get("GROUPS_DEBUG"))}
        self.stderr_path = log_dir / f"{self.name}.stderr"
        self.events: list[dict] = []
        self.partitions: set[int] = set()
        self.records: list[tuple[int, int]] = []
        self.member_id: str | None = None
        self._lock = threading.Lock()
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-c", MEMBER, json.dumps(cfg)], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=err, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            ev = json.loads(line)
            ev["t"] = round(time.monotonic(), 3)
            with self._lock:
                self.events.append(ev)
                kind = ev["ev"]
                if kind == "assign":
                    self.partitions |= set(ev["tps"])
                    self.member_id = ev.get("member") or self.member_id
                elif kind in ("revoke", "lost"):
                    self.partitions -= set(ev["tps"])
                elif kind == "msg":
                    self.records.append((ev["p"], ev["o"]))

    def assignment(self) -> frozenset[int]:
        with self._lock:
            return frozenset(self.partitions)

    def of_kind(self, *kinds: str) -> list[dict]:
        with self._lock:
            return [e for e in self.events if e["ev"] in kinds]

    def got(self) -> list[tuple[int, int]]:
        with self._lock:
            return list(self.records)

    def diagnostics(self) -> str:
        with self._lock:
            events = [e for e in self.events if e["ev"] != "msg"]
        return f"{self.name}: events={events} stderr={self.stderr_path.read_text(errors='replace')[-3000:]}"

    def close(self, timeout: float = TIMEOUT) -> None:
        """A clean close (the client's own close/stop, which sends LeaveGroup for dynamic members)."""
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("close\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout)
        self._reader.join(timeout)
        assert self.of_kind("closed"), self.diagnostics()

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def discard(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture(scope="module")
def shared_broker(tmp_path_factory):
    with module_broker(tmp_path_factory, "groups") as b:
        yield b


@pytest.fixture
def spawn(tmp_path):
    """Start group members; any still running at the end are killed."""
    members: list[Member] = []

    def make(*args, **kwargs) -> Member:  # type: ignore[no-untyped-def]
        m = Member(tmp_path, *args, **kwargs)
        members.append(m)
        return m

    yield make
    for m in members:
        m.discard()


def uniq(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_topic(bootstrap: str, partitions: int = PARTITIONS) -> str:
    topic = uniq("groups")
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(topic, partitions, 1)], operation_timeout=10).values():
        f.result(timeout=TIMEOUT)
    return topic


def produce(bootstrap: str, topic: str, per_partition: int, partitions: int = PARTITIONS) -> set[tuple[int, int]]:
    """Produce per_partition records to every partition; returns the (partition, offset) of each."""
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    written: set[tuple[int, int]] = set()

    def delivered(err, msg) -> None:  # type: ignore[no-untyped-def]
        assert err is None, err
        written.add((msg.partition(), msg.offset()))

    for i in range(per_partition):
        for part in range(partitions):
            p.produce(topic, value=f"v{i}".encode(), key=f"k{part}-{i}".encode(), partition=part,
                      on_delivery=delivered)
    assert p.flush(TIMEOUT) == 0
    assert len(written) == per_partition * partitions
    return written


def covered_disjointly(members: list[Member], partitions: int = PARTITIONS) -> bool:
    """Every partition assigned to exactly one of these members, and each member owns at least one."""
    sets = [m.assignment() for m in members]
    return all(sets) and sum(len(s) for s in sets) == partitions and set().union(*sets) == set(range(partitions))


def wait_members(members: list[Member], what: str, timeout: float = TIMEOUT,
                 partitions: int = PARTITIONS) -> None:
    try:
        wait_for(lambda: covered_disjointly(members, partitions), timeout, what=what)
    except AssertionError as e:
        raise AssertionError("\n".join([str(e), *(m.diagnostics() for m in members)])) from None


def describe(bootstrap: str, group: str):  # type: ignore[no-untyped-def]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    return admin.describe_consumer_groups([group], request_timeout=TIMEOUT)[group].result(timeout=TIMEOUT)


# -- 1-3: sharing, session expiry, LeaveGroup ----------------------------------------------------------------
def test_three_clients_share_a_topic_without_overlap(shared_broker, spawn):
    """confluent-kafka, kafka-python and aiokafka in one group: by default they offer (range, roundrobin),
    (range, roundrobin) and (roundrobin), so the group votes roundrobin; each partition goes to exactly one
    member and every record produced afterwards is read exactly once, each partition by its owner only."""
    bootstrap = shared_broker.bootstrap
    topic, group = create_topic(bootstrap), uniq("share")
    members = [spawn(c, bootstrap, group, topic) for c in ("confluent", "kafka-python", "aiokafka")]
    wait_members(members, "three members to split 6 partitions")
    assert [len(m.assignment()) for m in members] == [2, 2, 2]

    written = produce(bootstrap, topic, per_partition=10)
    wait_for(lambda: sum(len(m.got()) for m in members) >= len(written), TIMEOUT, what="all records consumed")
    everything = [r for m in members for r in m.got()]
    assert len(everything) == len(set(everything)), "a record was read twice"
    assert set(everything) == written
    for m in members:
        assert {p for p, _ in m.got()} <= m.assignment(), f"{m.name} read a partition it does not own"

    d = describe(bootstrap, group)
    assert d.state == ConsumerGroupState.STABLE
    assert d.partition_assignor == "roundrobin"
    assert sorted(x.client_id for x in d.members) == sorted(m.name for m in members)
    owned = {x.client_id: {tp.partition for tp in x.assignment.topic_partitions} for x in d.members}
    assert owned == {m.name: set(m.assignment()) for m in members}
    for m in members:
        m.close()


def test_killed_member_partitions_move_after_session_timeout(shared_broker, spawn):
    """SIGKILL sends no LeaveGroup: the member stays until its session (6 s) expires, then the survivors
    rebalance and own all 6 partitions -- and read what is produced to the dead member's partitions."""
    bootstrap = shared_broker.bootstrap
    topic, group = create_topic(bootstrap), uniq("kill")
    members = [spawn(c, bootstrap, group, topic) for c in ("confluent", "kafka-python", "aiokafka")]
    wait_members(members, "three members to split 6 partitions")
    victim, survivors = members[1], [members[0], members[2]]
    orphaned = victim.assignment()

    victim.kill9()
    killed_at = time.monotonic()
    assert describe(bootstrap, group).state == ConsumerGroupState.STABLE  # not noticed yet: no LeaveGroup
    wait_members(survivors, "survivors to take over the killed member's partitions", timeout=SESSION_MS / 1000 + 15)
    elapsed = time.monotonic() - killed_at
    assert elapsed > SESSION_MS / 1000 - 1.5, f"rebalanced after {elapsed:.1f}s, before the session timeout"

    written = produce(bootstrap, topic, per_partition=3)
    want = {r for r in written if r[0] in orphaned}
    wait_for(lambda: want <= {r for m in survivors for r in m.got()}, TIMEOUT, what="orphaned partitions read")
    d = describe(bootstrap, group)
    assert d.state == ConsumerGroupState.STABLE and len(d.members) == 2


def test_clean_close_rebalances_at_once(shared_broker, spawn):
    """Each client's close()/stop() sends LeaveGroup: the rest rebalance within a few heartbeats, far below
    the 30 s session timeout; the last one out leaves the group Empty."""
    bootstrap = shared_broker.bootstrap
    topic, group = create_topic(bootstrap), uniq("leave")
    members = [spawn(c, bootstrap, group, topic, session_timeout_ms=30000)
               for c in ("confluent", "kafka-python", "aiokafka")]
    wait_members(members, "three members to split 6 partitions")
    for leaving in ("aiokafka", "kafka-python"):
        m = next(m for m in members if m.client == leaving)
        t0 = time.monotonic()
        m.close()
        members.remove(m)
        wait_members(members, f"rebalance after {leaving} left", timeout=8)
        assert time.monotonic() - t0 < 8
    [last] = members
    last.close()
    wait_for(lambda: describe(bootstrap, group).state == ConsumerGroupState.EMPTY, 5, what="group Empty")
    assert describe(bootstrap, group).members == []


# -- 4: committed offsets, handed from client to client ------------------------------------------------------
def consume_confluent(bootstrap: str, group: str, topic: str, count: int) -> set[tuple[int, int]]:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                  "enable.auto.commit": False})
    got: set[tuple[int, int]] = set()
    try:
        c.subscribe([topic])
        deadline = time.monotonic() + TIMEOUT
        while len(got) < count and time.monotonic() < deadline:
            m = c.poll(0.1)
            if m is not None:
                assert m.error() is None, m.error()
                got.add((m.partition(), m.offset()))
        c.commit(asynchronous=False)
    finally:
        c.close()
    return got


def consume_kafka_python(bootstrap: str, group: str, topic: str, count: int) -> set[tuple[int, int]]:
    from kafka import KafkaConsumer

    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                      enable_auto_commit=False)
    got: set[tuple[int, int]] = set()
    try:
        c.subscribe([topic])
        assert topic in c.topics()  # KP_METADATA
        deadline = time.monotonic() + TIMEOUT
        while len(got) < count and time.monotonic() < deadline:
            for records in c.poll(timeout_ms=100).values():
                got |= {(r.partition, r.offset) for r in records}
        c.commit()
    finally:
        c.close()
    return got


def consume_aiokafka(bootstrap: str, group: str, topic: str, count: int) -> set[tuple[int, int]]:
    from aiokafka import AIOKafkaConsumer

    async def run() -> set[tuple[int, int]]:
        c = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                             enable_auto_commit=False)
        await asyncio.wait_for(c.start(), TIMEOUT)
        got: set[tuple[int, int]] = set()
        try:
            deadline = time.monotonic() + TIMEOUT
            while len(got) < count and time.monotonic() < deadline:
                for records in (await c.getmany(timeout_ms=100)).values():
                    got |= {(r.partition, r.offset) for r in records}
            await asyncio.wait_for(c.commit(), TIMEOUT)
        finally:
            await c.stop()
        return got

    return asyncio.run(run())


def committed_offsets(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    request = [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in range(partitions)])]
    result = admin.list_consumer_group_offsets(request, request_timeout=TIMEOUT)[group].result(timeout=TIMEOUT)
    assert all(tp.error is None for tp in result.topic_partitions), result.topic_partitions
    return {tp.partition: tp.offset for tp in result.topic_partitions}


def test_restarted_consumers_resume_from_committed_offsets(shared_broker):
    """Each consumer commits what it read and closes; more records are produced; the next consumer in the
    same group -- a different client each time -- starts exactly at the committed offsets (auto.offset.reset
    is earliest, so a lost commit would show up as re-read records)."""
    bootstrap = shared_broker.bootstrap
    topic, group = create_topic(bootstrap, 3), uniq("resume")
    seen: set[tuple[int, int]] = set()
    for i, consume in enumerate((consume_confluent, consume_kafka_python, consume_aiokafka, consume_confluent)):
        batch = produce(bootstrap, topic, per_partition=4, partitions=3)
        got = consume(bootstrap, group, topic, len(batch))
        assert got == batch, f"consumer {i} ({consume.__name__}) read {sorted(got - batch)} again"
        seen |= got
        assert committed_offsets(bootstrap, group, topic, 3) == {p: 4 * (i + 1) for p in range(3)}
    assert len(seen) == 4 * 4 * 3
    assert describe(bootstrap, group).state == ConsumerGroupState.EMPTY


# -- 5: KIP-345 static membership ----------------------------------------------------------------------------
QUIET_S = 2.0  # four heartbeat intervals: a rebalance would reach every member's callbacks well within it


def assert_quiet(counts: dict[Member, int], until: float) -> None:
    """No rebalance callback (assign/revoke/lost) reaches these members before `until`: a bounded wait on
    the condition that must not happen, which shows up ~0.5-1 s after a spurious rejoin."""
    def disturbed() -> bool:
        return any(len(m.of_kind("assign", "revoke", "lost")) != n for m, n in counts.items())

    try:
        wait_for(disturbed, max(0.0, until - time.monotonic()), what="a rebalance")
    except AssertionError:
        return
    raise AssertionError("unexpected rebalance:\n" + "\n".join(m.diagnostics() for m in counts))


@pytest.mark.parametrize("client", ["confluent", "kafka-python"])
def test_static_member_restart_keeps_assignment_without_rebalance(shared_broker, spawn, client):
    """Two static members (group.instance.id). A static member's close sends no LeaveGroup, and its replacement
    (same group.instance.id, within the session timeout) gets its old partitions back without a rebalance:
    the other member sees no revoke and keeps reading. Done for the follower, then for the leader (both
    clients send JoinGroup below v9, so the new leader is answered as a follower -- KIP-814)."""
    bootstrap = shared_broker.bootstrap
    topic, group = create_topic(bootstrap), uniq("static")
    opts = {"session_timeout_ms": 20000}
    leader = spawn(client, bootstrap, group, topic, instance_id="leader", **opts)
    wait_for(lambda: leader.assignment() == frozenset(range(PARTITIONS)), TIMEOUT, what="leader owns all")
    follower = spawn(client, bootstrap, group, topic, instance_id="follower", **opts)
    wait_members([leader, follower], "two static members to split 6 partitions")
    parts = {"leader": leader.assignment(), "follower": follower.assignment()}
    members = {"leader": leader, "follower": follower}
    assert {m.group_instance_id for m in describe(bootstrap, group).members} == {"leader", "follower"}
    written: set[tuple[int, int]] = set()

    for restarted in ("follower", "leader"):
        other = members["leader" if restarted == "follower" else "follower"]
        other_events = len(other.of_kind("assign", "revoke", "lost"))
        old = members[restarted]
        old_id = old.member_id
        old.close()
        d = describe(bootstrap, group)
        assert d.state == ConsumerGroupState.STABLE and len(d.members) == 2, "a static member's close left"

        new = members[restarted] = spawn(client, bootstrap, group, topic, instance_id=restarted, **opts)
        wait_for(lambda n=new: n.assignment(), TIMEOUT, what=f"restarted {restarted} assigned")
        assigned_at = time.monotonic()
        assert new.assignment() == parts[restarted], new.diagnostics()
        assert new.member_id and new.member_id != old_id
        new_events = len(new.of_kind("assign", "revoke", "lost"))

        # both go on reading their own partitions, and stay quiet: no revoke, no new assignment on either side
        written |= produce(bootstrap, topic, per_partition=2)
        for m in (new, other):
            want = {r for r in written if r[0] in parts["leader" if m is members["leader"] else "follower"]}
            wait_for(lambda m=m, w=want: w <= set(m.got()), TIMEOUT, what=f"{m.name} reads its partitions")
        assert_quiet({new: new_events, other: other_events}, until=assigned_at + QUIET_S)
        assert other.assignment() == parts["leader" if other is members["leader"] else "follower"]
        assert new.assignment() == parts[restarted]
        d = describe(bootstrap, group)
        assert d.state == ConsumerGroupState.STABLE
        assert {(x.group_instance_id, x.member_id) for x in d.members} == \
            {("leader", members["leader"].member_id), ("follower", members["follower"].member_id)}


# -- 6: KIP-429 cooperative rebalancing ----------------------------------------------------------------------
def test_cooperative_sticky_revokes_only_moved_partitions(shared_broker, spawn):
    """cooperative-sticky: when a second member joins, the first gives up only the partitions that move to
    it (its on_revoke sees those three, never all six); when the second leaves, the first only gains."""
    bootstrap = shared_broker.bootstrap
    topic, group = create_topic(bootstrap), uniq("coop")
    opts = {"assignor": "cooperative-sticky", "session_timeout_ms": 30000}
    first = spawn("confluent", bootstrap, group, topic, **opts)
    wait_for(lambda: first.assignment() == frozenset(range(PARTITIONS)), TIMEOUT, what="first owns all")
    second = spawn("confluent", bootstrap, group, topic, **opts)
    wait_members([first, second], "cooperative rebalance to split 6 partitions")
    moved = second.assignment()
    assert len(moved) == 3
    revoked = [set(e["tps"]) for e in first.of_kind("revoke", "lost")]
    assert revoked == [set(moved)], first.diagnostics()
    assert [set(e["tps"]) for e in first.of_kind("assign") if e["tps"]] == [set(range(PARTITIONS))]
    assert describe(bootstrap, group).partition_assignor == "cooperative-sticky"

    second.close()
    wait_for(lambda: first.assignment() == frozenset(range(PARTITIONS)), 8, what="first takes all back")
    assert len(first.of_kind("revoke", "lost")) == 1, first.diagnostics()
    assert [set(e["tps"]) for e in first.of_kind("assign") if e["tps"]][-1] == set(moved)


# -- 7: group state and offsets survive kill -9 ---------------------------------------------------------------
def test_offsets_and_groups_survive_broker_kill9(broker, spawn):
    """Committed offsets and group metadata are records in __consumer_offsets: after a kill -9 and restart
    the broker replays them -- committed() returns the offsets, the admin client lists and describes the
    groups, and a member that kept running through the outage still owns its partitions and reads on."""
    bootstrap = broker.bootstrap
    topic = create_topic(bootstrap, 3)
    idle, live = uniq("idle"), uniq("live")
    batch = produce(bootstrap, topic, per_partition=5, partitions=3)
    assert consume_confluent(bootstrap, idle, topic, len(batch)) == batch
    member = spawn("confluent", bootstrap, live, topic, session_timeout_ms=30000)
    wait_for(lambda: member.assignment() == frozenset(range(3)), TIMEOUT, what="live member assigned")
    wait_for(lambda: set(member.got()) == batch, TIMEOUT, what="live member read the first batch")

    broker.kill9()
    broker.start()

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": idle, "enable.auto.commit": False})
    try:
        committed = c.committed([TopicPartition(topic, p) for p in range(3)], timeout=TIMEOUT)
    finally:
        c.close()
    assert {tp.partition: tp.offset for tp in committed} == {0: 5, 1: 5, 2: 5}
    assert all(tp.error is None for tp in committed)

    admin = AdminClient({"bootstrap.servers": bootstrap})
    listed = admin.list_consumer_groups(request_timeout=TIMEOUT).result(timeout=TIMEOUT)
    assert not listed.errors
    states = {g.group_id: g.state for g in listed.valid}
    assert states[idle] == ConsumerGroupState.EMPTY
    assert states[live] == ConsumerGroupState.STABLE
    assert describe(bootstrap, idle).state == ConsumerGroupState.EMPTY
    d = describe(bootstrap, live)
    assert d.state == ConsumerGroupState.STABLE and [x.client_id for x in d.members] == [member.name]
    assert {tp.partition for tp in d.members[0].assignment.topic_partitions} == {0, 1, 2}

    more = produce(bootstrap, topic, per_partition=2, partitions=3)
    wait_for(lambda: more <= set(member.got()), TIMEOUT, what="live member reads after the restart")
    assert member.assignment() == frozenset(range(3))
    member.close()
    assert describe(bootstrap, live).state == ConsumerGroupState.EMPTY


# -- 8: the group admin APIs ----------------------------------------------------------------------------------
def alter_offsets(admin: AdminClient, group: str, offsets: dict[tuple[str, int], int]) -> list[TopicPartition]:
    request = [ConsumerGroupTopicPartitions(group, [TopicPartition(t, p, o) for (t, p), o in offsets.items()])]
    return admin.alter_consumer_group_offsets(request, request_timeout=TIMEOUT)[group].result(
        timeout=TIMEOUT).topic_partitions


def listed(admin: AdminClient, **kwargs) -> dict[str, ConsumerGroupState]:  # type: ignore[no-untyped-def]
    result = admin.list_consumer_groups(request_timeout=TIMEOUT, **kwargs).result(timeout=TIMEOUT)
    assert not result.errors
    return {g.group_id: g.state for g in result.valid}


def kafka_error(future) -> KafkaError:  # type: ignore[no-untyped-def]
    with pytest.raises(KafkaException) as info:
        future.result(timeout=TIMEOUT)
    return info.value.args[0]


def test_group_admin_apis(shared_broker, spawn):
    """AdminClient's group APIs against a group with an active member and an empty one: list (with a
    state filter), describe, list/alter offsets (AlterConsumerGroupOffsets is an OffsetCommit with no
    member, refused while the group has members), OffsetDelete (GROUP_SUBSCRIBED_TO_TOPIC for a topic the
    members subscribe to; confluent-kafka's Python API lacks it, so kafka-python's admin sends it) and
    DeleteGroups (NON_EMPTY_GROUP while members exist, GROUP_ID_NOT_FOUND once gone)."""
    from kafka import KafkaAdminClient
    from kafka import TopicPartition as KTP
    from kafka.errors import GroupSubscribedToTopicError, NoError

    bootstrap = shared_broker.bootstrap
    admin = AdminClient({"bootstrap.servers": bootstrap})
    subscribed, other = create_topic(bootstrap, 3), create_topic(bootstrap, 2)
    group, empty = uniq("adm"), uniq("adm-empty")
    produce(bootstrap, subscribed, per_partition=10, partitions=3)
    produce(bootstrap, other, per_partition=10, partitions=2)

    # offsets altered while the groups have no members: this creates them, Empty
    offsets = {(subscribed, 0): 3, (subscribed, 1): 4, (subscribed, 2): 5, (other, 0): 6, (other, 1): 7}
    for g in (group, empty):
        assert all(tp.error is None for tp in alter_offsets(admin, g, offsets))
        assert committed_offsets(bootstrap, g, subscribed, 3) == {0: 3, 1: 4, 2: 5}
        assert committed_offsets(bootstrap, g, other, 2) == {0: 6, 1: 7}
    everything = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)],
                                                   request_timeout=TIMEOUT)[group].result(timeout=TIMEOUT)
    assert {(tp.topic, tp.partition): tp.offset for tp in everything.topic_partitions} == offsets

    member = spawn("confluent", bootstrap, group, subscribed, session_timeout_ms=30000)
    wait_for(lambda: member.assignment() == frozenset(range(3)), TIMEOUT, what="member assigned")
    # it starts from the offsets set by the admin client
    wait_for(lambda: len(member.got()) >= 30 - 12, TIMEOUT, what="member reads from the committed offsets")
    assert min(o for p, o in member.got() if p == 2) == 5

    assert listed(admin, states={ConsumerGroupState.STABLE}).get(group) == ConsumerGroupState.STABLE
    assert empty not in listed(admin, states={ConsumerGroupState.STABLE})
    assert listed(admin, states={ConsumerGroupState.EMPTY}).get(empty) == ConsumerGroupState.EMPTY
    assert group not in listed(admin, states={ConsumerGroupState.EMPTY})
    both = listed(admin, states={ConsumerGroupState.EMPTY, ConsumerGroupState.STABLE})
    assert {group, empty} <= set(both)

    d = describe(bootstrap, group)
    assert d.group_id == group and d.state == ConsumerGroupState.STABLE and not d.is_simple_consumer_group
    assert d.partition_assignor == "range"  # librdkafka's first preference
    [m] = d.members
    assert m.client_id == member.name and m.member_id == member.member_id and m.group_instance_id is None
    assert m.host.endswith("127.0.0.1")
    assert sorted((tp.topic, tp.partition) for tp in m.assignment.topic_partitions) == \
        [(subscribed, p) for p in range(3)]
    d = describe(bootstrap, empty)
    assert d.state == ConsumerGroupState.EMPTY and d.members == []

    # an admin commit to a group with members is refused
    [refused] = alter_offsets(admin, group, {(other, 0): 1})
    assert refused.error is not None and refused.error.code() == KafkaError.UNKNOWN_MEMBER_ID, refused
    assert committed_offsets(bootstrap, group, other, 2) == {0: 6, 1: 7}

    ka = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        result = ka.delete_group_offsets(group, [KTP(subscribed, 0), KTP(other, 0)])
        assert result == {KTP(subscribed, 0): GroupSubscribedToTopicError, KTP(other, 0): NoError}
        assert committed_offsets(bootstrap, group, other, 2) == {0: -1001, 1: 7}
        assert committed_offsets(bootstrap, group, subscribed, 3)[0] == 3

        error = kafka_error(admin.delete_consumer_groups([group], request_timeout=TIMEOUT)[group])
        assert error.code() == KafkaError.NON_EMPTY_GROUP

        member.close()
        assert describe(bootstrap, group).state == ConsumerGroupState.EMPTY
        assert ka.delete_group_offsets(group, [KTP(subscribed, 0)]) == {KTP(subscribed, 0): NoError}
        assert committed_offsets(bootstrap, group, subscribed, 3) == {0: -1001, 1: 4, 2: 5}
    finally:
        ka.close()

    for g in (group, empty):
        assert admin.delete_consumer_groups([g], request_timeout=TIMEOUT)[g].result(timeout=TIMEOUT) is None
    assert not {group, empty} & set(listed(admin))
    assert committed_offsets(bootstrap, empty, subscribed, 3) == {0: -1001, 1: -1001, 2: -1001}
    error = kafka_error(admin.delete_consumer_groups([group], request_timeout=TIMEOUT)[group])
    assert error.code() == KafkaError.GROUP_ID_NOT_FOUND


# -- 9: error codes clients rely on ---------------------------------------------------------------------------
def test_session_timeout_below_minimum_is_reported_by_every_client(shared_broker):
    """group.min.session.timeout.ms is 6000: a JoinGroup asking for 1000 gets INVALID_SESSION_TIMEOUT,
    which confluent-kafka returns from poll(), and kafka-python and aiokafka raise."""
    from aiokafka import AIOKafkaConsumer
    from aiokafka.errors import InvalidSessionTimeoutError as AIOInvalidSessionTimeout
    from kafka import KafkaConsumer
    from kafka.errors import InvalidSessionTimeoutError

    bootstrap = shared_broker.bootstrap
    topic = create_topic(bootstrap, 1)

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": uniq("ist"), "session.timeout.ms": 1000,
                  "heartbeat.interval.ms": 100})
    try:
        c.subscribe([topic])
        m = wait_for(lambda: c.poll(0.1), TIMEOUT, interval=0, what="an error from poll()")
        assert m.error() is not None and m.error().code() == KafkaError.INVALID_SESSION_TIMEOUT, m.error()
    finally:
        c.close()

    k = KafkaConsumer(bootstrap_servers=bootstrap, group_id=uniq("ist"), session_timeout_ms=1000,
                      heartbeat_interval_ms=100)
    try:
        k.subscribe([topic])
        with pytest.raises(InvalidSessionTimeoutError):
            k.poll(timeout_ms=int(TIMEOUT * 1000))
    finally:
        k.close()

    async def aio() -> None:
        a = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=uniq("ist"), session_timeout_ms=1000,
                             heartbeat_interval_ms=100)
        try:
            with pytest.raises(AIOInvalidSessionTimeout):
                await asyncio.wait_for(a.start(), TIMEOUT)
        finally:
            await a.stop()

    asyncio.run(aio())


def _join(group: str, member_id: str = "", session_ms: int = SESSION_MS, instance: str | None = None,
          protocol_type: str = "consumer", v9: bool = False, rebalance_ms: int = 10000):  # type: ignore[no-untyped-def]
    if v9:
        from kio.schema.join_group.v9.request import JoinGroupRequest, JoinGroupRequestProtocol
    else:
        from kio.schema.join_group.v5.request import JoinGroupRequest, JoinGroupRequestProtocol

    return JoinGroupRequest(group_id=group, session_timeout=datetime.timedelta(milliseconds=session_ms),
                            rebalance_timeout=datetime.timedelta(milliseconds=rebalance_ms), member_id=member_id,
                            group_instance_id=instance, protocol_type=protocol_type,
                            protocols=(JoinGroupRequestProtocol(name="range", metadata=b"\x00\x01"),))


def _sync(group: str, generation: int, member_id: str, assignments: dict[str, bytes],
          instance: str | None = None):  # type: ignore[no-untyped-def]
    from kio.schema.sync_group.v3.request import SyncGroupRequest, SyncGroupRequestAssignment

    return SyncGroupRequest(group_id=group, generation_id=generation, member_id=member_id, group_instance_id=instance,
                            assignments=tuple(SyncGroupRequestAssignment(member_id=m, assignment=a)
                                              for m, a in assignments.items()))


def _heartbeat(group: str, generation: int, member_id: str, instance: str | None = None):  # type: ignore[no-untyped-def]
    from kio.schema.heartbeat.v3.request import HeartbeatRequest

    return HeartbeatRequest(group_id=group, generation_id=generation, member_id=member_id, group_instance_id=instance)


def _commit(group: str, generation: int, member_id: str, topic: str, instance: str | None = None):  # type: ignore[no-untyped-def]
    from kio.schema.offset_commit.v7.request import (
        OffsetCommitRequest,
        OffsetCommitRequestPartition,
        OffsetCommitRequestTopic,
    )

    return OffsetCommitRequest(group_id=group, generation_id_or_member_epoch=generation, member_id=member_id,
                               group_instance_id=instance, topics=(OffsetCommitRequestTopic(name=topic, partitions=(
                                   OffsetCommitRequestPartition(partition_index=0, committed_offset=1,
                                                                committed_leader_epoch=-1, committed_metadata=""),)),))


def test_group_error_codes_over_raw_requests(shared_broker):
    """The error codes clients branch on, from kio-encoded JoinGroup v5 / SyncGroup v3 / Heartbeat v3 /
    LeaveGroup v3 / OffsetCommit v7 requests, following Kafka's classic GroupCoordinator."""
    from kio.schema.heartbeat.v3.response import HeartbeatResponse
    from kio.schema.join_group.v5.response import JoinGroupResponse
    from kio.schema.join_group.v9.response import JoinGroupResponse as JoinGroupResponseV9
    from kio.schema.leave_group.v3.request import LeaveGroupRequest, MemberIdentity
    from kio.schema.leave_group.v3.response import LeaveGroupResponse
    from kio.schema.offset_commit.v7.response import OffsetCommitResponse
    from kio.schema.sync_group.v3.response import SyncGroupResponse

    bootstrap = shared_broker.bootstrap
    topic = create_topic(bootstrap, 1)
    group = uniq("raw")
    with Conn(shared_broker.port) as conn, Conn(shared_broker.port) as conn2:
        def commit_error(*args, **kwargs) -> ErrorCode:  # type: ignore[no-untyped-def]
            return conn.request(_commit(*args, **kwargs), OffsetCommitResponse).topics[0].partitions[0].error_code

        # session timeouts outside [group.min.session.timeout.ms, group.max.session.timeout.ms]
        for session_ms in (1000, SESSION_MS - 1, 1800001):
            r = conn.request(_join(group, session_ms=session_ms), JoinGroupResponse)
            assert r.error_code == ErrorCode.invalid_session_timeout, session_ms
        assert conn.request(_join(""), JoinGroupResponse).error_code == ErrorCode.invalid_group_id

        # KIP-394: a new dynamic member (v4+) first gets its id with MEMBER_ID_REQUIRED, then joins with it
        r = conn.request(_join(group), JoinGroupResponse)
        assert r.error_code == ErrorCode.member_id_required and r.member_id
        a = r.member_id
        r = conn.request(_join(group, a), JoinGroupResponse)
        assert (r.error_code, r.generation_id, r.leader, r.member_id, r.protocol_name) == \
            (ErrorCode.none, 1, a, a, "range")
        assert [(m.member_id, m.metadata) for m in r.members] == [(a, b"\x00\x01")]
        assert conn.request(_join(group, "nobody"), JoinGroupResponse).error_code == ErrorCode.unknown_member_id
        r = conn.request(_join(group, protocol_type="connect"), JoinGroupResponse)
        assert r.error_code == ErrorCode.inconsistent_group_protocol

        assert conn.request(_sync(group, 2, a, {}), SyncGroupResponse).error_code == ErrorCode.illegal_generation
        assert conn.request(_sync(group, 1, "nobody", {}), SyncGroupResponse).error_code == \
            ErrorCode.unknown_member_id
        r = conn.request(_sync(group, 1, a, {a: b"assigned"}), SyncGroupResponse)
        assert (r.error_code, r.assignment) == (ErrorCode.none, b"assigned")

        assert conn.request(_heartbeat(group, 1, a), HeartbeatResponse).error_code == ErrorCode.none
        assert conn.request(_heartbeat(group, 0, a), HeartbeatResponse).error_code == ErrorCode.illegal_generation
        assert conn.request(_heartbeat(group, 1, "nobody"), HeartbeatResponse).error_code == \
            ErrorCode.unknown_member_id
        assert commit_error(group, 1, a, topic) == ErrorCode.none
        assert commit_error(group, 7, a, topic) == ErrorCode.illegal_generation
        assert commit_error(group, 1, "nobody", topic) == ErrorCode.unknown_member_id
        assert commit_error(group, -1, "", topic) == ErrorCode.unknown_member_id  # not Empty: members only
        assert commit_error(uniq("no-such-group"), 1, "nobody", topic) == ErrorCode.illegal_generation

        # a second member's join puts the group in PreparingRebalance: the first learns it from its heartbeat
        r = conn2.request(_join(group), JoinGroupResponse)
        assert r.error_code == ErrorCode.member_id_required
        b = r.member_id
        conn2.send(request_frame(_join(group, b), 99))  # parked until every member has rejoined
        assert conn.request(_heartbeat(group, 1, a), HeartbeatResponse).error_code == ErrorCode.rebalance_in_progress
        assert commit_error(group, 1, a, topic) == ErrorCode.none  # still allowed: commit before rejoining
        r = conn.request(_join(group, a), JoinGroupResponse)
        assert (r.error_code, r.generation_id, r.leader) == (ErrorCode.none, 2, a)
        assert {m.member_id for m in r.members} == {a, b}
        corr, r2 = decode_response(conn2.recv_payload(), JoinGroupResponse)
        assert (corr, r2.error_code, r2.generation_id, r2.leader, r2.members) == (99, ErrorCode.none, 2, a, ())

        assert commit_error(group, 2, a, topic) == ErrorCode.rebalance_in_progress  # CompletingRebalance
        # a repeated join with unchanged metadata while the group awaits the leader's SyncGroup (a lost
        # response) is answered from the current generation -- for the leader too -- without a new rebalance
        r = conn.request(_join(group, a), JoinGroupResponse)
        assert (r.error_code, r.generation_id, r.leader, {m.member_id for m in r.members}) == \
            (ErrorCode.none, 2, a, {a, b})
        r = conn2.request(_join(group, b), JoinGroupResponse)
        assert (r.error_code, r.generation_id, r.leader, r.members) == (ErrorCode.none, 2, a, ())
        # the leader's SyncGroup completes the follower's, which is parked until then
        conn2.send(request_frame(_sync(group, 2, b, {}), 100))
        r = conn.request(_sync(group, 2, a, {a: b"for-a", b: b"for-b"}), SyncGroupResponse)
        assert (r.error_code, r.assignment) == (ErrorCode.none, b"for-a")
        corr, r2 = decode_response(conn2.recv_payload(), SyncGroupResponse)
        assert (corr, r2.error_code, r2.assignment) == (100, ErrorCode.none, b"for-b")

        r = conn.request(LeaveGroupRequest(group_id=group, members=(
            MemberIdentity(member_id=a, group_instance_id=None),
            MemberIdentity(member_id="nobody", group_instance_id=None),
            MemberIdentity(member_id="", group_instance_id="no-such-instance"))), LeaveGroupResponse)
        assert r.error_code == ErrorCode.none
        assert [m.error_code for m in r.members] == \
            [ErrorCode.none, ErrorCode.unknown_member_id, ErrorCode.unknown_member_id]
        assert conn2.request(_heartbeat(group, 2, b), HeartbeatResponse).error_code == \
            ErrorCode.rebalance_in_progress

        # KIP-345: a static member joins without MEMBER_ID_REQUIRED; a second join with its instance id
        # replaces it, and the old member id is fenced. The replaced member was the leader: KIP-814 tells a
        # v9 client to skip the assignment (with the members), while v0-v8 get the previous leader's id and
        # no members, so they act as followers -- a Stable group keeps its assignment and generation.
        static = uniq("raw-static")
        r = conn.request(_join(static, instance="s1"), JoinGroupResponse)
        assert r.error_code == ErrorCode.none and r.leader == r.member_id
        first = r.member_id
        assert conn.request(_sync(static, 1, first, {first: b"x"}, "s1"), SyncGroupResponse).error_code == \
            ErrorCode.none
        r = conn.request(_join(static, instance="s1", v9=True), JoinGroupResponseV9)
        assert (r.error_code, r.generation_id, r.skip_assignment) == (ErrorCode.none, 1, True)
        assert r.leader == r.member_id != first
        assert [(m.member_id, m.group_instance_id, m.metadata) for m in r.members] == \
            [(r.member_id, "s1", b"\x00\x01")]
        old = r.member_id
        r = conn.request(_join(static, instance="s1"), JoinGroupResponse)
        assert r.error_code == ErrorCode.none and r.member_id != old and r.generation_id == 1
        assert (r.leader, r.members) == (old, ())
        new = r.member_id
        assert conn.request(_heartbeat(static, 1, old, "s1"), HeartbeatResponse).error_code == \
            ErrorCode.fenced_instance_id
        assert commit_error(static, 1, old, topic, "s1") == ErrorCode.fenced_instance_id
        assert conn.request(_sync(static, 1, old, {}, "s1"), SyncGroupResponse).error_code == \
            ErrorCode.fenced_instance_id
        r = conn.request(_sync(static, 1, new, {}, "s1"), SyncGroupResponse)
        assert (r.error_code, r.assignment) == (ErrorCode.none, b"x")
        assert conn.request(_heartbeat(static, 1, new, "s1"), HeartbeatResponse).error_code == ErrorCode.none
        r = conn.request(LeaveGroupRequest(group_id=static, members=(
            MemberIdentity(member_id=old, group_instance_id="s1"),)), LeaveGroupResponse)
        assert [m.error_code for m in r.members] == [ErrorCode.fenced_instance_id]
        r = conn.request(LeaveGroupRequest(group_id=static, members=(
            MemberIdentity(member_id="", group_instance_id="s1"),)), LeaveGroupResponse)
        assert [m.error_code for m in r.members] == [ErrorCode.none]
    assert describe(bootstrap, static).state == ConsumerGroupState.EMPTY


def test_static_member_outlives_a_rebalance_timeout(shared_broker):
    """KIP-345: a static member that does not rejoin within the rebalance timeout stays in the group (only its
    session timeout removes it); the rebalance completes without it, led by a member that did rejoin, and
    it comes back into the new generation without another rebalance."""
    from kio.schema.describe_groups.v5.request import DescribeGroupsRequest
    from kio.schema.describe_groups.v5.response import DescribeGroupsResponse
    from kio.schema.heartbeat.v3.response import HeartbeatResponse
    from kio.schema.join_group.v5.response import JoinGroupResponse
    from kio.schema.sync_group.v3.response import SyncGroupResponse

    group = uniq("raw-static-timeout")
    quick = {"session_ms": 30000, "rebalance_ms": 1000}
    with Conn(shared_broker.port) as static, Conn(shared_broker.port) as dynamic:
        r = static.request(_join(group, instance="stays", **quick), JoinGroupResponse)
        assert (r.error_code, r.generation_id, r.leader) == (ErrorCode.none, 1, r.member_id)
        s = r.member_id
        assert static.request(_sync(group, 1, s, {s: b"s1"}, "stays"), SyncGroupResponse).error_code == \
            ErrorCode.none

        r = dynamic.request(_join(group, **quick), JoinGroupResponse)
        assert r.error_code == ErrorCode.member_id_required
        d = r.member_id
        t0 = time.monotonic()
        r = dynamic.request(_join(group, d, **quick), JoinGroupResponse)  # completes at the rebalance timeout
        assert time.monotonic() - t0 > 0.5
        assert (r.error_code, r.generation_id, r.leader) == (ErrorCode.none, 2, d)
        assert {(m.member_id, m.group_instance_id) for m in r.members} == {(s, "stays"), (d, None)}
        r = dynamic.request(_sync(group, 2, d, {d: b"d2", s: b"s2"}), SyncGroupResponse)
        assert (r.error_code, r.assignment) == (ErrorCode.none, b"d2")
        [described] = dynamic.request(DescribeGroupsRequest(groups=(group,), include_authorized_operations=False),
                                      DescribeGroupsResponse).groups
        assert described.group_state == "Stable"
        assert {(m.member_id, m.member_assignment) for m in described.members} == {(s, b"s2"), (d, b"d2")}

        # the static member learns of the new generation and rejoins with unchanged metadata: no rebalance
        assert static.request(_heartbeat(group, 1, s, "stays"), HeartbeatResponse).error_code == \
            ErrorCode.illegal_generation
        r = static.request(_join(group, s, instance="stays", **quick), JoinGroupResponse)
        assert (r.error_code, r.generation_id, r.leader, r.members) == (ErrorCode.none, 2, d, ())
        r = static.request(_sync(group, 2, s, {}, "stays"), SyncGroupResponse)
        assert (r.error_code, r.assignment) == (ErrorCode.none, b"s2")
        assert dynamic.request(_heartbeat(group, 2, d), HeartbeatResponse).error_code == ErrorCode.none


def test_static_member_expires_at_its_session_deadline(shared_broker):
    """A static member that goes quiet (no LeaveGroup, as librdkafka's close) is removed at its last commit plus
    session.timeout.ms, to the millisecond (Kafka's heartbeat purgatory): DescribeGroups polled through the
    deadline sees Stable before it and Empty at once after it, and DeleteGroups then succeeds."""
    from kio.schema.delete_groups.v2.request import DeleteGroupsRequest
    from kio.schema.delete_groups.v2.response import DeleteGroupsResponse
    from kio.schema.describe_groups.v5.request import DescribeGroupsRequest
    from kio.schema.describe_groups.v5.response import DescribeGroupsResponse
    from kio.schema.join_group.v5.response import JoinGroupResponse
    from kio.schema.offset_commit.v7.response import OffsetCommitResponse
    from kio.schema.sync_group.v3.response import SyncGroupResponse

    group, topic = uniq("raw-static-expiry"), uniq("raw-static-expiry")
    with Conn(shared_broker.port) as member, Conn(shared_broker.port) as admin:
        r = member.request(_join(group, instance="quiet"), JoinGroupResponse)
        m = r.member_id
        assert member.request(_sync(group, 1, m, {m: b"a"}, "quiet"), SyncGroupResponse).error_code == ErrorCode.none
        member.request(_commit(group, 1, m, topic, "quiet"), OffsetCommitResponse)  # the last sign of life
        last = time.monotonic()

        def state() -> str:
            [g] = admin.request(DescribeGroupsRequest(groups=(group,), include_authorized_operations=False),
                                DescribeGroupsResponse).groups
            return g.group_state

        seen = {}
        while time.monotonic() - last < SESSION_MS / 1000 + 1:
            now = time.monotonic() - last
            seen.setdefault(state(), now)
            if "Empty" in seen:
                break
            time.sleep(0.005)  # polling interval of the bounded wait above
        # the broker stamped the commit a little before its response reached us
        assert seen["Stable"] < 0.1 and abs(seen["Empty"] - SESSION_MS / 1000) < 0.05, seen
        [result] = admin.request(DeleteGroupsRequest(groups_names=(group,)), DeleteGroupsResponse).results
        assert result.error_code == ErrorCode.none
