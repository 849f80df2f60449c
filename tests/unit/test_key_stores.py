"""Key and trust stores for the broker's TLS (broker/tls.py through key_stores.py): PKCS12 stores load, Kafka's
DefaultSslEngineFactory checks give its messages, a Java key store or a wrong password stops with a clear one, and
the PKCS12 key reaches Python's ssl through a private, encrypted, removed file."""

from __future__ import annotations

import os
import ssl
import stat
import tempfile

import pytest
from security_helpers import make_pkcs12, make_pki

from brook import key_stores
from brook.broker.tls import server_context
from brook.config.broker import BrokerConfig
from brook.config.definition import ConfigError


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    return pki, make_pkcs12(pki)


def _context(settings: dict[str, str]) -> ssl.SSLContext:
    config = BrokerConfig({"listeners": "SSL://127.0.0.1:0", "security.inter.broker.protocol": "SSL", **settings})
    return server_context(lambda name: config.for_listener("SSL", name))


def test_pkcs12_key_and_trust_stores_load(stores) -> None:
    pki, p12 = stores
    ctx = _context({"ssl.keystore.type": "PKCS12", "ssl.keystore.location": str(p12.keystore),
                    "ssl.keystore.password": p12.password, "ssl.client.auth": "required",
                    "ssl.truststore.type": "PKCS12", "ssl.truststore.location": str(p12.truststore),
                    "ssl.truststore.password": p12.password})
    assert [dict(x[0] for x in c["subject"])["commonName"] for c in ctx.get_ca_certs()] == ["Brook test CA"]
    # Kafka's default type JKS reads a PKCS12 file, as Java's dual-format key store does
    _context({"ssl.keystore.location": str(p12.keystore), "ssl.keystore.password": p12.password})


@pytest.mark.parametrize("settings, message", [
    ({"ssl.keystore.type": "PKCS12", "ssl.keystore.password": "wrong"},
     "Failed to load SSL keystore {keystore} of type PKCS12: "),
    ({"ssl.keystore.type": "PKCS12"}, "SSL key store is specified, but key store password is not specified."),
    ({"ssl.keystore.type": "PEM", "ssl.keystore.location": "{pem}", "ssl.keystore.password": "x"},
     "SSL key store password cannot be specified with PEM format, only key password may be specified."),
    ({"ssl.keystore.location": "{pem}", "ssl.keystore.password": "x"},
     "not a PKCS12 or JKS file (a PEM file needs ssl.keystore.type=PEM)"),
    ({"ssl.keystore.type": "BKS", "ssl.keystore.password": "x"}, "Brook reads PEM and PKCS12 stores"),
    ({"ssl.keystore.type": "PKCS12", "ssl.keystore.password": "x", "ssl.keystore.key": "k"},
     "SSL private key can be specified only for PEM, but key store type is PKCS12."),
    ({"ssl.keystore.type": "PKCS12", "ssl.keystore.password": "pw", "ssl.client.auth": "required",
      "ssl.truststore.type": "PEM", "ssl.truststore.location": "{ca}", "ssl.truststore.password": "x"},
     "SSL trust store password cannot be specified for PEM format."),
])
def test_store_errors_are_kafkas(stores, settings: dict[str, str], message: str) -> None:
    pki, p12 = stores
    paths = {"keystore": str(p12.keystore), "pem": str(pki.server), "ca": str(pki.ca)}
    settings = {"ssl.keystore.location": paths["keystore"], **{k: v.format(**paths) for k, v in settings.items()}}
    if settings.get("ssl.keystore.password") == "pw":
        settings["ssl.keystore.password"] = p12.password
    with pytest.raises(ConfigError) as e:
        _context(settings)
    assert message.format(**paths) in str(e.value)


def test_a_java_key_store_says_how_to_convert_it(tmp_path) -> None:
    jks = tmp_path / "broker.jks"
    jks.write_bytes(b"\xfe\xed\xfe\xed\x00\x00\x00\x02")
    with pytest.raises(ConfigError, match=f"keytool -importkeystore -srckeystore {jks} -destkeystore broker.p12 "
                                          "-deststoretype PKCS12"):
        _context({"ssl.keystore.location": str(jks), "ssl.keystore.password": "x"})


def test_the_key_file_is_private_encrypted_and_removed(stores, tmp_path, monkeypatch) -> None:
    _, p12 = stores
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where TemporaryDirectory creates its directory
    with key_stores.pkcs12_chain_file(str(p12.keystore), p12.password, None) as (path, one_time):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
        text = open(path).read()
        assert "ENCRYPTED PRIVATE KEY" in text and text.count("BEGIN CERTIFICATE") == 2
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(path, password=one_time)
    assert list(tmp_path.iterdir()) == []
