"""protocol/error_response: every API's error response (what the SASL authenticator sends as ILLEGAL_SASL_STATE)
is built for any request kio reads, and encodes; the topics and partitions a request names are mirrored."""

from __future__ import annotations

import io

from kio.schema.fetch.v13.request import FetchPartition, FetchRequest, FetchTopic
from kio.schema.index import api_key_map, schema_name_map
from kio.serial import entity_writer

from brook.errors import ErrorCode
from brook.protocol.error_response import _build, error_response
from brook.protocol.versions import request_class, response_class


def test_every_api_and_version_gets_an_encodable_error_response() -> None:
    built = 0
    for api_key, name in api_key_map.items():
        for version in schema_name_map[name]:
            request = _build(request_class(api_key, version), None, ErrorCode.none, None)  # a zero request
            cls = response_class(api_key, version)
            response = error_response(cls, request, ErrorCode.illegal_sasl_state, "m")
            entity_writer(cls)(io.BytesIO(), response)
            if hasattr(response, "error_code"):
                assert response.error_code == ErrorCode.illegal_sasl_state
            built += 1
    assert built > 250


def test_fetch_mirrors_its_topics_and_partitions() -> None:
    import uuid

    tid = uuid.uuid4()
    request = FetchRequest(replica_id=-1, max_wait=0, min_bytes=1, session_id=3, topics=(FetchTopic(
        topic_id=tid, partitions=(FetchPartition(partition=2, fetch_offset=0, partition_max_bytes=1),)),),
        forgotten_topics_data=(), rack_id="")
    response = error_response(response_class(1, 13), request, ErrorCode.illegal_sasl_state, None)
    assert response.error_code == ErrorCode.illegal_sasl_state
    [topic] = response.responses
    assert topic.topic_id == tid
    assert [(p.partition_index, p.error_code) for p in topic.partitions] == [(2, ErrorCode.illegal_sasl_state)]
