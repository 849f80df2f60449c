"""Retention: which whole, non-active segments go, by time (retention.ms), size (retention.bytes) and the
log start offset (DeleteRecords). Kafka's UnifiedLog.deleteOldSegments rules, oldest first."""

from __future__ import annotations

import os

from .log import Log
from .segment import LogSegment


def _segment_time(seg: LogSegment) -> int:
    """The segment's largest record timestamp, or its file's mtime when it holds none (as Kafka)."""
    if seg.max_timestamp >= 0:
        return seg.max_timestamp
    return int(os.stat(seg.log_path).st_mtime * 1000)


def deletable_segments(log: Log, now_ms: int) -> list[LogSegment]:
    cfg = log.config
    # never the active segment, nor one holding offsets at or past the high watermark (not yet replicated)
    segs = log.segments
    candidates = [segs[i] for i in range(len(segs) - 1) if segs[i + 1].base_offset <= log.high_watermark]
    out: list[LogSegment] = []
    if "delete" in cfg.cleanup_policy:
        total = log.size
        for seg in candidates:
            by_time = cfg.retention_ms >= 0 and now_ms - _segment_time(seg) > cfg.retention_ms
            by_size = cfg.retention_bytes >= 0 and total - seg.size >= cfg.retention_bytes
            if not (by_time or by_size):
                break
            out.append(seg)
            total -= seg.size
    # Segments wholly below the log start offset go whatever the policy (DeleteRecords).
    for i, seg in enumerate(candidates):
        if seg in out:
            continue
        if log.segments[i + 1].base_offset <= log.log_start_offset:
            out.append(seg)
        else:
            break
    return out


def apply_retention(log: Log, now_ms: int) -> int:
    """Delete what retention allows; returns the number of segments deleted."""
    doomed = deletable_segments(log, now_ms)
    for _ in doomed:
        log.delete_oldest_segment()
    return len(doomed)
