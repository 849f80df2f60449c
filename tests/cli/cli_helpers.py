"""Run the installed tools (the venv's console scripts, or the checkout's bin/*.sh) as a user would."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
TOPIC_ID = r"[A-Za-z0-9_-]{22}"  # Uuid.toString(): URL-safe base64 without padding
LOG_PREFIX = r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] "  # tools-log4j.properties: [%d] %p %m (%c)%n


def tool(name: str, *args: str, stdin: str | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    """Run a tool by its installed name ('kafka-topics') or its checkout path ('bin/kafka-topics.sh')."""
    exe = str(REPO / name) if "/" in name else str(VENV_BIN / name)
    return subprocess.run([exe, *args], input=stdin, capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})


def start(name: str, *args: str) -> subprocess.Popen:
    exe = str(REPO / name) if "/" in name else str(VENV_BIN / name)
    return subprocess.Popen([exe, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=REPO)


def read_lines(proc: subprocess.Popen, count: int, timeout: float = 20) -> list[str]:
    """Read `count` lines of a running tool's stdout, waiting at most `timeout` seconds in all."""
    assert proc.stdout is not None
    fd, buf, deadline = proc.stdout.fileno(), b"", time.monotonic() + timeout
    while buf.count(b"\n") < count:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out waiting for {count} lines, got {buf!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 65536)
            assert chunk, f"tool exited after {buf!r}"
            buf += chunk
    return buf.decode().splitlines()


def wait_until(check, timeout: float = 20, interval: float = 0.1):  # noqa: ANN001, ANN201
    """Poll `check()` until it returns something truthy; that value is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(interval)


def produce(bootstrap: str, topic: str, lines: list[str], *args: str) -> None:
    result = tool("kafka-console-producer", "--bootstrap-server", bootstrap, "--topic", topic, *args,
                  stdin="".join(line + "\n" for line in lines))
    assert result.returncode == 0, result.stderr
