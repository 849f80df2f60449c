"""Shared fixtures: real Brook broker processes on 127.0.0.1 with ephemeral ports; a real ZooKeeper (Debian's,
through zookeeper-server-start) for the cluster's tests."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import kafka_wire
import pytest
from kazoo.client import KazooClient

STARTED = re.compile(r"started \(kafka\.server\.KafkaServer\) on (\S+) in")
ENDPOINT = re.compile(r"(\w+)://\[?([^\],\s]*?)\]?:(\d+)")


def start_logged(args: list[str], log_path: Path, ready, what: str, timeout: float = 60.0,  # noqa: ANN001, ANN201
                 cwd: Path | None = None, env: dict[str, str] | None = None):
    """Start a server process with its output appended to `log_path` (and `env` added to its environment); wait
    (bounded, on its log, never a fixed sleep) until `ready(new log text)` returns a match. Returns (process,
    match)."""
    log = open(log_path, "ab")
    start = log.tell()
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")[start:]
        m = ready(text)
        if m:
            return proc, m
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{text}")
        time.sleep(0.02)
    raise TimeoutError(f"{what} did not start within {timeout}s:\n{log_path.read_text()}")


class HttpServerProcess:
    """A server around the log (the registry, the SQL server) started with `--override`s on an ephemeral port,
    ready when its log shows `ready_pattern` (group 2: the port) and `ready_text`; stopped by SIGTERM."""

    ready_pattern: re.Pattern
    ready_text = ""
    what = "server"

    def __init__(self, log_path: Path, overrides: dict[str, str]) -> None:
        self.log_path = log_path
        self.overrides = {"listeners": "http://127.0.0.1:0", **overrides}
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.env: dict[str, str] = {}  # added to the process's environment (SCHEMA_REGISTRY_OPTS, KSQL_OPTS)

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 60.0):  # noqa: ANN201 - the subclass
        args = self.command()
        for k, v in self.overrides.items():
            args += ["--override", f"{k}={v}"]
        self.proc, m = start_logged(args, self.log_path, lambda text: self.ready_text in text
                                    and self.ready_pattern.search(text), self.what, timeout, env=self.env)
        self.port = int(m.group(2))
        scheme = self.overrides["listeners"].split("://")[0]
        self.overrides["listeners"] = f"{scheme}://127.0.0.1:{self.port}"  # the same port after a restart
        return self

    def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class BrokerProcess:
    """A real `python -m brook` process. Waits on its 'started' log line, never on a sleep."""

    def __init__(self, data_dir: Path, overrides: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.overrides = {"listeners": "PLAINTEXT://127.0.0.1:0", "log.dirs": str(data_dir),
                          "group.initial.rebalance.delay.ms": "0", **(overrides or {})}
        if "zookeeper.connect" in self.overrides:  # a cluster's last broker cannot hand its leadership on: retry soon
            self.overrides.setdefault("controlled.shutdown.retry.backoff.ms", "100")
        self.proc: subprocess.Popen | None = None
        self.port = 0  # the first listener's
        self.ports: dict[str, int] = {}  # every listener's, by name
        self.log_path = data_dir.parent / f"{data_dir.name}.broker.log"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> BrokerProcess:
        args = [sys.executable, "-m", "brook"]
        for k, v in self.overrides.items():
            args += ["--override", f"{k}={v}"]
        log = open(self.log_path, "ab")
        start_pos = log.tell()
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")[start_pos:]
            m = STARTED.search(text)
            if m:
                endpoints = ENDPOINT.findall(m.group(1))
                self.ports = {name: int(port) for name, _, port in endpoints}
                self.port = int(endpoints[0][2])
                if "listeners" in self.overrides and ":0" in self.overrides["listeners"]:
                    # keep the ports across restarts so clients can reconnect
                    self.overrides["listeners"] = ",".join(f"{name}://{host}:{port}" for name, host, port in endpoints)
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"broker exited with {self.proc.returncode}:\n{text}")
            time.sleep(0.02)
        raise TimeoutError(f"broker did not start within {timeout}s:\n{self.log_text()}")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout: float = 30.0) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def restart(self) -> BrokerProcess:
        self.stop()
        return self.start()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@contextlib.contextmanager
def module_broker(tmp_path_factory, name: str, overrides: dict[str, str] | None = None) -> Iterator[BrokerProcess]:
    """One broker shared by a test module's tests (its fixture yields inside this), stopped however they end."""
    b = BrokerProcess(tmp_path_factory.mktemp(name) / "data", overrides).start()
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture
def broker_factory(tmp_path):
    started: list[BrokerProcess] = []

    def make(overrides: dict[str, str] | None = None, name: str = "data") -> BrokerProcess:
        b = BrokerProcess(tmp_path / name, overrides)
        started.append(b)
        return b.start()

    yield make
    for b in started:
        b.stop()


@pytest.fixture
def broker(broker_factory) -> BrokerProcess:
    return broker_factory()


class ZooKeeperProcess:
    """A real ZooKeeper started by `zookeeper-server-start` on a free port with its own dataDir; ready once it
    answers the `srvr` four-letter command (allowed by ZooKeeper's default whitelist)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}.zookeeper.log"

    @property
    def connect(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ZooKeeperProcess:
        with socket.socket() as s:  # ZooKeeper has no clientPort=0: take a free port and hand it over
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        props = self.data_dir.parent / f"{self.data_dir.name}.zookeeper.properties"
        # a short tick lets cluster tests use second-long sessions (ZooKeeper allows 2 to 20 ticks by default);
        # the maximum stays above Kafka's 18 s default
        props.write_text(f"dataDir={self.data_dir}\nclientPort={self.port}\nclientPortAddress=127.0.0.1\n"
                         "maxClientCnxns=0\nadmin.enableServer=false\ntickTime=500\nminSessionTimeout=1000\n"
                         "maxSessionTimeout=40000\n")
        script = Path(sys.executable).parent / "zookeeper-server-start"
        env = {**os.environ, "KAFKA_HEAP_OPTS": "-Xmx128M -Xms16M", "LOG_DIR": str(self.data_dir.parent)}
        self.proc = subprocess.Popen([str(script), str(props)], stdout=open(self.log_path, "ab"),
                                     stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"zookeeper exited with {self.proc.returncode}:\n{self.log_path.read_text()}")
            if "Mode: standalone" in self.four_letter("srvr"):
                return self
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"zookeeper did not answer within {timeout}s:\n{self.log_path.read_text()}")

    def four_letter(self, word: str) -> str:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                s.sendall(word.encode())
                return b"".join(iter(lambda: s.recv(4096), b"")).decode(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture(scope="session")
def zookeeper(tmp_path_factory) -> Iterator[ZooKeeperProcess]:
    """One ZooKeeper for the whole run (started by the first test that asks); tests keep apart by chroot."""
    zk = ZooKeeperProcess(tmp_path_factory.mktemp("zookeeper") / "data").start()
    try:
        yield zk
    finally:
        zk.stop()


class PostgresProcess:
    """A private PostgreSQL cluster (Debian's `postgresql` binaries): initdb into a temp dir, `postgres` on a free
    port of 127.0.0.1 with its unix socket in that dir, trust authentication for the superuser `brook`. PostgreSQL
    refuses to run as root, so under root (CI's bare Debian) the cluster belongs to the `postgres` account and
    its processes run as that user (Popen's user/group)."""

    USER = "brook"

    def __init__(self) -> None:
        import glob
        import shutil
        import tempfile

        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
        self.bin = Path(found[-1]).parent if found else Path(shutil.which("initdb") or "initdb").parent
        self.dir = Path(tempfile.mkdtemp(prefix="brook-pg-"))  # not under pytest's 0700 root-owned tmp tree
        self.data = self.dir / "data"
        self.log_path = self.dir / "postgres.log"
        self.as_user: dict = {}
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_user = {"user": "postgres", "group": "postgres", "extra_groups": []}
        self.port = 0
        self.proc: subprocess.Popen | None = None

    def _run(self, *args: str) -> None:
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.dir,
                       **self.as_user)

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of a database of this cluster."""
        return f"postgresql+psycopg://{self.USER}@127.0.0.1:{self.port}/{database}"

    def jdbc_url(self, database: str = "postgres") -> str:
        return f"jdbc:postgresql://127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 60.0) -> PostgresProcess:
        if not self.data.exists():
            self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", self.USER, "--auth=trust",
                      "--encoding=UTF8", "--locale=C.UTF-8" if Path("/usr/lib/locale/C.utf8").exists() else
                      "--locale=C")
        with socket.socket() as s:  # postgres has no port 0: take a free port and hand it over
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k",
             str(self.dir), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=self.dir, **self.as_user)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.proc.returncode}:\n{self.log_path.read_text()}")
            if self.accepts():
                return self
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"postgres did not accept connections within {timeout}s:\n{self.log_path.read_text()}")

    def accepts(self) -> bool:
        import psycopg

        try:
            psycopg.connect(host="127.0.0.1", port=self.port, user=self.USER, dbname="postgres",
                            connect_timeout=2).close()
            return True
        except psycopg.OperationalError:
            return False

    def execute(self, sql: str, database: str = "postgres") -> list[tuple]:
        """One statement in autocommit (CREATE DATABASE needs it); the rows it returned, if any."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=self.USER, dbname=database,
                             autocommit=True) as conn:
            cur = conn.execute(sql)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []

    def create_database(self, name: str) -> str:
        self.execute(f'CREATE DATABASE "{name}"')
        return name

    def stop(self) -> None:
        """Fast shutdown (SIGINT: roll back open transactions, disconnect clients)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresProcess]:
    """One PostgreSQL cluster for the whole run (started by the first test that asks); tests keep apart by
    database."""
    import shutil

    pg = PostgresProcess().start()
    try:
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(pg.dir, ignore_errors=True)


# -- a ZooKeeper cluster -----------------------------------------------------------------------------------------
cluster_wait = functools.partial(kafka_wire.wait_for, timeout=30, interval=0.05)  # session changes take seconds

# short sessions (the fixture's ZooKeeper ticks every 500 ms) so that a killed broker leaves within seconds;
# quick fetcher retries so that followers find a new leader at once; a dead follower leaves the ISR in seconds
CLUSTER_SETTINGS = {"zookeeper.session.timeout.ms": "3000", "replica.fetch.backoff.ms": "100",
                    "replica.lag.time.max.ms": "5000",
                    "default.replication.factor": "3", "offsets.topic.replication.factor": "3",
                    "transaction.state.log.replication.factor": "3", "min.insync.replicas": "2"}


class Cluster:
    """Brokers 1..n by id, and a kazoo client on the chroot to read the znodes the brokers write."""

    def __init__(self, brokers: dict[int, BrokerProcess], raw: KazooClient, chroot: str) -> None:
        self.brokers = brokers
        self.raw = raw
        self.chroot = chroot

    @property
    def bootstrap(self) -> str:
        return ",".join(b.bootstrap for b in self.brokers.values() if b.alive())

    def state(self, topic: str, partition: int) -> dict:
        return json.loads(self.raw.get(f"/brokers/topics/{topic}/partitions/{partition}/state")[0])

    def controller_id(self) -> int:
        return int(json.loads(self.raw.get("/controller")[0])["brokerid"])

    def live_ids(self) -> list[int]:
        return sorted(int(c) for c in self.raw.get_children("/brokers/ids"))

    def wait_state(self, topic: str, partition: int, predicate, what: str = "partition state",  # noqa: ANN001
                   timeout: float = 30) -> dict:
        def check() -> dict | None:
            if not self.raw.exists(f"/brokers/topics/{topic}/partitions/{partition}/state"):
                return None
            s = self.state(topic, partition)
            return s if predicate(s) else None
        return cluster_wait(check, what=what, timeout=timeout)


@pytest.fixture(scope="module")
def three_brokers(zookeeper, tmp_path_factory) -> Iterator[Cluster]:
    """Three brokers (ids 1, 2, 3) with CLUSTER_SETTINGS, started one after the other, stopped however the module
    ends (a test may kill and restart them: the fixture stops whatever runs)."""
    chroot = f"/brook-{uuid.uuid4().hex[:8]}"
    base = tmp_path_factory.mktemp("cluster")
    brokers = {i: BrokerProcess(base / f"broker-{i}", {"broker.id": str(i),
                                                       "zookeeper.connect": zookeeper.connect + chroot,
                                                       **CLUSTER_SETTINGS}) for i in (1, 2, 3)}
    raw = KazooClient(hosts=zookeeper.connect + chroot)
    try:
        for b in brokers.values():
            b.start()
        raw.start(timeout=15)
        yield Cluster(brokers, raw, chroot)
    finally:
        raw.stop()
        raw.close()
        for b in brokers.values():
            b.stop()
