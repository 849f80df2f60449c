"""producer_byte_rate / consumer_byte_rate enforced as Kafka 3.9's ClientQuotaManager does
(core/src/main/scala/kafka/server/ClientQuotaManager.scala, kafka/utils/QuotaUtils.scala, KafkaApis.handleProduceRequest
/ handleFetchRequest): the throttle time brings the rate over quota.window.num x quota.window.size.seconds
(11 x 1 s, at least 10 s) back to the bound, it is returned in throttle_time_ms and the connection is muted for
it (KIP-219)."""

from __future__ import annotations

import datetime
import time

from kafka_wire import Conn, decode_response, record_batch, request_frame, request_payload
from kio.schema.alter_client_quotas.v1 import request as acq_req
from kio.schema.alter_client_quotas.v1 import response as acq_resp
from kio.schema.create_topics.v7.request import CreatableTopic, CreateTopicsRequest
from kio.schema.create_topics.v7.response import CreateTopicsResponse
from kio.schema.fetch.v12.request import FetchPartition, FetchRequest, FetchTopic
from kio.schema.fetch.v12.response import FetchResponse
from kio.schema.produce.v9.request import PartitionProduceData, ProduceRequest, TopicProduceData
from kio.schema.produce.v9.response import ProduceResponse

TOPIC = "quota"
MIN_WINDOW_MS = 10_000  # Rate.windowSize: (samples - 1) full windows at least


def set_quota(conn: Conn, entity: dict, key: str, value: float) -> None:
    body = acq_req.AlterClientQuotasRequest(validate_only=False, entries=(acq_req.EntryData(
        entity=tuple(acq_req.EntityData(entity_type=t, entity_name=n) for t, n in entity.items()),
        ops=(acq_req.OpData(key=key, value=value, remove=False),)),))
    (entry,) = conn.request(body, acq_resp.AlterClientQuotasResponse).entries
    assert entry.error_code == 0, entry


def produce_request(value: bytes) -> ProduceRequest:
    return ProduceRequest(transactional_id=None, acks=1, timeout=datetime.timedelta(seconds=10), topic_data=(
        TopicProduceData(name=TOPIC, partition_data=(PartitionProduceData(index=0, records=record_batch([value])),)),))


def call(conn: Conn, body: object, response_cls: type, client_id: str, correlation_id: int):  # type: ignore[no-untyped-def]
    conn.send(request_frame(body, correlation_id, client_id))
    corr, response = decode_response(conn.recv_payload(), response_cls)
    assert corr == correlation_id
    return response


def expected_throttle_ms(size: int, bound: float) -> int:
    """QuotaUtils.throttleTime for one recording of `size` bytes in a fresh rate: (O - T) / T * W."""
    observed = size / (MIN_WINDOW_MS / 1000)
    return round((observed - bound) / bound * MIN_WINDOW_MS)


def test_producer_and_consumer_byte_rates(broker) -> None:
    with Conn(broker.port) as admin:
        admin.request(CreateTopicsRequest(timeout=datetime.timedelta(seconds=10), validate_only=False, topics=(
            CreatableTopic(name=TOPIC, num_partitions=1, replication_factor=1, assignments=(), configs=()),)),
            CreateTopicsResponse)
        # PLAINTEXT: every principal is User:ANONYMOUS. DefaultQuotaCallback's order: <user, client-id> first,
        # then <user>, ... and <client-id> entities last, so the default client-id's quota is never used here
        set_quota(admin, {"user": "ANONYMOUS", "client-id": "slow"}, "producer_byte_rate", 1024)
        set_quota(admin, {"user": "ANONYMOUS"}, "producer_byte_rate", 10_000_000)
        set_quota(admin, {"client-id": None}, "producer_byte_rate", 1)
        set_quota(admin, {"client-id": "slow-consumer"}, "consumer_byte_rate", 1024)

    body = produce_request(b"x" * 11_000)
    size = len(request_payload(body, 1, "slow"))
    with Conn(broker.port) as slow:
        first = call(slow, body, ProduceResponse, "slow", 1)
        throttle_ms = expected_throttle_ms(size, 1024)
        assert 0 < throttle_ms < 2000
        assert first.throttle_time == datetime.timedelta(milliseconds=throttle_ms)
        # the channel is muted after the response: the next request is read only once the throttle time is over
        started = time.monotonic()
        second = call(slow, produce_request(b"y"), ProduceResponse, "slow", 2)
        assert time.monotonic() - started >= throttle_ms / 1000 - 0.05
        assert second.responses[0].partition_responses[0].error_code == 0

    with Conn(broker.port) as other:  # another client id: the ANONYMOUS user's generous quota applies
        response = call(other, produce_request(b"z" * 11_000), ProduceResponse, "fast", 1)
        assert response.throttle_time == datetime.timedelta(0)

    fetch = FetchRequest(max_wait=datetime.timedelta(0), min_bytes=1, topics=(FetchTopic(topic=TOPIC, partitions=(
        FetchPartition(partition=0, fetch_offset=0, partition_max_bytes=1_000_000),)),), forgotten_topics_data=())
    with Conn(broker.port) as consumer:
        plenty = call(consumer, fetch, FetchResponse, "consumer", 1)
        records = plenty.responses[0].partitions[0].records
        assert plenty.throttle_time == datetime.timedelta(0) and len(records) > 22_000
    with Conn(broker.port) as consumer:
        # over the quota: an empty answer (KafkaApis: getThrottledResponse) whose bytes are not counted
        throttled = call(consumer, fetch, FetchResponse, "slow-consumer", 1)
        assert throttled.responses == ()
        assert throttled.throttle_time == datetime.timedelta(milliseconds=expected_throttle_ms(len(records), 1024))
