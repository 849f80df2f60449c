"""ApiVersions (key 18), v0-v4: generated from the handler registry. An unsupported request version gets
Kafka's answer: a v0 response with UNSUPPORTED_VERSION and the supported ranges, so the client can retry."""

from __future__ import annotations

import datetime
import io
import struct

from kio.schema.api_versions.v0.response import ApiVersion as ApiVersionV0
from kio.schema.api_versions.v0.response import ApiVersionsResponse as ApiVersionsResponseV0
from kio.serial import entity_writer

from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

_ZERO = datetime.timedelta(0)


def handle(broker, ctx, request):  # type: ignore[no-untyped-def]
    cls = response_class(18, ctx.api_version)
    api = nested(cls, "ApiVersion")
    keys = tuple(api(api_key=h.api_key, min_version=h.min_version, max_version=h.max_version)
                 for h in sorted(broker.registry.values(), key=lambda h: h.api_key))
    return make(cls, error_code=ErrorCode.none, api_keys=keys, throttle_time=_ZERO)


def unsupported_version_response(broker, correlation_id: int) -> bytes:  # type: ignore[no-untyped-def]
    keys = tuple(ApiVersionV0(api_key=h.api_key, min_version=h.min_version, max_version=h.max_version)
                 for h in sorted(broker.registry.values(), key=lambda h: h.api_key))
    buf = io.BytesIO()
    entity_writer(ApiVersionsResponseV0)(buf, ApiVersionsResponseV0(error_code=ErrorCode.unsupported_version,
                                                                     api_keys=keys))
    body = buf.getvalue()
    return struct.pack(">ii", len(body) + 4, correlation_id) + body
