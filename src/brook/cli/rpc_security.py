"""TLS and SASL for kafka_rpc's one-broker connections, from the tool's Java client properties (the same
--command-config librdkafka gets): an SSL socket for SSL/SASL_SSL (PEM and PKCS12 trust and key stores, and PEM
text in ssl.truststore.certificates / ssl.keystore.certificate.chain + ssl.keystore.key: key_stores.py), then Kafka's
SaslHandshake v1 + SaslAuthenticate exchange for PLAIN, SCRAM-SHA-256/512 (the `scramp` package) or an unsecured
OAUTHBEARER token. Failures are the Java client's exceptions."""

from __future__ import annotations

import base64
import json
import re
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any

from brook import key_stores
from brook.cli.clients import ToolError

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")
_JAAS_OPTION = re.compile(r'([\w.]+)\s*=\s*"([^"]*)"')
_ERRORS = "org.apache.kafka.common.errors."


def check_security(props: dict[str, str]) -> None:
    """Refuse, before connecting, what this helper cannot speak (as the Java client refuses a bad config)."""
    protocol = props.get("security.protocol", "PLAINTEXT").upper()
    if protocol not in PROTOCOLS:
        raise ToolError("org.apache.kafka.common.config.ConfigException", f"Invalid value {protocol} for "
                        "configuration security.protocol: String must be one of: " + ", ".join(PROTOCOLS))
    if protocol.startswith("SASL_") and props.get("sasl.mechanism", "GSSAPI") not in MECHANISMS:
        raise ToolError("org.apache.kafka.common.KafkaException", f"sasl.mechanism="
                        f"{props.get('sasl.mechanism', 'GSSAPI')} is not supported by this tool")
    for kind in ("truststore", "keystore"):
        if f"ssl.{kind}.location" in props:
            try:
                key_stores.store_format(props.get(f"ssl.{kind}.type", "JKS"), props[f"ssl.{kind}.location"], kind)
            except key_stores.StoreError as e:
                raise ToolError("org.apache.kafka.common.KafkaException", str(e)) from None


def wrap(sock: socket.socket, host: str, props: dict[str, str]) -> socket.socket:
    """The TLS client side of SSL and SASL_SSL (the socket unchanged otherwise)."""
    if not props.get("security.protocol", "PLAINTEXT").upper().endswith("SSL"):
        return sock
    try:
        ctx = _context(props)
    except (key_stores.StoreError, OSError, ssl.SSLError) as e:
        raise ToolError("org.apache.kafka.common.KafkaException", f"Failed to create SSL context: {e}") from None
    try:
        return ctx.wrap_socket(sock, server_hostname=host)
    except ssl.SSLError as e:
        raise ToolError(_ERRORS + "SslAuthenticationException", f"SSL handshake failed: {e}") from None


def _context(props: dict[str, str]) -> ssl.SSLContext:
    """The Java client's SSL context from its properties (the default trust store without one)."""
    truststore = props.get("ssl.truststore.location")
    ctx = ssl.create_default_context(cadata=props.get("ssl.truststore.certificates"))
    if truststore is not None:
        key_stores.load_trust_store(ctx, props.get("ssl.truststore.type", "JKS"), truststore,
                                    props.get("ssl.truststore.password"))
    ctx.check_hostname = props.get("ssl.endpoint.identification.algorithm", "https") != ""
    if "ssl.keystore.location" in props:
        key_stores.load_key_store(ctx, props.get("ssl.keystore.type", "JKS"), props["ssl.keystore.location"],
                                  props.get("ssl.keystore.password"), props.get("ssl.key.password"))
    elif "ssl.keystore.key" in props and "ssl.keystore.certificate.chain" in props:
        key_stores.load_pem_key(ctx, props["ssl.keystore.certificate.chain"], props["ssl.keystore.key"],
                                props.get("ssl.key.password"))
    return ctx


def authenticate(call: Callable[[Any, type], Any], props: dict[str, str]) -> None:
    """SaslHandshake v1 and SaslAuthenticate v2 over `call` (the connection's request function)."""
    if not props.get("security.protocol", "PLAINTEXT").upper().startswith("SASL_"):
        return
    from kio.schema.sasl_authenticate.v2.request import SaslAuthenticateRequest
    from kio.schema.sasl_authenticate.v2.response import SaslAuthenticateResponse
    from kio.schema.sasl_handshake.v1.request import SaslHandshakeRequest
    from kio.schema.sasl_handshake.v1.response import SaslHandshakeResponse

    mechanism = props.get("sasl.mechanism", "GSSAPI")
    shake = call(SaslHandshakeRequest(mechanism=mechanism), SaslHandshakeResponse)
    if shake.error_code != 0:
        raise ToolError(_ERRORS + "UnsupportedSaslMechanismException", f"Client SASL mechanism '{mechanism}' not "
                        f"enabled in the server, enabled mechanisms are [{', '.join(shake.mechanisms)}]")
    options = dict(_JAAS_OPTION.findall(props.get("sasl.jaas.config", "")))

    def exchange(token: bytes) -> bytes:
        response = call(SaslAuthenticateRequest(auth_bytes=token), SaslAuthenticateResponse)
        if response.error_code != 0:
            raise ToolError(_ERRORS + "SaslAuthenticationException", response.error_message or "")
        return bytes(response.auth_bytes)

    user, password = options.get("username", ""), options.get("password", "")
    if mechanism == "PLAIN":
        exchange(f"\x00{user}\x00{password}".encode())
    elif mechanism.startswith("SCRAM-"):
        import scramp

        client = scramp.ScramClient([mechanism], user.replace("=", "=3D").replace(",", "=2C"), password)
        client.set_server_first(exchange(client.get_client_first().encode()).decode())
        client.set_server_final(exchange(client.get_client_final().encode()).decode())
    else:
        exchange(f"n,,\x01auth=Bearer {_unsecured_jws(options)}\x01\x01".encode())


def _unsecured_jws(options: dict[str, str]) -> str:
    """OAuthBearerUnsecuredLoginCallbackHandler's token: alg none, sub and the other string claims, an hour."""
    now = time.time()
    claims: dict[str, object] = {k[len("unsecuredLoginStringClaim_"):]: v for k, v in options.items()
                                 if k.startswith("unsecuredLoginStringClaim_")}
    claims |= {"iat": now, "exp": now + int(options.get("unsecuredLoginLifetimeSeconds", "3600"))}
    return ".".join(base64.urlsafe_b64encode(json.dumps(p).encode()).rstrip(b"=").decode()
                    for p in ({"alg": "none"}, claims)) + "."
