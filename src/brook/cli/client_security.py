"""A Java client's security settings (security.protocol, sasl.*, ssl.*) in librdkafka's names, for every tool's
--command-config / --producer.config / --consumer.config and for Connect, the registry and the SQL server.

PEM stores map to librdkafka's PEM settings, PKCS12 key stores to its own PKCS12 setting, PKCS12 trust stores to
PEM text (ssl.ca.pem: librdkafka reads no PKCS12 trust store); a store of Kafka's default type JKS that is in fact a
PKCS12 file counts as PKCS12, as Java reads it; Java key stores proper cannot be read and say so (key_stores.py).
The JAAS line gives the SASL username and password (PLAIN, SCRAM) or the unsecured OAUTHBEARER token's claims."""

from __future__ import annotations

import re

from brook import key_stores

# Java-only settings with no librdkafka counterpart: dropped (librdkafka negotiates TLS 1.2/1.3 itself)
_DROPPED = {"ssl.truststore.type", "ssl.truststore.password", "ssl.keystore.type", "ssl.protocol",
            "ssl.enabled.protocols", "ssl.keymanager.algorithm", "ssl.trustmanager.algorithm",
            "ssl.secure.random.implementation", "sasl.login.class", "sasl.client.callback.handler.class",
            "sasl.login.callback.handler.class", "ssl.engine.factory.class", "ssl.provider"}
_JAAS_OPTION = re.compile(r'([\w.]+)\s*=\s*"([^"]*)"')


class UnsupportedStore(ValueError):
    """A key or trust store that cannot be read (a Java key store, a wrong password)."""


def security_config(props: dict[str, str]) -> dict[str, str]:
    """The librdkafka settings for the security-related Java properties among `props` (others are ignored)."""
    try:
        return _security_config(props)
    except key_stores.StoreError as e:
        raise UnsupportedStore(str(e)) from None


def _security_config(props: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    truststore_type = props.get("ssl.truststore.type", "JKS")
    keystore_type = props.get("ssl.keystore.type", "JKS")
    for key, value in props.items():
        if key in _DROPPED or not key.startswith(("ssl.", "sasl.")):
            continue
        if key == "ssl.truststore.location":
            if key_stores.store_format(truststore_type, value, "truststore") == key_stores.PEM:
                out["ssl.ca.location"] = value
            else:
                out["ssl.ca.pem"] = key_stores.pkcs12_certificates_pem(value, props.get("ssl.truststore.password"),
                                                                       truststore_type)
        elif key == "ssl.truststore.certificates":
            out["ssl.ca.pem"] = value
        elif key == "ssl.keystore.location":
            if key_stores.store_format(keystore_type, value) == key_stores.PEM:  # the key and the chain in one file
                out["ssl.certificate.location"] = out["ssl.key.location"] = value
            else:
                key_stores.check_pkcs12_key_store(value, props.get("ssl.keystore.password"), keystore_type)
                out["ssl.keystore.location"] = value
                if "ssl.keystore.password" in props:
                    out["ssl.keystore.password"] = props["ssl.keystore.password"]
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
