"""What the kernel charges a broker for putting new data into the page cache, against overwriting pages it has.

    .venv/bin/python benchmarks/page_cache_cost.py [--mib 300] [--rounds 3] [--dir DIR]

Writes --mib MiB in 1 MiB pwrite calls to a new file (every page a new page-cache page), then the same range of
the same file again (every page already there), and deletes the file; --rounds times. A broker that puts every
acknowledged write into the kernel before its ack (Brook) pays the first figure on the produce path, once per
new page; one that acknowledges from its own memory and writes later (noida-db) pays it after its run, if at all.
On a virtual machine whose free memory goes back to the host (free page reporting), a page the guest has not
used lately costs far more the first time than a recycled one: the first round shows it.
A benchmark, not a test: nothing here is collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

MIB = 1 << 20


def write_range(path: str, chunks: int, data: bytes) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds) to pwrite chunks x 1 MiB at the start of path."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(chunks):
            os.pwrite(fd, data, i * MIB)
        return time.perf_counter() - wall, time.process_time() - cpu
    finally:
        os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="a directory on the broker's file system")
    args = parser.parse_args()
    data = os.urandom(MIB)
    for r in range(args.rounds):
        path = os.path.join(args.dir, f"page-cache-cost-{os.getpid()}-{r}.bin")
        try:
            for what in ("new pages", "overwrite"):
                wall, cpu = write_range(path, args.mib, data)
                print(f"round {r + 1}, {what:<9}: {args.mib / wall:7,.0f} MiB/s, {cpu:.3f} s CPU "
                      f"({cpu / args.mib * 1e3:.2f} ms per MiB)", flush=True)
        finally:
            os.unlink(path)


if __name__ == "__main__":
    main()
