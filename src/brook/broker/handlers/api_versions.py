"""ApiVersions (key 18), v0-v4: generated from the handler registry. An unsupported request version gets
Kafka's answer: a v0 response with UNSUPPORTED_VERSION and the supported ranges, so the client can retry.

Features (v3+) are a Kafka 3.9 ZooKeeper-mode broker's: it supports none (KafkaServer's
BrokerFeatures.createEmpty()), its finalized features leave metadata.version out (FinalizedFeatures in ZK mode),
and their epoch is the version of the /feature znode the controller created, 0."""

from __future__ import annotations

import datetime
import io
import re
import struct
from typing import TYPE_CHECKING, cast

from kio.schema.api_versions.v0.response import ApiVersion as ApiVersionV0
from kio.schema.api_versions.v0.response import ApiVersionsResponse as ApiVersionsResponseV0
from kio.serial import entity_writer
from kio.static.primitive import i16

from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..registry import ApiHandler
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)
FINALIZED_FEATURES_EPOCH = 0
_SOFTWARE = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?")  # SOFTWARE_NAME_VERSION_PATTERN


def _advertised_min(h: ApiHandler) -> int:
    """Produce is advertised from v0 although v0-v2 are refused, as Kafka 4.0 does (KAFKA-18659): older
    librdkafka (e.g. Debian's 2.0.2 in kcat) sends gzip/snappy/lz4 batches uncompressed otherwise."""
    return 0 if h.api_key == 0 else h.min_version


def _range(h: ApiHandler) -> dict[str, i16]:
    # kio's fields are its range-checked i16; API keys and versions are small by the registry's construction
    return {"api_key": cast(i16, h.api_key), "min_version": cast(i16, _advertised_min(h)),
            "max_version": cast(i16, h.max_version)}


def is_valid(request: Request, version: int) -> bool:
    """ApiVersionsRequest.isValid: from v3 the client software name and version must match Kafka's pattern."""
    return version < 3 or bool(_SOFTWARE.fullmatch(request.client_software_name)
                               and _SOFTWARE.fullmatch(request.client_software_version))


def invalid_request_response(version: int) -> object:
    """getErrorResponse(INVALID_REQUEST): the error code alone, no API ranges."""
    return make(response_class(18, version), error_code=ErrorCode.invalid_request, api_keys=(), throttle_time=_ZERO,
                supported_features=(), finalized_features_epoch=-1, finalized_features=())


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    if not is_valid(request, ctx.api_version):
        return invalid_request_response(ctx.api_version)
    cls = response_class(18, ctx.api_version)
    api = nested(cls, "ApiVersion")
    keys = tuple(api(**_range(h)) for h in sorted(broker.registry.values(), key=lambda h: h.api_key))
    return make(cls, error_code=ErrorCode.none, api_keys=keys, throttle_time=_ZERO, supported_features=(),
                finalized_features_epoch=FINALIZED_FEATURES_EPOCH, finalized_features=())


def unsupported_version_response(broker: Broker, correlation_id: int) -> bytes:
    keys = tuple(ApiVersionV0(**_range(h)) for h in sorted(broker.registry.values(), key=lambda h: h.api_key))
    buf = io.BytesIO()
    entity_writer(ApiVersionsResponseV0)(buf, ApiVersionsResponseV0(error_code=ErrorCode.unsupported_version,
                                                                     api_keys=keys))
    body = buf.getvalue()
    return struct.pack(">ii", len(body) + 4, correlation_id) + body
