"""The Java Admin calls behind kafka-transactions (listTransactions, describeTransactions, describeProducers,
abortTransaction) with Kafka 3.9's handler semantics: which errors are retried until default.api.timeout.ms and
which fail with the handler's message (clients/.../admin/internals/*Handler.java, PartitionLeaderStrategy).

confluent-kafka finds the brokers and partition leaders; the requests it lacks go through `kafka_rpc` as kio
messages. Every wait ends at one deadline, as the Java Admin's per-call timeout does. TransactionsCommand's
printErrorAndExit and ToolsUtils.prettyPrintTable live here too, shared by the sub-commands' modules.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from typing import Any, NoReturn

from brook.cli.clients import ToolError, error_for_code, from_kafka
from brook.cli.kafka_rpc import BrokerConnection, call, connect, timeout_error

TRANSACTION_KEY = 1  # FindCoordinator key type TRANSACTION
RETRY_BACKOFF_S = 0.1  # retry.backoff.ms
NONE, UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER = 0, 3, 6
COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR = 14, 15, 16
INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED, TRANSACTIONAL_ID_NOT_FOUND = 47, 52, 105
# AbortTransactionHandler retries these after looking the leader up again (8, 9: BROKER/REPLICA_NOT_AVAILABLE)
_LEADER_RETRIABLE = {NOT_LEADER_OR_FOLLOWER, 8, 9, UNKNOWN_TOPIC_OR_PARTITION}


class CommandExit(Exception):
    """printErrorAndExit: the message on stderr, exit status 1."""


def print_error_and_exit(message: str, cause: BaseException | None = None) -> NoReturn:
    if cause is not None:
        message = f"{message}: {getattr(cause, 'message', None) or cause}. Enable debug logging for additional detail."
    raise CommandExit(message)


def pretty_print_table(headers: list[str], rows: list[list[str]]) -> None:
    """ToolsUtils.prettyPrintTable: each cell padded to its column's width, then a tab (also after the last)."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    for row in [headers, *rows]:
        print("".join(cell.ljust(w) + "\t" for cell, w in zip(row, widths, strict=True)))


class Retry(Exception):
    """A retriable answer: try again after the backoff while the call's deadline allows."""


@dataclass(frozen=True)
class TopicPartition:
    topic: str
    partition: int

    def __str__(self) -> str:  # TopicPartition.toString
        return f"{self.topic}-{self.partition}"


@dataclass(frozen=True)
class AbortSpec:
    tp: TopicPartition
    producer_id: int
    producer_epoch: int
    coordinator_epoch: int

    def __str__(self) -> str:  # AbortTransactionSpec.toString
        return (f"AbortTransactionSpec(topicPartition={self.tp}, producerId={self.producer_id}, "
                f"producerEpoch={self.producer_epoch}, coordinatorEpoch={self.coordinator_epoch})")


def to_ms(value: Any) -> int:
    if isinstance(value, datetime.datetime):
        return round(value.timestamp() * 1000)
    if isinstance(value, datetime.timedelta):
        return round(value.total_seconds() * 1000)
    return int(value)


class TxnAdmin:
    def __init__(self, admin: Any, timeout_s: float, security: dict[str, str] | None = None) -> None:
        self.admin = admin
        self.security = security  # the tool's client properties, for kafka_rpc's TLS and SASL
        self.timeout_s = timeout_s
        self.deadline = time.monotonic() + timeout_s
        self.conns: dict[int, BrokerConnection] = {}

    def new_call(self) -> None:
        """Each Admin call has its own default.api.timeout.ms, as in Java; open connections follow it."""
        self.deadline = time.monotonic() + self.timeout_s
        for c in self.conns.values():
            c.deadline = self.deadline

    def close(self) -> None:
        for c in self.conns.values():
            c.close()

    def _left(self) -> float:
        return max(0.05, self.deadline - time.monotonic())

    def retrying(self, name: str, attempt: Any) -> Any:
        """Run attempt() until it stops raising Retry; past the deadline it is Java's TimeoutException."""
        while True:
            try:
                return attempt()
            except Retry:
                if time.monotonic() + RETRY_BACKOFF_S >= self.deadline:
                    raise timeout_error(name) from None
                time.sleep(RETRY_BACKOFF_S)

    def metadata(self, name: str) -> Any:
        """All brokers, topics and partition leaders (a Metadata request that creates nothing)."""
        try:
            return self.admin.list_topics(timeout=self._left())
        except Exception as e:
            raise from_kafka(e, name) from None

    def conn(self, node_id: int, host: str, port: int, name: str) -> BrokerConnection:
        if node_id not in self.conns:
            self.conns[node_id] = connect(host, port, self.deadline, name, self.security)
        return self.conns[node_id]

    def broker_conn(self, node_id: int, name: str) -> BrokerConnection:
        broker = self.metadata(name).brokers.get(node_id)
        if broker is None:  # the Java Admin waits for a node it never finds
            raise timeout_error(name)
        return self.conn(node_id, broker.host, broker.port, name)

    # -- listTransactions (AllBrokersStrategy) -----------------------------------------------------------------
    def list_transactions(self, producer_ids: tuple[int, ...] = (), duration: int | None = None) -> dict[int, list]:
        self.new_call()
        from kio.schema.list_transactions.v0 import request as req0
        from kio.schema.list_transactions.v0 import response as resp0
        from kio.schema.list_transactions.v1 import request as req1
        from kio.schema.list_transactions.v1 import response as resp1
        from kio.schema.types import ProducerId
        from kio.static.primitive import i64

        out: dict[int, list] = {}
        for node_id in sorted(self.metadata("listTransactions(api=METADATA)").brokers):
            conn = self.broker_conn(node_id, "listTransactions(api=LIST_TRANSACTIONS)")
            ids = tuple(ProducerId(p) for p in producer_ids)
            body: Any = req1.ListTransactionsRequest(state_filters=(), producer_id_filters=ids,
                                                     duration_filter=i64(-1 if duration is None else duration))
            resp_cls: Any = resp1.ListTransactionsResponse
            if duration is None and not conn.supports(body):
                body, resp_cls = req0.ListTransactionsRequest(state_filters=(), producer_id_filters=ids), \
                    resp0.ListTransactionsResponse

            def attempt(conn: BrokerConnection = conn, body: Any = body, resp_cls: Any = resp_cls,
                        node_id: int = node_id) -> Any:
                resp = call(conn, body, resp_cls, "listTransactions(api=LIST_TRANSACTIONS)")
                if resp.error_code == COORDINATOR_LOAD_IN_PROGRESS:
                    raise Retry
                if resp.error_code == COORDINATOR_NOT_AVAILABLE:
                    raise ToolError("org.apache.kafka.common.errors.CoordinatorNotAvailableException",
                                    f"ListTransactions request sent to broker {node_id} failed because the "
                                    "coordinator is shutting down")
                if resp.error_code:
                    raise error_for_code(int(resp.error_code), f"ListTransactions request sent to broker {node_id} "
                                         "failed with an unexpected exception")
                return list(resp.transaction_states)

            out[node_id] = self.retrying("listTransactions(api=LIST_TRANSACTIONS)", attempt)
        return out

    # -- describeTransactions (CoordinatorStrategy) ------------------------------------------------------------
    def find_coordinator(self, txn_id: str, name: str) -> tuple[int, BrokerConnection]:
        from kio.schema.find_coordinator.v4.request import FindCoordinatorRequest
        from kio.schema.find_coordinator.v4.response import FindCoordinatorResponse
        from kio.static.primitive import i8

        lookup = f"{name}(api=FIND_COORDINATOR)"
        brokers = self.metadata(lookup).brokers
        if not brokers:
            raise timeout_error(lookup)
        bootstrap = min(brokers)

        def attempt() -> Any:
            conn = self.conn(bootstrap, brokers[bootstrap].host, brokers[bootstrap].port, lookup)
            resp = call(conn, FindCoordinatorRequest(key_type=i8(TRANSACTION_KEY), coordinator_keys=(txn_id,)),
                        FindCoordinatorResponse, lookup)
            c = resp.coordinators[0]
            if c.error_code in (COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS, NOT_COORDINATOR):
                raise Retry
            if c.error_code:
                raise error_for_code(int(c.error_code), c.error_message or "")
            return c

        c = self.retrying(lookup, attempt)
        return int(c.node_id), self.conn(int(c.node_id), c.host, int(c.port), f"{name}(api=DESCRIBE_TRANSACTIONS)")

    def describe_transaction(self, txn_id: str) -> tuple[int, Any]:
        """(coordinator id, the DescribeTransactions TransactionState) or DescribeTransactionsHandler's error."""
        self.new_call()
        from kio.schema.describe_transactions.v0.request import DescribeTransactionsRequest
        from kio.schema.types import TransactionalId

        from brook.cli.kio_patches import DescribeTransactionsResponse

        name = "describeTransactions(api=DESCRIBE_TRANSACTIONS)"

        def attempt() -> tuple[int, Any]:
            coordinator, conn = self.find_coordinator(txn_id, "describeTransactions")
            request = DescribeTransactionsRequest(transactional_ids=(TransactionalId(txn_id),))
            state = call(conn, request, DescribeTransactionsResponse, name).transaction_states[0]
            code = int(state.error_code)
            prefix = f"DescribeTransactions request for transactionalId `{txn_id}` "
            if code == TRANSACTIONAL_ID_NOT_FOUND:
                raise ToolError("org.apache.kafka.common.errors.TransactionalIdNotFoundException",
                                prefix + "failed because the ID could not be found", code)
            if code in (COORDINATOR_LOAD_IN_PROGRESS, NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE):
                raise Retry
            if code:
                raise error_for_code(code, prefix + "failed due to unexpected error")
            return coordinator, state

        return self.retrying(name, attempt)

    # -- describeProducers / abortTransaction (PartitionLeaderStrategy) ----------------------------------------
    def leader(self, tp: TopicPartition, api: str) -> int:
        """PartitionLeaderStrategy: an unknown topic fails; a missing partition or leader is retried."""
        name = f"{api}(api=METADATA)"

        def attempt() -> int:
            topic = self.metadata(name).topics.get(tp.topic)
            if topic is None or (topic.error is not None and topic.error.code() == UNKNOWN_TOPIC_OR_PARTITION):
                raise ToolError("org.apache.kafka.common.errors.UnknownTopicOrPartitionException",
                                f"Failed to fetch metadata for partition {tp} because metadata for topic "
                                f"`{tp.topic}` could not be found", UNKNOWN_TOPIC_OR_PARTITION)
            p = topic.partitions.get(tp.partition)
            if p is None or p.leader < 0:
                raise Retry
            return int(p.leader)

        return self.retrying(name, attempt)

    def describe_producers(self, tps: list[TopicPartition], broker_id: int | None = None) -> dict[TopicPartition, list]:
        """Active producers of each partition, from its leader or from the given broker."""
        self.new_call()
        from kio.schema.describe_producers.v0.request import DescribeProducersRequest, TopicRequest
        from kio.schema.describe_producers.v0.response import DescribeProducersResponse
        from kio.schema.types import TopicName
        from kio.static.primitive import i32

        name = "describeProducers(api=DESCRIBE_PRODUCERS)"
        by_node: dict[int, list[TopicPartition]] = {}
        for tp in tps:
            by_node.setdefault(self.leader(tp, "describeProducers") if broker_id is None else broker_id, []).append(tp)
        out: dict[TopicPartition, list] = {}
        for node, node_tps in by_node.items():
            topics: dict[str, list[int]] = {}
            for tp in node_tps:
                topics.setdefault(tp.topic, []).append(tp.partition)
            request = DescribeProducersRequest(topics=tuple(
                TopicRequest(name=TopicName(t), partition_indexes=tuple(map(i32, ps))) for t, ps in topics.items()))

            def attempt(node: int = node, request: Any = request) -> Any:
                resp = call(self.broker_conn(node, name), request, DescribeProducersResponse, name)
                got = {}
                for t in resp.topics:
                    for p in t.partitions:
                        tp = TopicPartition(t.name, int(p.partition_index))
                        code = int(p.error_code)
                        if code == NOT_LEADER_OR_FOLLOWER and broker_id is not None:
                            raise error_for_code(code, f"Failed to describe active producers for partition {tp} on "
                                                 f"brokerId {broker_id}")
                        if code in (NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION):
                            raise Retry
                        if code:
                            raise error_for_code(code, f"Failed to describe active producers for partition {tp} "
                                                 "due to unexpected error")
                        got[tp] = list(p.active_producers)
                return got

            out.update(self.retrying(name, attempt))
        return out

    def abort_transaction(self, spec: AbortSpec) -> None:
        """WriteTxnMarkers (ABORT) to the partition's leader, with AbortTransactionHandler's errors."""
        self.new_call()
        from kio.schema.types import ProducerId, TopicName
        from kio.schema.write_txn_markers.v1.request import (
            WritableTxnMarker,
            WritableTxnMarkerTopic,
            WriteTxnMarkersRequest,
        )
        from kio.schema.write_txn_markers.v1.response import WriteTxnMarkersResponse
        from kio.static.primitive import i16, i32

        name = "abortTransaction(api=WRITE_TXN_MARKERS)"
        request = WriteTxnMarkersRequest(markers=(WritableTxnMarker(
            producer_id=ProducerId(spec.producer_id), producer_epoch=i16(spec.producer_epoch), transaction_result=False,
            coordinator_epoch=i32(spec.coordinator_epoch), topics=(WritableTxnMarkerTopic(
                name=TopicName(spec.tp.topic), partition_indexes=(i32(spec.tp.partition),)),)),))

        def attempt() -> None:
            conn = self.broker_conn(self.leader(spec.tp, "abortTransaction"), name)
            resp = call(conn, request, WriteTxnMarkersResponse, name)
            codes = [int(p.error_code) for m in resp.markers for t in m.topics for p in t.partitions]
            if len(codes) != 1:
                raise ToolError("org.apache.kafka.common.KafkaException",
                                f"WriteTxnMarkers response included unexpected marker entries: {resp}")
            code = codes[0]
            if code == NONE:
                return
            if code == INVALID_PRODUCER_EPOCH:
                raise error_for_code(code, f"WriteTxnMarkers request with {spec} failed due an invalid producer epoch")
            if code == TRANSACTION_COORDINATOR_FENCED:
                raise error_for_code(code, f"WriteTxnMarkers request with {spec} failed since the provided "
                                     f"coordinator epoch {spec.coordinator_epoch} has been fenced by the active "
                                     "coordinator")
            if code in _LEADER_RETRIABLE:
                raise Retry
            raise error_for_code(code, f"WriteTxnMarkers request with {spec} failed due to unexpected error: "
                                 f"{error_for_code(code).message}")

        self.retrying(name, attempt)
