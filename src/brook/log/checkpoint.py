"""Kafka's text checkpoint files: version line, count line, then one entry per line; replaced atomically."""

from __future__ import annotations

import os
from pathlib import Path


def write_lines(path: Path, entries: list[str], fsync: bool = True) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f"0\n{len(entries)}\n")
        for e in entries:
            f.write(e + "\n")
        f.flush()
        if fsync:
            os.fsync(f.fileno())
    os.replace(tmp, path)


def read_lines(path: Path) -> list[list[str]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    if len(lines) < 2 or lines[0].strip() != "0":
        raise ValueError(f"malformed checkpoint file {path}")
    count = int(lines[1])
    entries = [ln.split() for ln in lines[2 : 2 + count]]
    if len(entries) != count:
        raise ValueError(f"checkpoint file {path} is truncated")
    return entries


def write_offsets(path: Path, offsets: dict[tuple[str, int], int]) -> None:
    write_lines(path, [f"{t} {p} {o}" for (t, p), o in sorted(offsets.items())])


def read_offsets(path: Path) -> dict[tuple[str, int], int]:
    return {(t, int(p)): int(o) for t, p, o in read_lines(path)}
