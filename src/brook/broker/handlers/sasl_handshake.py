"""SaslHandshake (key 17), v0-v1, after authentication. Before it, the connection's SaslAuthenticator answers
(broker/sasl.py). On an authenticated SASL connection whose session has an end (KIP-368: connections.max.reauth.ms
or the credential's lifetime), the handshake starts a new exchange for the same mechanism and principal, at most
once a second (SocketServer and KafkaChannel); anywhere else it is ILLEGAL_SASL_STATE, as KafkaApis answers."""

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
    if conn.security.sasl and conn.sasl_mechanism is not None and conn.begin_reauthentication():
        return conn.security.authenticator(conn, (conn.sasl_mechanism, conn.principal)).handshake(ctx.header, request)
    return make(response_class(17, ctx.api_version), error_code=ErrorCode.illegal_sasl_state, mechanisms=())
