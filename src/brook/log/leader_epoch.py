"""The leader epoch cache and its leader-epoch-checkpoint file: (epoch, start offset) pairs, both increasing.

Kafka's LeaderEpochFileCache: an epoch's start offset is the offset of its first batch (or the log end offset when
a leader takes the epoch); its end offset is the next epoch's start, or the log end offset for the latest one.
Every change is written (and fsynced) at once, so the file never lacks an entry the log has."""

from __future__ import annotations

import bisect
from pathlib import Path

from .checkpoint import read_lines, write_lines

UNDEFINED_EPOCH = -1
UNDEFINED_EPOCH_OFFSET = -1


class LeaderEpochCache:
    FILE = "leader-epoch-checkpoint"

    def __init__(self, directory: Path) -> None:
        self.path = directory / self.FILE
        self.entries: list[tuple[int, int]] = []
        for e, o in read_lines(self.path):
            self._assign(int(e), int(o))

    @property
    def latest_epoch(self) -> int:
        return self.entries[-1][0] if self.entries else UNDEFINED_EPOCH

    @property
    def earliest(self) -> tuple[int, int] | None:
        return self.entries[0] if self.entries else None

    def assign(self, epoch: int, start_offset: int, fsync: bool = True) -> None:
        before = self.entries[:]
        if self._assign(epoch, start_offset):
            try:
                self.flush(fsync)
            except OSError:  # not on disk (a full disk): not assigned, so the next append tries again
                self.entries = before
                raise

    def _assign(self, epoch: int, start_offset: int) -> bool:
        if epoch < 0 or start_offset < 0:
            raise ValueError(f"Received invalid partition leader epoch entry ({epoch}, {start_offset})")
        entries = self.entries
        if entries and epoch == entries[-1][0] and start_offset >= entries[-1][1]:
            return False  # already known: the hot path returns here
        # a new entry replaces those it contradicts (same or later epoch, same or later start)
        while entries and (entries[-1][0] >= epoch or entries[-1][1] >= start_offset):
            entries.pop()
        entries.append((epoch, start_offset))
        return True

    def end_offset_for(self, epoch: int, log_end_offset: int) -> tuple[int, int]:
        """Kafka's endOffsetFor: (the largest cached epoch <= epoch, the start offset of the next epoch), the log
        end offset for the latest epoch, (-1, -1) when epoch is undefined or above every cached epoch."""
        if epoch == UNDEFINED_EPOCH or not self.entries:
            return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
        if epoch == self.entries[-1][0]:
            return epoch, log_end_offset
        i = bisect.bisect_right(self.entries, (epoch, 2**63))  # first entry with a higher epoch
        if i == len(self.entries):
            return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
        higher_start = self.entries[i][1]
        if i == 0:  # older than every cached epoch (deleted with the log's start): the first known start
            return epoch, higher_start
        return self.entries[i - 1][0], higher_start

    def epoch_for_offset(self, offset: int) -> int:
        """The epoch whose range holds offset, -1 if none."""
        i = bisect.bisect_right([o for _, o in self.entries], offset)
        return self.entries[i - 1][0] if i else UNDEFINED_EPOCH

    def truncate_from_end(self, end_offset: int) -> None:
        """Drop the epochs starting at or after end_offset (the log was truncated there)."""
        if end_offset >= 0 and self.entries and self.entries[-1][1] >= end_offset:
            while self.entries and self.entries[-1][1] >= end_offset:
                self.entries.pop()
            self.flush()

    def truncate_from_start(self, start_offset: int) -> None:
        """The log starts at start_offset now: the epoch holding it starts there, older epochs go."""
        removed = 0
        while removed < len(self.entries) and self.entries[removed][1] <= start_offset:
            removed += 1
        if removed:
            first = (self.entries[removed - 1][0], start_offset)
            if removed == 1 and self.entries[0] == first:
                return
            self.entries[:removed] = [first]
            self.flush()

    def flush(self, fsync: bool = True) -> None:
        write_lines(self.path, [f"{e} {o}" for e, o in self.entries], fsync)
