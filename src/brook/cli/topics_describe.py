"""kafka-topics --describe's topic descriptions, as Kafka 3.9's Admin.describeTopics gets them for TopicCommand:
DescribeTopicPartitions (KIP-966) first, page by page through its cursor (KafkaAdminClient's
generateDescribeTopicsCallWithDescribeTopicPartitionsApi), and the Metadata API (here librdkafka's
describe_topics) when the broker does not support it."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Any

from brook.cli.options import log

CALL = "describeTopicPartitions"
ADMIN_LOGGER = "org.apache.kafka.clients.admin.KafkaAdminClient"


@dataclass
class PartitionInfo:
    id: int
    leader: int | None  # None: no leader, or one that is not a live broker (Java's null Node)
    replicas: list[int]
    isr: list[int]
    elr: list[int] | None = None  # None when described through Metadata (printed as N/A)
    last_known_elr: list[int] | None = None


@dataclass
class TopicDescription:
    name: str
    topic_id: str  # Kafka's Uuid.toString(): URL-safe base64 without padding
    partitions: list[PartitionInfo] = field(default_factory=list)


def kafka_uuid(value: Any) -> str:
    raw = value.bytes if value is not None else bytes(16)  # kio reads the zero uuid as None
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def from_admin(td: Any) -> TopicDescription:
    """A confluent-kafka TopicDescription (Metadata API): no eligible leader replicas known."""
    from brook.cli.clients import topic_id

    return TopicDescription(td.name, topic_id(td.topic_id), [
        PartitionInfo(p.id, p.leader.id if p.leader is not None and p.leader.id >= 0 else None,
                      [n.id for n in p.replicas], [n.id for n in p.isr]) for p in td.partitions])


def _from_response(topic: Any, live: set[int]) -> TopicDescription:
    return TopicDescription(topic.name, kafka_uuid(topic.topic_id), [
        PartitionInfo(p.partition_index, p.leader_id if p.leader_id in live else None, list(p.replica_nodes),
                      list(p.isr_nodes), list(p.eligible_leader_replicas or ()), list(p.last_known_elr or ()))
        for p in topic.partitions])


def describe_topic_partitions(node: Any, topics: list[str], limit: int, live: set[int], timeout_s: float,
                              security: dict[str, str] | None = None) -> dict[str, TopicDescription] | None:
    """Every topic's description through DescribeTopicPartitions on `node`, following NextCursor; None when the
    broker does not support the API. A topic's error is raised as Java's exception for its code."""
    from kio.schema.describe_topic_partitions.v0 import request as req
    from kio.schema.describe_topic_partitions.v0.response import DescribeTopicPartitionsResponse
    from kio.schema.types import TopicName
    from kio.static.primitive import i32

    from brook.cli.clients import error_for_code
    from brook.cli.kafka_rpc import call, connect

    pending = sorted(set(topics))  # KafkaAdminClient asks in name order, dropping each topic once it is complete
    done: dict[str, TopicDescription] = {}
    errors: dict[str, int] = {}
    partial: TopicDescription | None = None  # the topic a previous response's cursor cut short
    with connect(node.host, node.port, time.monotonic() + timeout_s, CALL, security) as conn:
        while pending:
            cursor = None if partial is None else req.Cursor(topic_name=TopicName(partial.name),
                                                             partition_index=i32(len(partial.partitions)))
            body = req.DescribeTopicPartitionsRequest(
                topics=tuple(req.TopicRequest(name=TopicName(t)) for t in pending),
                response_partition_limit=i32(limit), cursor=cursor)
            if not conn.supports(body):
                log("WARN", "The DescribeTopicPartitions API is not supported, using Metadata API to describe "
                    "topics.", ADMIN_LOGGER)
                return None
            response = call(conn, body, DescribeTopicPartitionsResponse, CALL)
            next_cursor = response.next_cursor
            cut: TopicDescription | None = None
            for t in response.topics:
                if t.name is None:  # a topic named by id only: this call asks by name, so none is expected
                    continue
                if t.error_code:
                    errors[t.name] = int(t.error_code)
                    _drop(pending, t.name)
                    if next_cursor is not None and next_cursor.topic_name == t.name:
                        next_cursor = None
                    continue
                described = _from_response(t, live)
                if partial is not None and partial.name == t.name:
                    partial.partitions.extend(described.partitions)
                elif next_cursor is not None and next_cursor.topic_name == t.name:
                    cut = described
                else:
                    _drop(pending, t.name)
                    done[t.name] = described
            if partial is not None and (next_cursor is None or next_cursor.topic_name != partial.name):
                done[partial.name] = partial
                _drop(pending, partial.name)
                partial = None
            if cut is not None:
                partial = cut
    for name in sorted(errors):
        raise error_for_code(errors[name])
    return done


def _drop(pending: list[str], name: str) -> None:
    if name in pending:
        pending.remove(name)
