"""The leader epoch cache and its leader-epoch-checkpoint file: (epoch, start offset) pairs."""

from __future__ import annotations

from pathlib import Path

from .checkpoint import read_lines, write_lines


class LeaderEpochCache:
    FILE = "leader-epoch-checkpoint"

    def __init__(self, directory: Path) -> None:
        self.path = directory / self.FILE
        self.entries: list[tuple[int, int]] = [(int(e), int(o)) for e, o in read_lines(self.path)]

    @property
    def latest_epoch(self) -> int:
        return self.entries[-1][0] if self.entries else -1

    def assign(self, epoch: int, start_offset: int) -> None:
        if epoch < 0 or (self.entries and epoch <= self.entries[-1][0]):
            return
        self.entries.append((epoch, start_offset))
        try:
            self.flush()
        except OSError:  # not on disk: not assigned, so the next append tries again
            self.entries.pop()
            raise

    def end_offset_for(self, epoch: int, log_end_offset: int) -> tuple[int, int]:
        """Kafka's OffsetForLeaderEpoch answer: (largest epoch <= requested, its end offset)."""
        if not self.entries:
            return -1, -1
        if epoch == self.entries[-1][0]:
            return epoch, log_end_offset
        for i in range(len(self.entries) - 1, -1, -1):
            e, _ = self.entries[i]
            if e <= epoch:
                end = self.entries[i + 1][1] if i + 1 < len(self.entries) else log_end_offset
                return e, end
        return -1, -1

    def truncate_from_start(self, start_offset: int) -> None:
        kept = [(e, o) for e, o in self.entries if o >= start_offset]
        earlier = [(e, o) for e, o in self.entries if o < start_offset]
        if earlier:
            kept.insert(0, (earlier[-1][0], start_offset))
        if kept != self.entries:
            self.entries = kept
            self.flush()

    def flush(self) -> None:
        write_lines(self.path, [f"{e} {o}" for e, o in self.entries])
