"""UpdateFeatures (key 57), v0-v1, answered as a Kafka 3.9 cluster in ZooKeeper mode answers it.

A ZooKeeper-mode broker supports no feature (KafkaServer's BrokerFeatures.createEmpty(); ApiVersions lists none)
and its controller has none finalized, so every update fails the controller's checks
(KafkaController.validateFeatureUpdate) with INVALID_REQUEST and the controller's message; nothing is stored.
As in Kafka's ZooKeeper mode, validate_only changes nothing in the answer.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from brook.acl import AclOperation
from brook.errors import ErrorCode
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import cluster_allowed
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker

_ZERO = datetime.timedelta(0)
UPGRADE, SAFE_DOWNGRADE, UNSAFE_DOWNGRADE = 1, 2, 3


def upgrade_type(update: Any, version: int) -> int:
    """UpdateFeaturesRequest.getFeature: v0 carries allow_downgrade; an unknown v1 code is UNKNOWN (0). `update` is
    the FeatureUpdateKey of the request's version."""
    if version == 0:
        return SAFE_DOWNGRADE if update.allow_downgrade else UPGRADE
    code = int(update.upgrade_type)
    return code if code in (UPGRADE, SAFE_DOWNGRADE, UNSAFE_DOWNGRADE) else 0


def validate(feature: str, level: int, kind: int) -> str:
    """KafkaController.validateFeatureUpdate with no finalized and no supported features: the error message."""
    if not feature:
        return "Feature name can not be empty."
    if kind == 0:
        return "Received unknown upgrade type."
    if level < 1 and kind != UPGRADE:  # FeatureUpdateItem.isDeleteRequest
        return "Can not delete non-existing finalized feature."
    if level < 1:
        return (f"Can not provide versionLevel: {level} less than 1 without setting the SAFE downgradeType in the "
                "request.")
    return "Could not apply finalized feature update because the provided feature is not supported."


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(57, ctx.api_version)
    if not cluster_allowed(broker, ctx, AclOperation.ALTER):
        return make(cls, throttle_time=_ZERO, error_code=ErrorCode.cluster_authorization_failed, error_message=None,
                    results=())
    result_cls = nested(cls, "UpdatableFeatureResult")
    errors: dict[str, str] = {}  # one result per feature name, as the controller's map keeps them
    for update in request.feature_updates:
        errors[update.feature] = validate(update.feature, int(update.max_version_level),
                                          upgrade_type(update, ctx.api_version))
    results = tuple(result_cls(feature=f, error_code=ErrorCode.invalid_request, error_message=m)
                    for f, m in errors.items())
    return make(cls, throttle_time=_ZERO, error_code=ErrorCode.none, error_message=None, results=results)
