"""Brook's benchmark: throughput, broker CPU and memory next to peer brokers (Tansu, noida-db), in one command.

    .venv/bin/python benchmarks/run.py [--quick] [--only LINE...] [--brokers brook,tansu,noida]
        [--write-docs | --docs-section TITLE]

Starts a Brook broker (fresh temporary data directory) and, when their binaries exist, the chosen peers (Tansu with
in-memory storage, noida-db's Kafka service with a temporary data directory), then runs each benchmark line against
each broker in turn: librdkafka's `rdkafka_performance` for the produce and consume lines, a confluent-kafka
producer for the per-request (synchronous round trip) line. For every line and broker it reports msgs/s, MB/s, the
broker's CPU seconds over the line (utime+stime from /proc/PID/stat) and its peak RSS during the line (VmHWM from
/proc/PID/status, reset before the line through /proc/PID/clear_refs where the kernel allows it), and Brook against
the best peer on the line. Scaling lines (value size, partitions and producers, idle connections, end-to-end
latency, fsync before the ack) show how each broker's cost grows. Every line has a bounded timeout; a failing line
prints FAILED with its reason and the others still run. `--quick` runs a tenth of the counts as a smoke test.

These are benchmarks, not tests: nothing here is collected by pytest.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from scaling import IdleConnections, combine_producers, latency_worker

REPO = Path(__file__).resolve().parent.parent
CONFORMANCE = Path(os.environ.get("BROOK_CONFORMANCE_DIR", "/opt/brook-conformance"))
RDKAFKA_PERFORMANCE = CONFORMANCE / "src/librdkafka-2.15.1/examples/rdkafka_performance"
TANSU = CONFORMANCE / "bin/tansu"
NOIDA = CONFORMANCE / "bin/noida-db"
BINARIES = {"tansu": TANSU, "noida": NOIDA}
DOCS = REPO / "docs/benchmarks.md"
OTHER_BENCHMARKS = "<!-- other benchmark commands: kept by --write-docs -->"
STARTED = re.compile(r"started \(kafka\.server\.KafkaServer\) on PLAINTEXT://([^:\s]+):(\d+)")
CLK_TCK = os.sysconf("SC_CLK_TCK")
KIB = 1024


# --------------------------------------------------------------------------------------------------------------
# Benchmark lines


@dataclass(frozen=True)
class Line:
    name: str
    kind: str  # "produce", "consume", "sync" or "latency"
    count: int  # full-run message count; --quick divides it (see quick_count)
    size: int = 100
    acks: str = "1"
    flush: bool = False  # topic config flush.messages=1 (fsync before acknowledging)
    quick_count: int | None = None
    what: str = ""
    partitions: int = 1
    producers: int = 1  # rdkafka_performance processes producing at once (random partitioner when > 1)
    idle: int = 0  # client connections held open and silent during the line
    rate: int = 0  # latency lines: messages per second

    def n(self, quick: bool, scale: float = 1.0) -> int:
        base = self.count if not quick else (self.quick_count if self.quick_count is not None else self.count // 10)
        return max(1, round(base * scale))


LINES: list[Line] = [
    Line("produce-100B-acks1", "produce", 1_000_000, 100, "1",
         what="rdkafka_performance -P, 100 B values, acks=1, one partition, linger.ms=5"),
    Line("produce-100B-acksall", "produce", 1_000_000, 100, "all",
         what="as above with acks=all (one broker, so the ISR is the leader alone)"),
    Line("produce-1KiB-acks1", "produce", 300_000, KIB, "1",
         what="rdkafka_performance -P, 1 KiB values, acks=1"),
    Line("consume-100B", "consume", 1_000_000, 100,
         what="rdkafka_performance -C -o beginning -e: reads a pre-filled partition of 100 B messages"),
    Line("produce-100B-acks1-flush", "produce", 1_000_000, 100, "1", flush=True,
         what="produce-100B-acks1 on a topic with flush.messages=1 (fsync before the ack)"),
    Line("produce-100B-acksall-flush", "produce", 1_000_000, 100, "all", flush=True,
         what="produce-100B-acksall on a topic with flush.messages=1"),
    Line("produce-1KiB-acks1-flush", "produce", 300_000, KIB, "1", flush=True,
         what="produce-1KiB-acks1 on a topic with flush.messages=1"),
    Line("sync-roundtrip-100B", "sync", 5_000, 100, "all", quick_count=1_000,
         what="confluent-kafka producer, linger.ms=0: produce one 100 B message, flush(), repeat"),
    # Scaling lines: how the cost grows with value size, partitions, connections and durability.
    Line("consume-1KiB", "consume", 300_000, KIB,
         what="as consume-100B with 1 KiB values"),
    Line("produce-16KiB-acks1", "produce", 20_000, 16 * KIB, "1",
         what="rdkafka_performance -P, 16 KiB values, acks=1"),
    Line("produce-100B-100p-4prod", "produce", 1_000_000, 100, "1", partitions=100, producers=4,
         what="4 rdkafka_performance -P at once (a quarter of the messages each), 100 B, acks=1, onto a topic of "
              "100 partitions (random partitioner)"),
    Line("produce-100B-1000p-4prod", "produce", 1_000_000, 100, "1", partitions=1000, producers=4,
         what="as above onto 1,000 partitions"),
    Line("produce-100B-1000idle", "produce", 1_000_000, 100, "1", idle=1000,
         what="produce-100B-acks1 while 1,000 other client connections (each past its ApiVersions exchange) stay "
              "open and idle"),
    Line("e2e-latency-100B", "latency", 20_000, 100, "all", rate=2_000, quick_count=3_000,
         what="confluent-kafka producer (linger.ms=0, acks=all) at a fixed 2,000 msgs/s and a consumer in the same "
              "process: produce-to-consume latency of every message"),
]

# Lines reported as a pair: the cost of fsync before the ack (topic config flush.messages=1).
FLUSH_PAIRS = [("produce-100B-acksall", "produce-100B-acksall-flush"),
               ("produce-100B-acks1", "produce-100B-acks1-flush"),
               ("produce-1KiB-acks1", "produce-1KiB-acks1-flush")]


@dataclass
class Result:
    line: str
    broker: str
    ok: bool = False
    na: str = ""  # set when the line does not apply to this broker
    error: str = ""
    msgs: int = 0
    msgs_per_s: float = 0.0
    mb_per_s: float = 0.0
    seconds: float = 0.0  # the tool's own measured interval
    wall: float = 0.0  # our wall clock over the whole client run
    cpu_s: float | None = None
    client_cpu_s: float | None = None  # the benchmark client(s) this script started and waited for
    other_cpu_s: float | None = None  # everything else on the machine: interference
    rss_peak_kib: int | None = None
    rss_reset: bool = False  # VmHWM was reset before the line (else it is the peak since broker start)
    p50_us: float | None = None
    p99_us: float | None = None
    p999_us: float | None = None
    notes: list[str] = field(default_factory=list)
    repeats: list[float] = field(default_factory=list)  # msgs/s of every successful repeat

    @property
    def spread(self) -> float | None:
        """(max - min) / median of the repeats' msgs/s, as a fraction."""
        if len(self.repeats) < 2 or not self.msgs_per_s:
            return None
        return (max(self.repeats) - min(self.repeats)) / self.msgs_per_s

    @property
    def wall_msgs_per_s(self) -> float:
        """Messages over our wall clock around the whole client run, connection set-up included. On consume lines
        this is the fair figure: rdkafka_performance starts its clock at the first message, so a broker that
        answers the first fetch with the whole partition gets that transfer for free."""
        return self.msgs / self.wall if self.wall else 0.0

    @property
    def status(self) -> str:
        return "n/a" if self.na else ("ok" if self.ok else "FAILED")


# --------------------------------------------------------------------------------------------------------------
# /proc helpers


def proc_cpu_seconds(pid: int) -> float | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # fields[0] is field 3 (state)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime (14) + stime (15)


def machine_busy_seconds() -> float | None:
    """CPU time all cores spent not idle (user, nice, system, irq, softirq, steal) since boot."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def children_cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def proc_status_kib(pid: int, key: str) -> int | None:
    try:
        for row in Path(f"/proc/{pid}/status").read_text().splitlines():
            if row.startswith(key + ":"):
                return int(row.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def reset_peak_rss(pid: int) -> bool:
    """Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    hwm, rss = proc_status_kib(pid, "VmHWM"), proc_status_kib(pid, "VmRSS")
    return hwm is not None and rss is not None and hwm <= rss * 1.05 + 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------------------------------------------
# Brokers


class Broker:
    name = "?"
    supports_flush = True
    flush_na = ""
    flush_note = ""  # when the broker accepts flush.messages but is not known to honour it
    consumer_config: dict[str, str] = {}  # noqa: RUF012 - read-only, overridden per broker

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.log_path = workdir / f"{self.name}.log"
        self.restarts = 0

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def error_lines(self, limit: int = 40) -> list[str]:
        pat = re.compile(r"\b(WARN|WARNING|ERROR|FATAL|CRITICAL|Traceback|panicked)\b")
        out = [row for row in self.log_text().splitlines() if pat.search(row)]
        return out[:limit]

    def wait_ready(self, timeout: float) -> None:
        """The port accepts connections and the broker answers a metadata request."""
        from confluent_kafka.admin import AdminClient

        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.log_text()[-2000:]}")
            try:
                AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 0}).list_topics(timeout=2)
                return
            except Exception as e:  # noqa: BLE001 - keep polling until the deadline
                last = str(e)
                time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready within {timeout}s ({last})")


class BrookBroker(Broker):
    name = "brook"
    overrides: tuple[str, ...] = ()  # --brook-override KEY=VALUE (e.g. brook.idle.poll.us=0 for an A/B run)

    def start(self) -> None:
        data = self.workdir / f"brook-data-{self.restarts}"
        args = [sys.executable, "-m", "brook",
                "--override", "listeners=PLAINTEXT://127.0.0.1:0",
                "--override", f"log.dirs={data}",
                "--override", "group.initial.rebalance.delay.ms=0"]
        for kv in self.overrides:
            args += ["--override", kv]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
        log = open(self.log_path, "ab")
        start_pos = log.tell()
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                f.seek(start_pos)
                text = f.read().decode(errors="replace")
            m = STARTED.search(text)
            if m:
                self.port = int(m.group(2))
                self.wait_ready(20)
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"brook exited with {self.proc.returncode}:\n{text[-2000:]}")
            time.sleep(0.02)
        self.stop()
        raise TimeoutError("brook did not print its 'started' line within 30 s")

    def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


class TansuBroker(Broker):
    name = "tansu"
    supports_flush = False
    flush_na = "in-memory storage (memory://): nothing is fsynced, flush.messages does not apply"

    def start(self) -> None:
        self.port = free_port()
        url = f"tcp://127.0.0.1:{self.port}"
        args = [str(TANSU), "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/"]
        env = {**os.environ, "NO_COLOR": "1", "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.wait_ready(30)

    def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGINT)  # Tansu ignores SIGTERM
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def version(self) -> str:
        return binary_version([str(TANSU), "--version"], "tansu") + f" ({TANSU}, memory://tansu/)"


class NoidaBroker(Broker):
    """noida-db's Kafka service (a closed native build). Its fetch answers the whole partition from the fetch
    offset, ignoring the request's max_bytes and partition_max_bytes, so librdkafka's default
    receive.message.max.bytes (100 MB) rejects the response once a partition holds more than that; consumers
    raise it to its maximum, which works while a partition stays under 2 GiB."""

    name = "noida"
    flush_note = ("accepts flush.messages=1 but made no fsync, fdatasync, sync_file_range or msync call during a "
                  "100,000-message acks=all produce under strace: not a durability figure")
    consumer_config = {"receive.message.max.bytes": "2147483647"}  # noqa: RUF012

    def start(self) -> None:
        self.port = free_port()
        data = self.workdir / f"noida-data-{self.restarts}"
        args = [str(NOIDA), "start", "--only", "kafka", "--kafka-port", str(self.port), "--host", "127.0.0.1",
                "--data-dir", str(data)]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready(30)

    def stop(self) -> None:
        # SIGTERM is documented to stop it but was seen to be ignored for seconds; SIGINT (Ctrl-C) is prompt.
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGINT, 15)):
            if not self.alive():
                return
            self.proc.send_signal(sig)
            try:
                self.proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                pass
        self.proc.kill()
        self.proc.wait(10)

    def version(self) -> str:
        return binary_version([str(NOIDA), "version"], "noida-db") + f" ({NOIDA}, --only kafka)"


def binary_version(cmd: list[str], default: str) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return default
    return out.strip().splitlines()[-1] if out.strip() else default


BROKERS: dict[str, type[Broker]] = {"brook": BrookBroker, "tansu": TansuBroker, "noida": NoidaBroker}


# --------------------------------------------------------------------------------------------------------------
# Topics


def create_topic(bootstrap: str, topic: str, config: dict[str, str] | None = None, timeout: float = 30,
                 partitions: int = 1) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(topic, partitions, 1, config=config or {})], operation_timeout=timeout,
                                  request_timeout=timeout)
    futures[topic].result(timeout)
    # wait until every leader is known, so the first produce request does not race the creation
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        md = admin.list_topics(topic, timeout=5).topics.get(topic)
        if (md is not None and md.error is None and len(md.partitions) == partitions
                and all(pm.leader >= 0 for pm in md.partitions.values())):
            return
        time.sleep(0.05)
    raise TimeoutError(f"topic {topic} has no leader for all {partitions} partitions after {timeout}s")


def delete_topic(bootstrap: str, topic: str) -> str:
    """Best effort: frees disk (Brook) or memory (Tansu) before the next line. Returns the error, if any."""
    from confluent_kafka.admin import AdminClient

    try:
        admin = AdminClient({"bootstrap.servers": bootstrap})  # must outlive the future
        admin.delete_topics([topic], operation_timeout=30)[topic].result(30)
        return ""
    except Exception as e:  # noqa: BLE001
        return str(e)


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
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
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


# --------------------------------------------------------------------------------------------------------------
# Running one line against one broker


class Profiler:
    """py-spy record on the broker for the duration of a line (only when --profile is given)."""

    def __init__(self, out_dir: Path | None, broker: Broker, line: Line, native: bool, rate: int) -> None:
        self.proc: subprocess.Popen | None = None
        self.path: Path | None = None
        exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if out_dir is None or not isinstance(broker, BrookBroker) or not Path(exe).exists():
            return
        out_dir.mkdir(parents=True, exist_ok=True)
        self.path = out_dir / f"{line.name}.collapsed.txt"
        cmd = [exe, "record", "--pid", str(broker.pid), "--format", "raw", "--rate", str(rate),
               "-o", str(self.path)]
        if native:
            cmd.append("--native")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)  # let it attach before the client starts

    def stop(self) -> str:
        if self.proc is None:
            return ""
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return f"profile: {self.path}"


def line_timeout(line: Line, n: int, scale: float) -> float:
    if line.kind == "latency":
        return scale * (60 + n / line.rate)
    per_msg = {"produce": 1 / 4_000, "consume": 1 / 10_000, "sync": 1 / 200}[line.kind]
    if line.size > 200:
        per_msg *= 2 * line.size / KIB
    return scale * (60 + line.partitions / 20 + n * per_msg)


def run_line(line: Line, broker: Broker, n: int, timeout_scale: float, profile_dir: Path | None = None,
             native: bool = False, profile_rate: int = 250) -> Result:
    res = Result(line.name, broker.name)
    if line.flush and not broker.supports_flush:
        res.na = broker.flush_na
        return res
    if line.flush and broker.flush_note:
        res.notes.append(broker.flush_note)
    timeout = line_timeout(line, n, timeout_scale)
    topic = f"bench-{line.name}-{uuid.uuid4().hex[:8]}"
    idle: IdleConnections | None = None
    try:
        if not broker.alive():
            broker.restarts += 1
            res.notes.append(f"{broker.name} was not running (exit {broker.proc.returncode}); restarted it")
            broker.start()
        config = {"flush.messages": "1"} if line.flush else {}
        create_topic(broker.bootstrap, topic, config, timeout=30 + line.partitions / 10, partitions=line.partitions)
        if line.kind == "consume":  # fill the partition first; not measured
            fill = Line("fill", "produce", n, line.size)
            filled, _ = run_rdkafka_performance(produce_args(broker.bootstrap, topic, n, line.size, "1"),
                                                line_timeout(fill, n, timeout_scale))
            if filled["msgs"] < n:
                raise RuntimeError(f"filling the topic delivered only {filled['msgs']:.0f} of {n} messages")
        if line.idle:
            idle = IdleConnections("127.0.0.1", broker.port, line.idle)
        # Whatever earlier lines (or a consume line's fill) left dirty in the page cache is written out now, not
        # by the kernel's writeback threads during this line, where it would take CPU from whichever broker
        # and client run then (the "other" column).
        os.sync()
        pid = broker.pid
        res.rss_reset = reset_peak_rss(pid)
        cpu0 = proc_cpu_seconds(pid)
        busy0, client0 = machine_busy_seconds(), children_cpu_seconds()
        profiler = Profiler(profile_dir, broker, line, native, profile_rate)
        t0 = time.monotonic()
        try:
            if line.kind == "sync":
                sync = run_sync(broker.bootstrap, topic, n, line.size, line.acks, timeout)
                res.msgs = n
                res.seconds = sync["seconds"]
                res.msgs_per_s = n / sync["seconds"]
                res.mb_per_s = res.msgs_per_s * line.size / 1e6
                res.p50_us, res.p99_us = sync["p50_us"], sync["p99_us"]
            elif line.kind == "latency":
                lat = run_latency(broker, topic, n, line, timeout)
                res.msgs, res.seconds = n, lat["seconds"]
                res.msgs_per_s = n / lat["seconds"]
                res.mb_per_s = res.msgs_per_s * line.size / 1e6
                res.p50_us, res.p99_us, res.p999_us = lat["p50_us"], lat["p99_us"], lat["p999_us"]
            else:
                if line.kind == "produce":
                    stats = run_producers(broker.bootstrap, topic, n, line, timeout)
                else:
                    args = consume_args(broker.bootstrap, topic, n, broker.consumer_config)
                    stats, _ = run_rdkafka_performance(args, timeout)
                res.msgs = int(stats["msgs"])
                res.seconds = stats["ms"] / 1000
                res.msgs_per_s, res.mb_per_s = stats["msgs_per_s"], stats["mb_per_s"]
                if stats["errors"]:
                    raise RuntimeError(f"{stats['errors']:.0f} messages failed ({res.msgs} ok)")
                if res.msgs < n:
                    raise RuntimeError(f"only {res.msgs} of {n} messages {line.kind}d")
        finally:
            res.wall = time.monotonic() - t0
            cpu1 = proc_cpu_seconds(pid)
            res.cpu_s = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
            busy1, res.client_cpu_s = machine_busy_seconds(), children_cpu_seconds() - client0
            if res.cpu_s is not None and busy0 is not None and busy1 is not None:
                res.other_cpu_s = max(0.0, busy1 - busy0 - res.cpu_s - res.client_cpu_s)
            res.rss_peak_kib = proc_status_kib(pid, "VmHWM")
            if idle is not None:
                open_ = idle.alive()
                if open_ < line.idle:
                    res.notes.append(f"the broker closed {line.idle - open_} of the {line.idle} idle connections")
            note = profiler.stop()
            if note:
                res.notes.append(note)
        res.ok = True
    except Exception as e:  # noqa: BLE001 - one failed line must not stop the others
        res.error = f"{type(e).__name__}: {e}"
        if not broker.alive():
            res.error += f" (broker {broker.name} died, exit {broker.proc.returncode})"
    finally:
        if idle is not None:
            idle.close()
        if broker.alive():
            why = delete_topic(broker.bootstrap, topic)
            if why:
                res.notes.append(f"deleting topic {topic} failed: {why}")
    return res


def median_result(runs: list[Result]) -> Result:
    """The repeat with the median msgs/s stands for the line; the spread of all repeats goes into `spread`."""
    ok = sorted((r for r in runs if r.ok), key=lambda r: r.msgs_per_s)
    if not ok:
        return runs[0]
    best = ok[(len(ok) - 1) // 2]
    best.repeats = [r.msgs_per_s for r in runs if r.ok]
    failed = [r for r in runs if not r.ok and not r.na]
    if failed:
        best.notes.append(f"{len(failed)} of {len(runs)} repeats FAILED, first: {failed[0].error}")
    for r in runs:
        best.notes += [n for n in r.notes if n not in best.notes and not n.startswith("profile")]
    return best


def warm_up(broker: Broker) -> str:
    """An untimed produce and consume, so the first line does not pay for first connections, imports and
    allocator growth."""
    topic = f"bench-warmup-{uuid.uuid4().hex[:8]}"
    try:
        create_topic(broker.bootstrap, topic)
        run_rdkafka_performance(produce_args(broker.bootstrap, topic, 50_000, 100, "1"), 120)
        run_rdkafka_performance(consume_args(broker.bootstrap, topic, 50_000, broker.consumer_config), 120)
        return ""
    except Exception as e:  # noqa: BLE001
        return f"warm-up failed: {type(e).__name__}: {e}"
    finally:
        if broker.alive():
            delete_topic(broker.bootstrap, topic)


# --------------------------------------------------------------------------------------------------------------
# Reporting


def fmt_int(x: float | None) -> str:
    return "" if x is None else f"{x:,.0f}"


def fmt_f(x: float | None, digits: int = 1) -> str:
    return "" if x is None else f"{x:,.{digits}f}"


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return ""
    return f"{a / b:.2f}x"


def print_result(r: Result, indent: bool = True) -> None:
    head = f"  {r.broker:<6}" if indent else ""
    if r.na:
        print(f"{head} n/a: {r.na}", flush=True)
        return
    if not r.ok:
        print(f"{head} FAILED: {r.error}", flush=True)
        for note in r.notes:
            print(f"         {note}")
        return
    rss = "?" if r.rss_peak_kib is None else f"{r.rss_peak_kib / KIB:,.0f} MiB"
    if r.rss_peak_kib is not None and not r.rss_reset:
        rss += " (since start)"
    extra = f", p50 {r.p50_us:,.0f} us, p99 {r.p99_us:,.0f} us" if r.p50_us is not None else ""
    if r.p999_us is not None:
        extra += f", p99.9 {r.p999_us:,.0f} us"
    if r.spread is not None:
        extra += f", spread of {len(r.repeats)} repeats {r.spread:.0%}"
    cpu = "?" if r.cpu_s is None else f"{r.cpu_s:.2f}"
    if r.client_cpu_s is not None:
        cpu += f" (client {r.client_cpu_s:.2f}"
        cpu += ")" if r.other_cpu_s is None else f", other {r.other_cpu_s:.2f})"
    print(f"{head} {r.msgs_per_s:>12,.0f} msgs/s {r.mb_per_s:>9,.2f} MB/s  cpu {cpu} s  peak RSS {rss}"
          f"  ({r.msgs:,} msgs in {r.seconds:.2f} s, wall {r.wall:.2f} s){extra}", flush=True)
    for note in r.notes:
        print(f"         {note}")


def cpu_per_msg(r: Result | None) -> float | None:
    return r.cpu_s / r.msgs if r is not None and r.ok and r.cpu_s is not None and r.msgs else None


def brook_vs_best(line: Line, results: dict[tuple[str, str], Result], brokers: list[str]) -> tuple[str, str]:
    """Brook against the best peer on the line: msgs/s over the fastest peer's (on a latency line, the lowest
    peer p99 over Brook's p99, so above 1 still means Brook is better), and CPU per message over the thriftiest
    peer's (above 1 means Brook spends more)."""
    brook = results.get((line.name, "brook"))
    peers = [r for b in brokers if b != "brook" and (r := results.get((line.name, b))) is not None and r.ok]
    if brook is None or not brook.ok or not peers:
        return "", ""
    if line.kind == "latency":
        best = min(peers, key=lambda r: r.p99_us or float("inf"))
        speed = f"{ratio(best.p99_us, brook.p99_us)} p99 ({best.broker})"
    elif line.kind == "consume":
        best = max(peers, key=lambda r: r.wall_msgs_per_s)
        speed = f"{ratio(brook.wall_msgs_per_s, best.wall_msgs_per_s)} wall ({best.broker})"
    else:
        best = max(peers, key=lambda r: r.msgs_per_s)
        speed = f"{ratio(brook.msgs_per_s, best.msgs_per_s)} ({best.broker})"
    thrifty = [(c, r.broker) for r in peers if (c := cpu_per_msg(r)) is not None]
    cpu = ""
    if thrifty and cpu_per_msg(brook) is not None:
        c, name = min(thrifty)
        cpu = f"{ratio(cpu_per_msg(brook), c)} ({name})"
    return speed, cpu


def markdown_table(lines: list[Line], results: dict[tuple[str, str], Result], brokers: list[str],
                   counts: dict[str, int]) -> str:
    compare = "brook" in brokers and len(brokers) > 1
    cols = ["Line", "Messages", "Broker", "msgs/s", "spread", "wall msgs/s", "MB/s", "broker CPU s", "CPU µs/msg",
            "client / other CPU s", "peak RSS MiB", "p50 µs", "p99 µs", "p99.9 µs"]
    if compare:
        cols += ["Brook / best", "Brook / best CPU/msg"]
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for line in lines:
        for b in brokers:
            r = results.get((line.name, b))
            if r is None:
                continue
            row = [f"`{line.name}`", f"{counts[line.name]:,}", b]
            if r.na:
                row += ["n/a"] + [""] * 10
            elif not r.ok:
                row += ["FAILED: " + r.error.replace("|", "/")[:160]] + [""] * 10
            else:
                cpu_per = cpu_per_msg(r)
                rss = fmt_int(r.rss_peak_kib / KIB if r.rss_peak_kib is not None else None)
                if r.rss_peak_kib is not None and not r.rss_reset:
                    rss += "*"
                spread = "" if r.spread is None else f"±{r.spread / 2:.0%}"
                others = f"{fmt_f(r.client_cpu_s, 2)} / {fmt_f(r.other_cpu_s, 2)}"
                row += [fmt_int(r.msgs_per_s), spread, fmt_int(r.wall_msgs_per_s), fmt_f(r.mb_per_s), fmt_f(r.cpu_s, 2),
                        fmt_f(cpu_per * 1e6 if cpu_per is not None else None, 2), others,
                        rss, fmt_int(r.p50_us), fmt_int(r.p99_us), fmt_int(r.p999_us)]
            if compare:
                row += list(brook_vs_best(line, results, brokers)) if b == "brook" else ["", ""]
            out.append("| " + " | ".join(row) + " |")
    return "\n".join(out)


def flush_table(lines: list[Line], results: dict[tuple[str, str], Result], brokers: list[str]) -> str:
    """Each flush.messages=1 line against the same line without: the price of fsync before the ack."""
    names = {ln.name for ln in lines}
    out = ["| Line pair | Broker | msgs/s without | msgs/s with flush | with / without | CPU µs/msg without | "
           "CPU µs/msg with |", "|---|---|---|---|---|---|---|"]
    for plain, flushed in FLUSH_PAIRS:
        if plain not in names or flushed not in names:
            continue
        for b in brokers:
            r0, r1 = results.get((plain, b)), results.get((flushed, b))
            if r0 is None or r1 is None:
                continue
            if r1.na or not (r0.ok and r1.ok):
                why = "n/a" if r1.na else "FAILED"
                out.append(f"| `{plain}` / `-flush` | {b} | {fmt_int(r0.msgs_per_s) if r0.ok else why} | {why} "
                           "| | | |")
                continue
            c0, c1 = cpu_per_msg(r0), cpu_per_msg(r1)
            out.append(f"| `{plain}` / `-flush` | {b} | {fmt_int(r0.msgs_per_s)} | {fmt_int(r1.msgs_per_s)} | "
                       f"{ratio(r1.msgs_per_s, r0.msgs_per_s)} | {fmt_f(c0 and c0 * 1e6, 2)} | "
                       f"{fmt_f(c1 and c1 * 1e6, 2)} |")
    return "\n".join(out) if len(out) > 2 else ""


def machine_facts() -> dict[str, str]:
    model = "?"
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                model = row.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = proc_meminfo_total()
    facts = {
        "nproc": str(os.cpu_count()),
        "CPU model": model,
        "memory": mem,
        "kernel": platform.release(),
        "Python": platform.python_version() + f" ({sys.executable})",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    try:
        import confluent_kafka

        facts["confluent-kafka"] = f"{confluent_kafka.__version__} (librdkafka {confluent_kafka.libversion()[0]})"
    except ImportError:
        pass
    facts["rdkafka_performance"] = f"librdkafka 2.15.1, {RDKAFKA_PERFORMANCE}"
    return facts


def proc_meminfo_total() -> str:
    try:
        for row in Path("/proc/meminfo").read_text().splitlines():
            if row.startswith("MemTotal:"):
                return f"{int(row.split()[1]) / KIB / KIB:.1f} GiB"
    except (OSError, ValueError):
        pass
    return "?"


DOC_NOTES = """\
## What each line measures

Every line runs against each broker in turn, one fresh topic per line and broker (1 partition, replication
factor 1, deleted after the line). Producer lines use librdkafka's `rdkafka_performance` with
`-X linger.ms=5` (its default `linger.ms=1000` hides any broker faster than about 1M msgs/s) and
`-p 0`; msgs/s and MB/s are its own figures: delivered messages (and value bytes, 10^6 bytes per MB) over the
time from the first produce call to the last delivery report.

{line_notes}

Each line runs {repeat} time(s) per broker, alternating brokers; the table shows the repeat with the median
msgs/s (all its columns come from that one repeat) and **spread**, ± half the range of the repeats' msgs/s
relative to the median: lines of about a second on a 2-core machine shared with the client are noisy.

Columns: **broker CPU s** is the broker process's utime+stime (`/proc/PID/stat`, all threads) over the line,
**CPU µs/msg** that divided by the message count, the best single measure of the broker's efficiency (the
client competes for the same {nproc} cores). **client / other CPU s** are the CPU seconds of the benchmark
client over the line and of everything else on the machine (all cores' busy time from `/proc/stat` minus
broker and client): a large "other" marks a repeat disturbed by unrelated work. Before each line the harness
calls `sync`, so that the kernel writes out what earlier lines left in the page cache then, not during the line.
**peak RSS** is the broker's VmHWM (`/proc/PID/status`), reset
before the line by writing 5 to `/proc/PID/clear_refs` (a `*` marks a peak since broker start, when the reset
was not possible). **wall msgs/s** is the count over the wall clock around the whole client run (start-up
included). **Brook / best** divides Brook's msgs/s by the fastest peer's on the line (consume lines: wall msgs/s,
since rdkafka_performance's consumer clock starts at the first message; latency lines: the lowest peer p99 by
Brook's p99), and **Brook / best CPU/msg** Brook's CPU per message by the thriftiest peer's (above 1 means Brook
spends more CPU per message).

Tansu runs with `--storage-engine memory://tansu/`: it keeps the log in memory and never writes to disk,
so it has nothing to fsync and the `flush.messages=1` lines are n/a for it (Tansu accepts the topic config
but has no storage it would apply to). Brook writes every line to its log directory in a temporary
directory; the `-flush` lines set the topic config `flush.messages=1`, so each produce request is acknowledged
only after an fsync covering it (group commit across waiting producers).

## Reference figures (from the issue, other machines)

- Tansu: about 2.4M msgs/s producing 100 B messages (240 MB/s), 300 MB/s at 1 KiB, and consumes about
  2.8M msgs/s; synchronous round trips about 4,500/s with p99 about 330 µs.
- noida-db: 770 MB/s producing 1 KiB messages, 11,000 synchronous round trips/s.

These were measured elsewhere, on other hardware; compare against the Tansu rows above (same machine, same run)
rather than against these figures.

## Caveats

The client (`rdkafka_performance` or the Python producer) runs on the same {nproc} cores as the broker, so a
broker that needs little CPU per message is often client-bound: compare CPU µs/msg as well as msgs/s. Other
work on the machine shows in the load averages above. On a virtual machine, writing to page-cache pages that
are new to the guest can cost several times more kernel time than rewriting recycled ones (on the machine of
these figures: about 2.5 s of CPU per GiB against 0.25 s, measured with a plain `pwritev` loop); Brook pays it
in `pwritev`, an in-memory broker when its heap grows.

## Profiling

`--profile DIR` records the Brook broker with py-spy (`.venv/bin/pip install py-spy`; not a project
dependency) during each Brook line, as collapsed stacks (`DIR/LINE.collapsed.txt`, also readable by
speedscope or flamegraph.pl); `--native` adds C frames, `--scale 10` makes the lines long enough to sample
well. Profiling slows the broker, so profiled figures are not comparable. `benchmarks/profile_summary.py
DIR/*.txt` prints the hottest frames:

```sh
.venv/bin/python benchmarks/run.py --brokers brook --only produce-100B-acks1 consume-100B --scale 10 \\
    --repeat 1 --profile /tmp/profile
.venv/bin/python benchmarks/profile_summary.py /tmp/profile/*.collapsed.txt
```
"""


def write_docs(cmdline: str, started: dt.datetime, facts: dict[str, str], table: str, lines: list[Line],
               counts: dict[str, int], sizing: str, repeat: int, broker_notes: list[str]) -> None:
    line_notes = "\n".join(f"- `{ln.name}` ({counts[ln.name]:,} messages): {ln.what}." for ln in lines)
    body = [
        "# Benchmarks",
        "",
        "Brook next to a peer Kafka-compatible broker (Tansu 0.6, Rust, in-memory storage) on the same machine, "
        "in one run of:",
        "",
        "```sh",
        cmdline,
        "```",
        "",
        f"Run on {started:%Y-%m-%d %H:%M} UTC{sizing}.",
        "",
        "| Machine | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in facts.items()],
        "",
        "## Results",
        "",
        table,
        "",
    ]
    if broker_notes:
        body += ["Broker warnings and errors seen during the run:", "", "```", *broker_notes, "```", ""]
    body.append(DOC_NOTES.format(line_notes=line_notes, nproc=facts.get("nproc", "?"), repeat=repeat))
    # Sections of the other benchmark commands (coordinators, cleaner) follow a marker and are kept.
    old = DOCS.read_text() if DOCS.exists() else ""
    if OTHER_BENCHMARKS in old:
        body += ["", old[old.index(OTHER_BENCHMARKS):].rstrip("\n"), ""]
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text("\n".join(body))


def write_docs_section(title: str, cmdline: str, started: dt.datetime, facts: dict[str, str], table: str,
                       flushes: str, lines: list[Line], counts: dict[str, int], sizing: str, repeat: int,
                       broker_notes: list[str], results: dict[tuple[str, str], Result]) -> None:
    """One `## title` section with this run, leaving every other section of the page as it is."""
    notes = sorted({f"- {r.broker}, `{r.line}`: {n}" for r in results.values() for n in r.notes
                    if not n.startswith("profile")})
    body = [
        f"## {title}", "",
        "```sh", cmdline, "```", "",
        f"Run on {started:%Y-%m-%d %H:%M} UTC{sizing}, {repeat} repeat(s) per line and broker (the median "
        "repeat is shown). **Brook / best** divides Brook's msgs/s by the fastest peer's on the line (on consume "
        "lines: wall msgs/s, see below; on the latency line: the lowest peer p99 by Brook's p99), so above 1 "
        "means Brook leads; **wall msgs/s** is the message count over the wall clock around the whole client run "
        "(process start and connection included): rdkafka_performance's consumer starts its clock at the first "
        "message, which flatters a broker that answers the first fetch with the whole partition (noida-db); "
        "**Brook / best CPU/msg** divides Brook's broker CPU per message by the thriftiest peer's (above 1 means "
        "Brook spends more). The other columns are as in [What each line measures](#what-each-line-measures).", "",
        "| Machine | |", "|---|---|", *[f"| {k} | {v} |" for k, v in facts.items()], "",
        table, "",
    ]
    if flushes:
        body += ["fsync before the ack (`flush.messages=1`) against the same line without:", "", flushes, ""]
    body += ["Lines:", "", *(f"- `{ln.name}` ({counts[ln.name]:,} messages): {ln.what}." for ln in lines), ""]
    if notes:
        body += ["Notes on single results:", "", *notes, ""]
    if broker_notes:
        body += ["Broker warnings and errors seen during the run:", "", "```", *broker_notes[:20], "```", ""]
    section = "\n".join(body)
    old = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    start = old.find(f"\n## {title}\n")
    if start < 0:
        DOCS.write_text(old.rstrip("\n") + "\n\n" + section)
        return
    end = old.find("\n## ", start + 1)
    rest = old[end + 1:] if end >= 0 else ""
    DOCS.write_text(old[:start + 1] + section + ("\n" + rest if rest else ""))


# --------------------------------------------------------------------------------------------------------------


def select_lines(only: list[str] | None) -> list[Line]:
    if not only:
        return LINES
    chosen = []
    for pat in only:
        hits = [ln for ln in LINES if fnmatch.fnmatchcase(ln.name, pat) or ln.name == pat]
        if not hits:
            names = ", ".join(ln.name for ln in LINES)
            raise SystemExit(f"--only {pat}: no such line (lines: {names})")
        chosen += [h for h in hits if h not in chosen]
    return [ln for ln in LINES if ln in chosen]


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--sync-worker"]:
        bootstrap, topic, n, size, acks = argv[1:6]
        sync_worker(bootstrap, topic, int(n), int(size), acks)
        return 0
    if argv[:1] == ["--latency-worker"]:
        bootstrap, topic, n, size, rate, extra = argv[1:7]
        latency_worker(bootstrap, topic, int(n), int(size), int(rate), json.loads(extra))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="lines: " + ", ".join(ln.name for ln in LINES))
    ap.add_argument("--quick", action="store_true", help="a tenth of the counts (smoke run)")
    ap.add_argument("--only", nargs="+", metavar="LINE", help="run only these lines (names or shell patterns)")
    ap.add_argument("--brokers", default="brook,tansu", help="comma-separated: brook, tansu, noida (default "
                    "brook,tansu)")
    ap.add_argument("--write-docs", action="store_true", help=f"rewrite {DOCS.relative_to(REPO)} with the results")
    ap.add_argument("--docs-section", metavar="TITLE", help=f"write the results as the section '## TITLE' of "
                    f"{DOCS.relative_to(REPO)} (replacing a section of that title, else appended), keeping the rest")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every line's message count (e.g. for "
                    "longer profiles)")
    ap.add_argument("--timeout-scale", type=float, default=1.0, help="multiply every line's timeout")
    ap.add_argument("--profile", metavar="DIR", type=Path,
                    help="record py-spy collapsed stacks of the Brook broker per line into DIR (skews the figures)")
    ap.add_argument("--native", action="store_true", help="with --profile: include native (C) frames")
    ap.add_argument("--profile-rate", type=int, default=250, help="with --profile: samples per second")
    ap.add_argument("--repeat", type=int, help="runs per line and broker, the median is reported "
                    "(default 3, with --quick 1)")
    ap.add_argument("--brook-override", action="append", default=[], metavar="KEY=VALUE",
                    help="a broker setting for Brook's broker (repeatable), e.g. brook.idle.poll.us=0")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data directory and logs")
    args = ap.parse_args(argv)

    lines = select_lines(args.only)
    repeat = max(1, args.repeat if args.repeat is not None else (1 if args.quick else 3))
    counts = {ln.name: ln.n(args.quick, args.scale) for ln in lines}
    sizing = (" (quick: a tenth of the counts)" if args.quick else "") + (
        f" (counts scaled by {args.scale:g})" if args.scale != 1 else "")
    wanted = [b.strip() for b in args.brokers.split(",") if b.strip()]
    unknown = set(wanted) - set(BROKERS)
    if unknown:
        raise SystemExit(f"--brokers: unknown {', '.join(sorted(unknown))} (known: {', '.join(BROKERS)})")
    if not RDKAFKA_PERFORMANCE.exists() and any(ln.kind != "sync" for ln in lines):
        print(f"rdkafka_performance not found at {RDKAFKA_PERFORMANCE}: run ../shared/conformance/setup.sh; "
              "its lines will fail", flush=True)

    started = dt.datetime.now(dt.UTC)
    workdir = Path(tempfile.mkdtemp(prefix="brook-bench-"))
    brokers: list[Broker] = []
    failed_start: dict[str, str] = {}
    for name in wanted:
        if name in BINARIES and not BINARIES[name].exists():
            print(f"{name} binary not found at {BINARIES[name]}: skipping it (../shared/conformance/setup.sh "
                  "installs it)", flush=True)
            continue
        b = BROKERS[name](workdir)
        if isinstance(b, BrookBroker):
            b.overrides = tuple(args.brook_override)
        try:
            b.start()
            print(f"{name}: pid {b.pid}, {b.bootstrap}, log {b.log_path}", flush=True)
            if RDKAFKA_PERFORMANCE.exists():
                why = warm_up(b)
                if why:
                    print(f"{name}: {why}", flush=True)
            brokers.append(b)
        except Exception as e:  # noqa: BLE001
            failed_start[name] = f"{type(e).__name__}: {e}"
            print(f"{name}: FAILED to start: {failed_start[name]}", flush=True)
            b.stop()
    facts = machine_facts()
    for b in brokers:
        if b.name != "brook":
            facts[f"peer {b.name}"] = b.version()
    print("machine: " + "; ".join(f"{k} {v}" for k, v in facts.items()), flush=True)

    results: dict[tuple[str, str], Result] = {}
    try:
        for line in lines:
            print(f"\n{line.name}: {counts[line.name]:,} messages - {line.what}", flush=True)
            for name, why in failed_start.items():
                r = Result(line.name, name, error=f"broker did not start: {why}")
                results[(line.name, name)] = r
                print_result(r)
            runs: dict[str, list[Result]] = {b.name: [] for b in brokers}
            for i in range(repeat):
                if repeat > 1:
                    print(f" repeat {i + 1}/{repeat}", flush=True)
                for b in brokers:
                    if runs[b.name] and runs[b.name][0].na:
                        continue
                    r = run_line(line, b, counts[line.name], args.timeout_scale, args.profile if i == 0 else None,
                                 args.native, args.profile_rate)
                    runs[b.name].append(r)
                    print_result(r)
            for b in brokers:
                r = results[(line.name, b.name)] = median_result(runs[b.name])
                if repeat > 1 and not r.na:
                    print(f"  {b.name:<6} median: ", end="")
                    print_result(r, indent=False)
            speed, cpu = brook_vs_best(line, results, [b.name for b in brokers])
            if speed:
                print(f"  Brook / best: {speed}, CPU/msg {cpu}", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
    finally:
        for b in brokers:
            b.stop()

    facts["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    names = [n for n in wanted if any(k[1] == n for k in results)]
    table = markdown_table(lines, results, names, counts)
    print("\n" + table + "\n")
    flushes = flush_table(lines, results, names)
    if flushes:
        print(flushes + "\n")

    broker_notes: list[str] = []
    for b in brokers:
        errs = b.error_lines()
        if b.proc is not None and b.proc.returncode not in (0, None, -signal.SIGINT, -signal.SIGTERM):
            errs.append(f"{b.name} exited with {b.proc.returncode}")
        if errs:
            broker_notes += [f"[{b.name}] {e}" for e in errs]
    if broker_notes:
        print("Broker warnings and errors (logs under " + str(workdir) + "):")
        print("\n".join(broker_notes))
    else:
        print("No WARN or ERROR lines in the broker logs.")

    if args.write_docs:
        cmdline = ".venv/bin/python benchmarks/run.py " + shlex.join(argv)
        write_docs(cmdline.strip(), started, facts, table, lines, counts, sizing, repeat, broker_notes)
        print(f"wrote {DOCS}")
    if args.docs_section:
        cmdline = ".venv/bin/python benchmarks/run.py " + shlex.join(argv)
        write_docs_section(args.docs_section, cmdline.strip(), started, facts, table, flushes, lines, counts,
                           sizing, repeat, broker_notes, results)
        print(f"wrote the section '{args.docs_section}' of {DOCS}")

    if args.keep or broker_notes:
        for d in workdir.glob("brook-data-*"):
            if not args.keep:
                shutil.rmtree(d, ignore_errors=True)
        print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(r.ok or r.na for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
