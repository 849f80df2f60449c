"""Golden request frames captured from real clients (tests/protocol/capture_golden.py): Brook's header decoder
reads them, their fields are what the clients sent, kio re-encodes them to the identical bytes, and a real
broker answers each with a response kio reads whole."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from kafka_wire import Conn, decode_response, encode, frame
from kio.serial import entity_reader

from brook.broker.registry import build_registry
from brook.protocol.header import decode_header, decode_request
from brook.protocol.records.batch import validate_produced
from brook.protocol.records.records import iter_records
from brook.protocol.versions import api_name, request_class, response_class

GOLDEN = Path(__file__).resolve().parent / "golden"
NAME = re.compile(r"^(confluent|kafka-python|aiokafka)-([a-z_]+)-v(\d+)\.bin$")
FILES = sorted(GOLDEN.glob("*.bin"))
CLIENT_IDS = {"confluent": "rdkafka", "kafka-python": "kafka-python", "aiokafka": "aiokafka"}
API_KEYS = {api_name(k): k for k in build_registry()}
# The order capture_golden.py's workloads send them in: the topic exists before it is produced to.
REPLAY_ORDER = ("api_versions", "metadata", "create_topics", "produce", "list_offsets", "fetch", "find_coordinator")
CORE_APIS = REPLAY_ORDER[:6]  # what every client's workload sends


def _api(path: Path) -> str:
    m = NAME.match(path.name)
    return m.group(2) if m else ""


def _parse_name(path: Path) -> tuple[str, int, int]:
    m = NAME.match(path.name)
    assert m, f"unexpected golden file name {path.name}"
    return m.group(1), API_KEYS[m.group(2)], int(m.group(3))


def test_golden_files_cover_every_client_and_the_core_apis() -> None:
    found = {(NAME.match(p.name).group(1), NAME.match(p.name).group(2)) for p in FILES}  # type: ignore[union-attr]
    for client in CLIENT_IDS:
        for api in CORE_APIS:
            assert (client, api) in found, f"no golden {api} frame from {client}; run capture_golden.py"
    assert all(p.stat().st_size < 4096 for p in FILES)


def _check_fields(client: str, api_key: int, body: object) -> None:
    topic = f"golden-{client}"
    if api_key == 0:  # Produce
        assert body.acks in (-1, 0, 1)
        [t] = body.topic_data
        assert t.name == topic
        [p] = t.partition_data
        assert p.index == 0
        h = validate_produced(p.records, 1 << 20)
        assert h.magic == 2 and h.records_count == 1
        [record] = iter_records(p.records)
        assert record.key == b"key-1"
        assert record.value.startswith(b"golden value from ")
    elif api_key == 1:  # Fetch
        [t] = body.topics
        if hasattr(t, "topic_id"):
            assert isinstance(t.topic_id, uuid.UUID) and t.topic_id.int != 0
        else:
            assert t.topic == topic
        assert [p.partition for p in t.partitions] == [0]
        assert body.max_wait.total_seconds() <= 60 and body.max_bytes > 0
    elif api_key == 2:  # ListOffsets
        [t] = body.topics
        assert t.name == topic and [p.partition_index for p in t.partitions] == [0]
        assert body.replica_id == -1
    elif api_key == 3:  # Metadata
        assert body.topics is None or all(t.name in (None, topic) for t in body.topics)
    elif api_key == 18:  # ApiVersions
        if hasattr(body, "client_software_name"):
            assert re.fullmatch(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?", body.client_software_name)
    elif api_key == 19:  # CreateTopics
        [t] = body.topics
        assert (t.name, t.num_partitions, t.replication_factor) == (topic, 1, 1)
        assert not body.validate_only
    elif api_key == 10:  # FindCoordinator: the consumer's group
        keys = body.coordinator_keys if hasattr(body, "coordinator_keys") else (body.key,)
        assert keys == ("golden-capture",) and body.key_type == 0


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_golden_frame_decodes_and_reencodes_identically(path: Path) -> None:
    client, api_key, version = _parse_name(path)
    data = path.read_bytes()
    header, body = decode_request(data)
    assert (header.api_key, header.api_version) == (api_key, version)
    assert header.correlation_id >= 0
    assert header.client_id and header.client_id.startswith(CLIENT_IDS[client])
    cls = request_class(api_key, version)
    assert type(body) is cls and header.flexible == cls.__flexible__
    _check_fields(client, api_key, body)

    # Header and body re-encoded by kio are the captured bytes, and nothing is left over.
    _, offset = decode_header(data, cls.__flexible__)
    kio_header, header_size = entity_reader(cls.__header_schema__)(data, 0)
    assert header_size == offset
    assert encode(kio_header) == data[:offset]
    assert encode(body) == data[offset:]


def test_replaying_golden_frames_to_a_real_broker(broker) -> None:
    """Each client's frames, in workload order on one connection: every response is read whole by kio."""
    for client in CLIENT_IDS:
        mine = [p for p in FILES if p.name.startswith(f"{client}-") and _api(p) in REPLAY_ORDER]
        frames = sorted(mine, key=lambda p: REPLAY_ORDER.index(_api(p)))
        with Conn(broker.port) as conn:
            for path in frames:
                _, api_key, version = _parse_name(path)
                data = path.read_bytes()
                header, body = decode_request(data)
                conn.send(frame(data))
                corr, response = decode_response(conn.recv_payload(), response_class(api_key, version))
                assert corr == header.correlation_id, path.name
                if hasattr(response, "error_code"):
                    assert response.error_code == 0, (path.name, response)
                if api_key == 0:
                    [t] = response.responses
                    [p] = t.partition_responses
                    assert p.error_code == 0 and p.base_offset == 0, (path.name, p)
                elif api_key == 19:
                    [t] = response.topics
                    assert t.error_code == 0, (path.name, t)
    assert broker.alive()
