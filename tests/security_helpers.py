"""Test PKI and broker settings for the security tests: a CA, the broker's certificate (for 127.0.0.1 and
localhost) and a client certificate, made with the `cryptography` package at set-up; PEM files as Kafka's
ssl.keystore.type=PEM reads them."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PLAIN_JAAS = ('org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" '
              'password="admin-secret" user_admin="admin-secret" user_alice="alice-secret" user_bob="bob-secret";')
USERS = {"admin": "admin-secret", "alice": "alice-secret", "bob": "bob-secret"}
CLIENT_DN = "CN=alice,OU=clients,O=Brook"


@dataclass
class Pki:
    ca: Path  # the CA certificate (trust store)
    server: Path  # the broker's key and certificate chain in one PEM file
    client_cert: Path
    client_key: Path


def _name(cn: str, ou: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Brook")]
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _cert(subject: x509.Name, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
          issuer_key: ec.EllipticCurvePrivateKey, ca: bool, san: list[x509.GeneralName] | None = None
          ) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_pki(directory: Path) -> Pki:
    import ipaddress

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Brook test CA")
    ca = _cert(ca_name, ca_key, ca_name, ca_key, True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _cert(_name("localhost"), server_key, ca_name, ca_key, False,
                   [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = _cert(_name("alice", "clients"), client_key, ca_name, ca_key, False)
    pki = Pki(directory / "ca.pem", directory / "server.pem", directory / "client.pem", directory / "client.key")
    pki.ca.write_bytes(_pem(ca))
    pki.server.write_bytes(_key_pem(server_key) + _pem(server) + _pem(ca))
    pki.client_cert.write_bytes(_pem(client))
    pki.client_key.write_bytes(_key_pem(client_key))
    return pki


def secure_broker_overrides(pki: Pki) -> dict[str, str]:
    """Four listeners (PLAINTEXT first, for set-up), PLAIN users in JAAS, SCRAM from the stored credentials,
    client certificates required on SSL, the ACL authorizer with admin as super user."""
    return {
        "listeners": "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0",
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": PLAIN_JAAS,
        "listener.name.sasl_ssl.plain.sasl.jaas.config": PLAIN_JAAS,
        "ssl.keystore.type": "PEM", "ssl.keystore.location": str(pki.server),
        "ssl.truststore.type": "PEM", "ssl.truststore.location": str(pki.ca),
        "listener.name.ssl.ssl.client.auth": "required",
        "authorizer.class.name": "kafka.security.authorizer.AclAuthorizer",
        "super.users": "User:admin", "allow.everyone.if.no.acl.found": "true",
        "connection.failed.authentication.delay.ms": "50",
    }


@dataclass
class Pkcs12Stores:
    keystore: Path  # the broker's key and chain
    truststore: Path  # the CA certificate alone
    client_keystore: Path  # the client certificate's key and certificate
    password: str


def make_pkcs12(pki: Pki, password: str = "store-secret") -> Pkcs12Stores:
    """PKCS12 stores (cryptography's serialize_key_and_certificates, as keytool or openssl would write them) of
    the PEM PKI's keys and certificates, each under `password`."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    def certs(path: Path) -> list[x509.Certificate]:
        return x509.load_pem_x509_certificates(path.read_bytes())

    def key(path: Path):  # noqa: ANN202 - whichever private key type the PEM holds
        return serialization.load_pem_private_key(path.read_bytes(), None)

    encryption = serialization.BestAvailableEncryption(password.encode())
    directory = pki.ca.parent
    stores = Pkcs12Stores(directory / "broker.p12", directory / "truststore.p12", directory / "client.p12", password)
    server_chain = certs(pki.server)
    stores.keystore.write_bytes(pkcs12.serialize_key_and_certificates(
        b"broker", key(pki.server), server_chain[0], server_chain[1:], encryption))
    stores.truststore.write_bytes(pkcs12.serialize_key_and_certificates(None, None, None, certs(pki.ca), encryption))
    stores.client_keystore.write_bytes(pkcs12.serialize_key_and_certificates(
        b"alice", key(pki.client_key), certs(pki.client_cert)[0], None, encryption))
    return stores
