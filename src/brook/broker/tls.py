"""TLS for the SSL and SASL_SSL listeners: an ssl.SSLContext from Kafka's ssl.* settings (PEM and PKCS12 stores),
and the principal of a client certificate (the subject DN in RFC 2253 form, as Java's X500Principal.getName()
writes it, through ssl.principal.mapping.rules)."""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable, Sequence

from brook import key_stores
from brook.acl import ANONYMOUS
from brook.config.definition import ConfigError

_VERSIONS = {"TLSv1": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1, "TLSv1.2": ssl.TLSVersion.TLSv1_2,
             "TLSv1.3": ssl.TLSVersion.TLSv1_3}
_CLIENT_AUTH = {"none": ssl.CERT_NONE, "requested": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}
# Python's names of the attribute types Java writes by keyword in RFC 2253 form (the others as dotted OIDs)
_KEYWORDS = {"commonName": "CN", "countryName": "C", "localityName": "L", "stateOrProvinceName": "ST",
             "organizationName": "O", "organizationalUnitName": "OU", "streetAddress": "STREET",
             "domainComponent": "DC", "userId": "UID"}
_OIDS = {"emailAddress": "1.2.840.113549.1.9.1", "serialNumber": "2.5.4.5", "title": "2.5.4.12",
         "surname": "2.5.4.4", "givenName": "2.5.4.42", "initials": "2.5.4.43", "pseudonym": "2.5.4.65",
         "generationQualifier": "2.5.4.44", "dnQualifier": "2.5.4.46", "postalCode": "2.5.4.17"}

Get = Callable[[str], object]  # a setting as the listener sees it (BrokerConfig.for_listener)


def server_context(get: Get) -> ssl.SSLContext:
    """SslFactory's server side: key store, trust store, client authentication, protocols and cipher suites."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _protocols(ctx, get)
    _key_store(ctx, get)
    client_auth = str(get("ssl.client.auth"))
    ctx.verify_mode = _CLIENT_AUTH[client_auth]
    if client_auth != "none":
        _trust_store(ctx, get)
    suites = get("ssl.cipher.suites")
    if suites:
        _ciphers(ctx, [str(s) for s in suites])  # type: ignore[attr-defined]
    return ctx


def _protocols(ctx: ssl.SSLContext, get: Get) -> None:
    set_protocols(ctx, [str(p) for p in get("ssl.enabled.protocols")])  # type: ignore[attr-defined]


def set_protocols(ctx: ssl.SSLContext, enabled: list[str]) -> None:
    """ssl.enabled.protocols as the context's version range (the REST servers' TLS shares it)."""
    unknown = [p for p in enabled if p not in _VERSIONS]
    if unknown or not enabled:
        raise ConfigError(f"Invalid value {','.join(enabled)} for configuration ssl.enabled.protocols: Brook "
                          f"supports {', '.join(_VERSIONS)}")
    versions = sorted(_VERSIONS[p] for p in enabled)
    ctx.minimum_version, ctx.maximum_version = versions[0], versions[-1]


def _key_store(ctx: ssl.SSLContext, get: Get) -> None:
    """DefaultSslEngineFactory.createKeystore's checks, then the store (PEM or PKCS12, key_stores.py)."""
    location, chain, key = get("ssl.keystore.location"), get("ssl.keystore.certificate.chain"), get("ssl.keystore.key")
    password, key_password = _opt(get("ssl.keystore.password")), _opt(get("ssl.key.password"))
    store_type = str(get("ssl.keystore.type"))
    pem = store_type.upper() == "PEM"
    if key is not None:
        if not pem:
            raise ConfigError(f"SSL private key can be specified only for PEM, but key store type is {store_type}.")
        if chain is None:
            raise ConfigError("SSL private key is specified, but certificate chain is not specified.")
        if location is not None:
            raise ConfigError("Both SSL key store location and separate private key are specified.")
    elif chain is not None:
        raise ConfigError("SSL certificate chain is specified, but private key is not specified")
    if location is None and key is None:
        raise ConfigError("An SSL listener needs a key store: ssl.keystore.location, or ssl.keystore.certificate.chain"
                          " with ssl.keystore.key")
    if pem and password is not None:
        raise ConfigError("SSL key store password cannot be specified with PEM format, only key password may be "
                          "specified.")
    if not pem and password is None:
        raise ConfigError("SSL key store is specified, but key store password is not specified.")
    try:
        if location is not None:
            key_stores.load_key_store(ctx, store_type, str(location), password, key_password)
            return
        key_stores.load_pem_key(ctx, str(chain), str(key), key_password)
    except key_stores.StoreError as e:
        raise ConfigError(str(e)) from e
    except (OSError, ssl.SSLError) as e:
        raise ConfigError(f"Failed to load SSL keystore {location or 'ssl.keystore.certificate.chain'} of type "
                          f"{store_type}: {e}") from e


def _trust_store(ctx: ssl.SSLContext, get: Get) -> None:
    location, certificates = get("ssl.truststore.location"), get("ssl.truststore.certificates")
    password, store_type = _opt(get("ssl.truststore.password")), str(get("ssl.truststore.type"))
    pem = store_type.upper() == "PEM"
    if certificates is not None and not pem:
        raise ConfigError(f"SSL trust store certs can be specified only for PEM, but trust store type is "
                          f"{store_type}.")
    if certificates is not None and location is not None:
        raise ConfigError("Both SSL trust store location and separate trust certificates are specified.")
    if pem and password is not None:
        raise ConfigError("SSL trust store password cannot be specified for PEM format.")
    if location is None and password is not None:
        raise ConfigError("SSL trust store is not specified, but trust store password is specified.")
    if location is None and certificates is None:
        ctx.load_default_certs(ssl.Purpose.CLIENT_AUTH)  # Java's default trust store stands in
        return
    try:
        if location is not None:
            key_stores.load_trust_store(ctx, store_type, str(location), password)
        else:
            ctx.load_verify_locations(cadata=str(certificates))
    except key_stores.StoreError as e:
        raise ConfigError(str(e)) from e
    except (OSError, ssl.SSLError) as e:
        raise ConfigError(f"Failed to load SSL truststore {location or 'ssl.truststore.certificates'} of type "
                          f"{store_type}: {e}") from e


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


def openssl_cipher(name: str) -> str | None:
    """A Java/IANA suite name (TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) as OpenSSL's (ECDHE-RSA-AES256-GCM-SHA384);
    OpenSSL names pass through; TLS 1.3 suites give None (Python cannot restrict those)."""
    if not name.startswith("TLS_"):
        return name
    if "_WITH_" not in name:
        return None
    kex, _, cipher = name[4:].partition("_WITH_")
    cipher = cipher.replace("AES_128_", "AES128_").replace("AES_256_", "AES256_").replace("CBC_", "")
    cipher = cipher.replace("CHACHA20_POLY1305_SHA256", "CHACHA20_POLY1305").replace("_", "-")
    return cipher if kex == "RSA" else f"{kex.replace('_', '-')}-{cipher}"


def _ciphers(ctx: ssl.SSLContext, suites: Sequence[str]) -> None:
    names = [n for n in (openssl_cipher(s) for s in suites) if n]
    if not names:
        return
    try:
        ctx.set_ciphers(":".join(names))
    except ssl.SSLError as e:
        raise ConfigError(f"Invalid value {','.join(suites)} for configuration ssl.cipher.suites: {e}") from e


# -- principals ---------------------------------------------------------------------------------------------------
def _escape(value: str) -> str:
    out = re.sub(r'([,+"\\<>;])', r"\\\1", value)
    if out.startswith(("#", " ")):
        out = "\\" + out
    if out.endswith(" ") and not out.endswith("\\ "):
        out = out[:-1] + "\\ "
    return out


def _ava(kind: str, value: str) -> str:
    if kind in _KEYWORDS:
        return f"{_KEYWORDS[kind]}={_escape(value)}"
    data = value.encode()  # Java writes other types as the hex of their DER encoding (an IA5String here)
    return f"{_OIDS.get(kind, kind)}=#16{len(data):02x}{data.hex()}"


def rfc2253(subject: Sequence[Sequence[tuple[str, str]]]) -> str:
    """getpeercert()'s subject (RDNs, most significant first) as X500Principal.getName(): last RDN first."""
    return ",".join("+".join(_ava(k, v) for k, v in rdn) for rdn in reversed(subject))


class PrincipalMapper:
    """ssl.principal.mapping.rules (SslPrincipalMapper): DEFAULT keeps the DN; RULE:pattern/replacement/[LU]
    applies to a DN the pattern matches whole; the first rule that matches wins."""

    _RULE = re.compile(r"\s*(?:(DEFAULT)|RULE:((?:\\.|[^\\/])*)/((?:\\.|[^\\/])*)/([LU]?))\s*(?:,|$)")

    def __init__(self, rules: str) -> None:
        self.text = rules
        self.rules: list[tuple[re.Pattern[str], str, str] | None] = []
        pos = 0
        while pos < len(rules):
            m = self._RULE.match(rules, pos)
            if m is None or m.end() == pos:
                raise ConfigError(f"Invalid rule: {rules[pos:]}")
            pos = m.end()
            if m.group(1):
                self.rules.append(None)
            else:
                replacement = re.sub(r"\$(\d)", r"\\\1", m.group(3))  # Java's $1 is Python's \1
                self.rules.append((re.compile(m.group(2)), replacement, m.group(4)))

    def name(self, dn: str) -> str:
        for rule in self.rules:
            if rule is None:
                return dn
            pattern, replacement, case = rule
            if pattern.fullmatch(dn):
                out = pattern.sub(replacement, dn)
                return out.lower() if case == "L" else out.upper() if case == "U" else out
        raise ValueError(f"No rules apply to {dn}, rules {self.text}")


def certificate_principal(peercert: dict | None, mapper: PrincipalMapper) -> str:
    """DefaultKafkaPrincipalBuilder on SSL: User:<mapped DN>, or User:ANONYMOUS without a client certificate."""
    if not peercert or "subject" not in peercert:
        return ANONYMOUS
    return "User:" + mapper.name(rfc2253(peercert["subject"]))
