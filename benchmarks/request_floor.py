"""The floor of a synchronous round trip through Brook's edge: the same client and broker, with Produce answered
by a canned response (the last real answer, its correlation id patched) instead of appending, next to real runs.

    .venv/bin/python benchmarks/request_floor.py [--messages 5000] [--rounds 2] [--idle-poll-us 200]

Starts a Brook broker inside this process (uvloop), and runs the synchronous round-trip client of
`benchmarks/run.py` (a confluent-kafka producer, linger.ms=0, one 100 B message per request, flushed) against it,
alternating real and canned rounds. A canned round still reads, frames, dispatches and writes each request: what it
leaves out is the produce itself (checks, log append, answer), so the gap between the two is what the produce
path costs a round trip, and the canned figure is what any Python produce path on this edge could approach.
A benchmark, not a test: nothing here is collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from perf_clients import run_sync  # noqa: E402

from brook.broker.server import Broker  # noqa: E402
from brook.config.broker import BrokerConfig  # noqa: E402


async def sync_client(port: int, n: int) -> dict:
    """run.py's synchronous round-trip client (a child process), waited for off the loop that runs the broker."""
    return await asyncio.get_running_loop().run_in_executor(None, run_sync, f"127.0.0.1:{port}", "floor", n, 100,
                                                            "all", 120.0)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2, help="real and canned rounds each")
    parser.add_argument("--idle-poll-us", default="200", help="brook.idle.poll.us")
    args = parser.parse_args()
    broker = Broker(BrokerConfig({"listeners": "PLAINTEXT://127.0.0.1:0", "log.dirs": tempfile.mkdtemp(),
                                  "brook.idle.poll.us": args.idle_poll_us}))
    await broker.start()
    try:
        broker.create_topic("floor", 1, 1, {})
        dispatch = broker.dispatcher.dispatch
        canned: dict[bytes, bytes] = {}

        def canning(conn, frame: bytes):  # noqa: ANN001, ANN202
            if frame[:2] != b"\0\0":
                return dispatch(conn, frame)
            answer = canned.get(frame[:4])
            if answer is None:
                answer = canned[frame[:4]] = dispatch(conn, frame)
                return answer
            return answer[:4] + frame[4:8] + answer[8:]

        for mode in ["real", "canned"] * args.rounds:
            broker.dispatcher.dispatch = canning if mode == "canned" else dispatch  # type: ignore[method-assign]
            cpu = time.process_time()
            r = await sync_client(broker.bound[0].port, args.messages)
            cpu = time.process_time() - cpu
            print(f"{mode:<7}{r['n'] / r['seconds']:>9,.0f} msgs/s  p50 {r['p50_us']:5.0f} us  "
                  f"p99 {r['p99_us']:5.0f} us  broker CPU {cpu / (r['n'] + 50) * 1e6:4.0f} us/msg", flush=True)
    finally:
        await broker.stop()
    return 0


if __name__ == "__main__":
    import uvloop

    sys.exit(uvloop.run(main()))
