"""Clients for run.py's scaling lines: idle connections, end-to-end latency at a fixed rate, and the result
arithmetic of several producers at once. Imported by run.py (same directory); not a command of its own.

The latency client runs as a child process of run.py (`run.py --latency-worker ...`) so its timeout is
enforceable; it prints one JSON line.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time

from kio.schema.api_versions.v0.request import ApiVersionsRequest

from brook.cli.kafka_rpc import request_payload


class IdleConnections:
    """`n` client connections that each complete an ApiVersions exchange (as every real client does first) and
    then stay open and silent for the duration of a line."""

    def __init__(self, host: str, port: int, n: int, timeout: float = 30.0) -> None:
        self.socks: list[socket.socket] = []
        payload = request_payload(ApiVersionsRequest(), 1, "brook-bench-idle")
        frame = struct.pack(">i", len(payload)) + payload
        deadline = time.monotonic() + timeout
        try:
            for _ in range(n):
                s = socket.create_connection((host, port), timeout=max(1.0, deadline - time.monotonic()))
                self.socks.append(s)
                s.sendall(frame)
            for s in self.socks:  # read each answer only after sending all: the broker works on them in parallel
                s.settimeout(max(1.0, deadline - time.monotonic()))
                size = struct.unpack(">i", recv_exact(s, 4))[0]
                recv_exact(s, size)
        except BaseException:
            self.close()
            raise

    def alive(self) -> int:
        """How many of the connections the broker still holds open (a closed one reads EOF)."""
        n = 0
        for s in self.socks:
            s.setblocking(False)
            try:
                n += s.recv(1, socket.MSG_PEEK) != b""
            except BlockingIOError:
                n += 1
            except OSError:
                pass
        return n

    def close(self) -> None:
        for s in self.socks:
            s.close()
        self.socks = []


def recv_exact(s: socket.socket, n: int) -> bytes:
    chunks = []
    while n:
        data = s.recv(n)
        if not data:
            raise ConnectionError("connection closed by the broker")
        chunks.append(data)
        n -= len(data)
    return b"".join(chunks)


def combine_producers(stats: list[dict[str, float]]) -> dict[str, float]:
    """Producers that ran at the same time: total messages over the longest one's interval."""
    ms = max(s["ms"] for s in stats)
    msgs = sum(s["msgs"] for s in stats)
    mb = sum(s["mb_per_s"] * s["ms"] for s in stats) / ms if ms else 0.0
    return {"msgs": msgs, "errors": sum(s["errors"] for s in stats), "ms": ms,
            "msgs_per_s": msgs / (ms / 1000) if ms else 0.0, "mb_per_s": mb}


def percentile(sorted_values: list[int], p: float) -> int:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


def latency_worker(bootstrap: str, topic: str, n: int, size: int, rate: int, extra: dict[str, str]) -> None:
    """Produce `n` messages at `rate` per second (linger.ms=0, one at a time) while a consumer in the same process
    reads them; each value carries its send time, so produce-to-consume latency needs no clock agreement."""
    from confluent_kafka import Consumer, Producer, TopicPartition

    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "enable.idempotence": False,
                  "socket.nagle.disable": True, **extra})
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "brook-bench-latency", "enable.auto.commit": False,
                  "socket.nagle.disable": True, "fetch.wait.max.ms": 100, **extra})
    c.assign([TopicPartition(topic, 0, 0)])
    pad = b"x" * max(0, size - 8)
    clock = time.perf_counter_ns
    lat: list[int] = []
    errors: list[str] = []
    done, ready = threading.Event(), threading.Event()

    def consume() -> None:
        while len(lat) < n and not done.is_set():
            m = c.poll(0.1)  # returns on the first message (consume(k, t) would wait for k or t)
            if m is None:
                continue
            if m.error() is not None:
                errors.append(str(m.error()))
                continue
            sent = struct.unpack_from(">q", m.value())[0]
            if sent:
                lat.append(clock() - sent)
            else:
                ready.set()

    def on_delivery(err, _msg) -> None:
        if err is not None:
            errors.append(str(err))

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    # untimed: until a message makes the round trip, so connections and the first fetch are not measured
    deadline = time.monotonic() + 30
    while not ready.wait(0.01) and time.monotonic() < deadline:
        p.produce(topic, struct.pack(">q", 0) + pad, partition=0, on_delivery=on_delivery)
        p.poll(0)
    if not ready.is_set():
        done.set()
        print(json.dumps({"error": f"no message came back within 30 s; first error: {errors[:1]}"}))
        return
    t0 = clock()
    period = 1e9 / rate
    for i in range(n):
        wait = t0 + i * period - clock()
        if wait > 0:
            time.sleep(wait / 1e9)
        p.produce(topic, struct.pack(">q", clock()) + pad, partition=0, on_delivery=on_delivery)
        p.poll(0)
    p.flush(30)
    sent = (clock() - t0) / 1e9
    reader.join(30)
    done.set()
    c.close()
    if len(lat) < n:
        print(json.dumps({"error": f"consumed {len(lat)} of {n} messages; first error: {errors[:1]}"}))
        return
    lat.sort()
    print(json.dumps({"n": n, "seconds": sent, "p50_us": percentile(lat, 0.5) / 1000,
                      "p99_us": percentile(lat, 0.99) / 1000, "p999_us": percentile(lat, 0.999) / 1000,
                      "max_us": lat[-1] / 1000, "errors": errors[:1]}))
