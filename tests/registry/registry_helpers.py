"""A real registry process (schema-registry-start) beside a real broker, on ephemeral ports.
Imported by the registry tests (pytest puts each test's directory on sys.path)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

LISTENING = re.compile(r"Listening on http://([^:\s]+):(\d+)")
MEDIA = "application/vnd.schemaregistry.v1+json"


class RegistryProcess:
    def __init__(self, log_path: Path, bootstrap: str, overrides: dict[str, str] | None = None,
                 properties: Path | None = None) -> None:
        self.log_path = log_path
        self.properties = properties
        self.overrides = {"listeners": "http://127.0.0.1:0", "kafkastore.bootstrap.servers": bootstrap,
                          "kafkastore.timeout.ms": "20000", **(overrides or {})}
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> RegistryProcess:
        args = [sys.executable, "-m", "brook.registry.main", *([str(self.properties)] if self.properties else [])]
        for k, v in self.overrides.items():
            args += ["--override", f"{k}={v}"]
        log = open(self.log_path, "ab")
        start = log.tell()
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")[start:]
            m = LISTENING.search(text)
            if m and "listening for requests" in text:
                self.port = int(m.group(2))
                self.overrides["listeners"] = f"http://127.0.0.1:{self.port}"  # the same port after a restart
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"registry exited with {self.proc.returncode}:\n{text}")
            time.sleep(0.02)
        raise TimeoutError(f"registry did not start within {timeout}s:\n{self.log_path.read_text()}")

    def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def call(self, method: str, path: str, body: object = None, raw: bytes | None = None,
             content_type: str = MEDIA) -> tuple[int, object]:
        """An HTTP request as curl sends it; returns (status, decoded JSON body)."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())


@contextlib.contextmanager
def module_registry(tmp_path_factory, name: str, overrides: dict[str, str] | None = None
                    ) -> Iterator[tuple[object, RegistryProcess]]:
    from conftest import module_broker

    with module_broker(tmp_path_factory, name) as broker:
        r = RegistryProcess(tmp_path_factory.mktemp(name + "-registry") / "registry.log", broker.bootstrap,
                            overrides).start()
        try:
            yield broker, r
        finally:
            r.stop()


def tool(name: str, *args: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """An installed console script (the venv's), run as a user would."""
    exe = str(Path(sys.executable).parent / name)
    return subprocess.run([exe, *args], input=stdin, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})


def wait_for(check, timeout: float = 30):  # noqa: ANN001, ANN201
    """Poll `check()` until it returns something truthy, which is returned; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
