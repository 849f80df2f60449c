"""Kafka's key and trust stores for Python's `ssl`, shared by the broker's listeners and the tools: PEM files as
they are; PKCS12 stores read with the `cryptography` package. Kafka's default store type, JKS, is read when the
file is in fact PKCS12 (Java's "dual format" JKS key store loads both); a Java key store proper (JKS or JCEKS: no
well-kept Python library reads one, and its key protection is Sun's own scheme) is refused with how to convert it.

Python's ssl loads a certificate chain from files only: a PKCS12 store's key goes to a file created 0600 in a
private temporary directory, encrypted under a random one-time password that lives only in memory, and the
directory is removed as soon as ssl has read it."""

from __future__ import annotations

import contextlib
import os
import secrets
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cryptography (some 18 MB once imported) is loaded when a PKCS12 store is read, not before
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

PEM, PKCS12 = "PEM", "PKCS12"
_JAVA_MAGIC = {b"\xfe\xed\xfe\xed": "JKS", b"\xce\xce\xce\xce": "JCEKS"}


class StoreError(ValueError):
    """A store that cannot be read (its message is Kafka's, plus the reason)."""


def store_format(store_type: str, location: str, kind: str = "keystore") -> str:
    """PEM or PKCS12: the format of a store file of ssl.<kind>.type `store_type`."""
    declared = store_type.upper()
    if declared == PEM:
        return PEM
    if declared not in (PKCS12, "JKS"):
        raise StoreError(f"Failed to load SSL {kind} {location} of type {store_type}: Brook reads PEM and PKCS12 "
                         f"stores (and PKCS12 files under type JKS)")
    try:
        with open(location, "rb") as f:
            head = f.read(4)
    except OSError as e:
        raise StoreError(f"Failed to load SSL {kind} {location} of type {store_type}: {e}") from None
    if head in _JAVA_MAGIC:
        raise StoreError(f"Failed to load SSL {kind} {location} of type {store_type}: a Java {_JAVA_MAGIC[head]} key "
                         f"store, which Brook cannot read; convert it to PKCS12 with `keytool -importkeystore "
                         f"-srckeystore {location} -destkeystore {Path(location).stem}.p12 -deststoretype PKCS12` "
                         f"(and set ssl.{kind}.type=PKCS12), or to PEM (docs/security.md)")
    if not head.startswith(b"\x30"):  # a DER SEQUENCE, as every PKCS12 file starts
        raise StoreError(f"Failed to load SSL {kind} {location} of type {store_type}: not a PKCS12 or JKS file "
                         f"(a PEM file needs ssl.{kind}.type=PEM)")
    return PKCS12


def _load(location: str, passwords: list[str | None], store_type: str, kind: str
          ) -> tuple[PrivateKeyTypes | None, x509.Certificate | None, list[x509.Certificate]]:
    from cryptography.hazmat.primitives.serialization import pkcs12

    data = Path(location).read_bytes()
    error: Exception | None = None
    for password in dict.fromkeys(passwords):  # the store password, then ssl.key.password if it differs
        try:
            return pkcs12.load_key_and_certificates(data, None if password is None else password.encode())
        except ValueError as e:
            error = e
    raise StoreError(f"Failed to load SSL {kind} {location} of type {store_type}: {error} (wrong password, or not a "
                     f"PKCS12 store)")


def pkcs12_certificates_pem(location: str, password: str | None, store_type: str = PKCS12) -> str:
    """A PKCS12 trust store's certificates as PEM text (what ssl's cadata and librdkafka's ssl.ca.pem take)."""
    from cryptography.hazmat.primitives import serialization

    _, cert, extra = _load(location, [password], store_type, "truststore")
    certs = ([cert] if cert is not None else []) + list(extra)
    if not certs:
        raise StoreError(f"Failed to load SSL truststore {location} of type {store_type}: no certificates in it")
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)


def check_pkcs12_key_store(location: str, password: str | None, store_type: str = PKCS12) -> None:
    """Whether the store opens with its password and holds a key (before librdkafka is handed it, so that a wrong
    password gets Kafka's message rather than OpenSSL's)."""
    key, cert, _ = _load(location, [password], store_type, "keystore")
    if key is None or cert is None:
        raise StoreError(f"Failed to load SSL keystore {location} of type {store_type}: no private key entry with "
                         "a certificate in it")


@contextlib.contextmanager
def pkcs12_chain_file(location: str, password: str | None, key_password: str | None,
                      store_type: str = PKCS12) -> Iterator[tuple[str, str]]:
    """(file, password) for ssl's load_cert_chain: the store's key (encrypted under a one-time password) and its
    certificate chain, in a private file removed when the block ends."""
    from cryptography.hazmat.primitives import serialization

    key, cert, extra = _load(location, [password, key_password], store_type, "keystore")
    if key is None or cert is None:
        raise StoreError(f"Failed to load SSL keystore {location} of type {store_type}: no private key entry with "
                         "a certificate in it")
    one_time = secrets.token_urlsafe(24)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(one_time.encode()))
    for c in [cert, *extra]:
        pem += c.public_bytes(serialization.Encoding.PEM)
    with tempfile.TemporaryDirectory(prefix="brook-keystore-") as d:  # mode 0700
        path = os.path.join(d, "keystore.pem")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(pem)
        yield path, one_time


def load_key_store(ctx: ssl.SSLContext, store_type: str, location: str, password: str | None,
                   key_password: str | None) -> None:
    """A key store file into ctx (PEM: the key and chain in one file, under ssl.key.password)."""
    if store_format(store_type, location) == PEM:
        ctx.load_cert_chain(location, password=key_password)
        return
    with pkcs12_chain_file(location, password, key_password, store_type) as (path, one_time):
        ctx.load_cert_chain(path, password=one_time)


def load_pem_key(ctx: ssl.SSLContext, chain: str, key: str, key_password: str | None) -> None:
    """ssl.keystore.certificate.chain with ssl.keystore.key (PEM text) into ctx, through a private file."""
    with tempfile.TemporaryDirectory(prefix="brook-keystore-") as d:
        path = os.path.join(d, "keystore.pem")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(f"{key}\n{chain}\n")
        ctx.load_cert_chain(path, password=key_password)


def load_trust_store(ctx: ssl.SSLContext, store_type: str, location: str, password: str | None) -> None:
    if store_format(store_type, location, "truststore") == PEM:
        ctx.load_verify_locations(cafile=location)
    else:
        ctx.load_verify_locations(cadata=pkcs12_certificates_pem(location, password, store_type))
