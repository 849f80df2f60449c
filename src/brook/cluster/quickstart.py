"""brook-cluster (./run-cluster.sh): the learner's one command for a cluster. ZooKeeper (Debian's, through
zookeeper-server-start) and three brokers on localhost:9092, 9093 and 9094 (broker.id 1, 2, 3), each with its own
data folder under data/cluster; Ctrl-C stops the brokers (a clean stop each, with controlled shutdown) and then
ZooKeeper. The processes' logs go to files beside their data; this prints where everything is."""

from __future__ import annotations

import argparse
import functools
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import IO

STARTED = "started (kafka.server.KafkaServer)"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="brook-cluster", description="ZooKeeper and brokers on localhost, stopped "
                                "together on Ctrl-C.")
    p.add_argument("--brokers", type=int, default=3, help="how many brokers (default 3)")
    p.add_argument("--port", type=int, default=9092, help="the first broker's port; the others follow (9092)")
    p.add_argument("--zookeeper-port", type=int, default=2181, help="ZooKeeper's clientPort (2181)")
    p.add_argument("--data-dir", default="data/cluster", help="where ZooKeeper's and each broker's data and logs "
                   "go (data/cluster)")
    p.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                   help="a broker property for every broker (as kafka-server-start's --override)")
    return p.parse_args(argv)


def _four_letter(port: int, word: str) -> str:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(word.encode())
            return b"".join(iter(lambda: s.recv(4096), b"")).decode(errors="replace")
    except OSError:
        return ""


def _wait(proc: subprocess.Popen[bytes], check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start within {timeout:.0f}s")


def _logged(path: Path, start: int, text: str) -> bool:
    return text in path.read_bytes()[start:].decode(errors="replace")


class Cluster:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.data = Path(args.data_dir).resolve()
        self.zookeeper: subprocess.Popen[bytes] | None = None
        self.brokers: list[tuple[int, subprocess.Popen[bytes], Path]] = []
        self._logs: list[IO[bytes]] = []

    def _spawn(self, cmd: list[str], log_path: Path) -> subprocess.Popen[bytes]:
        out = open(log_path, "ab")
        self._logs.append(out)
        # its own process group: the terminal's Ctrl-C reaches this process only, which stops them in order
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)

    def start(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        zk_port = self.args.zookeeper_port
        props = self.data / "zookeeper.properties"
        props.write_text(f"dataDir={self.data / 'zookeeper'}\nclientPort={zk_port}\nmaxClientCnxns=0\n"
                         "admin.enableServer=false\n")
        bin_dir = Path(sys.executable).parent
        self.zookeeper = self._spawn([str(bin_dir / "zookeeper-server-start"), str(props)],
                                     self.data / "zookeeper.log")
        _wait(self.zookeeper, lambda: "Mode: standalone" in _four_letter(zk_port, "srvr"), "ZooKeeper")
        print(f"ZooKeeper on localhost:{zk_port} (data in {self.data / 'zookeeper'}, log "
              f"{self.data / 'zookeeper.log'})", flush=True)
        n = self.args.brokers
        common = {"zookeeper.connect": f"localhost:{zk_port}", "offsets.topic.replication.factor": str(min(3, n)),
                  "transaction.state.log.replication.factor": str(min(3, n)),
                  "transaction.state.log.min.isr": str(min(2, n))}
        for kv in self.args.override:
            key, _, value = kv.partition("=")
            common[key] = value
        for i in range(1, n + 1):
            port = self.args.port + i - 1
            overrides = {"broker.id": str(i), "listeners": f"PLAINTEXT://localhost:{port}",
                         "log.dirs": str(self.data / f"broker-{i}"), **common}
            cmd = [sys.executable, "-m", "brook"]
            for k, v in overrides.items():
                cmd += ["--override", f"{k}={v}"]
            log_path = self.data / f"broker-{i}.log"
            start = log_path.stat().st_size if log_path.exists() else 0
            proc = self._spawn(cmd, log_path)
            self.brokers.append((i, proc, log_path))
            _wait(proc, functools.partial(_logged, log_path, start, STARTED), f"broker {i}")
            print(f"Broker {i} on localhost:{port} (data in {self.data / f'broker-{i}'}, log {log_path})",
                  flush=True)
        servers = ",".join(f"localhost:{self.args.port + i}" for i in range(n))
        print(f"Cluster ready: --bootstrap-server {servers}. Ctrl-C stops it.", flush=True)

    def stop(self) -> None:
        for _, proc, _ in self.brokers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for i, proc, _ in self.brokers:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
            print(f"Broker {i} stopped", flush=True)
        if self.zookeeper is not None and self.zookeeper.poll() is None:
            self.zookeeper.terminate()
            try:
                self.zookeeper.wait(30)
            except subprocess.TimeoutExpired:
                self.zookeeper.kill()
                self.zookeeper.wait(10)
            print("ZooKeeper stopped", flush=True)
        for out in self._logs:
            out.close()


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    stop, started = threading.Event(), threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if not started.is_set():
            raise KeyboardInterrupt  # during start-up: stop what has started
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    cluster = Cluster(args)
    try:
        cluster.start()
        started.set()
        while not stop.wait(1.0):
            for i, proc, log_path in cluster.brokers:
                if proc.poll() is not None:
                    print(f"Broker {i} exited with {proc.returncode} (see {log_path})", flush=True)
                    stop.set()
        return 0
    except KeyboardInterrupt:
        return 0
    except RuntimeError as e:
        print(f"Error: {e} (logs in {cluster.data})", file=sys.stderr, flush=True)
        return 1
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
