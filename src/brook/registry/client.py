"""A confluent-kafka SchemaRegistryClient from Confluent's serde settings, as every client of the registry in
Brook names them (the Connect converters, the console tools, the SQL server's ksql.schema.registry.* stripped):
schema.registry.url, basic.auth.credentials.source (URL: user info in the URL; USER_INFO: basic.auth.user.info
or schema.registry.basic.auth.user.info), schema.registry.ssl.* (trust and key stores, PEM or PKCS12) and the
retries max.retries, retries.wait.ms, retries.max.wait.ms."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from brook import rest_tls
from brook.config.definition import ConfigError

SSL_PREFIX = "schema.registry."
RETRY_KEYS = ("max.retries", "retries.wait.ms", "retries.max.wait.ms")


def client_conf(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The client's conf without the TLS files (those need the stores read: see registry_client)."""
    url = settings.get("schema.registry.url")
    if isinstance(url, list):
        url = ",".join(url)
    if not url:
        raise ConfigError("Missing required configuration \"schema.registry.url\" which has no default value.")
    conf: dict[str, Any] = {"url": str(url)}
    for key in RETRY_KEYS:  # SchemaRegistryClientConfig's retries of a failed request, with Confluent's names
        if settings.get(key) is not None:
            conf[key] = int(settings[key])
    source = str(settings.get("basic.auth.credentials.source") or "URL").strip().upper()
    user_info = settings.get("basic.auth.user.info") or settings.get("schema.registry.basic.auth.user.info")
    if source == "USER_INFO":
        if user_info:
            conf["basic.auth.user.info"] = str(user_info)
    elif source != "URL":  # SASL_INHERIT would take the Kafka client's SASL/PLAIN login: not here
        raise ConfigError(f"Unsupported basic.auth.credentials.source {source}: Brook supports URL and USER_INFO")
    return conf


def registry_client(settings: Mapping[str, Any]) -> Any:
    from confluent_kafka.schema_registry import SchemaRegistryClient

    conf = client_conf(settings)
    tls = rest_tls.getter({k[len(SSL_PREFIX):]: str(v) for k, v in settings.items()
                           if k.startswith(SSL_PREFIX + "ssl.") and v is not None})
    with contextlib.ExitStack() as files:  # the client reads the files while it is built: temporary copies do
        ca = files.enter_context(rest_tls.trust_file(tls))
        if ca:
            conf["ssl.ca.location"] = ca
        if tls("ssl.keystore.location"):
            conf["ssl.certificate.location"] = files.enter_context(rest_tls.key_store_pem(tls))
            if tls("ssl.key.password") and rest_tls.store_kind(tls, "keystore") == "PEM":
                conf["ssl.key.password"] = tls("ssl.key.password")
        return SchemaRegistryClient(conf)
