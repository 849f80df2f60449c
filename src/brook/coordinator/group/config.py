"""The group coordinator's settings (group.*, offsets.* broker configs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class GroupConfig:
    min_session_timeout_ms: int = 6000
    max_session_timeout_ms: int = 1800000
    initial_rebalance_delay_ms: int = 3000
    max_size: int = 2**31 - 1
    offsets_retention_ms: int = 7 * 24 * 3600 * 1000
    offsets_retention_check_interval_ms: int = 600000
    num_partitions: int = 50  # offsets.topic.num.partitions, when the topic does not exist yet

    @classmethod
    def from_broker(cls, num: Callable[[str], int]) -> GroupConfig:
        """num: the broker configs\' int getter."""
        return cls(min_session_timeout_ms=num("group.min.session.timeout.ms"),
                   max_session_timeout_ms=num("group.max.session.timeout.ms"),
                   initial_rebalance_delay_ms=num("group.initial.rebalance.delay.ms"),
                   max_size=num("group.max.size"),
                   offsets_retention_ms=num("offsets.retention.minutes") * 60000,
                   offsets_retention_check_interval_ms=num("offsets.retention.check.interval.ms"),
                   num_partitions=num("offsets.topic.num.partitions"))
