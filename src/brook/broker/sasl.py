"""The server side of a SASL connection before (and during re-) authentication, Kafka's SaslServerAuthenticator:
ApiVersions (once, first), then SaslHandshake, then the mechanism's tokens, either raw (SaslHandshake v0: a
size-prefixed token, no Kafka header) or in SaslAuthenticate requests (v1+).

Kafka's two kinds of failure: an authentication failure (AuthenticationException: a request other than those two
before the handshake, an unknown mechanism, wrong credentials, a request other than SaslAuthenticate in the middle
of a v1 exchange) is logged as "Failed authentication", and the connection is closed after
connection.failed.authentication.delay.ms (KIP-306), reading nothing more meanwhile; its error response, if it has
one, is sent just before the close (UNSUPPORTED_SASL_MECHANISM, SASL_AUTHENTICATION_FAILED, ILLEGAL_SASL_STATE in
the response of the request's own type). Anything else (an unreadable request, a second ApiVersions) closes the
connection at once without a response.

A connection on a SASL listener dispatches its frames here until the exchange completes; then it switches to the
broker's dispatcher, so an authenticated connection (and any PLAINTEXT one) pays nothing per request."""

from __future__ import annotations

import asyncio
import datetime
import logging
import struct
from typing import TYPE_CHECKING, Any

from brook.errors import ErrorCode
from brook.protocol.build import make
from brook.protocol.error_response import error_response
from brook.protocol.header import MalformedRequest, RequestHeader, decode_request, encode_response, peek_key_version
from brook.protocol.versions import api_name, response_class, schema_versions

from .connection import CLOSE
from .handlers import api_versions
from .sasl_mechanisms import AuthenticationFailed, SaslError

if TYPE_CHECKING:
    from .connection import KafkaConnection
    from .dispatch import DispatchResult
    from .listeners import ListenerSecurity

log = logging.getLogger("org.apache.kafka.common.network.Selector")

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
# SaslServerAuthenticator.SaslState (COMPLETE and FAILED are the connection's dispatcher and _closed here)
INITIAL, HANDSHAKE_OR_VERSIONS, HANDSHAKE, AUTHENTICATE, REAUTH_BAD_MECHANISM = range(5)
STATE_NAMES = ("INITIAL_REQUEST", "HANDSHAKE_OR_VERSIONS_REQUEST", "HANDSHAKE_REQUEST", "AUTHENTICATE",
               "REAUTH_BAD_MECHANISM")
_LEN = struct.Struct(">i")


def kafka_api_name(api_key: int) -> str:
    """ApiKeys' enum name, as Kafka's messages print it (METADATA, SASL_HANDSHAKE)."""
    name = api_name(api_key)
    return "".join("_" + c if c.isupper() and i else c for i, c in enumerate(name)).upper()


class AuthenticationError(Exception):
    """AuthenticationException: a delayed close, with the error response (if any) sent just before it."""

    def __init__(self, message: str, response: bytes | None = None) -> None:
        super().__init__(message)
        self.response = response


class InvalidRequest(Exception):
    """Any other failure (InvalidRequestException, IllegalStateException, SaslException on raw tokens): the
    connection is closed at once, without a response."""


class SaslIOError(InvalidRequest):
    """A SaslException on a raw token: an IOException to Kafka's Selector, which logs it at DEBUG only."""


class SaslAuthenticator:
    def __init__(self, conn: KafkaConnection, security: ListenerSecurity, reauth_of: tuple[str, str] | None = None):
        self.conn = conn
        self.security = security
        self.state = INITIAL if reauth_of is None else HANDSHAKE
        self.reauth_of = reauth_of  # (mechanism, principal) of the session being renewed
        self.kafka_headers = False
        self.mechanism = ""
        self.server: Any = None
        self.bad_mechanism = ""  # REAUTH_BAD_MECHANISM's message

    # -- frames ---------------------------------------------------------------------------------------------------
    def dispatch(self, conn: KafkaConnection, frame: bytes) -> DispatchResult:
        try:
            if self.state == AUTHENTICATE:
                return self._token(frame)
            if self.state == REAUTH_BAD_MECHANISM:
                raise AuthenticationError(self.bad_mechanism)
            return self._kafka_request(frame)
        except AuthenticationError as e:
            return self._failed(str(e), e.response)
        except SaslIOError as e:
            log.debug("Connection with /%s (channelId=%s) disconnected (%s)", conn.host, conn.peer, e)
            conn.dispatch = _closed
            return CLOSE
        except InvalidRequest as e:
            log.warning("Unexpected error from /%s (channelId=%s); closing connection (%s)", conn.host, conn.peer, e)
            conn.dispatch = _closed
            return CLOSE
        except Exception:  # a bug must cost this connection only, as the dispatcher's guard does for requests
            log.exception("Error during SASL authentication of %s", conn.peer)
            return CLOSE

    def _kafka_request(self, frame: bytes) -> DispatchResult:
        """handleKafkaRequest: before the mechanism's tokens only ApiVersions and SaslHandshake are read."""
        first = self.state == INITIAL
        try:
            api_key, version = _known_key(frame)
        except InvalidRequest:
            if first:  # Kafka 0.9's GSSAPI clients sent a token first; Brook has no GSSAPI
                raise AuthenticationError("Exception handling first SASL packet from client, GSSAPI is not "
                                          "supported by server") from None
            raise
        if first:
            self.state = HANDSHAKE_OR_VERSIONS
        if api_key not in (API_VERSIONS, SASL_HANDSHAKE):  # refused before the request is parsed, as Kafka does
            raise AuthenticationError(f"Unexpected Kafka request of type {kafka_api_name(api_key)} during SASL "
                                      "handshake.")
        if api_key == API_VERSIONS:
            return self._api_versions(frame, version)
        header, request = self._decode(frame, api_key, version)
        return self.handshake(header, request)

    def _api_versions(self, frame: bytes, version: int) -> DispatchResult:
        """handleApiVersionsRequest: once, before the handshake. An unsupported version or invalid client software
        name gets its error response and leaves the state as it is, so the client can ask again."""
        if self.state != HANDSHAKE_OR_VERSIONS:
            raise InvalidRequest(f"Unexpected ApiVersions request received during SASL authentication state "
                                 f"{STATE_NAMES[self.state]}")
        handler = self.conn.broker.registry[API_VERSIONS]
        if not handler.min_version <= version <= handler.max_version:
            return api_versions.unsupported_version_response(self.conn.broker, _correlation_id(frame))
        header, request = self._decode(frame, API_VERSIONS, version)
        if not api_versions.is_valid(request, version):
            return encode_response(header, api_versions.invalid_request_response(version))
        self.state = HANDSHAKE
        return self.conn.broker.dispatcher.dispatch(self.conn, frame)

    def _decode(self, frame: bytes, api_key: int, version: int) -> tuple[RequestHeader, Any]:
        """RequestContext.parseRequest: a version Brook does not serve, or bytes that do not read as the request,
        are an InvalidRequestException."""
        handler = self.conn.broker.registry.get(api_key)
        if handler is not None and not handler.min_version <= version <= handler.max_version:
            raise InvalidRequest(f"Error getting request for apiKey: {kafka_api_name(api_key)}, apiVersion: "
                                 f"{version}: not supported")
        try:
            return decode_request(frame)
        except (MalformedRequest, RuntimeError) as e:  # kio's UnknownAPIKey/UnknownEntity for other versions
            raise InvalidRequest(f"Error getting request for apiKey: {kafka_api_name(api_key)}, apiVersion: "
                                 f"{version}: {e}") from None

    def handshake(self, header: RequestHeader, request: Any) -> DispatchResult:
        """SaslHandshake: the mechanism, if enabled, and the framing of the tokens that follow. Also the start of a
        re-authentication (the handler of SaslHandshake on an authenticated connection calls this)."""
        mechanism = str(request.mechanism)
        cls = response_class(SASL_HANDSHAKE, header.api_version)
        enabled = tuple(self.security.mechanisms)
        self.conn.dispatch = self.dispatch
        if mechanism not in enabled:
            return self._failed(f"Unsupported SASL mechanism {mechanism}", encode_response(
                header, make(cls, error_code=ErrorCode.unsupported_sasl_mechanism, mechanisms=enabled)))
        self.kafka_headers = header.api_version >= 1
        if self.reauth_of is not None and mechanism != self.reauth_of[0]:
            # Kafka accepts the handshake, then fails the next packet (so the failed re-authentication is counted)
            self.bad_mechanism = (f"SASL mechanism '{mechanism}' requested by client is not supported for "
                                  f"re-authentication of mechanism '{self.reauth_of[0]}'")
            self.state = REAUTH_BAD_MECHANISM
        else:
            self.mechanism = mechanism
            self.server = self.security.servers[mechanism]()
            self.state = AUTHENTICATE
        return encode_response(header, make(cls, error_code=ErrorCode.none, mechanisms=enabled))

    def _token(self, frame: bytes) -> DispatchResult:
        """handleSaslToken: a raw token after SaslHandshake v0; after v1, a SaslAuthenticate request, and any other
        (readable) request gets ILLEGAL_SASL_STATE in its own response type before the delayed close."""
        if not self.kafka_headers:
            return self._evaluate(frame, None)
        api_key, version = _known_key(frame)
        if api_key == API_VERSIONS and not self._serves(API_VERSIONS, version):
            header = RequestHeader(API_VERSIONS, 0, _correlation_id(frame), None, False)  # read as v0, as Kafka
            request: Any = None
        else:
            header, request = self._decode(frame, api_key, version)
        if api_key != SASL_AUTHENTICATE:
            message = f"Unexpected Kafka request of type {kafka_api_name(api_key)} during SASL authentication."
            response = error_response(response_class(api_key, header.api_version), request,
                                      ErrorCode.illegal_sasl_state, message)
            raise AuthenticationError(message, encode_response(header, response))
        return self._evaluate(bytes(request.auth_bytes), header)

    def _serves(self, api_key: int, version: int) -> bool:
        handler = self.conn.broker.registry[api_key]
        return handler.min_version <= version <= handler.max_version

    def _evaluate(self, token: bytes, header: RequestHeader | None) -> DispatchResult:
        server = self.server
        try:
            challenge = server.evaluate(token)
            if server.complete and self.reauth_of is not None and self._principal() != self.reauth_of[1]:
                raise AuthenticationFailed(f"Cannot change principals during re-authentication from "
                                           f"{_dotted(self.reauth_of[1])}: {_dotted(self._principal())}")
        except (AuthenticationFailed, SaslError) as e:
            log.debug("SASL %s failure: %s", self.mechanism, e)
            if header is None:  # raw tokens: no response; a SaslException is an I/O error to Kafka (no delay)
                if isinstance(e, SaslError):
                    raise SaslIOError(str(e)) from None
                raise AuthenticationError(str(e)) from None
            message = str(e) if isinstance(e, AuthenticationFailed) else (
                f"Authentication failed during {'re-' if self.reauth_of else ''}authentication due to invalid "
                f"credentials with SASL mechanism {self.mechanism}")
            raise AuthenticationError(message, self._response(header, ErrorCode.sasl_authentication_failed, message,
                                                              b"", 0)) from None
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
    def _failed(self, message: str, response: bytes | None) -> DispatchResult:
        conn = self.conn
        log.info("Failed %sauthentication with /%s (channelId=%s) (%s)", "re-" if self.reauth_of else "", conn.host,
                 conn.peer, message)
        return self.fail(response)

    def fail(self, response: bytes | None) -> DispatchResult:
        """Kafka's delayed close on an authentication failure: nothing more is read; after the delay, the response
        (if any) is sent and the connection closed."""
        conn = self.conn
        self.conn.dispatch = _closed
        if conn.transport is not None and not conn.closed:
            conn.transport.pause_reading()
        delay = self.security.failed_delay_ms / 1000
        return _close_later(conn, response, delay)


def _known_key(frame: bytes) -> tuple[int, int]:
    """RequestHeader.parse's first step: an API key Kafka knows (any version), else InvalidRequestException."""
    try:
        api_key, version = peek_key_version(frame)
    except MalformedRequest:
        raise InvalidRequest("Error parsing request header. Our best guess of the apiKey is: -1") from None
    try:
        schema_versions(api_key)
    except KeyError:
        raise InvalidRequest(f"Unknown API key {api_key}") from None
    return api_key, version


def _correlation_id(frame: bytes) -> int:
    return int.from_bytes(frame[4:8], "big", signed=True)


def _dotted(principal: str) -> str:
    """KafkaPrincipal's type and name as the re-authentication message prints them (User.alice)."""
    return principal.replace(":", ".", 1)


def _closed(conn: KafkaConnection, frame: bytes) -> DispatchResult:
    return CLOSE


async def _close_later(conn: KafkaConnection, response: bytes | None, delay: float) -> object:
    if delay > 0:
        await asyncio.sleep(delay)
    if response is not None and conn.transport is not None and not conn.closed:
        conn.transport.write(response)
    return CLOSE
