"""The SASL servers Brook offers (Kafka's PlainSaslServer, ScramSaslServer and OAuthBearerSaslServer with the
unsecured JWS validator) and the JAAS text they read their options from. Each takes client tokens and returns the
next challenge until `complete`; no I/O, no asyncio.

Two failures, as in Kafka: AuthenticationFailed carries a message the client may see (SaslAuthenticationException);
SaslError is any other failure, and the client gets only the generic "invalid credentials" message."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import time
from collections.abc import Callable, Mapping

from brook.config.definition import ConfigError
from brook.metadata import ScramCredential

PLAIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule"


class AuthenticationFailed(Exception):
    """SaslAuthenticationException: its message goes to the client."""


class SaslError(Exception):
    """SaslException: the client sees only the generic message."""


# -- JAAS ---------------------------------------------------------------------------------------------------------
_JAAS_ENTRY = re.compile(r"\s*([\w.$]+)\s+(required|requisite|sufficient|optional)\s*"
                         r"((?:[^;\"']|\"[^\"]*\"|'[^']*')*);", re.IGNORECASE)
_JAAS_OPTION = re.compile(r"\s*([\w.\-]+)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"';]+)")


def parse_jaas(text: str) -> list[tuple[str, dict[str, str]]]:
    """sasl.jaas.config (JaasConfig): `<LoginModule> <flag> key="value" ...;` entries -> (module, options)."""
    entries = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _JAAS_ENTRY.match(text, pos)
        if m is None:
            raise ConfigError("Value not specified for key '" + text[pos:].strip()[:40] + "' in JAAS config")
        options: dict[str, str] = {}
        body = m.group(3)
        opt_pos = 0
        while body[opt_pos:].strip():
            o = _JAAS_OPTION.match(body, opt_pos)
            if o is None:
                raise ConfigError(f"Value not specified for key '{body[opt_pos:].strip()}' in JAAS config")
            value = o.group(2)
            options[o.group(1)] = value[1:-1] if value[:1] in "\"'" else value
            opt_pos = o.end()
        entries.append((m.group(1), options))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    if not entries:
        raise ConfigError("JAAS config entry not terminated by semi-colon")
    return entries


# -- PLAIN --------------------------------------------------------------------------------------------------------
class PlainServer:
    """RFC 4616 against the `user_<name>="<password>"` options of the PlainLoginModule entry."""

    mechanism = "PLAIN"

    def __init__(self, users: Mapping[str, str]) -> None:
        self.users = users
        self.complete = False
        self.authorization_id = ""
        self.lifetime_ms: int | None = None

    def evaluate(self, token: bytes) -> bytes:
        if self.complete:
            raise SaslError("PLAIN authentication already complete")
        parts = token.decode("utf-8", "replace").split("\x00")
        if len(parts) != 3:
            raise SaslError(f"Invalid SASL/PLAIN response: expected 3 tokens, got {len(parts)}")
        authzid, username, password = parts
        if not username:
            raise AuthenticationFailed("Authentication failed: username not specified")
        if not password:
            raise AuthenticationFailed("Authentication failed: password not specified")
        expected = self.users.get(username)
        if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
            raise AuthenticationFailed("Authentication failed: Invalid username or password")
        if authzid and authzid != username:
            raise AuthenticationFailed("Authentication failed: Client requested an authorization id that is different "
                                       "from username")
        self.authorization_id = username
        self.complete = True
        return b""


def plain_users(jaas: str | None, listener: str) -> dict[str, str]:
    if jaas is None:
        raise ConfigError(f"Could not find a 'KafkaServer' or '{listener.lower()}.KafkaServer' entry in the JAAS "
                          "configuration: set listener.name.<listener>.plain.sasl.jaas.config")
    for module, options in parse_jaas(jaas):
        if module == PLAIN_MODULE:
            return {k[5:]: v for k, v in options.items() if k.startswith("user_")}
    raise ConfigError(f"No {PLAIN_MODULE} entry in the JAAS configuration of listener {listener}")


# -- SCRAM --------------------------------------------------------------------------------------------------------
class ScramServer:
    """RFC 5802/7677 through scramp against the credentials kafka-configs --entity-type users stores."""

    def __init__(self, mechanism: str, lookup: Callable[[str], ScramCredential | None]) -> None:
        self.mechanism = mechanism
        self.lookup = lookup
        self.complete = False
        self.authorization_id = ""
        self.lifetime_ms: int | None = None
        import scramp  # with asn1crypto some megabytes: loaded by the first SCRAM exchange

        self.server = scramp.ScramMechanism(mechanism).make_server(self._auth_info)
        self.step = 0

    def _auth_info(self, sasl_name: str) -> tuple[bytes, bytes, bytes, int]:
        username = sasl_name.replace("=2C", ",").replace("=3D", "=")  # ScramFormatter.username
        credential = self.lookup(username)
        if credential is None:
            raise SaslError("Authentication failed: Invalid user credentials")
        self.authorization_id = username
        return (base64.b64decode(credential.salt), base64.b64decode(credential.stored_key),
                base64.b64decode(credential.server_key), credential.iterations)

    def _tolerate_repeated_client_nonce(self, client_final: str) -> None:
        """Kafka accepts a final nonce that merely ends with the combined one (ScramSaslServer: endsWith), and
        librdkafka 2.0 sends the client nonce twice; scramp wants equality, so it is told the nonce as sent (the
        proof still covers the message as sent)."""
        sent = next((kv[2:] for kv in client_final.split(",") if kv.startswith("r=")), "")
        expected = str(self.server.nonce)
        if sent != expected and sent.endswith(expected):
            import scramp

            self.server.nonce = scramp.core.Nonce(sent)

    def evaluate(self, token: bytes) -> bytes:
        try:
            message = token.decode("utf-8")
            if self.step == 0:
                self.server.set_client_first(message)
                self.step = 1
                return self.server.get_server_first().encode()
            if self.step == 1:
                self._tolerate_repeated_client_nonce(message)
                self.server.set_client_final(message)
                self.step = 2
                self.complete = True
                return self.server.get_server_final().encode()
        except SaslError:
            raise
        except Exception as e:  # scramp's ScramException, or anything else a malformed message provokes
            raise SaslError(str(e)) from e
        raise SaslError("Unexpected SCRAM message after the exchange completed")


# -- OAUTHBEARER (unsecured JWS, for development, as Kafka ships it) ---------------------------------------------
class OAuthBearerUnsecuredServer:
    """RFC 7628 with OAuthBearerUnsecuredValidatorCallbackHandler's checks: an `alg: none` JWS whose principal
    claim (`sub`) is a string and whose `exp` has not passed. A refused token gets the JSON error challenge; the
    client's \\x01 reply then ends the exchange with that JSON as the failure message."""

    mechanism = "OAUTHBEARER"

    def __init__(self, options: Mapping[str, str]) -> None:
        self.principal_claim = options.get("unsecuredValidatorPrincipalClaimName", "sub")
        self.skew_ms = int(options.get("unsecuredValidatorAllowableClockSkewMs", "0") or 0)
        self.complete = False
        self.authorization_id = ""
        self.lifetime_ms: int | None = None
        self.error: str | None = None

    def evaluate(self, token: bytes) -> bytes:
        if self.error is not None:
            if token == b"\x01":
                raise AuthenticationFailed(self.error)
            raise SaslError("Expected the client's \\x01 after an error challenge")
        gs2, sep, rest = token.partition(b"\x01")
        if not sep or not gs2.startswith((b"n,", b"y,")):
            raise SaslError("Invalid OAUTHBEARER client first message")
        pairs = dict(kv.partition(b"=")[::2] for kv in rest.split(b"\x01") if kv)
        auth = pairs.get(b"auth", b"").decode("utf-8", "replace")
        if not auth.startswith("Bearer "):
            raise SaslError("Invalid OAUTHBEARER client first message: no auth=Bearer")
        try:
            principal, exp_ms = self._validate(auth[7:].strip())
        except ValueError:
            self.error = json.dumps({"status": "invalid_token"}, separators=(",", ":"))
            return self.error.encode()
        self.authorization_id = principal
        self.lifetime_ms = max(0, exp_ms - int(time.time() * 1000))
        self.complete = True
        return b""

    def _validate(self, jws: str) -> tuple[str, int]:
        parts = jws.split(".")
        if len(parts) != 3 or parts[2]:
            raise ValueError("not an unsecured JWS")
        try:
            header, claims = (json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in parts[:2])
        except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(str(e)) from e
        if not isinstance(header, dict) or header.get("alg") != "none" or not isinstance(claims, dict):
            raise ValueError("alg is not none")
        principal, exp = claims.get(self.principal_claim), claims.get("exp")
        if not isinstance(principal, str) or not principal or not isinstance(exp, (int, float)):
            raise ValueError("missing claims")
        exp_ms = int(exp * 1000)
        if exp_ms + self.skew_ms <= int(time.time() * 1000):
            raise ValueError("expired")
        return principal, exp_ms
