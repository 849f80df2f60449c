"""HTTP Basic authentication for the REST servers around the log, as their upstreams configure it: a JAAS file
named by `-Djava.security.auth.login.config=<file>` in the service's *_OPTS variable (KAFKA_OPTS for Connect,
SCHEMA_REGISTRY_OPTS for the registry, KSQL_OPTS for ksqlDB), whose section (the realm) names a property-file
login module and its `file` of users.

- Jetty's PropertyFileLoginModule (the registry, ksqlDB): `user: password[,role ...]`, the password plain or
  `OBF:` / `MD5:` / `CRYPT:` as Jetty's Credential reads them; `authentication.roles` lists the roles let in
  (`*` or `**`: every authenticated user), others get 403.
- Connect's PropertyFileLoginModule: `user: password` (the whole value is the password); an empty file lets every
  request in, as Kafka's does.

The check is an ASGI middleware in front of the app; each service answers a failed login with its upstream's
status, body and (for Jetty and Vert.x) `WWW-Authenticate: Basic realm="..."` challenge."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import shlex
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from brook.config.definition import ConfigError
from brook.config.properties import load_properties

JETTY_MODULES = ("org.eclipse.jetty.jaas.spi.PropertyFileLoginModule",
                 "org.eclipse.jetty.plus.jaas.spi.PropertyFileLoginModule")
CONNECT_MODULE = "org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule"
CONNECT_EXTENSION = "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension"
_SECTION = re.compile(r"([\w.\-$]+)\s*\{(.*?)\}\s*;", re.S)
_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*|^\s*#[^\n]*", re.S | re.M)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def jaas_file(env_var: str) -> str | None:
    """The file of -Djava.security.auth.login.config=<file> in $env_var (as the JVM reads it), or None."""
    for word in shlex.split(os.environ.get(env_var, "")):
        if word.startswith("-Djava.security.auth.login.config="):
            return word.split("=", 1)[1].removeprefix("=")  # ==<file> replaces rather than adds: the same here
    return None


def jaas_section(env_var: str, realm: str) -> list[tuple[str, dict[str, str]]]:
    """The login modules of section `realm` in the JAAS file of $env_var."""
    from brook.broker.sasl_mechanisms import parse_jaas

    path = jaas_file(env_var)
    if path is None:
        raise ConfigError(f"No JAAS configuration: set {env_var}=\"-Djava.security.auth.login.config=<file>\" for "
                          f"the realm {realm}")
    try:
        with open(path, encoding="utf-8") as f:
            text = _COMMENTS.sub("", f.read())
    except OSError as e:
        raise ConfigError(f"Cannot read the JAAS configuration {path}: {e}") from e
    for name, body in _SECTION.findall(text):
        if name == realm:
            return parse_jaas(body)
    raise ConfigError(f"No LoginModules configured for {realm} in {path}")


# -- credentials -------------------------------------------------------------------------------------------------
def deobfuscate(text: str) -> str:
    """Jetty's Password.deobfuscate (the OBF: form): base-36 groups of four (five after a 'U')."""
    out = bytearray()
    i = 0
    while i < len(text):
        if text[i] == "U":
            i += 1
            out.append((int(text[i:i + 4], 36) >> 8) & 0xFF)
        else:
            n = int(text[i:i + 4], 36)
            out.append(((n // 256 + n % 256 - 254) // 2) & 0xFF)
        i += 4
    return out.decode("utf-8", errors="replace")


def credential_matches(stored: str, password: str) -> bool:
    """Jetty's Credential.getCredential(stored).check(password)."""
    if stored.startswith("OBF:"):
        stored = deobfuscate(stored[4:])
    elif stored.startswith("MD5:"):
        digest = hashlib.md5(password.encode(), usedforsecurity=False).hexdigest()
        return hmac.compare_digest(digest, stored[4:].lower())
    elif stored.startswith("CRYPT:"):
        try:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                import crypt  # the standard library's until Python 3.13
        except ImportError:
            return False
        return hmac.compare_digest(crypt.crypt(password, stored[6:]) or "", stored[6:])
    return hmac.compare_digest(stored.encode(), password.encode())


@dataclass
class UserStore:
    """One login module's users: name -> (credential, roles)."""

    users: dict[str, tuple[str, list[str]]]
    roles_in_value: bool  # Jetty's `password,role,...`; Connect's value is the password alone
    open_when_empty: bool = False  # Connect: an empty file lets everyone in

    @classmethod
    def load(cls, module: str, options: dict[str, str]) -> UserStore:
        if module not in JETTY_MODULES and module != CONNECT_MODULE:
            raise ConfigError(f"Unsupported JAAS login module {module}: Brook reads {JETTY_MODULES[0]} and "
                              f"{CONNECT_MODULE}")
        path = options.get("file", "").strip()
        if not path:
            raise ConfigError("Property Credentials file must be specified")
        try:
            props = load_properties(path)
        except OSError as e:
            raise ConfigError(f"Error loading Property Credentials file {path}: {e}") from e
        jetty = module in JETTY_MODULES
        users: dict[str, tuple[str, list[str]]] = {}
        for name, value in props.items():
            if jetty:
                credential, *roles = [p.strip() for p in value.split(",")]
                users[name] = (credential, [r for r in roles if r])
            else:
                users[name] = (value, [])
        return cls(users, jetty, open_when_empty=not jetty)

    def login(self, user: str | None, password: str | None) -> list[str] | None:
        """The user's roles when the password matches, else None."""
        if self.open_when_empty and not self.users:
            return []
        if user is None or password is None or user not in self.users:
            return None
        stored, roles = self.users[user]
        return roles if credential_matches(stored, password) else None


def parse_basic(header: str | None) -> tuple[str | None, str | None]:
    """An Authorization header's Basic user and password (None, None when absent or malformed)."""
    if not header:
        return None, None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep and user else (None, None)


# -- the services' answers ---------------------------------------------------------------------------------------
Reject = Callable[[int], tuple[bytes, str]]


def confluent_reject(status: int) -> tuple[bytes, str]:
    """rest-utils (the schema registry): Jetty's error as Confluent's JSON error."""
    message = "Unauthorized" if status == 401 else "Forbidden"
    return json.dumps({"error_code": status, "message": message}).encode(), "application/json"


def ksql_reject(status: int) -> tuple[bytes, str]:
    """ksqlDB's FailureHandler: a KsqlErrorMessage with error code 40100 / 40300."""
    message = "Unauthorized" if status == 401 else "Forbidden"
    body = {"@type": "generic_error", "error_code": status * 100, "message": message}
    return json.dumps(body, separators=(",", ":")).encode(), "application/json"


def connect_reject(status: int) -> tuple[bytes, str]:
    """Kafka's JaasBasicAuthFilter: 401 and a plain-text entity, no challenge."""
    return b"User cannot access the resource.", "text/plain"


@dataclass
class BasicAuth:
    realm: str
    stores: list[UserStore]
    reject: Reject
    challenge: bool = True  # WWW-Authenticate on 401 (Jetty, Vert.x); Connect's filter sends none
    roles: list[str] | None = None  # None: no role check (Connect)
    skip_paths: list[str] = field(default_factory=list)

    def check(self, header: str | None) -> int:
        """200 (in), 401 (no or wrong credentials) or 403 (no allowed role)."""
        user, password = parse_basic(header)
        for store in self.stores:
            roles = store.login(user, password)
            if roles is None:
                continue
            if self.roles is None or "*" in self.roles or "**" in self.roles:
                return 200
            return 200 if set(roles) & set(self.roles) else 403
        return 401

    def skips(self, path: str) -> bool:
        return any(path == p or (p.endswith("/*") and path.startswith(p[:-1])) for p in self.skip_paths)


def rest_utils_auth(props: dict[str, str], env_var: str, reject: Reject) -> BasicAuth | None:
    """Confluent rest-utils' settings (the registry; ksqlDB keeps their names): authentication.method NONE or
    BASIC, authentication.realm, authentication.roles (default *), authentication.skip.paths."""
    method = props.get("authentication.method", "NONE").strip().upper()
    if method in ("", "NONE"):
        return None
    if method != "BASIC":
        raise ConfigError(f"Unsupported authentication.method {method}: Brook supports NONE and BASIC")
    realm = props.get("authentication.realm", "").strip()
    if not realm:
        raise ConfigError("authentication.method=BASIC needs authentication.realm (the JAAS section)")
    stores = [UserStore.load(m, o) for m, o in jaas_section(env_var, realm)]
    roles = [r.strip() for r in props.get("authentication.roles", "*").split(",") if r.strip()]
    skip = [p.strip() for p in props.get("authentication.skip.paths", "").split(",") if p.strip()]
    return BasicAuth(realm, stores, reject, True, roles, skip)


def connect_auth(props: dict[str, str]) -> BasicAuth | None:
    """rest.extension.classes with Kafka's BasicAuthSecurityRestExtension: the KafkaConnect JAAS section."""
    extensions = [c.strip() for c in props.get("rest.extension.classes", "").split(",") if c.strip()]
    unknown = [c for c in extensions if c != CONNECT_EXTENSION]
    if unknown:
        raise ConfigError(f"Unsupported rest.extension.classes {','.join(unknown)}: Brook provides "
                          f"{CONNECT_EXTENSION}")
    if not extensions:
        return None
    stores = [UserStore.load(m, o) for m, o in jaas_section("KAFKA_OPTS", "KafkaConnect")]
    return BasicAuth("KafkaConnect", stores, connect_reject, challenge=False)


class BasicAuthMiddleware:
    """Every HTTP request passes BasicAuth.check first (a WebSocket upgrade is closed with 1008 instead)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], auth: BasicAuth) -> None:
        self.app, self.auth = app, auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.auth.skips(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        header = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"authorization"),
                      None)
        status = self.auth.check(header)
        if status == 200:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body, content_type = self.auth.reject(status)
        headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
        if status == 401 and self.auth.challenge:
            headers.append((b"www-authenticate", f'Basic realm="{self.auth.realm}"'.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
