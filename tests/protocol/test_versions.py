"""The versions Brook advertises: backed by kio classes and a handler, inside Kafka 3.9's validVersions (read
from the message specs at run time), above KIP-896's floor; ApiVersions over a real broker lists exactly them
(Produce from v0, KAFKA-18659)."""

from __future__ import annotations

import functools
import importlib
import json
import re

import pytest
from kafka_wire import SPEC_DIR, Conn
from kio.schema.api_versions.v0.request import ApiVersionsRequest as ApiVersionsRequestV0
from kio.schema.api_versions.v1.request import ApiVersionsRequest as ApiVersionsRequestV1
from kio.schema.api_versions.v2.request import ApiVersionsRequest as ApiVersionsRequestV2
from kio.schema.api_versions.v3.request import ApiVersionsRequest as ApiVersionsRequestV3
from kio.schema.api_versions.v4.request import ApiVersionsRequest as ApiVersionsRequestV4

from brook.broker.registry import HANDLERS, build_registry
from brook.errors import ErrorCode
from brook.protocol.versions import KAFKA_39_MAX, request_class, response_class

# KIP-896 (Kafka 4.0): the lowest version of each API a Kafka 4 broker still accepts, i.e. the lower bound of
# validVersions in Kafka 4.0's message specs. Every API Brook serves must be listed here.
KIP_896_FLOOR = {
    0: 3,  # Produce: v0-v2 removed
    1: 4,  # Fetch: v0-v3 removed
    2: 1,  # ListOffsets: v0 removed
    3: 0,  # Metadata: kept (the removal was reverted for old librdkafka)
    8: 2,  # OffsetCommit: v0-v1 removed
    9: 1,  # OffsetFetch: v0 removed
    10: 0,  # FindCoordinator
    11: 0,  # JoinGroup
    12: 0,  # Heartbeat
    13: 0,  # LeaveGroup
    14: 0,  # SyncGroup
    15: 0,  # DescribeGroups
    16: 0,  # ListGroups
    17: 0,  # SaslHandshake
    18: 0,  # ApiVersions
    22: 0,  # InitProducerId
    24: 0,  # AddPartitionsToTxn
    25: 0,  # AddOffsetsToTxn
    26: 0,  # EndTxn
    27: 1,  # WriteTxnMarkers: v0 removed
    28: 0,  # TxnOffsetCommit
    29: 1,  # DescribeAcls: v0 removed
    30: 1,  # CreateAcls: v0 removed
    31: 1,  # DeleteAcls: v0 removed
    61: 0,  # DescribeProducers
    65: 0,  # DescribeTransactions
    66: 0,  # ListTransactions
    19: 2,  # CreateTopics: v0-v1 removed
    20: 1,  # DeleteTopics: v0 removed
    21: 0,  # DeleteRecords
    23: 2,  # OffsetForLeaderEpoch: v0-v1 removed
    32: 1,  # DescribeConfigs: v0 removed
    33: 0,  # AlterConfigs
    35: 1,  # DescribeLogDirs: v0 removed
    36: 0,  # SaslAuthenticate
    37: 0,  # CreatePartitions
    42: 0,  # DeleteGroups
    44: 0,  # IncrementalAlterConfigs
    47: 0,  # OffsetDelete
    48: 0,  # DescribeClientQuotas
    49: 0,  # AlterClientQuotas
    50: 0,  # DescribeUserScramCredentials
    51: 0,  # AlterUserScramCredentials
    56: 2,  # AlterPartition: v0-v1 removed (topic names; v2 has topic ids)
    57: 0,  # UpdateFeatures
    60: 0,  # DescribeCluster
    75: 0,  # DescribeTopicPartitions
    7: 3,  # ControlledShutdown: gone in Kafka 4 (ZooKeeper mode only); Brook's brokers send v3, the one served
    43: 0,  # ElectLeaders
    45: 0,  # AlterPartitionReassignments
    46: 0,  # ListPartitionReassignments
}

REGISTRY = build_registry()


def _versions(text: str | None) -> tuple[int, int]:
    """A spec version range: "0-11", "3+", "none" (-> empty range)."""
    if text is None or text == "none":
        return 1, 0
    if text.endswith("+"):
        return int(text[:-1]), 1 << 15
    lo, _, hi = text.partition("-")
    return int(lo), int(hi or lo)


@functools.cache
def specs() -> dict[tuple[int, str], dict]:
    """(api key, "request"|"response") -> the spec JSON (Kafka's files carry // line comments)."""
    if not SPEC_DIR.is_dir():
        pytest.skip(f"Kafka 3.9 message specs not found at {SPEC_DIR.resolve()} (shared/ beside the repo)")
    out = {}
    for path in SPEC_DIR.glob("*.json"):
        spec = json.loads(re.sub(r"^\s*//.*$", "", path.read_text(encoding="utf-8"), flags=re.M))
        if spec.get("type") in ("request", "response"):
            out[(spec["apiKey"], spec["type"])] = spec
    return out


ADVERTISED = sorted(REGISTRY)


def test_every_served_api_has_a_kip_896_floor() -> None:
    assert set(REGISTRY) <= set(KIP_896_FLOOR), "add the API's Kafka 4.0 lower bound to KIP_896_FLOOR"


@pytest.mark.parametrize("api_key", ADVERTISED)
def test_advertised_range_within_kafka_39_and_above_kip_896(api_key: int) -> None:
    h = REGISTRY[api_key]
    spec_lo, spec_hi = _versions(specs()[(api_key, "request")]["validVersions"])
    assert h.min_version <= h.max_version
    assert spec_lo <= h.min_version and h.max_version <= spec_hi, (api_key, h, spec_lo, spec_hi)
    assert h.min_version >= KIP_896_FLOOR[api_key]
    # Nothing between Kafka's lowest accepted version and Brook's lowest is left out.
    assert h.min_version == max(spec_lo, KIP_896_FLOOR[api_key])


def test_kafka_39_max_table_matches_the_specs() -> None:
    for api_key, top in KAFKA_39_MAX.items():
        spec = specs().get((api_key, "request"))
        if spec is not None:
            assert _versions(spec["validVersions"])[1] == top, (api_key, spec["name"])


@pytest.mark.parametrize("api_key", ADVERTISED)
def test_kio_classes_back_every_advertised_version(api_key: int) -> None:
    h = REGISTRY[api_key]
    req_spec, resp_spec = specs()[(api_key, "request")], specs()[(api_key, "response")]
    for version in range(h.min_version, h.max_version + 1):
        for cls, spec in ((request_class(api_key, version), req_spec), (response_class(api_key, version), resp_spec)):
            assert cls.__api_key__ == api_key and cls.__version__ == version, cls
            flex_lo, flex_hi = _versions(spec.get("flexibleVersions"))
            assert cls.__flexible__ == (flex_lo <= version <= flex_hi), (cls, version)
            assert cls.__name__ == spec["name"]


@pytest.mark.parametrize(("api_key", "module"), [(k, m) for k, m, _ in HANDLERS])
def test_handler_module_for_every_api(api_key: int, module: str) -> None:
    mod = importlib.import_module(f"brook.broker.handlers.{module}")
    assert callable(mod.handle)
    assert REGISTRY[api_key].handle is mod.handle


API_VERSIONS_REQUESTS = {
    0: ApiVersionsRequestV0(),
    1: ApiVersionsRequestV1(),
    2: ApiVersionsRequestV2(),
    3: ApiVersionsRequestV3(client_software_name="brook-tests", client_software_version="1.0"),
    4: ApiVersionsRequestV4(client_software_name="brook-tests", client_software_version="1.0"),
}


def test_api_versions_over_a_real_broker_lists_exactly_the_registry(broker) -> None:
    # Produce is listed from v0 though v0-v2 are refused, as Kafka 4.0 does (KAFKA-18659: older librdkafka
    # sends compressed batches uncompressed when the broker's Produce range does not start at 0).
    expected = {(k, 0 if k == 0 else h.min_version, h.max_version) for k, h in REGISTRY.items()}
    served = REGISTRY[18]
    assert set(API_VERSIONS_REQUESTS) >= set(range(served.min_version, served.max_version + 1))
    with Conn(broker.port) as conn:
        for version in range(served.min_version, served.max_version + 1):
            response = conn.request(API_VERSIONS_REQUESTS[version], response_class(18, version))
            assert response.error_code == ErrorCode.none
            listed = [(a.api_key, a.min_version, a.max_version) for a in response.api_keys]
            assert len(listed) == len(set(listed))
            assert set(listed) == expected, f"ApiVersions v{version}"
