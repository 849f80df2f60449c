"""The brokers run.py measures (Brook, and the peers Tansu and noida-db when their binaries exist), the /proc
figures it takes of them (CPU seconds, peak RSS) and the topics it creates on them. Imported by run.py and the
other benchmarks; not a command of its own.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFORMANCE = Path(os.environ.get("BROOK_CONFORMANCE_DIR", "/opt/brook-conformance"))
TANSU = CONFORMANCE / "bin/tansu"
NOIDA = CONFORMANCE / "bin/noida-db"
BINARIES = {"tansu": TANSU, "noida": NOIDA}
STARTED = re.compile(r"started \(kafka\.server\.KafkaServer\) on PLAINTEXT://([^:\s]+):(\d+)")
CLK_TCK = os.sysconf("SC_CLK_TCK")


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
