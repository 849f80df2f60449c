"""The pure parts of security: listener parsing and KafkaConfig's checks, per-listener overrides, JAAS text,
ssl.principal.mapping.rules and RFC 2253 names, the SASL servers, and the tools' client-setting translation."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
import scramp

from brook.broker.sasl_mechanisms import (
    AuthenticationFailed,
    OAuthBearerUnsecuredServer,
    PlainServer,
    SaslError,
    ScramServer,
    parse_jaas,
)
from brook.broker.tls import PrincipalMapper, openssl_cipher, rfc2253
from brook.cli.client_security import UnsupportedStore, security_config
from brook.config.broker import BrokerConfig
from brook.config.definition import ConfigError
from brook.config.listeners import read_listeners
from brook.metadata import ScramCredential


def test_listeners_protocols_and_inter_broker_listener() -> None:
    config = BrokerConfig({"listeners": "INTERNAL://:9093,EXTERNAL://0.0.0.0:9094,sasl_ssl://[::1]:9095",
                           "advertised.listeners": "INTERNAL://broker1:9093,EXTERNAL://kafka.example:9094",
                           "listener.security.protocol.map": "INTERNAL:PLAINTEXT,EXTERNAL:SSL,SASL_SSL:SASL_SSL",
                           "inter.broker.listener.name": "internal"})
    ls = read_listeners(config)
    assert [(e.name, e.host, e.port, e.protocol) for e in ls.listeners] == [
        ("INTERNAL", "", 9093, "PLAINTEXT"), ("EXTERNAL", "0.0.0.0", 9094, "SSL"),
        ("SASL_SSL", "::1", 9095, "SASL_SSL")]
    assert [e.connection_string() for e in ls.advertised] == ["INTERNAL://broker1:9093", "EXTERNAL://kafka.example:9094"]
    assert ls.inter_broker == "INTERNAL"


@pytest.mark.parametrize(("values", "message"), [
    ({"listeners": "PLAINTEXT://:9092,PLAINTEXT://:9093"}, "Each listener must have a different name"),
    ({"listeners": "PLAINTEXT://:9092,SSL://:9092"}, "Each listener must have a different port"),
    ({"listeners": "FOO://:9092"}, "No security protocol defined for listener FOO"),
    ({"listeners": "SSL://:9093"}, "inter.broker.listener.name must be a listener name defined in advertised."
                                   "listeners. The valid options based on currently configured listeners are SSL"),
    ({"listeners": "PLAINTEXT://:9092", "inter.broker.listener.name": "PLAINTEXT",
      "security.inter.broker.protocol": "PLAINTEXT"}, "Only one of inter.broker.listener.name and"),
    ({"listeners": "PLAINTEXT://:9092", "advertised.listeners": "PLAINTEXT://h:1,SSL://h:2"},
     "advertised.listeners listener names must be equal to or a subset of the ones defined in listeners"),
])
def test_listener_config_errors_are_kafkas(values: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        read_listeners(BrokerConfig(values))


def test_listener_overrides_come_first() -> None:
    config = BrokerConfig({"ssl.client.auth": "requested", "listener.name.internal.ssl.client.auth": "required",
                           "sasl.jaas.config": "global", "listener.name.x.plain.sasl.jaas.config": "plain-x"})
    assert config.for_listener("INTERNAL", "ssl.client.auth") == "required"
    assert config.for_listener("OTHER", "ssl.client.auth") == "requested"
    assert config.for_listener("X", "sasl.jaas.config", "PLAIN") == "plain-x"
    assert config.for_listener("X", "sasl.jaas.config", "SCRAM-SHA-256") == "global"
    assert config.for_listener("X", "max.connections") == 2**31 - 1


def test_jaas_entries_and_options() -> None:
    text = ("org.apache.kafka.common.security.plain.PlainLoginModule required username='admin' password=\"a;b c\" "
            "user_alice=\"alice-secret\";")
    assert parse_jaas(text) == [("org.apache.kafka.common.security.plain.PlainLoginModule",
                                 {"username": "admin", "password": "a;b c", "user_alice": "alice-secret"})]
    with pytest.raises(ConfigError):
        parse_jaas("org.apache.kafka.common.security.plain.PlainLoginModule required user_a=\"x\"")


def test_rfc2253_and_principal_mapping_rules() -> None:
    subject = ((("countryName", "US"),), (("organizationName", "Brook, Inc"),), (("commonName", "alice"),),
               (("emailAddress", "a@b"),))
    dn = rfc2253(subject)
    assert dn == "1.2.840.113549.1.9.1=#1603614062,CN=alice,O=Brook\\, Inc,C=US"
    assert PrincipalMapper("DEFAULT").name("CN=alice,O=x") == "CN=alice,O=x"
    rules = PrincipalMapper("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),O=(.*)$/$1@$2/L,DEFAULT")
    assert rules.name("CN=kafka,OU=ServiceUsers,O=Org") == "kafka"
    assert rules.name("CN=Bob,O=ORG") == "bob@org"
    assert rules.name("OU=x") == "OU=x"
    with pytest.raises(ValueError, match="No rules apply to OU=x"):
        PrincipalMapper("RULE:^CN=(.*)$/$1/").name("OU=x")


def test_java_cipher_suite_names() -> None:
    assert openssl_cipher("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384") == "ECDHE-RSA-AES256-GCM-SHA384"
    assert openssl_cipher("TLS_RSA_WITH_AES_128_CBC_SHA256") == "AES128-SHA256"
    assert openssl_cipher("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256") == "ECDHE-ECDSA-CHACHA20-POLY1305"
    assert openssl_cipher("TLS_AES_128_GCM_SHA256") is None
    assert openssl_cipher("ECDHE-RSA-AES128-GCM-SHA256") == "ECDHE-RSA-AES128-GCM-SHA256"


def test_plain_server_messages() -> None:
    assert PlainServer({"alice": "pw"}).evaluate(b"\x00alice\x00pw") == b""
    for token, message in ((b"\x00alice\x00nope", "Authentication failed: Invalid username or password"),
                           (b"\x00\x00pw", "Authentication failed: username not specified"),
                           (b"bob\x00alice\x00pw", "Client requested an authorization id that is different")):
        with pytest.raises(AuthenticationFailed, match=message):
            PlainServer({"alice": "pw"}).evaluate(token)
    with pytest.raises(SaslError, match="expected 3 tokens, got 2"):
        PlainServer({"alice": "pw"}).evaluate(b"alice\x00pw")


def _credential(password: str, mechanism: str) -> ScramCredential:
    """As ScramFormatter stores one (and as kafka-configs' AlterUserScramCredentials leaves it)."""
    digest = "sha256" if mechanism.endswith("256") else "sha512"
    salt = b"0123456789abcdef"
    salted = hashlib.pbkdf2_hmac(digest, password.encode(), salt, 4096)
    client_key = hmac.new(salted, b"Client Key", digest).digest()
    return ScramCredential(base64.b64encode(salt).decode(),
                           base64.b64encode(hashlib.new(digest, client_key).digest()).decode(),
                           base64.b64encode(hmac.new(salted, b"Server Key", digest).digest()).decode(), 4096)


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_scram_against_stored_credentials(mechanism: str) -> None:
    stored = {"alice": _credential("secret", mechanism)}
    for password, ok in (("secret", True), ("wrong", False)):
        client = scramp.ScramClient([mechanism], "alice", password)
        server = ScramServer(mechanism, stored.get)
        first = server.evaluate(client.get_client_first().encode())
        client.set_server_first(first.decode())
        if ok:
            client.set_server_final(server.evaluate(client.get_client_final().encode()).decode())
            assert server.complete and server.authorization_id == "alice"
        else:
            with pytest.raises(SaslError):
                server.evaluate(client.get_client_final().encode())
    with pytest.raises(SaslError):
        ScramServer(mechanism, stored.get).evaluate(b"n,,n=mallory,r=abc")


def test_oauthbearer_unsecured_token() -> None:
    import json
    import time

    def jws(claims: dict) -> str:
        enc = [base64.urlsafe_b64encode(json.dumps(p).encode()).rstrip(b"=").decode()
               for p in ({"alg": "none"}, claims)]
        return ".".join(enc) + "."

    good = jws({"sub": "carol", "exp": time.time() + 60})
    server = OAuthBearerUnsecuredServer({})
    assert server.evaluate(f"n,,\x01auth=Bearer {good}\x01\x01".encode()) == b""
    assert server.authorization_id == "carol" and 0 < (server.lifetime_ms or 0) <= 60_000
    expired = OAuthBearerUnsecuredServer({})
    assert expired.evaluate(f"n,,\x01auth=Bearer {jws({'sub': 'c', 'exp': 1})}\x01\x01".encode()) == \
        b'{"status":"invalid_token"}'
    with pytest.raises(AuthenticationFailed, match="invalid_token"):
        expired.evaluate(b"\x01")


def test_client_security_settings_for_librdkafka() -> None:
    conf = security_config({"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-256",
                            "sasl.jaas.config": 'org.apache.kafka.common.security.scram.ScramLoginModule required '
                                                'username="alice" password="pw";',
                            "ssl.truststore.type": "PEM", "ssl.truststore.location": "/ca.pem",
                            "ssl.keystore.type": "PEM", "ssl.keystore.location": "/client.pem",
                            "ssl.key.password": "k", "ssl.endpoint.identification.algorithm": "",
                            "ssl.enabled.protocols": "TLSv1.3"})
    assert conf == {"sasl.mechanism": "SCRAM-SHA-256", "sasl.username": "alice", "sasl.password": "pw",
                    "ssl.ca.location": "/ca.pem", "ssl.certificate.location": "/client.pem",
                    "ssl.key.location": "/client.pem", "ssl.key.password": "k",
                    "ssl.endpoint.identification.algorithm": "none"}
    oauth = security_config({"sasl.jaas.config": "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule "
                                                 'required unsecuredLoginStringClaim_sub="carol";'})
    assert oauth == {"sasl.oauthbearer.config": "principal=carol", "enable.sasl.oauthbearer.unsecure.jwt": "true"}
    with pytest.raises(UnsupportedStore, match="Failed to load SSL truststore /ts.jks of type JKS"):
        security_config({"ssl.truststore.location": "/ts.jks"})


def test_inter_broker_client_settings() -> None:
    """The seam for broker-to-broker connections: inter.broker.listener.name's protocol and credentials."""
    from brook.broker.listeners import inter_broker_client

    config = BrokerConfig({
        "listeners": "CLIENT://:9092,REPLICATION://:9093",
        "listener.security.protocol.map": "CLIENT:SASL_SSL,REPLICATION:SASL_SSL",
        "inter.broker.listener.name": "REPLICATION", "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
        "listener.name.replication.scram-sha-512.sasl.jaas.config":
            'org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="b-pw";',
        "ssl.truststore.type": "PEM", "ssl.truststore.location": "/ca.pem", "ssl.keystore.type": "PEM",
        "listener.name.replication.ssl.keystore.location": "/broker.pem"})
    assert inter_broker_client(config, read_listeners(config)) == {
        "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "broker",
        "sasl.password": "b-pw", "ssl.ca.location": "/ca.pem", "ssl.certificate.location": "/broker.pem",
        "ssl.key.location": "/broker.pem"}
    plain = BrokerConfig({"listeners": "PLAINTEXT://:9092"})
    assert inter_broker_client(plain, read_listeners(plain)) == {"security.protocol": "PLAINTEXT"}
