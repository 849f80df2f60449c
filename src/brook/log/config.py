"""The resolved configs one partition log runs with (topic overrides over broker defaults)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class LogConfig:
    segment_bytes: int = 1073741824
    segment_ms: int = 604800000
    index_interval_bytes: int = 4096
    max_message_bytes: int = 1048588
    flush_messages: int = 2**63 - 1
    flush_ms: int = 2**63 - 1
    retention_ms: int = 604800000
    retention_bytes: int = -1
    message_timestamp_type: str = "CreateTime"
    cleanup_policy: tuple[str, ...] = ("delete",)
    min_insync_replicas: int = 1

    @classmethod
    def from_values(cls, values: dict[str, object]) -> LogConfig:
        c = cls()
        for name in cls.__slots__:  # type: ignore[attr-defined]
            kafka_name = name.replace("_", ".")
            if kafka_name in values and values[kafka_name] is not None:
                v = values[kafka_name]
                setattr(c, name, tuple(v) if isinstance(v, list) else v)
        return c
