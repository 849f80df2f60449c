"""SaslHandshake (key 17), v0-v1, after authentication. Before it, the connection's SaslAuthenticator answers
(broker/sasl.py). On an authenticated SASL connection whose client re-authenticates (KIP-368: it used
SaslAuthenticate v1+), the handshake starts a new exchange for the same mechanism and principal; anywhere else it
is ILLEGAL_SASL_STATE, as KafkaApis answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from brook.errors import ErrorCode
from brook.protocol.build import make
from brook.protocol.versions import response_class

from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    conn = ctx.connection
    if conn.security.sasl and conn.sasl_mechanism is not None and conn.reauthenticates:
        return conn.security.authenticator(conn, (conn.sasl_mechanism, conn.principal)).handshake(ctx.header, request)
    return make(response_class(17, ctx.api_version), error_code=ErrorCode.illegal_sasl_state, mechanisms=())
