"""Summarise a py-spy collapsed-stack profile (`py-spy record --format raw`, or `benchmarks/run.py --profile DIR`).

    .venv/bin/python benchmarks/profile_summary.py DIR/produce-100B-acks1.collapsed.txt [--top 25]

Prints the hottest leaf frames (self time, by function and file:line), the hottest functions including their
callees (inclusive time, by function and file), and the hottest Brook frames below which the time was spent
(the innermost `brook/` frame of each sample), each as a share of all samples.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def parse(path: Path) -> list[tuple[list[str], int]]:
    samples = []
    for row in path.read_text().splitlines():
        stack, _, count = row.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples.append((stack.split(";"), int(count)))
    return samples


def without_line(frame: str) -> str:
    m = FRAME.match(frame)
    return f"{m['func']} ({m['file']})" if m else frame


def summarise(samples: list[tuple[list[str], int]], top: int) -> str:
    total = sum(c for _, c in samples) or 1
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    brook_leaf: Counter[str] = Counter()
    for frames, count in samples:
        self_time[frames[-1]] += count
        for f in {without_line(f) for f in frames}:
            inclusive[f] += count
        own = [f for f in frames if "brook/" in f]
        if own:
            brook_leaf[own[-1]] += count

    def table(title: str, counter: Counter[str]) -> list[str]:
        out = [f"\n{title}", f"{'%':>6} {'samples':>8}  frame"]
        for frame, count in counter.most_common(top):
            out.append(f"{100 * count / total:6.1f} {count:8d}  {frame}")
        return out

    rows = [f"{total} samples"]
    rows += table("self (leaf frame)", self_time)
    rows += table("inclusive (function and its callees)", inclusive)
    rows += table("innermost Brook frame (time spent in or below it)", brook_leaf)
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("profiles", nargs="+", type=Path)
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args(argv)
    for p in args.profiles:
        print(f"== {p}")
        print(summarise(parse(p), args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
