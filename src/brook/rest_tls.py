"""TLS for the REST servers around the log (Connect, the schema registry, the SQL server) and for their clients:
an ssl.SSLContext from the Java names those services share (ssl.keystore.*, ssl.truststore.*, client
authentication), with PEM and PKCS12 stores (JKS stops the start with a message, as the broker's PEM-only
stores do: convert with keytool).

`Get` is how a service sees its settings (a prefixed lookup for Connect's listeners.https.*, the plain ones for
the registry and ksqlDB): None when absent, the stripped text otherwise (an empty
ssl.endpoint.identification.algorithm means something)."""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
from collections.abc import Callable, Iterator

from brook.config.definition import ConfigError

Get = Callable[[str], "str | None"]
# Confluent's ssl.client.authentication and Kafka's ssl.client.auth, upper-cased
_CLIENT_AUTH = {"NONE": ssl.CERT_NONE, "REQUESTED": ssl.CERT_OPTIONAL, "REQUIRED": ssl.CERT_REQUIRED}


def getter(props: dict[str, str], prefix: str = "") -> Get:
    """A setting of `props` under `prefix` (Connect's `listeners.https.`)."""
    def get(name: str) -> str | None:
        value = props.get(prefix + name)
        return None if value is None else value.strip()
    return get


def connect_getter(props: dict[str, str]) -> Get:
    """Kafka Connect's rule: once any listeners.https.* setting is given, only the prefixed ones count."""
    prefix = "listeners.https."
    return getter(props, prefix if any(k.startswith(prefix) for k in props) else "")


def server_context(get: Get, client_auth: str) -> ssl.SSLContext:
    """Jetty's (Vert.x's) server side: the key store, the trust store when clients are checked, TLS >= 1.2 by
    default, ALPN h2 and http/1.1 (hypercorn serves both). `client_auth`: NONE, REQUESTED or REQUIRED."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    _protocols(ctx, get)
    _ciphers(ctx, get)
    location = get("ssl.keystore.location")
    if not location:
        raise ConfigError("An https listener needs a key store: ssl.keystore.location")
    with key_store_pem(get) as pem:
        try:
            ctx.load_cert_chain(pem, password=get("ssl.key.password") if store_kind(get, "keystore") == "PEM" else None)
        except (OSError, ssl.SSLError) as e:
            raise ConfigError(f"Failed to load SSL keystore {location}: {e}") from e
    mode = client_auth.strip().upper()
    if mode not in _CLIENT_AUTH:
        raise ConfigError(f"Invalid value {client_auth} for SSL client authentication: NONE, REQUESTED or "
                          "REQUIRED")
    ctx.verify_mode = _CLIENT_AUTH[mode]
    if mode != "NONE":
        load_trust(ctx, get, ssl.Purpose.CLIENT_AUTH)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    return ctx


def client_context(get: Get) -> ssl.SSLContext:
    """A client of these servers (a registry forwarding to its primary, a worker to another, the ksql CLI): the
    trust store (the system's without one), the key store when given (for REQUIRED client authentication), and
    ssl.endpoint.identification.algorithm (empty: no host name check; Java's default is https)."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if get("ssl.truststore.location"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        load_trust(ctx, get, ssl.Purpose.SERVER_AUTH)
    algorithm = get("ssl.endpoint.identification.algorithm")
    ctx.check_hostname = algorithm is None or algorithm.lower() == "https"
    if get("ssl.keystore.location"):
        with key_store_pem(get) as pem:
            ctx.load_cert_chain(pem, password=get("ssl.key.password") if store_kind(get, "keystore") == "PEM" else None)
    return ctx


def _protocols(ctx: ssl.SSLContext, get: Get) -> None:
    from brook.broker.tls import set_protocols

    raw = get("ssl.enabled.protocols")
    if raw:
        set_protocols(ctx, [p.strip() for p in raw.split(",") if p.strip()])


def _ciphers(ctx: ssl.SSLContext, get: Get) -> None:
    """ssl.cipher.suites: Java (IANA) or OpenSSL names, as the broker reads them; TLS 1.3 suites stay as they are."""
    from brook.broker.tls import openssl_cipher

    raw = get("ssl.cipher.suites")
    names = [n for n in (openssl_cipher(s.strip()) for s in (raw or "").split(",") if s.strip()) if n]
    if not names:
        return
    try:
        ctx.set_ciphers(":".join(names))
    except ssl.SSLError as e:
        raise ConfigError(f"Invalid value {raw} for configuration ssl.cipher.suites: {e}") from e


def store_kind(get: Get, store: str) -> str:
    """ssl.keystore.type / ssl.truststore.type; Java's default JKS is read as what the file holds (PEM text or a
    PKCS12 archive), since a JKS store cannot be read here."""
    declared = (get(f"ssl.{store}.type") or "").upper()
    location = get(f"ssl.{store}.location")
    if declared in ("PEM", "PKCS12"):
        return declared
    if declared not in ("", "JKS"):
        raise ConfigError(f"Unsupported ssl.{store}.type {declared}: Brook reads PEM and PKCS12 stores")
    try:
        with open(str(location), "rb") as f:
            head = f.read(64)
    except OSError as e:
        raise ConfigError(f"Failed to load SSL {store} {location}: {e}") from e
    if b"-----BEGIN" in head:
        return "PEM"
    if head[:4] == b"\xfe\xed\xfe\xed":
        raise ConfigError(f"SSL {store} {location} is a JKS store, which Brook cannot read: convert it with "
                          "keytool -importkeystore -deststoretype PKCS12 (docs/security.md)")
    return "PKCS12"


@contextlib.contextmanager
def key_store_pem(get: Get) -> Iterator[str]:
    """The key store as a PEM file of key and certificate chain (a PKCS12 store decrypted with
    ssl.keystore.password into a private temporary file, gone when the context ends)."""
    location = str(get("ssl.keystore.location"))
    if store_kind(get, "keystore") == "PEM":
        yield location
        return
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, pkcs12

    password = get("ssl.keystore.password")
    try:
        with open(location, "rb") as f:
            key, cert, extra = pkcs12.load_key_and_certificates(f.read(), password.encode() if password else None)
    except (OSError, ValueError) as e:
        raise ConfigError(f"Failed to load SSL keystore {location} of type PKCS12: {e}") from e
    if key is None or cert is None:
        raise ConfigError(f"SSL keystore {location} holds no private key with its certificate")
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()) + cert.public_bytes(Encoding.PEM)
    pem += b"".join(c.public_bytes(Encoding.PEM) for c in extra or [])
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "keystore.pem")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as out:
            out.write(pem)
        yield path


def trust_pem(get: Get) -> str | None:
    """The trust store's certificates as PEM text (None without a trust store)."""
    location = get("ssl.truststore.location")
    if not location:
        return None
    try:
        with open(location, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ConfigError(f"Failed to load SSL truststore {location}: {e}") from e
    if store_kind(get, "truststore") == "PEM":
        return data.decode()
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

    password = get("ssl.truststore.password")
    try:
        _, cert, extra = pkcs12.load_key_and_certificates(data, password.encode() if password else None)
    except ValueError as e:
        raise ConfigError(f"Failed to load SSL truststore {location} of type PKCS12: {e}") from e
    certs = ([cert] if cert else []) + list(extra or [])
    return "".join(c.public_bytes(Encoding.PEM).decode() for c in certs)


def load_trust(ctx: ssl.SSLContext, get: Get, purpose: ssl.Purpose) -> None:
    pem = trust_pem(get)
    if pem is None:
        ctx.load_default_certs(purpose)  # Java's default trust store stands in
        return
    try:
        ctx.load_verify_locations(cadata=pem)
    except ssl.SSLError as e:
        raise ConfigError(f"Failed to load SSL truststore {get('ssl.truststore.location')}: {e}") from e


@contextlib.contextmanager
def trust_file(get: Get) -> Iterator[str | None]:
    """The trust store as a PEM file path (for clients that take a file: confluent-kafka's registry client)."""
    location = get("ssl.truststore.location")
    if not location or store_kind(get, "truststore") == "PEM":
        yield location
        return
    pem = trust_pem(get)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "truststore.pem")
        with open(path, "w", encoding="utf-8") as out:
            out.write(pem or "")
        yield path


def rest_utils_client_auth(get: Get) -> str:
    """Confluent rest-utils (the registry, ksqlDB): ssl.client.authentication NONE / REQUESTED / REQUIRED, else the
    older boolean ssl.client.auth (true: REQUIRED)."""
    mode = get("ssl.client.authentication")
    if mode:
        return mode
    return "REQUIRED" if (get("ssl.client.auth") or "").lower() == "true" else "NONE"
