"""Features on the wire (kio messages) as a Kafka 3.9 broker in ZooKeeper mode reports and answers them:
ApiVersions lists no supported and no finalized features with epoch 0, UpdateFeatures (57) fails every update with
KafkaController.validateFeatureUpdate's INVALID_REQUEST message, and its CLUSTER ALTER check."""

from __future__ import annotations

from kafka_wire import Conn
from kio.schema.api_versions.v4.request import ApiVersionsRequest
from kio.schema.api_versions.v4.response import ApiVersionsResponse
from kio.schema.errors import ErrorCode
from kio.schema.update_features.v0 import request as v0_req
from kio.schema.update_features.v0 import response as v0_resp
from kio.schema.update_features.v1 import request as v1_req
from kio.schema.update_features.v1 import response as v1_resp

NOT_SUPPORTED = "Could not apply finalized feature update because the provided feature is not supported."


def test_api_versions_features_and_update_features(broker) -> None:
    with Conn(broker.port) as conn:
        versions = conn.request(ApiVersionsRequest(client_software_name="t", client_software_version="1"),
                                ApiVersionsResponse)
        assert (versions.supported_features, versions.finalized_features) == ((), ())
        assert versions.finalized_features_epoch == 0  # the /feature znode's version once the controller made it
        assert {int(k.api_key): (int(k.min_version), int(k.max_version)) for k in versions.api_keys}[57] == (0, 1)

        def update(*items: tuple[str, int, int], validate_only: bool = False) -> dict:
            body = v1_req.UpdateFeaturesRequest(validate_only=validate_only, feature_updates=tuple(
                v1_req.FeatureUpdateKey(feature=f, max_version_level=level, upgrade_type=kind)
                for f, level, kind in items))
            response = conn.request(body, v1_resp.UpdateFeaturesResponse)
            assert (response.error_code, response.error_message) == (ErrorCode.none, None)
            assert all(r.error_code == ErrorCode.invalid_request for r in response.results)
            return {r.feature: r.error_message for r in response.results}

        assert update(("metadata.version", 21, 1), ("x", 0, 1), ("", 1, 1), ("y", 1, 7), ("z", 0, 2),
                      ("w", 3, 3), validate_only=True) == {
            "metadata.version": NOT_SUPPORTED,
            "x": "Can not provide versionLevel: 0 less than 1 without setting the SAFE downgradeType in the request.",
            "": "Feature name can not be empty.",
            "y": "Received unknown upgrade type.",
            "z": "Can not delete non-existing finalized feature.",
            "w": NOT_SUPPORTED,
        }
        assert update() == {}
        # v0: allow_downgrade stands for SAFE_DOWNGRADE
        body = v0_req.UpdateFeaturesRequest(feature_updates=(
            v0_req.FeatureUpdateKey(feature="a", max_version_level=0, allow_downgrade=True),
            v0_req.FeatureUpdateKey(feature="b", max_version_level=0, allow_downgrade=False)))
        response = conn.request(body, v0_resp.UpdateFeaturesResponse)
        assert {r.feature: r.error_message for r in response.results} == {
            "a": "Can not delete non-existing finalized feature.",
            "b": "Can not provide versionLevel: 0 less than 1 without setting the SAFE downgradeType in the request."}


def test_update_features_needs_cluster_alter(broker_factory) -> None:
    b = broker_factory({"authorizer.class.name": "kafka.security.authorizer.AclAuthorizer"})
    with Conn(b.port) as conn:
        body = v1_req.UpdateFeaturesRequest(feature_updates=(
            v1_req.FeatureUpdateKey(feature="metadata.version", max_version_level=21, upgrade_type=1),))
        response = conn.request(body, v1_resp.UpdateFeaturesResponse)
    assert (response.error_code, response.results) == (ErrorCode.cluster_authorization_failed, ())
