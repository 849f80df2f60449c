"""DescribeTopicPartitions (key 75, KIP-966) over the wire with kio: Kafka 3.9's DescribeTopicPartitionsRequestHandler
(topics by name or all, the cursor, ResponsePartitionLimit capped by max.request.partition.size.limit, authorizer
checks, errors for unknown topics)."""

from __future__ import annotations

import pytest
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)
from conftest import module_broker
from kafka_wire import Conn
from kio.schema.describe_topic_partitions.v0.request import Cursor, DescribeTopicPartitionsRequest, TopicRequest
from kio.schema.describe_topic_partitions.v0.response import DescribeTopicPartitionsResponse
from kio.schema.errors import ErrorCode
from kio.static.primitive import i32

TIMEOUT = 15
PARTITIONS = {"pa": 3, "pb": 2, "pc": 1, "wide": 10, "secret": 1}
SERVER_LIMIT = 8  # max.request.partition.size.limit
TOPIC_OPERATIONS = 3576  # READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS
NO_ID = None  # kio reads the zero uuid as None


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    overrides = {"authorizer.class.name": "kafka.security.authorizer.AclAuthorizer",
                 "allow.everyone.if.no.acl.found": "true",
                 "max.request.partition.size.limit": str(SERVER_LIMIT)}
    with module_broker(tmp_path_factory, "dtp", overrides) as b:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        for fut in admin.create_topics([NewTopic(t, n, 1) for t, n in PARTITIONS.items()],
                                       request_timeout=TIMEOUT).values():
            fut.result()
        deny = AclBinding(ResourceType.TOPIC, "secret", ResourcePatternType.LITERAL, "User:ANONYMOUS", "*",
                          AclOperation.DESCRIBE, AclPermissionType.DENY)
        admin.create_acls([deny], request_timeout=TIMEOUT)[deny].result()
        yield b


def describe(broker, topics, limit: int = 2000, cursor: tuple[str, int] | None = None):  # type: ignore[no-untyped-def]
    request = DescribeTopicPartitionsRequest(
        topics=tuple(TopicRequest(name=t) for t in topics), response_partition_limit=i32(limit),
        cursor=None if cursor is None else Cursor(topic_name=cursor[0], partition_index=i32(cursor[1])))
    with Conn(broker.port) as conn:
        return conn.request(request, DescribeTopicPartitionsResponse)


def listing(response) -> list[tuple[str, list[int]]]:  # type: ignore[no-untyped-def]
    return [(t.name, [p.partition_index for p in t.partitions]) for t in response.topics]


def cursor_of(response) -> tuple[str, int] | None:  # type: ignore[no-untyped-def]
    c = response.next_cursor
    return None if c is None else (c.topic_name, c.partition_index)


def test_named_topics_in_name_order_with_every_field(broker) -> None:
    r = describe(broker, ["pb", "pa"])
    assert listing(r) == [("pa", [0, 1, 2]), ("pb", [0, 1])]
    assert r.next_cursor is None
    for t in r.topics:
        assert (t.error_code, t.is_internal, t.topic_authorized_operations) == (ErrorCode.none, False,
                                                                                TOPIC_OPERATIONS)
        assert t.topic_id != NO_ID
        for p in t.partitions:
            assert (p.error_code, p.leader_id, p.leader_epoch) == (ErrorCode.none, 0, 0)
            assert (p.replica_nodes, p.isr_nodes, p.offline_replicas) == ((0,), (0,), ())
            # a KRaft broker answers empty lists (null would fail Java's admin client)
            assert (p.eligible_leader_replicas, p.last_known_elr) == ((), ())
    assert len({t.topic_id for t in r.topics}) == 2


def test_pagination_across_topics_follows_the_cursor(broker) -> None:
    names = ["pc", "pb", "pa"]
    pages, cursor = [], None
    while True:
        r = describe(broker, names, limit=2, cursor=cursor)
        cursor = cursor_of(r)
        pages.append((listing(r), cursor))
        if cursor is None:
            break
    assert pages == [
        ([("pa", [0, 1])], ("pa", 2)),
        ([("pa", [2]), ("pb", [0])], ("pb", 1)),
        ([("pb", [1]), ("pc", [0])], None),
    ]


def test_a_full_response_points_the_cursor_at_the_next_topic(broker) -> None:
    r = describe(broker, ["pa", "pb"], limit=3)
    assert listing(r) == [("pa", [0, 1, 2])]
    assert cursor_of(r) == ("pb", 0)


def test_server_limit_caps_the_requested_limit(broker) -> None:
    r = describe(broker, ["wide"])
    assert listing(r) == [("wide", list(range(SERVER_LIMIT)))]
    assert cursor_of(r) == ("wide", SERVER_LIMIT)
    r = describe(broker, ["wide"], cursor=("wide", SERVER_LIMIT))
    assert listing(r) == [("wide", [8, 9])]
    assert r.next_cursor is None


def test_all_topics_from_a_cursor_hide_refused_ones(broker) -> None:
    r = describe(broker, [], cursor=("pb", 1))
    # "secret" is refused DESCRIBE: left out, not reported
    assert listing(r) == [("pb", [1]), ("pc", [0]), ("wide", list(range(6)))]
    assert cursor_of(r) == ("wide", 6)
    r = describe(broker, [])
    assert [t.name for t in r.topics][:3] == ["pa", "pb", "pc"]
    assert "secret" not in {t.name for t in r.topics}
    # the cursor's topic need not exist when all topics are asked for; nothing is reported for it
    assert listing(describe(broker, [], cursor=("pbb", 0)))[:1] == [("pc", [0])]


def test_unknown_invalid_and_refused_topics(broker) -> None:
    r = describe(broker, ["secret", "nope", "bad/name", "pc"])
    got = [(t.name, t.error_code, t.topic_id, len(t.partitions)) for t in r.topics]
    assert got == [("bad/name", ErrorCode.invalid_topic_exception, NO_ID, 0),
                   ("nope", ErrorCode.unknown_topic_or_partition, NO_ID, 0),
                   ("pc", ErrorCode.none, r.topics[2].topic_id, 1),
                   ("secret", ErrorCode.topic_authorization_failed, NO_ID, 0)]
    assert r.topics[2].topic_id != NO_ID


def test_cursor_topic_missing_from_the_named_topics_is_an_invalid_request(broker) -> None:
    r = describe(broker, ["pa", "pc"], cursor=("pb", 0))
    assert [(t.name, t.error_code, t.partitions) for t in r.topics] == [
        ("pa", ErrorCode.invalid_request, ()), ("pc", ErrorCode.invalid_request, ())]
    assert r.next_cursor is None


def test_advertised_in_api_versions(broker) -> None:
    from kio.schema.api_versions.v3.request import ApiVersionsRequest
    from kio.schema.api_versions.v3.response import ApiVersionsResponse

    with Conn(broker.port) as conn:
        r = conn.request(ApiVersionsRequest(client_software_name="t", client_software_version="1"),
                         ApiVersionsResponse)
    assert {(k.api_key, k.min_version, k.max_version) for k in r.api_keys if k.api_key == 75} == {(75, 0, 0)}
