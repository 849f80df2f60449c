"""LogCleaner: compaction of logs with cleanup.policy=compact (and compact,delete), Kafka's LogCleaner / Cleaner.

A pass over one log: the dirty section runs from the cleaner checkpoint to the first uncleanable offset (the active
segment, the last stable offset, min.compaction.lag.ms); a key -> latest offset map is built over it; then every
non-active segment from the log start to the end of that section is rewritten, in groups of at most segment.bytes,
keeping only each key's latest record and a producer's newest batch (maybe emptied); tombstones, and markers of
transactions with no data left, get KIP-534's delete horizon (clean_filter.py) and go once it passed. Offsets never
change; gaps appear.

Threading: prepare() and apply() run on the event loop (they look at and change the log's segment list, briefly);
run() does the reading, mapping and writing on a worker thread, bounded to about step_bytes per call, through its
own file descriptors. A swap (apply) is a handful of renames and one index load: reads never see half of one.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from brook.protocol.records.batch import read_header

from . import swap
from .checkpoint import read_offsets, write_offsets
from .clean_filter import CleanedTxns, FilterContext
from .cleaning import (
    CleanerAborted,
    GroupResult,
    PassContext,
    SourceSegment,
    Throttler,
    add_to_map,
    clean_group,
)
from .log import Log
from .segment import LogSegment

log = logging.getLogger("kafka.log.LogCleaner")

CHECKPOINT_FILE = "cleaner-offset-checkpoint"
_INDEX_ENTRY_LIMIT = 2**31 - 1  # offsets relative to a segment's base must fit the .index's i32
_RETIRED_CLOSE_DELAY_S = 10.0  # replaced segments' descriptors stay open this long (a flush may be using them)


class _Configs(Protocol):
    """The typed getters of the broker's configs."""

    def get_bool(self, name: str) -> bool: ...

    def get_int(self, name: str) -> int: ...

    def get_double(self, name: str) -> float: ...


class LogDirs(Protocol):
    """What the cleaner needs of the LogManager."""

    dirs: list[Path]
    logs: dict[tuple[str, int], Log]

    def dir_of(self, topic: str, partition: int) -> Path: ...


@dataclass(slots=True)
class CleanerConfig:
    enable: bool = True
    backoff_ms: int = 15000
    dedupe_buffer_size: int = 134217728
    io_buffer_size: int = 524288
    io_buffer_load_factor: float = 0.9
    io_max_bytes_per_second: float = 1.7976931348623157e308
    step_bytes: int = 32 << 20  # worker-thread work per run() call: the broker applies swaps between calls

    @classmethod
    def from_broker(cls, config: _Configs) -> CleanerConfig:
        num = config.get_int
        return cls(config.get_bool("log.cleaner.enable"), num("log.cleaner.backoff.ms"),
                   num("log.cleaner.dedupe.buffer.size"), num("log.cleaner.io.buffer.size"),
                   config.get_double("log.cleaner.io.buffer.load.factor"),
                   config.get_double("log.cleaner.io.max.bytes.per.second"))


@dataclass(slots=True)
class _Dirt:
    """How dirty a log is (LogToClean)."""

    first_dirty: int
    first_uncleanable: int
    clean_bytes: int
    dirty_bytes: int
    compact_now: bool  # max.compaction.lag.ms passed for its oldest dirty record

    @property
    def ratio(self) -> float:
        total = self.clean_bytes + self.dirty_bytes
        return self.dirty_bytes / total if total else 0.0


@dataclass(slots=True)
class _Job:
    tp: tuple[str, int]
    log: Log
    sources: list[SourceSegment]  # non-active segments from the log start, in order
    dirty: list[SourceSegment]  # the ones holding offsets >= first_dirty
    first_dirty: int
    end_offset: int  # the dirty section ends here (a segment base): the next checkpoint
    ctx: PassContext
    map_next: int = 0  # dirty segments mapped so far
    map_bytes: int = 0
    groups: list[list[SourceSegment]] | None = None
    group_next: int = 0
    tombstone_due_ms: int | None = None
    started: float = field(default_factory=time.monotonic)
    bytes_read: int = 0
    bytes_written: int = 0


@dataclass(slots=True)
class CleanStep:
    """One bounded piece of a job: made by prepare(), filled by run(), applied by apply()."""

    job: _Job
    results: list[GroupResult] = field(default_factory=list)
    done: bool = False
    error: BaseException | None = None


class LogCleaner:
    def __init__(self, logs: LogDirs, config: CleanerConfig | None = None) -> None:
        self.logs = logs
        self.config = config or CleanerConfig()
        self.checkpoints: dict[tuple[str, int], int] = {}
        self.tombstone_due: dict[tuple[str, int], int | None] = {}
        self.uncleanable: set[tuple[str, int]] = set()  # logs a pass failed on (Kafka marks them the same way)
        self._known: dict[tuple[str, int], Log] = {}
        self._loaded = False
        self._job: _Job | None = None
        self._aborted = False
        self._retired: list[tuple[float, LogSegment]] = []
        self.passes = 0

    # -- public API ----------------------------------------------------------------------------------------
    def clean_once(self, now_ms: int | None = None) -> bool:
        """Run a whole pass synchronously (tests, tools); returns False when no log needed cleaning."""
        step = self.prepare(now_ms)
        if step is None:
            return False
        while step is not None:
            self.run(step)
            self.apply(step)
            step = self.prepare(now_ms) if self._job is not None else None
        return True

    def prepare(self, now_ms: int | None = None) -> CleanStep | None:
        """Event loop: continue the current job, or plan one for the dirtiest cleanable log; None if none."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        self._close_retired()
        self._refresh()
        job = self._job
        if job is not None and self.logs.logs.get(job.tp) is not job.log:
            self._job = job = None
        if job is None:
            job = self._job = self._plan(now_ms)
        return None if job is None else CleanStep(job)

    def run(self, step: CleanStep) -> None:
        """Worker thread: map, then clean groups, until about step_bytes were read; never raises."""
        job = step.job
        budget = self.config.step_bytes
        read = 0
        try:
            while job.map_next < len(job.dirty) and read < budget:
                src = job.dirty[job.map_next]
                job.map_bytes += add_to_map(job.ctx, src, job.first_dirty, job.end_offset)
                job.map_next += 1
                read += src.size
                if job.map_bytes >= self.config.dedupe_buffer_size * self.config.io_buffer_load_factor:
                    # the map is full: this pass ends here, the next one goes on from here (Kafka's rule)
                    job.end_offset = src.next_base
                    job.dirty = job.dirty[: job.map_next]
            if job.map_next < len(job.dirty):
                return
            if job.groups is None:
                job.groups = self._groups(job)
            while job.group_next < len(job.groups) and read < budget:
                group = job.groups[job.group_next]
                keep_empty = job.group_next == 0  # the log's first segment stays: it holds the log start offset
                res = clean_group(job.ctx, group, keep_empty, job.log.directory)
                step.results.append(res)
                job.group_next += 1
                read += res.bytes_read
            step.done = job.group_next >= len(job.groups)
        except BaseException as e:  # reported by apply() on the event loop
            step.error = e

    def apply(self, step: CleanStep) -> None:
        """Event loop: swap the cleaned groups in, and checkpoint a finished pass."""
        job = step.job
        if self._job is not job:
            self._discard(step.results, job)
            return
        if self.logs.logs.get(job.tp) is not job.log:
            self._discard(step.results, job)  # deleted meanwhile (its directory may be gone: so may the error)
            self._job = None
            return
        if step.error is not None:
            self._discard(step.results, job)
            self._job = None
            if not isinstance(step.error, CleanerAborted):
                self.uncleanable.add(job.tp)
                log.error("Error cleaning log %s-%d; it is marked uncleanable", job.tp[0], job.tp[1],
                          exc_info=step.error)
            return
        for i, res in enumerate(step.results):
            try:
                self._install(job.log, res)
            except _Stale:
                # retention or a truncation changed the segments under the job: drop it; the next pass starts
                # afresh from the unchanged checkpoint (the groups already swapped are valid on their own)
                self._discard(step.results[i:], job)
                self._job = None
                return
            except Exception:
                # e.g. the disk refused a rename: the files are in a state the next load completes or rolls back.
                # The job goes: a later group must not drop a tombstone whose older value this one still holds.
                self._discard(step.results[i:], job)  # .cleaned files only: a committed .swap stays for the load
                self._job = None
                self.uncleanable.add(job.tp)
                log.exception("Error swapping cleaned segments of %s-%d; it is marked uncleanable", *job.tp)
                return
            job.bytes_read += res.bytes_read
            job.bytes_written += res.bytes_written
            if res.tombstone_due_ms is not None:
                due = job.tombstone_due_ms
                job.tombstone_due_ms = res.tombstone_due_ms if due is None else min(due, res.tombstone_due_ms)
        if step.done:
            self._finish(job)

    def abort(self) -> None:
        """Shutdown: a running step stops at its next batch; its files are removed at the next load."""
        self._aborted = True

    def close(self) -> None:
        self._aborted = True
        for _t, seg in self._retired:
            seg.close()
        self._retired.clear()

    # -- choosing a log ------------------------------------------------------------------------------------
    def _refresh(self) -> None:
        """Load the checkpoint files once; forget the state of logs that were deleted (or re-created)."""
        if not self._loaded:
            self._loaded = True
            for d in self.logs.dirs:
                try:
                    self.checkpoints.update(read_offsets(Path(d) / CHECKPOINT_FILE))
                except ValueError as e:
                    log.warning("Ignoring unreadable cleaner checkpoint: %s", e)
        current = self.logs.logs
        gone = [tp for tp, lg in self._known.items() if current.get(tp) is not lg]
        for tp in gone:
            del self._known[tp]
            self.tombstone_due.pop(tp, None)
            self.uncleanable.discard(tp)
            if self.checkpoints.pop(tp, None) is not None:
                self._write_checkpoints()  # a re-created partition must not inherit the old one's offset
        for tp, lg in current.items():
            if tp not in self._known:
                self._known[tp] = lg

    def dirt(self, lg: Log, tp: tuple[str, int], now_ms: int) -> _Dirt:
        cfg = lg.config
        segs = lg.segments
        first_dirty = self.checkpoints.get(tp, 0)
        if not lg.log_start_offset <= first_dirty <= lg.log_end_offset:
            first_dirty = lg.log_start_offset  # a stale or missing checkpoint: all of it is dirty
        upper = min(segs[-1].base_offset, lg.high_watermark, lg.last_stable_offset)
        clean = dirty = 0
        first_uncleanable = upper
        first_dirty_seg: LogSegment | None = None
        for i, seg in enumerate(segs[:-1]):
            nxt = segs[i + 1].base_offset
            if nxt <= first_dirty:
                clean += seg.size
                continue
            if nxt > upper or cfg.min_compaction_lag_ms > 0 and seg.max_timestamp > now_ms - cfg.min_compaction_lag_ms:
                first_uncleanable = min(upper, max(seg.base_offset, first_dirty))
                break
            dirty += seg.size
            first_dirty_seg = first_dirty_seg or seg
        compact_now = False
        if first_dirty_seg is not None and cfg.max_compaction_lag_ms < 2**62 and first_dirty_seg.size:
            first_ts = read_header(os.pread(first_dirty_seg.fd, 61, 0)).max_timestamp
            compact_now = 0 <= first_ts < now_ms - cfg.max_compaction_lag_ms
        return _Dirt(first_dirty, first_uncleanable, clean, dirty, compact_now)

    def _plan(self, now_ms: int) -> _Job | None:
        best: tuple[float, tuple[str, int], Log, _Dirt] | None = None
        due: tuple[tuple[str, int], Log, _Dirt] | None = None
        for tp, lg in self.logs.logs.items():
            if "compact" not in lg.config.cleanup_policy or tp in self.uncleanable or len(lg.segments) < 2:
                continue
            d = self.dirt(lg, tp, now_ms)
            if d.dirty_bytes and (d.compact_now or d.ratio > lg.config.min_cleanable_dirty_ratio):
                if best is None or d.ratio > best[0]:
                    best = (d.ratio, tp, lg, d)
            elif due is None and d.clean_bytes and self._tombstones_due(tp, lg, d, now_ms):
                due = (tp, lg, d)
        if best is not None:
            return self._new_job(best[1], best[2], best[3], now_ms)
        if due is not None:  # nothing dirty enough: a quiet moment to drop tombstones past their horizon
            return self._new_job(*due, now_ms)
        return None

    def _tombstones_due(self, tp: tuple[str, int], lg: Log, d: _Dirt, now_ms: int) -> bool:
        if tp not in self.tombstone_due:
            # not known since start-up: every horizon already stamped is at most now + delete.retention.ms
            # (a horizon is the time of a cleaning plus that), so one pass then finds them all and the next one due
            self.tombstone_due[tp] = now_ms + lg.config.delete_retention_ms
        when = self.tombstone_due[tp]
        return when is not None and when <= now_ms

    def _new_job(self, tp: tuple[str, int], lg: Log, d: _Dirt, now_ms: int) -> _Job:
        segs = lg.segments
        sources = []
        for i, seg in enumerate(segs[:-1]):
            if segs[i + 1].base_offset > d.first_uncleanable:
                break
            sources.append(SourceSegment(seg, seg.base_offset, seg.size, segs[i + 1].base_offset, seg.log_path))
        dirty = [s for s in sources if s.next_base > d.first_dirty]
        aborted: dict[int, list[tuple[int, int]]] = {}
        entries = [e for seg in segs for e in seg.txn_index.entries]
        for e in entries:
            aborted.setdefault(e.producer_id, []).append((e.first_offset, e.last_offset))
        producers = lg.producer_state.producers
        last_offsets = {pid: e.batches[-1].last_offset for pid, e in producers.items() if e.batches}
        marker_epochs = {pid: e.epoch for pid, e in producers.items() if not e.batches}
        filt = FilterContext({}, now_ms, lg.config.delete_retention_ms, last_offsets, marker_epochs,
                             CleanedTxns(entries))
        ctx = PassContext(filt, aborted, lg.config.index_interval_bytes, self.config.io_buffer_size,
                          Throttler(self.config.io_max_bytes_per_second), lambda: self._aborted)
        end = sources[-1].next_base if sources else d.first_dirty
        why = "delete horizons passed" if end <= d.first_dirty else f"{100 * d.ratio:.1f}% dirty"
        log.info("Beginning cleaning of log %s-%d: dirty section [%d, %d), %s, %d bytes", tp[0], tp[1],
                 d.first_dirty, end, why, d.clean_bytes + d.dirty_bytes)
        return _Job(tp, lg, sources, dirty, d.first_dirty, end, ctx)

    def _groups(self, job: _Job) -> list[list[SourceSegment]]:
        """Kafka's groupSegmentsBySize: consecutive segments whose sizes add up to at most segment.bytes."""
        limit = job.log.config.segment_bytes
        groups: list[list[SourceSegment]] = []
        for src in job.sources:
            if src.base >= job.end_offset:
                break
            g = groups[-1] if groups else None
            if g is not None and sum(s.size for s in g) + src.size <= limit and \
                    src.next_base - g[0].base <= _INDEX_ENTRY_LIMIT:
                g.append(src)
            else:
                groups.append([src])
        return groups

    # -- applying ------------------------------------------------------------------------------------------
    def _install(self, lg: Log, res: GroupResult) -> None:
        if not res.changed:
            return
        segs = lg.segments
        first = res.sources[0].segment
        i = next((k for k, s in enumerate(segs) if s is first), -1)
        n = len(res.sources)
        if i < 0 or i + n >= len(segs) or any(segs[i + k] is not s.segment for k, s in enumerate(res.sources)):
            raise _Stale
        directory = lg.directory
        bases = [s.base for s in res.sources]
        new: list[LogSegment] = []
        if res.written:
            swap.commit(directory, res.base)
            deleted = swap.retire(directory, bases)
            swap.finish(directory, res.base)
            seg = LogSegment(directory, res.base, lg.config.index_interval_bytes)
            seg.load(segs[i + n].base_offset)
            new.append(seg)
        else:
            deleted = swap.retire(directory, bases)
            swap.fsync_dir(directory)
        lg.replace_segments(i, n, new)
        for p in deleted:  # open descriptors (a fetch's, a flush's) keep reading the unlinked files
            p.unlink(missing_ok=True)
        later = time.monotonic() + _RETIRED_CLOSE_DELAY_S
        self._retired.extend((later, s.segment) for s in res.sources)

    def _finish(self, job: _Job) -> None:
        self._job = None
        self.passes += 1
        tp = job.tp
        self.checkpoints[tp] = job.end_offset
        self.tombstone_due[tp] = job.tombstone_due_ms
        self._write_checkpoints()
        secs = max(time.monotonic() - job.started, 1e-6)
        log.info("Cleaned log %s-%d up to offset %d: %.1f MB read, %.1f MB written in %.2f s (%.1f MB/s)",
                 tp[0], tp[1], job.end_offset, job.bytes_read / 1e6, job.bytes_written / 1e6, secs,
                 job.bytes_read / 1e6 / secs)

    def _write_checkpoints(self) -> None:
        """cleaner-offset-checkpoint in every log dir: the first dirty offset of each of its logs."""
        live = {tp: o for tp, o in self.checkpoints.items() if tp in self.logs.logs}
        for d in self.logs.dirs:
            mine = {tp: o for tp, o in live.items() if Path(self.logs.dir_of(*tp)) == Path(d)}
            write_offsets(Path(d) / CHECKPOINT_FILE, mine)

    def _discard(self, results: list[GroupResult], job: _Job) -> None:
        for res in results:
            if res.written:
                swap.discard(job.log.directory, res.base)

    def _close_retired(self) -> None:
        now = time.monotonic()
        keep = []
        for when, seg in self._retired:
            if when <= now:
                seg.close()
            else:
                keep.append((when, seg))
        self._retired = keep


class _Stale(Exception):
    pass
