"""API key -> handler and the versions Brook serves; ApiVersions is generated from this table."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from brook.protocol.versions import KAFKA_39_MAX, KIP_896_MIN, schema_versions


@dataclass(frozen=True, slots=True)
class ApiHandler:
    api_key: int
    min_version: int
    max_version: int
    handle: Callable
    # handle_frame(broker, connection, frame, decode): a handler's path for frames it can answer without kio
    # decoding them (Produce of a known shape), or UNHANDLED; None if the handler has none
    handle_frame: Callable | None = None


# (api key, module under brook.broker.handlers, max version Brook implements and tests)
HANDLERS: tuple[tuple[int, str, int], ...] = (
    (0, "produce", 11),
    (1, "fetch", 17),
    (2, "list_offsets", 9),
    (3, "metadata", 12),
    (8, "offset_commit", 9),
    (9, "offset_fetch", 9),
    (10, "find_coordinator", 6),
    (11, "join_group", 9),
    (12, "heartbeat", 4),
    (13, "leave_group", 5),
    (14, "sync_group", 5),
    (15, "describe_groups", 5),
    (16, "list_groups", 5),
    (17, "sasl_handshake", 1),
    (18, "api_versions", 4),
    (19, "create_topics", 7),
    (20, "delete_topics", 6),
    (21, "delete_records", 2),
    (22, "init_producer_id", 5),
    (24, "add_partitions_to_txn", 5),
    (25, "add_offsets_to_txn", 4),
    (26, "end_txn", 4),
    (27, "write_txn_markers", 1),
    (28, "txn_offset_commit", 4),
    (23, "offset_for_leader_epoch", 4),
    (29, "describe_acls", 3),
    (30, "create_acls", 3),
    (31, "delete_acls", 3),
    (32, "describe_configs", 4),
    (33, "alter_configs", 2),
    (35, "describe_log_dirs", 4),
    (36, "sasl_authenticate", 2),
    (37, "create_partitions", 3),
    (42, "delete_groups", 2),
    (44, "incremental_alter_configs", 1),
    (47, "offset_delete", 0),
    (48, "describe_client_quotas", 1),
    (49, "alter_client_quotas", 1),
    (50, "describe_user_scram_credentials", 0),
    (51, "alter_user_scram_credentials", 0),
    (56, "alter_partition", 3),
    (57, "update_features", 1),
    (60, "describe_cluster", 1),
    (61, "describe_producers", 0),
    (65, "describe_transactions", 0),
    (66, "list_transactions", 1),
    (75, "describe_topic_partitions", 0),
    (7, "controlled_shutdown", 3),
    (43, "elect_leaders", 2),
    (45, "alter_partition_reassignments", 0),
    (46, "list_partition_reassignments", 0),
)


def kio_versions(api_key: int) -> tuple[int, int]:
    return schema_versions(api_key)


def build_registry() -> dict[int, ApiHandler]:
    """Advertised range = Kafka 3.9's range, from KIP-896's floor, within what kio and the handler support."""
    registry: dict[int, ApiHandler] = {}
    for api_key, module, implemented_max in HANDLERS:
        mod = importlib.import_module(f"brook.broker.handlers.{module}")
        kio_min, kio_max = kio_versions(api_key)
        lo = max(kio_min, KIP_896_MIN.get(api_key, 0))
        hi = min(kio_max, KAFKA_39_MAX[api_key], implemented_max)
        registry[api_key] = ApiHandler(api_key, lo, hi, mod.handle, getattr(mod, "handle_frame", None))
    return registry
