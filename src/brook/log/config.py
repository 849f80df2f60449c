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
    file_delete_delay_ms: int = 60000
    message_timestamp_before_max_ms: int = 2**63 - 1
    message_timestamp_after_max_ms: int = 2**63 - 1
    message_timestamp_difference_max_ms: int = 2**63 - 1
    # compaction (cleanup.policy=compact): the LogCleaner's per-topic knobs
    delete_retention_ms: int = 86400000
    min_cleanable_dirty_ratio: float = 0.5
    min_compaction_lag_ms: int = 0
    max_compaction_lag_ms: int = 2**63 - 1

    @classmethod
    def from_values(cls, values: dict[str, object]) -> LogConfig:
        c = cls()
        for name in cls.__slots__:
            kafka_name = name.replace("_", ".")
            if kafka_name in values and values[kafka_name] is not None:
                v = values[kafka_name]
                setattr(c, name, tuple(v) if isinstance(v, list) else v)
        if "compact" in c.cleanup_policy:
            # Kafka's LogConfig.maxSegmentMs: a compacted log rolls by max.compaction.lag.ms too, or records in
            # the active segment could wait past that lag (the cleaner never touches the active segment)
            c.segment_ms = min(c.segment_ms, c.max_compaction_lag_ms)
        return c
