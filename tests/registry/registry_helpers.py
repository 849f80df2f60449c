"""A real registry process (schema-registry-start) beside a real broker, on ephemeral ports.
Imported by the registry tests (pytest puts each test's directory on sys.path)."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import kafka_wire
from conftest import HttpServerProcess

LISTENING = re.compile(r"Listening on https?://([^:\s]+):(\d+)")
MEDIA = "application/vnd.schemaregistry.v1+json"


class RegistryProcess(HttpServerProcess):
    ready_pattern = LISTENING
    ready_text = "listening for requests"
    what = "registry"

    def __init__(self, log_path: Path, bootstrap: str, overrides: dict[str, str] | None = None,
                 properties: Path | None = None) -> None:
        super().__init__(log_path, {"kafkastore.bootstrap.servers": bootstrap, "kafkastore.timeout.ms": "20000",
                                    **(overrides or {})})
        self.properties = properties

    @property
    def url(self) -> str:
        return f"{self.overrides['listeners'].split('://')[0]}://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "brook.registry.main", *([str(self.properties)] if self.properties else [])]

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


# kafka_wire's bounded poll, with the longer default that registry start-ups and elections need
wait_for = functools.partial(kafka_wire.wait_for, timeout=30, interval=0.05)

