"""ListOffsets for the specs librdkafka's ListOffsets cannot express: earliest-local (-4, KIP-405, v8+) and
latest-tiered (-5, KIP-1005, v9+). Kafka's Admin.listOffsets sends them to each partition's leader at the highest
version both sides know; here kio builds the request and kafka_rpc sends it, the leaders coming from the metadata
confluent-kafka already fetched."""

from __future__ import annotations

import functools
from typing import Any

from brook.cli.clients import ToolError, error_for_code
from brook.cli.kafka_rpc import call_highest, connect

_MIN_VERSION = {-4: 8, -5: 9}  # ListOffsetsRequest.Builder.forConsumer: what each spec needs


def _request(module: Any, timestamp: int, partitions: list[tuple[str, int]]) -> Any:
    topics: dict[str, list[int]] = {}
    for t, p in partitions:
        topics.setdefault(t, []).append(p)
    return module.ListOffsetsRequest(replica_id=-1, isolation_level=0, topics=tuple(  # Admin's default: uncommitted
        module.ListOffsetsTopic(name=t, partitions=tuple(
            module.ListOffsetsPartition(partition_index=p, timestamp=timestamp) for p in ps))
        for t, ps in topics.items()))


def list_offsets(metadata: Any, partitions: list[tuple[str, int]], timestamp: int, deadline: float,
                 security: dict[str, str] | None = None) -> dict[tuple[str, int], int | ToolError]:
    """(topic, partition) -> the offset answered (-1: none), or the error the partition's lookup ended with."""
    out: dict[tuple[str, int], int | ToolError] = {}
    by_leader: dict[int, list[tuple[str, int]]] = {}
    for t, p in partitions:
        leader = metadata.topics[t].partitions[p].leader
        if leader < 0 or leader not in metadata.brokers:
            out[(t, p)] = error_for_code(5)  # LEADER_NOT_AVAILABLE
        else:
            by_leader.setdefault(leader, []).append((t, p))
    for leader, tps in by_leader.items():
        broker = metadata.brokers[leader]
        with connect(broker.host, broker.port, deadline, "listOffsets", security) as conn:
            response = call_highest(conn, "list_offsets", range(_MIN_VERSION[timestamp], 10),
                                    functools.partial(_request, timestamp=timestamp, partitions=tps), "listOffsets")
        for t in response.topics:
            for p in t.partitions:
                code = int(p.error_code)
                out[(t.name, int(p.partition_index))] = error_for_code(code) if code else int(p.offset)
    return out
