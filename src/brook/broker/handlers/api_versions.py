"""ApiVersions (key 18), v0-v4: generated from the handler registry. An unsupported request version gets
Kafka's answer: a v0 response with UNSUPPORTED_VERSION and the supported ranges, so the client can retry.

Features (v3+) are a Kafka 3.9 ZooKeeper-mode broker's: it supports none (KafkaServer's
BrokerFeatures.createEmpty()), its finalized features leave metadata.version out (FinalizedFeatures in ZK mode),
and their epoch is the version of the /feature znode the controller created, 0."""

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
FINALIZED_FEATURES_EPOCH = 0


def _advertised_min(h) -> int:  # type: ignore[no-untyped-def]
    """Produce is advertised from v0 although v0-v2 are refused, as Kafka 4.0 does (KAFKA-18659): older
    librdkafka (e.g. Debian's 2.0.2 in kcat) sends gzip/snappy/lz4 batches uncompressed otherwise."""
    return 0 if h.api_key == 0 else h.min_version


def handle(broker, ctx, request):  # type: ignore[no-untyped-def]
    cls = response_class(18, ctx.api_version)
    api = nested(cls, "ApiVersion")
    keys = tuple(api(api_key=h.api_key, min_version=_advertised_min(h), max_version=h.max_version)
                 for h in sorted(broker.registry.values(), key=lambda h: h.api_key))
    return make(cls, error_code=ErrorCode.none, api_keys=keys, throttle_time=_ZERO, supported_features=(),
                finalized_features_epoch=FINALIZED_FEATURES_EPOCH, finalized_features=())


def unsupported_version_response(broker, correlation_id: int) -> bytes:  # type: ignore[no-untyped-def]
    keys = tuple(ApiVersionV0(api_key=h.api_key, min_version=_advertised_min(h),
                                 max_version=h.max_version)
                 for h in sorted(broker.registry.values(), key=lambda h: h.api_key))
    buf = io.BytesIO()
    entity_writer(ApiVersionsResponseV0)(buf, ApiVersionsResponseV0(error_code=ErrorCode.unsupported_version,
                                                                     api_keys=keys))
    body = buf.getvalue()
    return struct.pack(">ii", len(body) + 4, correlation_id) + body
