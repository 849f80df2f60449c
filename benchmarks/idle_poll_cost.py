"""What idle polling costs when it does not pay: a producer at a steady rate whose gaps are longer than the window.

    .venv/bin/python benchmarks/idle_poll_cost.py [--seconds 3] [--gap-ms 1] [--windows 200 0] [--rounds 2]

Starts a Brook broker inside this process for each `brook.idle.poll.us` in --windows (uvloop, a temporary log
directory), and runs a confluent-kafka producer (linger.ms=0, acks=1, one 100 B message, then --gap-ms asleep)
against it for --seconds; prints the broker's CPU per message. The poller backs off when its windows mostly pass
empty (broker/idle_poll.py), so with polling on this should stay near the figure with it off.
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

from brook.broker.server import Broker  # noqa: E402
from brook.config.broker import BrokerConfig  # noqa: E402

CLIENT = """
import sys, time
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1], "linger.ms": 0, "acks": "1"})
seconds, gap = float(sys.argv[2]), float(sys.argv[3]) / 1000
start, n = time.monotonic(), 0
while time.monotonic() - start < seconds:
    p.produce("steady", b"x" * 100)
    p.poll(0)
    n += 1
    time.sleep(gap)
p.flush(10)
print(n)
"""


async def run(window_us: str, seconds: float, gap_ms: float) -> tuple[int, float]:
    broker = Broker(BrokerConfig({"listeners": "PLAINTEXT://127.0.0.1:0", "log.dirs": tempfile.mkdtemp(),
                                  "brook.idle.poll.us": window_us}))
    await broker.start()
    try:
        broker.create_topic("steady", 1, 1, {})
        cpu = time.process_time()
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", CLIENT, f"127.0.0.1:{broker.bound[0].port}",
                                                    str(seconds), str(gap_ms), stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
        return int(out.decode().strip()), time.process_time() - cpu
    finally:
        await broker.stop()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--gap-ms", type=float, default=1.0, help="the producer's sleep after each message")
    parser.add_argument("--windows", nargs="+", default=["200", "0"], help="brook.idle.poll.us values to compare")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    for _ in range(args.rounds):
        for window in args.windows:
            n, cpu = await run(window, args.seconds, args.gap_ms)
            print(f"brook.idle.poll.us={window:<5} {n:6,} messages ({n / args.seconds:,.0f}/s): broker CPU {cpu:.2f} s,"
                  f" {cpu / n * 1e6:.0f} us a message", flush=True)
    return 0


if __name__ == "__main__":
    import uvloop

    sys.exit(uvloop.run(main()))
