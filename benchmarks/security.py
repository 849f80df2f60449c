"""Produce and consume throughput over PLAINTEXT, SSL and SASL_SSL (SCRAM-SHA-512) on one Brook broker, same run.

    .venv/bin/python benchmarks/security.py [--messages N] [--size BYTES] [--rounds R]

One broker with the three listeners (a test PKI made with `cryptography`, a SCRAM user stored through the
PLAINTEXT listener); librdkafka's rdkafka_performance (benchmarks/run.py's harness) produces N messages of SIZE
bytes with acks=all to one partition, then consumes them, on each listener in turn; R rounds alternate the order.
Reports msgs/s, MB/s and the broker's CPU seconds per line. A benchmark, not a test."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from peer_brokers import REPO, create_topic, proc_cpu_seconds
from perf_clients import consume_args, produce_args, run_rdkafka_performance

sys.path.insert(0, str(REPO / "tests"))
from security_helpers import make_pki  # noqa: E402

ENDPOINTS = re.compile(r"started \(kafka\.server\.KafkaServer\) on (\S+) in")


def start_broker(work: Path) -> tuple[subprocess.Popen, dict[str, int], dict[str, str]]:
    pki = make_pki(work)
    overrides = {
        "listeners": "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0",
        "log.dirs": str(work / "data"), "sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "ssl.keystore.type": "PEM", "ssl.keystore.location": str(pki.server),
        "ssl.truststore.type": "PEM", "ssl.truststore.location": str(pki.ca)}
    args = [sys.executable, "-m", "brook"] + [a for k, v in overrides.items() for a in ("--override", f"{k}={v}")]
    log = work / "broker.log"
    proc = subprocess.Popen(args, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        m = ENDPOINTS.search(log.read_text(errors="replace"))
        if m:
            ports = {n: int(p) for n, p in re.findall(r"(\w+)://[^,]*:(\d+)", m.group(1))}
            client = {"ssl.ca.location": str(pki.ca)}
            return proc, ports, client
        if proc.poll() is not None:
            raise RuntimeError(log.read_text())
        time.sleep(0.05)
    raise TimeoutError(log.read_text())


def add_scram_user(bootstrap: str) -> None:
    from confluent_kafka.admin import AdminClient, ScramCredentialInfo, ScramMechanism, UserScramCredentialUpsertion

    upsert = UserScramCredentialUpsertion("bench", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096),
                                          b"bench-secret")
    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept alive until the futures resolve
    for f in admin.alter_user_scram_credentials([upsert]).values():
        f.result(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="brook-security-bench-") as d:
        proc, ports, tls = start_broker(Path(d))
        try:
            add_scram_user(f"127.0.0.1:{ports['PLAINTEXT']}")
            security = {"PLAINTEXT": {}, "SSL": {"security.protocol": "SSL", **tls},
                        "SASL_SSL": {"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
                                     "sasl.username": "bench", "sasl.password": "bench-secret", **tls}}
            results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
            for r in range(ns.rounds):
                order = list(security) if r % 2 == 0 else list(reversed(security))
                for name in order:
                    bootstrap = f"127.0.0.1:{ports[name]}"
                    extra = [a for k, v in security[name].items() for a in ("-X", f"{k}={v}")]
                    topic = f"bench-{name.lower()}-{uuid.uuid4().hex[:6]}"
                    create_topic(f"127.0.0.1:{ports['PLAINTEXT']}", topic)
                    for kind, args in (("produce", produce_args(bootstrap, topic, ns.messages, ns.size, "all")),
                                       ("consume", consume_args(bootstrap, topic, ns.messages, security[name]))):
                        cpu0 = proc_cpu_seconds(proc.pid) or 0.0
                        got, _ = run_rdkafka_performance(args + (extra if kind == "produce" else []), 600)
                        cpu = (proc_cpu_seconds(proc.pid) or 0.0) - cpu0
                        results.setdefault((name, kind), []).append((got["msgs_per_s"], got["mb_per_s"], cpu))
            print(f"{ns.messages} messages of {ns.size} B, acks=all, one partition, best of {ns.rounds} rounds")
            print("| listener | produce msgs/s | produce MB/s | broker CPU s | consume msgs/s | consume MB/s "
                  "| broker CPU s |")
            print("|---|---|---|---|---|---|---|")
            for name in security:
                p = max(results[(name, "produce")])
                c = max(results[(name, "consume")])
                print(f"| {name} | {p[0]:,.0f} | {p[1]:.1f} | {p[2]:.1f} | {c[0]:,.0f} | {c[1]:.1f} | {c[2]:.1f} |")
        finally:
            proc.terminate()
            proc.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
