"""The clients of run.py's lines: librdkafka's rdkafka_performance (produce and consume lines), and the
confluent-kafka clients of the synchronous round trip and end-to-end latency lines, run as child processes of
run.py (`run.py --sync-worker ...`, `--latency-worker ...`) so that their timeouts are enforceable. Imported by
run.py and the other benchmarks; not a command of its own.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench_lines import Line
from peer_brokers import CONFORMANCE, Broker
from scaling import combine_producers

RDKAFKA_PERFORMANCE = CONFORMANCE / "src/librdkafka-2.15.1/examples/rdkafka_performance"
RUN = Path(__file__).resolve().with_name("run.py")


# --------------------------------------------------------------------------------------------------------------
# rdkafka_performance


def parse_rdkafka_performance(stdout: str) -> dict[str, float]:
    """The last row of the `-u` table (header row, then one row per second and a final one); falls back to the
    summary sentence that is printed without `-u`."""
    header: list[str] | None = None
    last: dict[str, float] | None = None
    for raw in stdout.splitlines():
        row = raw.strip()
        if not row.startswith("|"):
            continue
        cells = [c.strip() for c in row.strip("|").split("|")]
        if "elapsed" in cells:
            header = cells
            continue
        if header and len(cells) == len(header):
            try:
                last = {h: float(c) for h, c in zip(header, cells, strict=True)}
            except ValueError:
                continue
    if last is not None:
        if "dr_m/s" in last:  # producer
            return {"msgs": last["dr"], "sent": last["msgs"], "errors": last["dr_err"], "ms": last["elapsed"],
                    "msgs_per_s": last["dr_m/s"], "mb_per_s": last["dr_MB/s"], "tx_err": last["tx_err"]}
        return {"msgs": last["msgs"], "errors": last["rx_err"], "ms": last["elapsed"],
                "msgs_per_s": last["m/s"], "mb_per_s": last["MB/s"]}
    m = re.search(r"% (\d+) messages produced \((\d+) bytes\), (\d+) delivered \(offset -?\d+, (\d+) failed\) "
                  r"in (\d+)ms: (\d+) msgs/s and ([\d.]+) MB/s", stdout)
    if m:
        return {"msgs": float(m[3]), "sent": float(m[1]), "errors": float(m[4]), "ms": float(m[5]),
                "msgs_per_s": float(m[6]), "mb_per_s": float(m[7])}
    m = re.search(r"% (\d+) messages \((\d+) bytes\) consumed in (\d+)ms: (\d+) msgs/s \(([\d.]+) MB/s\)", stdout)
    if m:
        return {"msgs": float(m[1]), "errors": 0.0, "ms": float(m[3]), "msgs_per_s": float(m[4]),
                "mb_per_s": float(m[5])}
    raise ValueError("no rdkafka_performance summary in its output")


def tail(text: str, n: int = 6) -> str:
    rows = [r for r in text.strip().splitlines() if r.strip() and "CONFWARN" not in r]
    return " | ".join(rows[-n:])


def run_rdkafka_performance(args: list[str], timeout: float) -> tuple[dict[str, float], str]:
    cmd = [str(RDKAFKA_PERFORMANCE), *args, "-u"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)  # makes it print what it has so far
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        raise TimeoutError(
            f"rdkafka_performance timed out after {timeout:.0f}s; last output: {tail(out + err)}") from None
    if proc.returncode != 0:
        raise RuntimeError(f"rdkafka_performance exited with {proc.returncode}: {tail(out + err)}")
    try:
        return parse_rdkafka_performance(out), out + err
    except ValueError as e:
        raise RuntimeError(f"{e}: {tail(out + err)}") from None


def produce_args(bootstrap: str, topic: str, n: int, size: int, acks: str, partition: bool = True) -> list[str]:
    part = ["-p", "0"] if partition else []  # without -p: the default partitioner spreads keyless messages
    return ["-P", "-t", topic, "-s", str(size), "-c", str(n), *part, "-b", bootstrap,
            "-X", "linger.ms=5", "-X", f"acks={acks}"]


def consume_args(bootstrap: str, topic: str, n: int, config: dict[str, str] | None = None) -> list[str]:
    extra = [a for k, v in (config or {}).items() for a in ("-X", f"{k}={v}")]
    return ["-C", "-t", topic, "-p", "0", "-o", "beginning", "-c", str(n), "-e", "-b", bootstrap,
            "-X", "linger.ms=5", *extra]


def run_producers(bootstrap: str, topic: str, n: int, line: Line, timeout: float) -> dict[str, float]:
    """`line.producers` rdkafka_performance producers at once, `n` messages between them."""
    if line.producers == 1:
        return run_rdkafka_performance(produce_args(bootstrap, topic, n, line.size, line.acks), timeout)[0]
    from concurrent.futures import ThreadPoolExecutor

    share = [n // line.producers + (i < n % line.producers) for i in range(line.producers)]
    with ThreadPoolExecutor(line.producers) as pool:
        futures = [pool.submit(run_rdkafka_performance,
                               produce_args(bootstrap, topic, k, line.size, line.acks, partition=False), timeout)
                   for k in share]
        return combine_producers([f.result()[0] for f in futures])


# --------------------------------------------------------------------------------------------------------------
# The per-request (synchronous round trip) client, run as a child process so its timeout is enforceable


def sync_worker(bootstrap: str, topic: str, n: int, size: int, acks: str) -> None:
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "acks": acks, "enable.idempotence": False,
                  "socket.nagle.disable": True})
    errors: list[str] = []

    def on_delivery(err, _msg) -> None:
        if err is not None:
            errors.append(str(err))

    value = b"x" * size
    for _ in range(50):  # warm-up: metadata, connection, leader lookup
        p.produce(topic, value, partition=0, on_delivery=on_delivery)
        p.flush(30)
    if errors:
        print(json.dumps({"error": f"warm-up delivery failed: {errors[0]}"}))
        return
    lat = []
    clock = time.perf_counter_ns
    t0 = clock()
    for _ in range(n):
        t = clock()
        p.produce(topic, value, partition=0, on_delivery=on_delivery)
        left = p.flush(30)
        lat.append(clock() - t)
        if left or errors:
            break
    total = (clock() - t0) / 1e9
    if errors or len(lat) < n:
        print(json.dumps({"error": f"delivery failed after {len(lat)} messages: {errors[:1] or 'flush timeout'}"}))
        return
    lat.sort()
    print(json.dumps({"n": n, "seconds": total, "p50_us": lat[n // 2] / 1000,
                      "p99_us": lat[min(n - 1, (n * 99) // 100)] / 1000, "max_us": lat[-1] / 1000}))


def run_sync(bootstrap: str, topic: str, n: int, size: int, acks: str, timeout: float) -> dict:
    return run_worker(["--sync-worker", bootstrap, topic, str(n), str(size), acks], timeout)


def run_latency(broker: Broker, topic: str, n: int, line: Line, timeout: float) -> dict:
    extra = {"acks": line.acks, **broker.consumer_config}
    return run_worker(["--latency-worker", broker.bootstrap, topic, str(n), str(line.size), str(line.rate),
                       json.dumps(extra)], timeout)


def run_worker(args: list[str], timeout: float) -> dict:
    cmd = [sys.executable, str(RUN), *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise TimeoutError(f"{args[0][2:]} client timed out after {timeout:.0f}s") from e
    rows = [r for r in proc.stdout.splitlines() if r.startswith("{")]
    if proc.returncode != 0 or not rows:
        raise RuntimeError(f"sync client exited with {proc.returncode}: {tail(proc.stdout + proc.stderr)}")
    res = json.loads(rows[-1])
    if "error" in res:
        raise RuntimeError(res["error"])
    return res
