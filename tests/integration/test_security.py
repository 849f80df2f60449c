"""Listeners, SASL (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER), TLS (SSL with client certificates, SASL_SSL) and
principals, judged by unmodified clients (confluent-kafka, kafka-python, aiokafka, kcat) against one broker with
four listeners; kafka-acls allows one user and denies another."""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import ssl
import struct
import subprocess
import sys
import uuid

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ScramCredentialInfo, ScramMechanism, UserScramCredentialUpsertion
from conftest import module_broker
from kafka_wire import Conn, request_frame, wait_for
from kio.schema.sasl_handshake.v1.request import SaslHandshakeRequest
from kio.schema.sasl_handshake.v1.response import SaslHandshakeResponse
from security_helpers import CLIENT_DN, USERS, make_pki, secure_broker_overrides

KCAT = shutil.which("kcat") or "/usr/bin/kcat"
# (name, listener, SASL mechanism or None)
SETUPS = [("plain", "SASL_PLAINTEXT", "PLAIN"), ("scram256", "SASL_PLAINTEXT", "SCRAM-SHA-256"),
          ("scram512", "SASL_PLAINTEXT", "SCRAM-SHA-512"), ("ssl", "SSL", None),
          ("sasl_ssl_scram", "SASL_SSL", "SCRAM-SHA-512")]


@pytest.fixture(scope="module")
def secure(tmp_path_factory):
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    with module_broker(tmp_path_factory, "secure", secure_broker_overrides(pki)) as b:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        upserts = [UserScramCredentialUpsertion(user, ScramCredentialInfo(mech, 4096), pw.encode())
                   for user, pw in USERS.items()
                   for mech in (ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512)]
        for f in admin.alter_user_scram_credentials(upserts).values():
            f.result(30)
        b.pki = pki  # type: ignore[attr-defined]
        yield b


def librdkafka_conf(b, listener: str, mechanism: str | None, user: str = "alice",
                    password: str | None = None) -> dict:
    conf = {"bootstrap.servers": f"127.0.0.1:{b.ports[listener]}", "security.protocol": listener}
    if mechanism:
        conf |= {"sasl.mechanism": mechanism, "sasl.username": user,
                 "sasl.password": USERS[user] if password is None else password}
    if "SSL" in listener:
        conf["ssl.ca.location"] = str(b.pki.ca)
        if listener == "SSL":
            conf |= {"ssl.certificate.location": str(b.pki.client_cert), "ssl.key.location": str(b.pki.client_key)}
    return conf


def roundtrip_confluent(b, listener: str, mechanism: str | None, topic: str) -> list[bytes]:
    conf = librdkafka_conf(b, listener, mechanism)
    p = Producer(conf)
    for i in range(3):
        p.produce(topic, f"m{i}".encode())
    assert p.flush(30) == 0
    c = Consumer({**conf, "group.id": f"g-{topic}", "auto.offset.reset": "earliest"})
    c.assign([TopicPartition(topic, 0, 0)])
    got: list[bytes] = []
    wait_for(lambda: got.extend(m.value() for m in c.consume(10, 0.5) if not m.error()) or len(got) >= 3,
             30, what="confluent consume")
    c.close()
    return got


def _python_client_kwargs(b, listener: str, mechanism: str | None, aio: bool) -> dict:
    kw: dict = {"bootstrap_servers": f"127.0.0.1:{b.ports[listener]}", "security_protocol": listener}
    if mechanism:
        kw |= {"sasl_mechanism": mechanism, "sasl_plain_username": "alice", "sasl_plain_password": USERS["alice"]}
    if "SSL" in listener:
        ctx = ssl.create_default_context(cafile=str(b.pki.ca))
        if listener == "SSL":
            ctx.load_cert_chain(str(b.pki.client_cert), str(b.pki.client_key))
        kw["ssl_context"] = ctx
    return kw


def roundtrip_kafka_python(b, listener: str, mechanism: str | None, topic: str) -> list[bytes]:
    from kafka import KafkaConsumer, KafkaProducer
    from kafka import TopicPartition as KTP

    kw = _python_client_kwargs(b, listener, mechanism, False)
    p = KafkaProducer(**kw)
    for i in range(3):
        p.send(topic, f"m{i}".encode()).get(30)
    p.close()
    c = KafkaConsumer(**kw, group_id=None, enable_auto_commit=False)
    c.assign([KTP(topic, 0)])
    c.seek(KTP(topic, 0), 0)
    got: list[bytes] = []
    wait_for(lambda: got.extend(r.value for rs in c.poll(500).values() for r in rs) or len(got) >= 3, 30,
             what="kafka-python consume")
    c.close()
    return got


def roundtrip_aiokafka(b, listener: str, mechanism: str | None, topic: str) -> list[bytes]:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.structs import TopicPartition as ATP

    kw = _python_client_kwargs(b, listener, mechanism, True)

    async def run() -> list[bytes]:
        p = AIOKafkaProducer(**kw)
        await p.start()
        try:
            for i in range(3):
                await p.send_and_wait(topic, f"m{i}".encode())
        finally:
            await p.stop()
        c = AIOKafkaConsumer(**kw, group_id=None, enable_auto_commit=False)
        await c.start()
        try:
            c.assign([ATP(topic, 0)])
            c.seek(ATP(topic, 0), 0)
            got: list[bytes] = []
            async with asyncio.timeout(30):
                while len(got) < 3:
                    got += [r.value for rs in (await c.getmany(timeout_ms=500)).values() for r in rs]
            return got
        finally:
            await c.stop()

    return asyncio.run(run())


def roundtrip_kcat(b, listener: str, mechanism: str | None, topic: str) -> list[bytes]:
    args = [f"-X{k}={v}" for k, v in librdkafka_conf(b, listener, mechanism).items() if k != "bootstrap.servers"]
    args = [KCAT, "-b", f"127.0.0.1:{b.ports[listener]}", *args]
    subprocess.run([*args, "-P", "-t", topic], input=b"m0\nm1\nm2\n", check=True, timeout=60)
    out = subprocess.run([*args, "-C", "-t", topic, "-o", "beginning", "-c", "3", "-e"], capture_output=True,
                         check=True, timeout=60)
    return out.stdout.split()


ROUNDTRIPS = {"confluent": roundtrip_confluent, "kafka-python": roundtrip_kafka_python,
              "aiokafka": roundtrip_aiokafka, "kcat": roundtrip_kcat}


@pytest.mark.parametrize("client", list(ROUNDTRIPS))
@pytest.mark.parametrize("setup", SETUPS, ids=[s[0] for s in SETUPS])
def test_clients_produce_and_consume_on_secured_listeners(secure, client: str, setup) -> None:
    name, listener, mechanism = setup
    topic = f"sec-{client}-{name}"
    assert ROUNDTRIPS[client](secure, listener, mechanism, topic) == [b"m0", b"m1", b"m2"]


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_wrong_password_is_refused_with_kafkas_message(secure, mechanism: str) -> None:
    errors: list = []
    conf = librdkafka_conf(secure, "SASL_PLAINTEXT", mechanism, password="wrong")
    p = Producer({**conf, "error_cb": errors.append})
    p.produce("sec-refused", b"x")
    wait_for(lambda: p.poll(0.2) is not None and any("Authentication failed" in e.str() for e in errors), 30,
             what="an authentication error")
    message = next(e.str() for e in errors if "Authentication failed" in e.str())
    if mechanism == "PLAIN":
        assert "Authentication failed: Invalid username or password" in message
    else:
        assert ("Authentication failed during authentication due to invalid credentials with SASL mechanism "
                f"{mechanism}") in message
    p.purge()
    # the broker keeps serving a well-behaved client on the same listener
    topic = f"sec-after-refusal-{mechanism}"
    assert roundtrip_confluent(secure, "SASL_PLAINTEXT", mechanism, topic) == [b"m0", b"m1", b"m2"]


def test_unknown_scram_user_is_refused(secure) -> None:
    errors: list = []
    conf = librdkafka_conf(secure, "SASL_PLAINTEXT", "SCRAM-SHA-256", password="x") | {"sasl.username": "mallory"}
    p = Producer({**conf, "error_cb": errors.append})
    wait_for(lambda: p.poll(0.2) is not None and any("invalid credentials" in e.str() for e in errors), 30,
             what="SCRAM refusal of an unknown user")


def test_unsupported_mechanism_gets_the_enabled_ones(secure) -> None:
    with Conn(secure.ports["SASL_PLAINTEXT"]) as conn:
        response = conn.request(SaslHandshakeRequest(mechanism="GSSAPI"), SaslHandshakeResponse)
        assert response.error_code.name == "unsupported_sasl_mechanism"
        assert response.mechanisms == ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")
        assert conn.closed_by_peer()


def test_oauthbearer_unsecured_jws(secure) -> None:
    conf = librdkafka_conf(secure, "SASL_PLAINTEXT", None) | {
        "sasl.mechanism": "OAUTHBEARER", "sasl.oauthbearer.config": "principal=carol",
        "enable.sasl.oauthbearer.unsecure.jwt": True}
    p = Producer(conf)
    p.produce("sec-oauth", b"hello")
    assert p.flush(30) == 0


def _acls(secure, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "brook.cli.acls", "--bootstrap-server", secure.bootstrap, *args],
                          capture_output=True, text=True, timeout=60)


def test_kafka_acls_allow_one_user_and_deny_another(secure) -> None:
    topic = f"sec-acl-{uuid.uuid4().hex[:6]}"
    admin = AdminClient({"bootstrap.servers": secure.bootstrap})
    from confluent_kafka.admin import NewTopic

    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
    done = _acls(secure, "--add", "--allow-principal", "User:alice", "--producer", "--consumer", "--topic", topic,
                 "--group", "*")
    assert done.returncode == 0, done.stderr
    assert roundtrip_confluent(secure, "SASL_PLAINTEXT", "SCRAM-SHA-256", topic) == [b"m0", b"m1", b"m2"]
    bob = librdkafka_conf(secure, "SASL_PLAINTEXT", "SCRAM-SHA-256", user="bob")
    p = Producer(bob)
    reports: list = []
    p.produce(topic, b"from bob", on_delivery=lambda err, msg: reports.append(err))
    p.flush(30)
    assert reports and reports[0] is not None and reports[0].name() == "TOPIC_AUTHORIZATION_FAILED"
    # librdkafka asks Metadata first: DESCRIBE is what bob is denied (KafkaApis audits it)
    wait_for(lambda: f"INFO Principal = User:bob is Denied Operation = Describe from host = 127.0.0.1 on resource = "
             f"Topic:LITERAL:{topic} for request = Metadata with resourceRefCount = 1 (kafka.authorizer.logger)"
             in secure.log_text(), 10, what="the authorizer's audit line")


def test_certificate_dn_is_the_ssl_principal(secure) -> None:
    topic = f"sec-dn-{uuid.uuid4().hex[:6]}"
    done = _acls(secure, "--add", "--deny-principal", f"User:{CLIENT_DN}", "--operation", "Write", "--topic", topic)
    assert done.returncode == 0, done.stderr
    p = Producer(librdkafka_conf(secure, "SSL", None))
    reports: list = []
    p.produce(topic, b"x", on_delivery=lambda err, msg: reports.append(err))
    p.flush(30)
    assert reports and reports[0] is not None and reports[0].name() == "TOPIC_AUTHORIZATION_FAILED"
    wait_for(lambda: f"Principal = User:{CLIENT_DN} is Denied Operation = Describe" in secure.log_text(), 10,
             what="the DN principal in the audit line")


def test_ssl_listener_requires_a_client_certificate(secure) -> None:
    conf = librdkafka_conf(secure, "SSL", None)
    del conf["ssl.certificate.location"], conf["ssl.key.location"]
    errors: list = []
    p = Producer({**conf, "error_cb": errors.append})
    wait_for(lambda: p.poll(0.2) is not None and bool(errors), 30, what="a TLS failure")
    with pytest.raises(KafkaException):
        p.list_topics(timeout=2)


def test_metadata_answers_with_the_listener_the_client_used(secure) -> None:
    for listener in ("SASL_PLAINTEXT", "SSL", "SASL_SSL"):
        conf = librdkafka_conf(secure, listener, None if listener == "SSL" else "PLAIN")
        md = AdminClient(conf).list_topics(timeout=30)
        assert [(b.host, b.port) for b in md.brokers.values()] == [("127.0.0.1", secure.ports[listener])]


def test_sasl_handshake_on_a_plaintext_listener_is_illegal(secure) -> None:
    with Conn(secure.port) as conn:  # PLAINTEXT: no SASL here
        response = conn.request(SaslHandshakeRequest(mechanism="PLAIN"), SaslHandshakeResponse)
    assert response.error_code.name == "illegal_sasl_state"



def _tool(module: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", f"brook.cli.{module}", *args], input=stdin, capture_output=True,
                          text=True, timeout=90)


def test_tools_take_client_security_from_their_config_files(secure, tmp_path) -> None:
    """--command-config (kafka-topics), --producer.config and --consumer.config (the console tools) with Java's
    client settings: SASL_SSL with SCRAM and a PEM trust store."""
    config = tmp_path / "client.properties"
    config.write_text("security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
                      "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
                      'username="admin" password="admin-secret";\n'
                      f"ssl.truststore.type=PEM\nssl.truststore.location={secure.pki.ca}\n")
    bootstrap = f"127.0.0.1:{secure.ports['SASL_SSL']}"
    done = _tool("topics", "--bootstrap-server", bootstrap, "--command-config", str(config), "--create", "--topic",
                 "sec-tools", "--partitions", "1")
    assert done.returncode == 0 and "Created topic sec-tools." in done.stdout, done.stderr
    done = _tool("topics", "--bootstrap-server", bootstrap, "--command-config", str(config), "--list")
    assert "sec-tools" in done.stdout.split(), done.stderr
    done = _tool("topics", "--bootstrap-server", bootstrap, "--command-config", str(config), "--describe", "--topic",
                 "sec-tools")
    assert "\tElr: \tLastKnownElr: " in done.stdout, done.stdout + done.stderr  # DescribeTopicPartitions' answer
    done = _tool("console_producer", "--bootstrap-server", bootstrap, "--producer.config", str(config), "--topic",
                 "sec-tools", stdin="one\ntwo\n")
    assert done.returncode == 0, done.stderr
    done = _tool("console_consumer", "--bootstrap-server", bootstrap, "--consumer.config", str(config), "--topic",
                 "sec-tools", "--from-beginning", "--max-messages", "2")
    assert done.stdout.split() == ["one", "two"], done.stderr
    # the tools whose requests librdkafka lacks (kafka_rpc) speak TLS and SASL too
    done = _tool("log_dirs", "--bootstrap-server", bootstrap, "--command-config", str(config), "--describe",
                 "--topic-list", "sec-tools")
    assert done.returncode == 0 and '"partition":"sec-tools-0"' in done.stdout, done.stdout + done.stderr
    done = _tool("transactions", "--bootstrap-server", bootstrap, "--command-config", str(config), "list")
    assert done.returncode == 0 and "TransactionalId" in done.stdout, done.stdout + done.stderr
    done = _tool("features", "--bootstrap-server", bootstrap, "--command-config", str(config), "describe")
    assert done.returncode == 0, done.stdout + done.stderr
    config.write_text(config.read_text().replace("SCRAM-SHA-512", "GSSAPI"))
    done = _tool("log_dirs", "--bootstrap-server", bootstrap, "--command-config", str(config), "--describe")
    assert done.returncode != 0 and "sasl.mechanism=GSSAPI is not supported" in done.stdout + done.stderr


def _malformed_exchanges() -> list[tuple[str, bytes]]:
    """(listener, bytes) pairs: SASL exchanges out of order, huge or garbage tokens, and TLS garbage."""
    from kio.schema.metadata.v12.request import MetadataRequest
    from kio.schema.sasl_authenticate.v2.request import SaslAuthenticateRequest

    metadata = request_frame(MetadataRequest(topics=None, allow_auto_topic_creation=False,
                                             include_topic_authorized_operations=False))
    handshake = request_frame(SaslHandshakeRequest(mechanism="SCRAM-SHA-256"))
    rng = random.Random(16)
    out = []
    for i in range(1200):
        garbage = rng.randbytes(rng.randrange(1, 200))
        kind = i % 6
        if kind == 0:  # a request before authentication
            out.append(("SASL_PLAINTEXT", metadata))
        elif kind == 1:  # a huge token (over sasl.server.max.receive.size)
            out.append(("SASL_PLAINTEXT", handshake + struct.pack(">i", 1 << 24) + b"x" * 100))
        elif kind == 2:  # garbage SCRAM messages
            out.append(("SASL_PLAINTEXT", handshake + request_frame(SaslAuthenticateRequest(auth_bytes=garbage))))
        elif kind == 3:  # SaslAuthenticate without a handshake
            out.append(("SASL_PLAINTEXT", request_frame(SaslAuthenticateRequest(auth_bytes=garbage))))
        elif kind == 4:  # a PLAINTEXT client's request, then garbage, where a TLS ClientHello belongs
            out.append(("SSL", metadata + garbage))
        else:  # a whole TLS handshake record of an unknown message type (a partial ClientHello would wait, and so
            # would a message header cut short: type and a 3-byte length at least, or the broker waits for the rest)
            body = b"\xff" + garbage + bytes(max(0, 3 - len(garbage)))
            out.append(("SASL_SSL", b"\x16\x03\x01" + struct.pack(">H", len(body)) + body))
    return out


def test_malformed_sasl_and_tls_exchanges_are_closed_while_a_good_client_is_served(secure) -> None:
    good = Producer(librdkafka_conf(secure, "SASL_SSL", "SCRAM-SHA-256"))
    delivered: list = []
    exchanges = _malformed_exchanges()
    for start in range(0, len(exchanges), 60):
        conns = []
        for listener, data in exchanges[start:start + 60]:
            c = Conn(secure.ports[listener])
            c.send(data)
            conns.append(c)
        for c in conns:
            with contextlib.suppress(AssertionError):  # a TLS alert or a failure response may come first
                c.closed_by_peer(10)
            assert _drained(c), "the broker kept a malformed connection open"
            c.close()
        good.produce("sec-fuzz-good", f"{start}".encode(), on_delivery=lambda err, msg: delivered.append(err))
        good.poll(0)
    assert good.flush(30) == 0
    assert delivered == [None] * len(range(0, len(exchanges), 60))
    assert secure.alive()


def _drained(c: Conn) -> bool:
    """True once the peer has closed: whatever it still sends is read and dropped (bounded)."""
    c.sock.settimeout(10)
    try:
        while c.sock.recv(65536):
            pass
    except (ConnectionResetError, TimeoutError):
        pass
    return True


def test_quotas_follow_the_authenticated_user_and_client_id(secure) -> None:
    """A producer_byte_rate quota on (user carol, client-id slow) throttles carol's 'slow' producer, not her 'fast'
    one: the quota entity is the SASL principal's name."""
    admin = AdminClient({"bootstrap.servers": secure.bootstrap})
    upsert = UserScramCredentialUpsertion("carol", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), b"c-pw")
    for f in admin.alter_user_scram_credentials([upsert]).values():
        f.result(30)
    done = _tool("configs", "--bootstrap-server", secure.bootstrap, "--alter", "--add-config",
                 "producer_byte_rate=512", "--entity-type", "users", "--entity-name", "carol", "--entity-type",
                 "clients", "--entity-name", "slow")
    assert done.returncode == 0, done.stderr

    def throttled(client_id: str) -> list[int]:
        events: list[int] = []
        conf = librdkafka_conf(secure, "SASL_PLAINTEXT", "SCRAM-SHA-256", password="c-pw") | {
            "sasl.username": "carol", "client.id": client_id, "linger.ms": 0,
            "throttle_cb": lambda e: events.append(e.throttle_time)}
        p = Producer(conf)
        for _ in range(2):  # 8 KiB over Kafka's 11-second window: over 512 B/s
            p.produce("sec-quota", b"x" * 4096)
            p.flush(30)
        wait_for(lambda: p.poll(0.1) is not None and (events or client_id == "fast"), 10, what="a throttle event")
        return events

    assert throttled("slow"), "carol's 'slow' producer was not throttled"
    assert not throttled("fast")
