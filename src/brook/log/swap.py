"""Crash-safe replacement of log segments by cleaned ones, and the completion of an interrupted one on load.

Kafka's protocol (LogCleaner / LogLoader), file by file:
  1. the cleaner writes `<base>.log.cleaned` (and its .index / .timeindex / .txnindex) and fsyncs them;
  2. commit: `.cleaned` -> `.swap`, the .log last, so an existing `<base>.log.swap` means a whole new segment;
  3. the replaced segments' files -> `.deleted`, oldest segment first and each one's .log last;
  4. `.swap` -> the final names, the .log last; the `.deleted` files go.
On load, `.cleaned` files (an unfinished step 1 or 2) and `.deleted` files are removed; a `<base>.log.swap` wins over
every segment whose base offset lies in its offset range, then takes its final name.
"""

from __future__ import annotations

import os
from pathlib import Path

from brook.protocol.records.batch import HEADER_SIZE, read_header

from .index import OffsetIndex

# The .log last everywhere: the .log's rename is the step's commit point.
SEGMENT_SUFFIXES = (".index", ".timeindex", ".txnindex", ".log")
CLEANED, SWAP, DELETED = ".cleaned", ".swap", ".deleted"


def segment_path(directory: Path, base: int, suffix: str, state: str = "") -> Path:
    return directory / f"{base:020d}{suffix}{state}"


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rename_all(directory: Path, base: int, src: str, dst: str) -> None:
    for suffix in SEGMENT_SUFFIXES:
        p = segment_path(directory, base, suffix, src)
        if p.exists():
            os.replace(p, segment_path(directory, base, suffix, dst))


def commit(directory: Path, base: int) -> None:
    """Step 2: from here a crash keeps the cleaned segment."""
    _rename_all(directory, base, CLEANED, SWAP)
    fsync_dir(directory)


def retire(directory: Path, bases: list[int]) -> list[Path]:
    """Step 3: the replaced segments' files become .deleted (oldest first, so a crash part-way leaves a log whose
    surviving records are still a valid compaction: an older value never outlives a newer tombstone's removal)."""
    out = []
    for base in bases:
        for suffix in SEGMENT_SUFFIXES:
            p = segment_path(directory, base, suffix)
            if p.exists():
                q = segment_path(directory, base, suffix, DELETED)
                os.replace(p, q)
                out.append(q)
    return out


def finish(directory: Path, base: int) -> None:
    """Step 4: the swap files take their final names."""
    _rename_all(directory, base, SWAP, "")
    fsync_dir(directory)


def discard(directory: Path, base: int) -> None:
    for suffix in SEGMENT_SUFFIXES:
        segment_path(directory, base, suffix, CLEANED).unlink(missing_ok=True)


def _next_offset(directory: Path, base: int) -> int:
    """The offset after the last batch of `<base>.log.swap` (base when it is empty)."""
    index = OffsetIndex(segment_path(directory, base, ".index", SWAP), base)
    start = index.positions[-1] if index.load() and index.positions else 0
    nxt = base
    fd = os.open(segment_path(directory, base, ".log", SWAP), os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        pos = start
        while size - pos >= HEADER_SIZE:
            h = read_header(os.pread(fd, HEADER_SIZE, pos))
            if h.batch_length < HEADER_SIZE - 12 or pos + h.size > size:
                break
            nxt = h.next_offset
            pos += h.size
    finally:
        os.close(fd)
    return nxt


def recover(directory: Path) -> None:
    """Finish or roll back a replacement a crash interrupted; called before a log loads its segments."""
    names = [p.name for p in directory.iterdir()]
    changed = False
    for name in names:
        if name.endswith(CLEANED) or name.endswith(DELETED):
            (directory / name).unlink(missing_ok=True)
            changed = True
    committed = sorted(int(n[:20]) for n in names if n.endswith(".log" + SWAP) and n[:20].isdigit())
    for name in names:  # a .swap without its .log.swap is an unfinished commit: the old segment stays
        if name.endswith(SWAP) and not name.endswith(".log" + SWAP) and \
                not (name[:20].isdigit() and int(name[:20]) in committed):
            (directory / name).unlink(missing_ok=True)
            changed = True
    for base in committed:
        upper = max(_next_offset(directory, base), base + 1)
        for p in directory.glob("*.log"):
            if p.stem.isdigit() and base <= int(p.stem) < upper:
                # an old segment the swap replaces: its index files first, its .log last
                for suffix in SEGMENT_SUFFIXES:
                    segment_path(directory, int(p.stem), suffix).unlink(missing_ok=True)
        finish(directory, base)
        changed = True
    if changed:
        fsync_dir(directory)
