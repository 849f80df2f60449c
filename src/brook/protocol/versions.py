"""(api key, version) -> kio request/response classes, and the versions Kafka 3.9 defines for each API."""

from __future__ import annotations

import functools

from kio.index import load_request_schema, load_response_schema
from kio.schema.index import api_key_map, schema_name_map
from kio.static.protocol import RequestPayload

from . import controlled_shutdown

# Kafka 3.9's highest version per API (clients/src/main/resources/common/message/*Request.json), and the
# lowest version Kafka 4 still accepts (KIP-896). Brook advertises the intersection with kio and its handlers.
KAFKA_39_MAX: dict[int, int] = {
    0: 11, 1: 17, 2: 9, 3: 12, 8: 9, 9: 9, 10: 6, 11: 9, 12: 4, 13: 5, 14: 5, 15: 5, 16: 5, 17: 1, 18: 4,
    19: 7, 20: 6, 21: 2, 22: 5, 23: 4, 24: 5, 25: 4, 26: 4, 27: 1, 28: 4, 29: 3, 30: 3, 31: 3, 32: 4,
    33: 2, 34: 2, 35: 4, 36: 2, 37: 3, 42: 2, 43: 2, 44: 1, 45: 0, 46: 0, 47: 0, 48: 1, 49: 1, 50: 0,
    51: 0, 56: 3, 57: 1, 60: 1, 61: 0, 65: 0, 66: 1, 75: 0, 7: 3,
}
KIP_896_MIN: dict[int, int] = {0: 3, 1: 4, 2: 1, 8: 2, 9: 1, 19: 2, 20: 1, 23: 2, 29: 1, 30: 1, 31: 1, 32: 1,
                               34: 1, 35: 1, 27: 1, 7: 3, 56: 2}


def api_name(api_key: int) -> str:
    if api_key == controlled_shutdown.API_KEY:
        return "ControlledShutdown"
    return api_key_map.get(api_key, f"api_{api_key}")


def schema_versions(api_key: int) -> tuple[int, int]:
    """The versions kio (or, for ControlledShutdown, Brook's declaration of it) can read and write."""
    if api_key == controlled_shutdown.API_KEY:
        return controlled_shutdown.VERSION, controlled_shutdown.VERSION
    versions = schema_name_map[api_key_map[api_key]].keys()
    return min(versions), max(versions)


@functools.cache
def request_class(api_key: int, version: int) -> type[RequestPayload]:
    if api_key == controlled_shutdown.API_KEY and version == controlled_shutdown.VERSION:
        return controlled_shutdown.ControlledShutdownRequest
    return load_request_schema(api_key, version)


@functools.cache
def response_class(api_key: int, version: int) -> type:
    if api_key == controlled_shutdown.API_KEY and version == controlled_shutdown.VERSION:
        return controlled_shutdown.ControlledShutdownResponse
    return load_response_schema(api_key, version)
