"""librdkafka's own test suite against one Brook broker over SASL and TLS: the runs of docs/conformance.md's
"Over SASL and TLS", re-run with one command. Not part of the pytest suite (it takes many minutes).

    .venv/bin/python benchmarks/conformance_secure.py [--runs sasl_ssl_scram,sasl_ssl_plain,ssl,...] [ID|@group ...]

Makes a test PKI (tests/security_helpers.py: a CA, the broker's certificate in a PKCS12 key store, a client
certificate whose PEM key is encrypted), starts `python -m brook` (or, with --brokers 3, ZooKeeper and a cluster;
tests/conftest.py's processes) with PLAINTEXT (set-up), SASL_PLAINTEXT, SSL
(client certificates required) and SASL_SSL listeners, PLAIN users in JAAS, SCRAM users stored through the
PLAINTEXT listener and connections.max.reauth.ms (for 0142); then for each run calls
../shared/conformance/librdkafka.sh with that run's client settings in the suite's test.conf (EXTRA_CONF) and the
SSL_* files librdkafka's trivup would export for 0097. Prints each run's PASS/FAIL/SKIP lines and a summary.
Without ids, each run gets the default list below (SASL-only ids on SASL runs, SSL-only ids on TLS runs; with
--brokers 3, the SASL sub-tests that need replication factor 3)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from security_helpers import PLAIN_JAAS, make_pkcs12, make_pki  # noqa: E402

RUNNER = REPO.parent / "shared" / "conformance" / "librdkafka.sh"
KEY_PASSWORD = "client-key-secret"
USER, PASSWORD = "alice", "alice-secret"
REAUTH_MS = 10000
# produce/consume basics, metadata, a group, offsets and idempotence: the curated ids that need no cluster
COMMON = ["@basics", "@metadata", "0018", "0030", "0031", "0034", "0090"]
# SASL credentials set at run time (its share-consumer sub-tests need Kafka 4.2's share groups); KIP-368
# re-authentication in a transaction (0142's other sub-tests create topics with replication factor 3: --brokers 3)
SASL_ONLY = ["0135:do_test:", "0142:do_test_txn_producer"]
SASL_CLUSTER = ["0135:do_test:", "0142:do_test_consumer", "0142:do_test_producer", "0142:do_test_txn_producer",
                "0142:do_test_reauth_failure"]
TLS_ONLY = ["0097"]  # certificate verification callbacks, key and CA in every encoding
# name -> (listener, SASL mechanism or None)
RUNS = {"sasl_ssl_scram": ("SASL_SSL", "SCRAM-SHA-512"), "sasl_ssl_plain": ("SASL_SSL", "PLAIN"),
        "ssl": ("SSL", None), "sasl_plaintext_scram": ("SASL_PLAINTEXT", "SCRAM-SHA-256")}


def client_files(pki, work: Path) -> dict[str, Path]:
    """The client's key and certificates in the forms 0097 reads (trivup's SSL_* variables)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    key = serialization.load_pem_private_key(pki.client_key.read_bytes(), None)
    cert = x509.load_pem_x509_certificate(pki.client_cert.read_bytes())
    ca = x509.load_pem_x509_certificate(pki.ca.read_bytes())
    der, pem = serialization.Encoding.DER, serialization.Encoding.PEM
    files = {"priv_pem": work / "client.key.enc.pem", "priv_der": work / "client.key.der",
             "pub_pem": pki.client_cert, "pub_der": work / "client.crt.der", "ca_der": work / "ca.der",
             "all_cas_pem": pki.ca, "pkcs": work / "client.keystore.p12"}
    files["priv_pem"].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                    serialization.BestAvailableEncryption(KEY_PASSWORD.encode())))
    files["priv_der"].write_bytes(key.private_bytes(der, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    files["pub_der"].write_bytes(cert.public_bytes(der))
    files["ca_der"].write_bytes(ca.public_bytes(der))
    files["pkcs"].write_bytes(pkcs12.serialize_key_and_certificates(
        b"client", key, cert, [ca], serialization.BestAvailableEncryption(KEY_PASSWORD.encode())))
    return files


def broker_overrides(work: Path, pki) -> dict[str, str]:
    stores = make_pkcs12(pki)
    return {
        "listeners": "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0",
        "num.partitions": "4", "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": PLAIN_JAAS,
        "listener.name.sasl_ssl.plain.sasl.jaas.config": PLAIN_JAAS,
        "ssl.keystore.type": "PKCS12", "ssl.keystore.location": str(stores.keystore),
        "ssl.keystore.password": stores.password,
        "ssl.truststore.type": "PEM", "ssl.truststore.location": str(pki.ca),
        "listener.name.ssl.ssl.client.auth": "required", "connections.max.reauth.ms": str(REAUTH_MS)}


def start_brokers(work: Path, pki, count: int) -> tuple[list, object | None]:
    """One broker, or ZooKeeper and `count` brokers (tests/conftest.py's processes, this checkout's src)."""
    from conftest import BrokerProcess, ZooKeeperProcess

    overrides = broker_overrides(work, pki)
    zookeeper = None
    if count > 1:
        zookeeper = ZooKeeperProcess(work / "zookeeper").start()
        overrides |= {"zookeeper.connect": zookeeper.connect, "offsets.topic.replication.factor": "3",
                      "transaction.state.log.replication.factor": "3", "transaction.state.log.min.isr": "2"}
    brokers = []
    for i in range(1, count + 1):
        extra = {"broker.id": str(i)} if count > 1 else {}
        brokers.append(BrokerProcess(work / f"broker-{i}", {**overrides, **extra}).start(60))
    return brokers, zookeeper


def delaying_proxy(target: int, delay_ms: float) -> int:
    """A TCP proxy on a thread of its own in front of 127.0.0.1:target that holds the broker's bytes for delay_ms:
    a network's round trip, which librdkafka's 0097 assumes (see docs/conformance.md). Returns its port."""
    import asyncio
    import threading

    ready: list[int] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
        try:
            while data := await reader.read(65536):
                if delay:
                    await asyncio.sleep(delay)
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        broker_r, broker_w = await asyncio.open_connection("127.0.0.1", target)
        await asyncio.gather(pipe(client_r, broker_w, 0), pipe(broker_r, client_w, delay_ms / 1000))

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        ready.append(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    threading.Thread(target=asyncio.run, args=(serve(),), daemon=True).start()
    while not ready:
        time.sleep(0.01)
    return ready[0]


def add_scram_users(bootstrap: str) -> None:
    from confluent_kafka.admin import AdminClient, ScramCredentialInfo, ScramMechanism, UserScramCredentialUpsertion

    admin = AdminClient({"bootstrap.servers": bootstrap})
    upserts = [UserScramCredentialUpsertion(USER, ScramCredentialInfo(m, 4096), PASSWORD.encode())
               for m in (ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512)]
    for f in admin.alter_user_scram_credentials(upserts).values():
        f.result(30)


def test_conf(listener: str, mechanism: str | None, pki, files: dict[str, Path]) -> str:
    lines = [f"security.protocol={listener.lower()}"]
    if mechanism:
        lines += [f"sasl.mechanism={mechanism}", f"sasl.username={USER}", f"sasl.password={PASSWORD}"]
    if "SSL" in listener:
        lines += [f"ssl.ca.location={pki.ca}", f"ssl.key.location={files['priv_pem']}",
                  f"ssl.key.password={KEY_PASSWORD}", f"ssl.certificate.location={pki.client_cert}"]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="sasl_ssl_scram,sasl_ssl_plain,ssl",
                        help=f"comma-separated, of {', '.join(RUNS)}")
    parser.add_argument("--work", help="directory for the PKI, the broker's data and the logs (default: a new one)")
    parser.add_argument("--brokers", type=int, default=1, help="1 (default), or a ZooKeeper cluster of N brokers "
                        "(0135 and 0142 create topics with replication factor 3)")
    parser.add_argument("--latency-ms", type=float, default=0, help="bootstrap through a proxy that delays the "
                        "broker's bytes by this much (0097 needs a round trip longer than librdkafka's own set-up)")
    parser.add_argument("ids", nargs="*", help="test ids or @groups (default: per run, see the module doc); "
                        "ID:STRING runs ID alone with SUBTESTS=STRING (only its sub-tests whose name contains it)")
    ns = parser.parse_args()
    work = Path(ns.work or tempfile.mkdtemp(prefix="brook-conformance-secure-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])
    pki = make_pki(work)
    files = client_files(pki, work)
    brokers, zookeeper = start_brokers(work, pki, ns.brokers)
    summary: list[str] = []
    try:
        add_scram_users(brokers[0].bootstrap)
        for name in ns.runs.split(","):
            listener, mechanism = RUNS[name]
            if ns.ids:
                ids = ns.ids
            elif ns.brokers > 1:
                ids = SASL_CLUSTER if mechanism else []
            else:
                ids = COMMON + (SASL_ONLY if mechanism else []) + (TLS_ONLY if "SSL" in listener else [])
            env = {**os.environ, "EXTRA_CONF": test_conf(listener, mechanism, pki, files),
                   "LOG_DIR": str(work / f"logs-{name}-{time.strftime('%H%M%S')}"), "SSL_password": KEY_PASSWORD,
                   "SSL_client_auth": "required" if listener == "SSL" else "none",
                   **{f"SSL_{k}": str(v) for k, v in files.items()}}
            ports = [b.ports[listener] for b in brokers]
            if ns.latency_ms:
                ports = [delaying_proxy(p, ns.latency_ms) for p in ports]
            bootstrap = ",".join(f"127.0.0.1:{p}" for p in ports)
            print(f"== {name}: {listener}{' ' + mechanism if mechanism else ''} on {bootstrap}", flush=True)
            plain = [i for i in ids if ":" not in i]
            # ID:SUBTESTS runs alone with librdkafka's SUBTESTS filter (e.g. 0142:do_test_consumer)
            batches = ([(plain, None)] if plain else []) + [([i.split(":", 1)[0]], i.split(":", 1)[1])
                                                             for i in ids if ":" in i]
            for batch, subtests in batches:
                extra = {"SUBTESTS": subtests, "LOG_DIR": f"{env['LOG_DIR']}-{batch[0]}-{subtests.strip(':')}"} \
                    if subtests else {}
                out = subprocess.run(["bash", str(RUNNER), bootstrap, *batch], env={**env, **extra},
                                     stdout=subprocess.PIPE, text=True)
                print(out.stdout, flush=True)
                last = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "no output"
                summary.append(f"{name} {' '.join(batch) if subtests is None else f'{batch[0]} ({subtests})'}: "
                               f"{last}")
    finally:
        for b in brokers:
            b.stop()
        if zookeeper is not None:
            zookeeper.stop()
    print("\n".join(["== summary", *summary, f"(broker log and per-test logs under {work})"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
