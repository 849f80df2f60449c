"""Sparse .index (relative offset i32, position i32) and .timeindex (timestamp i64, relative offset i32) files.

Entries are kept in memory (arrays) and appended to the file as they are made; Kafka preallocates its index
files and trims them on close, so a loaded file ends at the first entry that does not increase.
"""

from __future__ import annotations

import bisect
import errno
import os
import struct
from array import array
from pathlib import Path

_OFFSET_ENTRY = struct.Struct(">ii")
_TIME_ENTRY = struct.Struct(">qi")


class _IndexFile:
    """The file side of an index: entries of a fixed size, appended as they are made."""

    ENTRY: struct.Struct

    def __init__(self, path: Path, base_offset: int) -> None:
        self.path = path
        self.base_offset = base_offset
        self._fd = -1
        self._clear()

    def _clear(self) -> None:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def _read(self) -> bytes | None:
        """The file's bytes, or None when it is missing or not a whole number of entries."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        return None if len(data) % self.ENTRY.size else data

    def _write(self, *fields: int) -> None:
        """Append one entry to the file before the arrays take it: a full disk (OSError) leaves both as they were,
        never a torn entry."""
        if self._fd >= 0:
            entry = self.ENTRY.pack(*fields)
            try:
                written = os.write(self._fd, entry)
            except OSError:
                written = -1
            if written != len(entry):
                self._truncate_file(len(self))
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path))

    def truncate_entries(self, count: int) -> None:
        """Keep the first `count` entries (undoing the appends of a batch that could not be written)."""
        for values in self._arrays():
            del values[count:]
        self._truncate_file(count)

    def _arrays(self) -> tuple[array, array]:
        raise NotImplementedError

    def _truncate_file(self, entries: int) -> None:
        if self._fd >= 0:
            os.ftruncate(self._fd, entries * self.ENTRY.size)
            os.lseek(self._fd, 0, os.SEEK_END)

    def open(self) -> None:
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
        self._truncate_file(len(self))

    def reset(self) -> None:
        self._clear()
        self._truncate_file(0)

    def flush(self) -> None:
        if self._fd >= 0:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class OffsetIndex(_IndexFile):
    ENTRY = _OFFSET_ENTRY

    def _clear(self) -> None:
        self.offsets = array("q")
        self.positions = array("q")

    def __len__(self) -> int:
        return len(self.offsets)

    def load(self) -> bool:
        """Read an existing file; returns False when it is missing or not sane (then rebuild it)."""
        data = self._read()
        if data is None:
            return False
        last_off, last_pos = -1, -1
        for i, (rel, pos) in enumerate(_OFFSET_ENTRY.iter_unpack(data)):
            if i and (rel <= last_off - self.base_offset or pos <= last_pos):
                break  # preallocated zeros
            self.offsets.append(self.base_offset + rel)
            self.positions.append(pos)
            last_off, last_pos = self.base_offset + rel, pos
        return True

    def _arrays(self) -> tuple[array, array]:
        return self.offsets, self.positions

    def append(self, offset: int, position: int) -> None:
        self._write(offset - self.base_offset, position)
        self.offsets.append(offset)
        self.positions.append(position)

    def lookup(self, offset: int) -> tuple[int, int]:
        """The greatest entry at or below offset, or (base offset, 0)."""
        i = bisect.bisect_right(self.offsets, offset) - 1
        if i < 0:
            return self.base_offset, 0
        return self.offsets[i], self.positions[i]

    def truncate_to_position(self, position: int) -> None:
        i = bisect.bisect_left(self.positions, position)
        del self.offsets[i:]
        del self.positions[i:]
        self._truncate_file(i)


class TimeIndex(_IndexFile):
    ENTRY = _TIME_ENTRY

    def _clear(self) -> None:
        self.timestamps = array("q")
        self.offsets = array("q")

    def __len__(self) -> int:
        return len(self.timestamps)

    def load(self) -> bool:
        data = self._read()
        if data is None:
            return False
        for i, (ts, rel) in enumerate(_TIME_ENTRY.iter_unpack(data)):
            if i and (ts <= self.timestamps[-1] or self.base_offset + rel < self.offsets[-1]):
                break
            self.timestamps.append(ts)
            self.offsets.append(self.base_offset + rel)
        return True

    def _arrays(self) -> tuple[array, array]:
        return self.timestamps, self.offsets

    @property
    def last_timestamp(self) -> int:
        return self.timestamps[-1] if self.timestamps else -1

    def maybe_append(self, timestamp: int, offset: int) -> None:
        if timestamp > self.last_timestamp:
            self._write(timestamp, offset - self.base_offset)
            self.timestamps.append(timestamp)
            self.offsets.append(offset)

    def lookup(self, timestamp: int) -> int:
        """Offset of the greatest entry whose timestamp is <= timestamp, or the base offset."""
        i = bisect.bisect_right(self.timestamps, timestamp) - 1
        return self.offsets[i] if i >= 0 else self.base_offset

    def truncate_to_offset(self, offset: int) -> None:
        i = bisect.bisect_left(self.offsets, offset)
        del self.timestamps[i:]
        del self.offsets[i:]
        self._truncate_file(i)
