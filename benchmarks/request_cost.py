"""The broker's own cost of one request, in process: Python bytecodes executed, Python calls, and microseconds hot
(requests back to back) and cold (each after an idle gap, as a synchronous client's requests arrive: the CPU has
gone idle in between, and on a virtual machine its caches and predictors have too).

    .venv/bin/python benchmarks/request_cost.py [--gap-us 50] [--gap-polled] [--top 15]
    valgrind --tool=callgrind .venv/bin/python benchmarks/request_cost.py --spin N   # for N = 1000 and 3000

Starts a Brook broker inside this process (uvloop, a temporary log directory), records the frames that real
clients send it (a confluent-kafka producer, linger.ms=0, one 100 B message per request; then a consumer reading
them back), and replays each recorded request through the connection with a transport that drops the response:
a Produce of one 100 B record (acks=all), and the largest Fetch (the partition read from the start). The
bytecode count is exact and repeatable (sys.settrace with opcode events), the timings are the best of five runs.
With --spin N it only replays the produce through data_received N times: under callgrind, two runs (say N = 1,000
and 3,000) give the machine instructions of one request as their difference over 2,000, the same from run to run
whatever else the machine does (a perf record of it shows where they go).
A benchmark, not a test: nothing here is collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import select
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from brook.broker.server import Broker  # noqa: E402
from brook.config.broker import BrokerConfig  # noqa: E402

CLIENT = """
import sys
from confluent_kafka import Consumer, Producer
bootstrap, n = sys.argv[1], int(sys.argv[2])
p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "acks": "all", "enable.idempotence": False})
for _ in range(n):
    p.produce("cost", b"x" * 100, partition=0)
    p.flush(30)
c = Consumer({"bootstrap.servers": bootstrap, "group.id": "cost", "auto.offset.reset": "earliest"})
c.subscribe(["cost"])
read = 0
while read < n:
    m = c.poll(10)
    if m is None:
        sys.exit("the consumer read only %d of %d" % (read, n))
    read += m.error() is None
c.close()
"""


class _Sink:
    """A transport that takes responses and drops them."""

    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def count(fn: Callable[[], object]) -> tuple[int, int, collections.Counter]:
    """(bytecodes, Python calls, bytecodes per function) of one call of fn."""
    ops = [0, 0]
    per_function: collections.Counter = collections.Counter()

    def trace(frame, event, _arg):  # noqa: ANN001, ANN202
        if event == "call":
            frame.f_trace_opcodes = True
            ops[1] += 1
        elif event == "opcode":
            ops[0] += 1
            per_function[f"{Path(frame.f_code.co_filename).name}:{frame.f_code.co_name}"] += 1
        return trace

    sys.settrace(trace)
    try:
        fn()
    finally:
        sys.settrace(None)
    return ops[0], ops[1] - 1, per_function


def timed(fn: Callable[[], object], gap_s: float, n: int = 2000, poll: bool = False) -> float:
    """Best of five runs of n calls: microseconds per call, each call after an idle gap of gap_s if given (slept,
    or with poll spent in zero-timeout polls, as the broker's idle polling spends it)."""
    best = float("inf")
    for _ in range(5):
        total = 0.0
        for _ in range(n):
            if gap_s and poll:
                end = time.perf_counter() + gap_s
                while time.perf_counter() < end:
                    select.select([], [], [], 0)
            elif gap_s:
                select.select([], [], [], gap_s)  # idle, as between a synchronous client's requests
            t = time.perf_counter()
            fn()
            total += time.perf_counter() - t
        best = min(best, total / n * 1e6)
    return best


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gap-us", type=float, default=50, help="idle time before each cold request")
    parser.add_argument("--gap-polled", action="store_true",
                        help="spend the gap polling (brook.idle.poll.us) instead of sleeping")
    parser.add_argument("--top", type=int, default=12, help="functions listed by bytecodes")
    parser.add_argument("--spin", type=int, default=0, metavar="N",
                        help="only replay the produce through data_received N times, back to back (for a profiler)")
    parser.add_argument("--messages", type=int, default=300, help="messages the clients produce and consume")
    args = parser.parse_args()
    broker = Broker(BrokerConfig({"listeners": "PLAINTEXT://127.0.0.1:0", "log.dirs": tempfile.mkdtemp(),
                                  "group.initial.rebalance.delay.ms": "0"}))
    await broker.start()
    try:
        broker.create_topic("cost", 1, 1, {})
        # per API key: (connection, frame, size of the response it got at once, -1 for a delayed one)
        recorded: dict[int, list[tuple[object, bytes, int]]] = collections.defaultdict(list)
        dispatch = broker.dispatcher.dispatch

        def recording(conn, frame: bytes):  # noqa: ANN001, ANN202
            result = dispatch(conn, frame)
            size = len(result) if isinstance(result, bytes) else -1
            recorded[int.from_bytes(frame[:2], "big")].append((conn, frame, size))
            return result

        broker.dispatcher.dispatch = recording  # type: ignore[method-assign]
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", CLIENT, f"127.0.0.1:{broker.bound[0].port}",
                                                    str(args.messages))
        if await proc.wait() != 0:
            print("the client failed", file=sys.stderr)
            return 1
        broker.dispatcher.dispatch = dispatch  # type: ignore[method-assign]
        await asyncio.sleep(1)  # the consumer's last delayed fetch (fetch.wait.max.ms) answered before the replays
        conn, produce, _ = recorded[0][-1]
        fetch_conn, fetch, response = max(recorded[1], key=lambda x: x[2])  # the fetch that got the most records
        for c in (conn, fetch_conn):
            c.transport, c.closed, c.dispatch = _Sink(), False, dispatch  # type: ignore[attr-defined]
        framed = len(produce).to_bytes(4, "big") + produce
        # the fetch first: the produce replays append to the partition it reads
        cases = [(f"fetch answering {response:,} B: dispatch", lambda: dispatch(fetch_conn, fetch)),
                 ("produce 100 B, acks=all: dispatch", lambda: dispatch(conn, produce)),
                 ("produce 100 B, acks=all: data_received", lambda: conn.data_received(framed))]  # type: ignore[attr-defined]
        if args.spin:
            t, fn = time.perf_counter(), cases[-1][1]
            for _ in range(args.spin):
                fn()
            print(f"{cases[-1][0]}: {args.spin:,} in {time.perf_counter() - t:.1f} s")
            cases = []
        for name, fn in cases:
            fn()
            ops, calls, per_function = count(fn)
            hot, cold = timed(fn, 0), timed(fn, args.gap_us / 1e6, poll=args.gap_polled)
            print(f"{name}: {ops:,} bytecodes, {calls} Python calls, {hot:.1f} us hot, {cold:.1f} us cold "
                  f"(after {args.gap_us:.0f} us {'polled' if args.gap_polled else 'idle'})")
            print("   " + ", ".join(f"{f} {n}" for f, n in per_function.most_common(args.top)))
    finally:
        await broker.stop()
    return 0


if __name__ == "__main__":
    import uvloop

    sys.exit(uvloop.run(main()))
