"""The server side of a SASL connection before (and during re-) authentication, Kafka's SaslServerAuthenticator:
ApiVersions (once, first), then SaslHandshake, then the mechanism's tokens, either raw (SaslHandshake v0: a
size-prefixed token, no Kafka header) or in SaslAuthenticate requests (v1+). Anything else closes the connection.

A connection on a SASL listener dispatches its frames here until the exchange completes; then it switches to the
broker's dispatcher, so an authenticated connection (and any PLAINTEXT one) pays nothing per request. A failed
login gets its error response and is closed after connection.failed.authentication.delay.ms (KIP-306), reading
nothing more meanwhile."""

from __future__ import annotations

import asyncio
import datetime
import logging
import struct
from typing import TYPE_CHECKING, Any

from brook.errors import ErrorCode
from brook.protocol.build import make
from brook.protocol.header import MalformedRequest, RequestHeader, decode_request, encode_response, peek_key_version
from brook.protocol.versions import api_name, response_class

from .connection import CLOSE
from .sasl_mechanisms import AuthenticationFailed, SaslError

if TYPE_CHECKING:
    from .connection import KafkaConnection
    from .dispatch import DispatchResult
    from .listeners import ListenerSecurity

log = logging.getLogger("org.apache.kafka.common.network.Selector")

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
INITIAL, HANDSHAKE_OR_VERSIONS, HANDSHAKE, AUTHENTICATE = range(4)
_LEN = struct.Struct(">i")


def kafka_api_name(api_key: int) -> str:
    """ApiKeys' enum name, as Kafka's messages print it (METADATA)."""
    return api_name(api_key).upper()


class IllegalSaslState(Exception):
    """IllegalSaslStateException: an authentication failure without a response."""


class SaslAuthenticator:
    def __init__(self, conn: KafkaConnection, security: ListenerSecurity, reauth_of: tuple[str, str] | None = None):
        self.conn = conn
        self.security = security
        self.state = INITIAL if reauth_of is None else HANDSHAKE
        self.reauth_of = reauth_of  # (mechanism, principal) of the session being renewed
        self.kafka_headers = False
        self.mechanism = ""
        self.server: Any = None

    # -- frames ---------------------------------------------------------------------------------------------------
    def dispatch(self, conn: KafkaConnection, frame: bytes) -> DispatchResult:
        try:
            if self.state == AUTHENTICATE:
                return self._token(frame)
            return self._kafka_request(frame)
        except IllegalSaslState as e:
            log.info("Failed authentication with /%s (channelId=%s) (%s)", conn.host, conn.peer, e)
            return self.fail(None)
        except Exception:  # a bug must cost this connection only, as the dispatcher's guard does for requests
            log.exception("Error during SASL authentication of %s", conn.peer)
            return CLOSE

    def _kafka_request(self, frame: bytes) -> DispatchResult:
        try:
            api_key, version = peek_key_version(frame)
        except MalformedRequest:
            raise IllegalSaslState("Exception handling first SASL packet from client, GSSAPI is not supported by "
                                   "server") from None
        first = self.state == INITIAL
        if first:
            self.state = HANDSHAKE_OR_VERSIONS
        if api_key == API_VERSIONS:
            if not first:  # Kafka: IllegalStateException, an immediate close
                log.info("Closing connection from %s: unexpected ApiVersions request during SASL authentication",
                         self.conn.peer)
                return CLOSE
            self.state = HANDSHAKE
            return self.conn.broker.dispatcher.dispatch(self.conn, frame)
        if api_key != SASL_HANDSHAKE:
            raise IllegalSaslState(f"Unexpected Kafka request of type {kafka_api_name(api_key)} during SASL "
                                   "handshake.")
        header, request = self._decode(frame, api_key, version)
        return self.handshake(header, request)

    def _decode(self, frame: bytes, api_key: int, version: int) -> tuple[RequestHeader, Any]:
        handler = self.conn.broker.registry[api_key]
        if not handler.min_version <= version <= handler.max_version:
            raise IllegalSaslState(f"Version {version} is not supported for apiKey {kafka_api_name(api_key)}")
        try:
            return decode_request(frame)
        except MalformedRequest as e:
            raise IllegalSaslState(str(e)) from None

    def handshake(self, header: RequestHeader, request: Any) -> DispatchResult:
        """SaslHandshake: the mechanism, if enabled, and the framing of the tokens that follow."""
        mechanism = str(request.mechanism)
        cls = response_class(SASL_HANDSHAKE, header.api_version)
        enabled = tuple(self.security.mechanisms)
        if mechanism not in enabled or (self.reauth_of is not None and mechanism != self.reauth_of[0]):
            log.info("Failed authentication with /%s (channelId=%s) (Unsupported SASL mechanism %s)",
                     self.conn.host, self.conn.peer, mechanism)
            return self.fail(encode_response(header, make(cls, error_code=ErrorCode.unsupported_sasl_mechanism,
                                                          mechanisms=enabled)))
        self.kafka_headers = header.api_version >= 1
        self.mechanism = mechanism
        self.server = self.security.servers[mechanism]()
        self.state = AUTHENTICATE
        self.conn.dispatch = self.dispatch
        return encode_response(header, make(cls, error_code=ErrorCode.none, mechanisms=enabled))

    def _token(self, frame: bytes) -> DispatchResult:
        if not self.kafka_headers:
            return self._evaluate(frame, None)
        api_key, version = peek_key_version(frame) if len(frame) >= 8 else (-1, -1)
        if api_key != SASL_AUTHENTICATE:
            raise IllegalSaslState(f"Unexpected Kafka request of type {kafka_api_name(api_key)} during SASL "
                                   "authentication.")
        header, request = self._decode(frame, api_key, version)
        if version > 0:
            self.conn.reauthenticates = True
        return self._evaluate(bytes(request.auth_bytes), header)

    def _evaluate(self, token: bytes, header: RequestHeader | None) -> DispatchResult:
        server = self.server
        try:
            challenge = server.evaluate(token)
            if server.complete and self.reauth_of is not None and self._principal() != self.reauth_of[1]:
                raise AuthenticationFailed(f"Cannot change principals during re-authentication from "
                                           f"{self.reauth_of[1]}: {self._principal()}")
        except (AuthenticationFailed, SaslError) as e:
            message = str(e) if isinstance(e, AuthenticationFailed) else (
                f"Authentication failed during {'re' if self.reauth_of else ''}authentication due to invalid "
                f"credentials with SASL mechanism {self.mechanism}")
            log.info("Failed authentication with /%s (channelId=%s) (%s)", self.conn.host, self.conn.peer, message)
            log.debug("SASL %s failure: %s", self.mechanism, e)
            return self.fail(None if header is None else self._response(header, ErrorCode.sasl_authentication_failed,
                                                                          message, b"", 0))
        lifetime = self._complete() if server.complete else 0
        if header is None:
            return _LEN.pack(len(challenge)) + challenge
        return self._response(header, ErrorCode.none, None, challenge, lifetime)

    @staticmethod
    def _response(header: RequestHeader, code: ErrorCode, message: str | None, auth: bytes, lifetime: int) -> bytes:
        cls = response_class(SASL_AUTHENTICATE, header.api_version)
        return encode_response(header, make(cls, error_code=code, error_message=message, auth_bytes=auth,
                                            session_lifetime=datetime.timedelta(milliseconds=lifetime)))

    def _principal(self) -> str:
        return "User:" + self.server.authorization_id

    def _complete(self) -> int:
        """The session is established: the principal, the broker's dispatcher, and KIP-368's session lifetime (the
        shorter of connections.max.reauth.ms and the credential's own, 0 for neither)."""
        lifetimes = [ms for ms in (self.security.reauth_ms or None, self.server.lifetime_ms) if ms is not None]
        lifetime = min(lifetimes) if lifetimes else 0
        self.conn.authenticated(self._principal(), self.mechanism, lifetime if lifetimes else None)
        return lifetime

    # -- failure --------------------------------------------------------------------------------------------------
    def fail(self, response: bytes | None) -> DispatchResult:
        """Kafka's delayed close on an authentication failure: nothing more is read; after the delay, the response
        (if any) is sent and the connection closed."""
        conn = self.conn
        self.conn.dispatch = _closed
        if conn.transport is not None and not conn.closed:
            conn.transport.pause_reading()
        delay = self.security.failed_delay_ms / 1000
        return _close_later(conn, response, delay)


def _closed(conn: KafkaConnection, frame: bytes) -> DispatchResult:
    return CLOSE


async def _close_later(conn: KafkaConnection, response: bytes | None, delay: float) -> object:
    if delay > 0:
        await asyncio.sleep(delay)
    if response is not None and conn.transport is not None and not conn.closed:
        conn.transport.write(response)
    return CLOSE
