"""Exactly-once consume-transform-produce with confluent-kafka, run as a subprocess by test_transactions.py.

    eos_copier.py BOOTSTRAP INPUT OUTPUT GROUP TRANSACTIONAL_ID [BATCH]

Copies every record of INPUT to the same partition of OUTPUT inside transactions of about BATCH records, the
consumed offsets committed with send_offsets_to_transaction. Errors are handled as confluent-kafka documents:
a retriable error retries the call, an abortable one (txn_requires_abort) aborts the transaction and rewinds the
consumer to the committed offsets, anything else is fatal (exit 3: the test starts a new instance, which fences
this one's transactional id and aborts its open transaction).

stdout, one event a line: "ready", "assigned [PARTITIONS]", "progress N" after each commit (N = the sum of the
committed input offsets), "abort REASON", "fatal ERROR", "done" once the committed offsets reach the end of INPUT
(then exit 0). SIGUSR2 makes it stop for good before its next commit, once that transaction's records are in
the log ("holding K"), for the test to kill it there; SIGUSR1 dumps its Python stacks to stderr.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition

API_TIMEOUT = 30.0
# librdkafka >= 2.10 "re-bootstraps" when every known broker is down -- always, when the only broker restarts -- and
# decommissions the broker objects; a group-coordinator request (send_offsets_to_transaction's TxnOffsetCommit)
# that then finds the old object in its coordinator cache waits for it to come up, which it never does, until the
# API timeout, again and again. Without re-bootstrap the client simply reconnects to the restarted broker.
NO_REBOOTSTRAP = {"metadata.recovery.strategy": "none"}


def say(*words: object) -> None:
    print(*words, flush=True)


class Abort(Exception):
    """The transaction must be aborted and the consumer rewound."""


class Copier:
    def __init__(self, bootstrap: str, src: str, dst: str, group: str, txn_id: str, batch: int) -> None:
        self.src, self.dst, self.batch = src, dst, batch
        self.consumer = Consumer({
            "bootstrap.servers": bootstrap, "group.id": group, "isolation.level": "read_committed",
            "enable.auto.commit": False, "auto.offset.reset": "earliest", "session.timeout.ms": 2000,
            "heartbeat.interval.ms": 300, "fetch.wait.max.ms": 50, "reconnect.backoff.max.ms": 200,
            "topic.metadata.refresh.interval.ms": 1000, **NO_REBOOTSTRAP})
        self.producer = Producer({
            "bootstrap.servers": bootstrap, "transactional.id": txn_id, "linger.ms": 5,
            "transaction.timeout.ms": 30000, "reconnect.backoff.max.ms": 200, **NO_REBOOTSTRAP,
            **({"debug": os.environ["COPIER_DEBUG"]} if os.environ.get("COPIER_DEBUG") else {})})
        self.in_txn = False
        self.pending = 0  # records produced in the open transaction
        self.hold = False  # SIGUSR2: stop for good inside the next transaction, with its records in the log
        self.partitions = 0
        self.committed: dict[int, int] = {}  # input partition -> committed offset (as far as this instance knows)

    # -- transactions ----------------------------------------------------------------------------------------
    def begin(self) -> None:
        if not self.in_txn:
            self.producer.begin_transaction()
            self.in_txn = True
            self.pending = 0

    def produce(self, msg) -> None:  # type: ignore[no-untyped-def]
        while True:
            try:
                self.producer.produce(self.dst, key=msg.key(), value=msg.value(), partition=msg.partition())
                self.pending += 1
                return
            except BufferError:
                self.producer.poll(0.05)
            except KafkaException as e:
                self.classify(e)

    def classify(self, e: KafkaException) -> None:
        """Raise Abort for an abortable error; exit for a fatal one; return for a retriable one."""
        err: KafkaError = e.args[0]
        # produce() in a failed transaction raises a bare _STATE (no txn_requires_abort flag): abort_transaction()
        # then either succeeds or reports the error as fatal
        abortable = err.txn_requires_abort() or (err.code() == KafkaError._STATE and self.in_txn)
        if err.fatal() or not (err.retriable() or abortable):
            say("fatal", err.name(), err.str())
            sys.exit(3)
        if abortable:
            raise Abort(err.name())

    def commit(self) -> None:
        """Commit the open transaction with the consumer's positions; retries retriable errors."""
        if self.hold:  # for the test's kill -9: an open transaction whose records are in the log
            self.producer.flush(API_TIMEOUT)
            say("holding", self.pending)
            while True:
                signal.pause()
        assignment = self.consumer.assignment()
        positions = [tp for tp in self.consumer.position(assignment) if tp.offset >= 0]
        metadata = self.consumer.consumer_group_metadata()
        for step in ("send_offsets", "commit"):
            while True:
                try:
                    if step == "send_offsets":
                        self.producer.send_offsets_to_transaction(positions, metadata, API_TIMEOUT)
                    else:
                        self.producer.commit_transaction(API_TIMEOUT)
                    break
                except KafkaException as e:
                    self.classify(e)  # retriable: try the same call again
        self.in_txn = False
        self.committed.update((tp.partition, tp.offset) for tp in positions)
        say("progress", sum(self.committed.values()))

    def abort(self, reason: str) -> None:
        say("abort", reason)
        while True:
            try:
                self.producer.abort_transaction(API_TIMEOUT)
                break
            except KafkaException as e:
                err = e.args[0]
                if err.fatal() or not err.retriable():
                    say("fatal", err.name(), err.str())
                    sys.exit(3)
        self.in_txn = False
        self.rewind()

    def rewind(self) -> None:
        """Seek every assigned partition back to its committed offset (what the aborted transaction held)."""
        assignment = self.consumer.assignment()
        if not assignment:
            return
        committed = self.consumer.committed(assignment, timeout=API_TIMEOUT)
        for tp in committed:
            offset = tp.offset if tp.offset >= 0 else OFFSET_BEGINNING
            self.consumer.seek(TopicPartition(tp.topic, tp.partition, offset))

    # -- the loop --------------------------------------------------------------------------------------------
    def on_assign(self, consumer, partitions) -> None:  # type: ignore[no-untyped-def]
        for tp in consumer.committed(partitions, timeout=API_TIMEOUT):
            self.committed[tp.partition] = max(tp.offset, 0)
        say("assigned", sorted(tp.partition for tp in partitions))

    def on_revoke(self, consumer, partitions) -> None:  # type: ignore[no-untyped-def]
        if self.in_txn:  # the partitions' next owner resumes from the committed offsets
            self.abort("revoked")

    def finished(self) -> bool:
        """No open transaction and every input partition is assigned and committed up to its end."""
        assignment = self.consumer.assignment()
        if self.in_txn or len(assignment) < self.partitions:
            return False
        committed = self.consumer.committed(assignment, timeout=API_TIMEOUT)
        for tp in committed:
            _low, high = self.consumer.get_watermark_offsets(tp, timeout=API_TIMEOUT)
            if tp.offset < high:
                return False
        return True

    def run(self) -> None:
        self.producer.init_transactions(API_TIMEOUT)
        self.partitions = len(self.consumer.list_topics(self.src, timeout=API_TIMEOUT).topics[self.src].partitions)
        self.consumer.subscribe([self.src], on_assign=self.on_assign, on_revoke=self.on_revoke)
        say("ready")
        idle_since = time.monotonic()
        while True:
            try:
                msgs = self.consumer.consume(500, 0.2)
                for msg in msgs:
                    err = msg.error()
                    if err is not None:
                        if err.fatal():
                            say("fatal", err.name(), err.str())
                            sys.exit(3)
                        print("consumer error:", err.str(), file=sys.stderr, flush=True)
                        continue
                    self.begin()
                    self.produce(msg)
                if self.in_txn and (self.pending >= self.batch or not msgs):
                    self.commit()
                if msgs:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since > 0.5 and self.finished():
                    say("done")
                    return
            except Abort as e:
                self.abort(str(e))
            except KafkaException as e:  # from begin_transaction or the consumer
                try:
                    self.classify(e)
                except Abort as a:
                    self.abort(str(a))


def main() -> None:
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1` prints where a stuck copier is
    bootstrap, src, dst, group, txn_id = sys.argv[1:6]
    batch = int(sys.argv[6]) if len(sys.argv) > 6 else 1000
    copier = Copier(bootstrap, src, dst, group, txn_id, batch)
    signal.signal(signal.SIGUSR2, lambda *_: setattr(copier, "hold", True))
    copier.run()
    copier.producer.flush(API_TIMEOUT)
    copier.consumer.close()


if __name__ == "__main__":
    main()
