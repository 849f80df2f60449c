"""PKCS12 key and trust stores on the broker (ssl.keystore.type / ssl.truststore.type PKCS12, and a PKCS12 file
under Kafka's default type JKS, as Java's dual-format key store reads it), judged by confluent-kafka producing and
consuming over SSL (client certificate from a PKCS12 store, required) and SASL_SSL, and by the tools with the same
stores in --command-config (librdkafka's and kafka_rpc's TLS)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from conftest import BrokerProcess, module_broker
from kafka_wire import wait_for
from security_helpers import PLAIN_JAAS, make_pkcs12, make_pki


@pytest.fixture(scope="module")
def p12(tmp_path_factory):
    pki = make_pki(tmp_path_factory.mktemp("pki12"))
    stores = make_pkcs12(pki)
    with module_broker(tmp_path_factory, "pkcs12", {
            "listeners": "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0",
            "ssl.keystore.type": "PKCS12", "ssl.keystore.location": str(stores.keystore),
            "ssl.keystore.password": stores.password,
            "ssl.truststore.type": "PKCS12", "ssl.truststore.location": str(stores.truststore),
            "ssl.truststore.password": stores.password, "listener.name.ssl.ssl.client.auth": "required",
            "listener.name.sasl_ssl.ssl.keystore.type": "JKS",  # Kafka's default type, a PKCS12 file
            "sasl.enabled.mechanisms": "PLAIN", "listener.name.sasl_ssl.plain.sasl.jaas.config": PLAIN_JAAS}) as b:
        b.pki, b.stores = pki, stores  # type: ignore[attr-defined]
        yield b


def _roundtrip(conf: dict, topic: str) -> list[bytes]:
    p = Producer(conf)
    for i in range(3):
        p.produce(topic, f"m{i}".encode())
    assert p.flush(30) == 0
    c = Consumer({**conf, "group.id": f"g-{topic}", "auto.offset.reset": "earliest"})
    c.assign([TopicPartition(topic, 0, 0)])
    got: list[bytes] = []
    wait_for(lambda: got.extend(m.value() for m in c.consume(10, 0.5) if not m.error()) or len(got) >= 3, 30,
             what="consume over TLS")
    c.close()
    return got


def test_ssl_with_pkcs12_stores_and_a_client_certificate(p12) -> None:
    conf = {"bootstrap.servers": f"127.0.0.1:{p12.ports['SSL']}", "security.protocol": "SSL",
            "ssl.ca.location": str(p12.pki.ca), "ssl.keystore.location": str(p12.stores.client_keystore),
            "ssl.keystore.password": p12.stores.password}
    assert _roundtrip(conf, "p12-ssl") == [b"m0", b"m1", b"m2"]


def test_sasl_ssl_with_a_pkcs12_file_under_type_jks(p12) -> None:
    conf = {"bootstrap.servers": f"127.0.0.1:{p12.ports['SASL_SSL']}", "security.protocol": "SASL_SSL",
            "ssl.ca.location": str(p12.pki.ca), "sasl.mechanism": "PLAIN", "sasl.username": "alice",
            "sasl.password": "alice-secret"}
    assert _roundtrip(conf, "p12-sasl-ssl") == [b"m0", b"m1", b"m2"]


def test_tools_take_pkcs12_stores(p12, tmp_path) -> None:
    """The same stores in a Java client's properties: kafka-topics (librdkafka: the PKCS12 trust store as PEM text)
    and kafka-log-dirs (kafka_rpc's own TLS), client certificate required."""
    config = tmp_path / "client.properties"
    s = p12.stores
    config.write_text(f"security.protocol=SSL\nssl.truststore.type=PKCS12\nssl.truststore.location={s.truststore}\n"
                      f"ssl.truststore.password={s.password}\nssl.keystore.type=PKCS12\n"
                      f"ssl.keystore.location={s.client_keystore}\nssl.keystore.password={s.password}\n")
    bootstrap = f"127.0.0.1:{p12.ports['SSL']}"

    def tool(module: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", f"brook.cli.{module}", "--bootstrap-server", bootstrap,
                               "--command-config", str(config), *args], capture_output=True, text=True, timeout=90)

    done = tool("topics", "--create", "--topic", "p12-tools", "--partitions", "1")
    assert done.returncode == 0 and "Created topic p12-tools." in done.stdout, done.stderr
    done = tool("log_dirs", "--describe", "--topic-list", "p12-tools")
    assert done.returncode == 0 and '"partition":"p12-tools-0"' in done.stdout, done.stdout + done.stderr
    config.write_text(config.read_text().replace(f"ssl.keystore.password={s.password}", "ssl.keystore.password=no"))
    done = tool("log_dirs", "--describe")
    assert done.returncode != 0 and f"Failed to load SSL keystore {s.client_keystore} of type PKCS12" in done.stderr


def test_a_java_key_store_stops_the_start_with_how_to_convert_it(tmp_path) -> None:
    jks = tmp_path / "broker.jks"
    jks.write_bytes(b"\xfe\xed\xfe\xed\x00\x00\x00\x02" + b"\x00" * 32)  # JKS's magic and version
    b = BrokerProcess(tmp_path / "data", {"listeners": "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
                                          "ssl.keystore.location": str(jks), "ssl.keystore.password": "x"})
    with pytest.raises(RuntimeError, match="a Java JKS key store, which Brook cannot read; convert it to PKCS12 with "
                                           "`keytool -importkeystore"):
        b.start()
