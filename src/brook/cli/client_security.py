"""A Java client's security settings (security.protocol, sasl.*, ssl.*) in librdkafka's names, for every tool's
--command-config / --producer.config / --consumer.config and for Connect, the registry and the SQL server.

PEM stores map to librdkafka's PEM settings, PKCS12 key stores to its own PKCS12 setting; JKS stores cannot be
read (librdkafka has no Java key store) and say so. The JAAS line gives the SASL username and password (PLAIN,
SCRAM) or the unsecured OAUTHBEARER token's claims."""

from __future__ import annotations

import re

# Java-only settings with no librdkafka counterpart: dropped (librdkafka negotiates TLS 1.2/1.3 itself)
_DROPPED = {"ssl.truststore.type", "ssl.truststore.password", "ssl.keystore.type", "ssl.protocol",
            "ssl.enabled.protocols", "ssl.keymanager.algorithm", "ssl.trustmanager.algorithm",
            "ssl.secure.random.implementation", "sasl.login.class", "sasl.client.callback.handler.class",
            "sasl.login.callback.handler.class", "ssl.engine.factory.class", "ssl.provider"}
_JAAS_OPTION = re.compile(r'([\w.]+)\s*=\s*"([^"]*)"')


class UnsupportedStore(ValueError):
    """A key or trust store librdkafka cannot read (JKS)."""


def security_config(props: dict[str, str]) -> dict[str, str]:
    """The librdkafka settings for the security-related Java properties among `props` (others are ignored)."""
    out: dict[str, str] = {}
    truststore_type = props.get("ssl.truststore.type", "JKS").upper()
    keystore_type = props.get("ssl.keystore.type", "JKS").upper()
    for key, value in props.items():
        if key in _DROPPED or not key.startswith(("ssl.", "sasl.")):
            continue
        if key == "ssl.truststore.location":
            if truststore_type != "PEM":
                raise UnsupportedStore(f"ssl.truststore.type={truststore_type} is not readable by librdkafka: use a "
                                       "PEM trust store (ssl.truststore.type=PEM)")
            out["ssl.ca.location"] = value
        elif key == "ssl.truststore.certificates":
            out["ssl.ca.pem"] = value
        elif key == "ssl.keystore.location":
            if keystore_type == "PEM":  # Kafka's PEM key store: the key and the chain in one file
                out["ssl.certificate.location"] = out["ssl.key.location"] = value
            elif keystore_type == "PKCS12":
                out["ssl.keystore.location"] = value
                if "ssl.keystore.password" in props:
                    out["ssl.keystore.password"] = props["ssl.keystore.password"]
            else:
                raise UnsupportedStore(f"ssl.keystore.type={keystore_type} is not readable by librdkafka: use PEM or "
                                       "PKCS12")
        elif key == "ssl.keystore.password":
            continue  # with its PKCS12 store above; a PEM store has none
        elif key == "ssl.keystore.certificate.chain":
            out["ssl.certificate.pem"] = value
        elif key == "ssl.keystore.key":
            out["ssl.key.pem"] = value
        elif key == "ssl.endpoint.identification.algorithm":
            out[key] = value or "none"
        elif key == "sasl.jaas.config":
            out.update(_jaas(value))
        else:
            out[key] = value
    return out


def _jaas(value: str) -> dict[str, str]:
    options = dict(_JAAS_OPTION.findall(value))
    out = {f"sasl.{k}": options[k] for k in ("username", "password") if k in options}
    claims = {k[len("unsecuredLoginStringClaim_"):]: v for k, v in options.items()
              if k.startswith("unsecuredLoginStringClaim_")}
    if "OAuthBearerLoginModule" in value and claims:
        principal = claims.pop("sub", "")
        out["sasl.oauthbearer.config"] = " ".join([f"principal={principal}", *(f"{k}={v}" for k, v in claims.items())])
        out["enable.sasl.oauthbearer.unsecure.jwt"] = "true"
    return out
