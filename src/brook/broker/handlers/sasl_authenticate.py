"""SaslAuthenticate (key 36), v0-v2, outside an exchange: ILLEGAL_SASL_STATE with KafkaApis' message. During one,
the connection's SaslAuthenticator answers (broker/sasl.py)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from brook.errors import ErrorCode
from brook.protocol.build import make
from brook.protocol.versions import response_class

from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    return make(response_class(36, ctx.api_version), error_code=ErrorCode.illegal_sasl_state,
                error_message="SaslAuthenticate request received after successful authentication", auth_bytes=b"",
                session_lifetime=datetime.timedelta(0))
