"""The issue's failover bar on three real brokers and a real ZooKeeper: an acks=all idempotent producer writes
steadily to a replication-factor-3 topic (min.insync.replicas=2) while the partition leader's broker (every other
round the controller's) is killed with SIGKILL and started again; every acknowledged record is read back at its
acknowledged offset, in order; each round a new leader takes writes within seconds and the restarted broker rejoins
the ISR. The same once with the controller's broker leading the partition. With two of three brokers down,
acks=all is refused, never acknowledged.

BROOK_FAILOVER_ROUNDS sets the rounds (3 by default, to keep the suite short; the issue asks for ten)."""

from __future__ import annotations

import os
import threading
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from conftest import Cluster, cluster_wait

TOPIC = "failover"
ROUNDS = int(os.environ.get("BROOK_FAILOVER_ROUNDS", "3"))


class SteadyProducer(threading.Thread):
    """Writes 0, 1, 2, ... (as the value) until stopped; keeps (value, offset) of every acknowledged record."""

    def __init__(self, bootstrap: str, topic: str = TOPIC) -> None:
        super().__init__(daemon=True)
        self.topic = topic
        self.producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                                  "linger.ms": 2, "message.timeout.ms": 120000, "retry.backoff.ms": 50,
                                  "retry.backoff.max.ms": 200, "topic.metadata.refresh.interval.ms": 1000})
        self.acked: list[tuple[int, int]] = []
        self.errors: list[KafkaError] = []
        self.sent = 0
        self.stopping = threading.Event()

    def _report(self, err, msg) -> None:  # noqa: ANN001
        if err is None:
            self.acked.append((int(msg.value()), msg.offset()))
        else:
            self.errors.append(err)

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.producer.produce(self.topic, str(self.sent).encode(), partition=0, on_delivery=self._report)
                self.sent += 1
            except BufferError:
                pass
            self.producer.poll(0.002)  # paces the writes and serves the delivery reports
        self.producer.flush(120)

    def acked_since(self, count: int) -> bool:
        return len(self.acked) > count


def test_no_acknowledged_write_is_lost_while_leaders_are_killed(three_brokers: Cluster) -> None:
    c = three_brokers
    admin = AdminClient({"bootstrap.servers": c.bootstrap})  # kept: the future fails once its client is collected
    admin.create_topics([NewTopic(TOPIC, 1, 3)])[TOPIC].result(10)
    c.wait_state(TOPIC, 0, lambda s: len(s["isr"]) == 3)
    producer = SteadyProducer(c.bootstrap)
    producer.start()
    cluster_wait(lambda: producer.acked_since(100), what="first writes")
    takeovers = []
    for r in range(ROUNDS):
        state = c.state(TOPIC, 0)
        victim = state["leader"] if r % 2 == 0 else c.controller_id()
        before = len(producer.acked)
        killed_at = time.monotonic()
        c.brokers[victim].kill9()
        c.wait_state(TOPIC, 0, lambda s, v=victim: s["leader"] not in (v, -1) and v not in s["isr"],
                     what=f"round {r}: a new leader without broker {victim}")
        cluster_wait(lambda b=before: producer.acked_since(b + 100), what=f"round {r}: writes on the new leader")
        takeovers.append(time.monotonic() - killed_at)
        c.brokers[victim].start()
        c.wait_state(TOPIC, 0, lambda s: len(s["isr"]) == 3, what=f"round {r}: broker {victim} back in the ISR")
    producer.stopping.set()
    producer.join(150)
    assert not producer.errors, producer.errors[:5]
    assert max(takeovers) < 20, takeovers
    acked = sorted(producer.acked)
    assert len(acked) > 100 * (ROUNDS + 1)
    check_read_back(c.bootstrap, TOPIC, acked)


def test_the_controllers_broker_leading_the_partition_is_killed(three_brokers: Cluster) -> None:
    """The same bar when the victim is both the controller and the partition leader (a manual assignment puts the
    controller first, so that the controller's first state makes it the leader)."""
    c = three_brokers
    controller = c.controller_id()
    order = [controller] + [i for i in c.brokers if i != controller]
    admin = AdminClient({"bootstrap.servers": c.bootstrap})
    admin.create_topics([NewTopic("controller-led", 1, replica_assignment=[order])])["controller-led"].result(10)
    assert c.wait_state("controller-led", 0, lambda s: len(s["isr"]) == 3)["leader"] == controller
    producer = SteadyProducer(c.bootstrap, "controller-led")
    producer.start()
    cluster_wait(lambda: producer.acked_since(100), what="first writes")
    before = len(producer.acked)
    c.brokers[controller].kill9()
    c.wait_state("controller-led", 0, lambda s: s["leader"] not in (controller, -1), what="a new leader")
    cluster_wait(lambda: c.controller_id() != controller, what="a new controller")
    cluster_wait(lambda: producer.acked_since(before + 100), what="writes on the new leader")
    c.brokers[controller].start()
    c.wait_state("controller-led", 0, lambda s: len(s["isr"]) == 3, what="the old controller back in the ISR")
    producer.stopping.set()
    producer.join(150)
    assert not producer.errors, producer.errors[:5]
    check_read_back(c.bootstrap, "controller-led", sorted(producer.acked))


def check_read_back(bootstrap: str, topic: str, acked: list[tuple[int, int]]) -> None:
    """Every acknowledged (value, offset) is in the log at its offset, and offsets follow the order of writing."""
    offsets = [o for _, o in acked]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    log = read_back(bootstrap, topic, offsets[-1] + 1)
    assert all(log.get(o) == v for v, o in acked), [(v, o, log.get(o)) for v, o in acked if log.get(o) != v][:5]


def read_back(bootstrap: str, topic: str, end: int) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    out: dict[int, int] = {}
    try:
        def done() -> bool:
            for m in consumer.consume(1000, timeout=0.5):
                if m.error() is None:
                    out[m.offset()] = int(m.value())
            return bool(out) and max(out) >= end - 1
        cluster_wait(done, what=f"{end} records")
    finally:
        consumer.close()
    return out


def produce_one(bootstrap: str, value: bytes) -> KafkaError | None:
    """One acks=all write without retries: its delivery error (None: acknowledged)."""
    results: list[KafkaError | None] = []
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "retries": 0, "enable.idempotence": False,
                         "request.timeout.ms": 15000, "message.timeout.ms": 20000})
    producer.produce(TOPIC, value, partition=0, on_delivery=lambda err, msg: results.append(err))
    assert producer.flush(30) == 0
    (err,) = results
    return err


def test_with_two_of_three_brokers_down_acks_all_is_refused(three_brokers: Cluster) -> None:
    c = three_brokers
    leader = c.wait_state(TOPIC, 0, lambda s: len(s["isr"]) == 3)["leader"]
    others = [i for i in c.brokers if i != leader]
    for i in others:
        c.brokers[i].kill9()
    # at once: the ISR still names the dead followers, so the write waits for them and is never acknowledged
    err = produce_one(c.brokers[leader].bootstrap, b"refused-1")
    assert err is not None and err.code() in (KafkaError.NOT_ENOUGH_REPLICAS, KafkaError.REQUEST_TIMED_OUT,
                                              KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND, KafkaError._TIMED_OUT,
                                              KafkaError._MSG_TIMED_OUT), err
    # once the ISR is the leader alone (the controller, or the leader after replica.lag.time.max.ms)
    c.wait_state(TOPIC, 0, lambda s: s["isr"] == [leader], what="the ISR down to the leader")
    err = produce_one(c.brokers[leader].bootstrap, b"refused-2")
    assert err is not None and err.code() == KafkaError.NOT_ENOUGH_REPLICAS, err
    for i in others:
        c.brokers[i].start()
    # two restarts (each waiting out its killed session's znode), their catch-up, the ISR expansion: on a loaded
    # 2-core machine this has taken more than 30 s
    c.wait_state(TOPIC, 0, lambda s: len(s["isr"]) == 3, what="the ISR whole again", timeout=90)
