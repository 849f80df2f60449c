"""The consumer protocol embedded in JoinGroup/SyncGroup (ConsumerProtocolSubscription / Assignment): a version
prefix, then the entity, read with kio's schemas."""

from __future__ import annotations

import struct

from kio.schema.consumer_protocol_assignment.v0.data import ConsumerProtocolAssignment as Assignment0
from kio.schema.consumer_protocol_assignment.v1.data import ConsumerProtocolAssignment as Assignment1
from kio.schema.consumer_protocol_assignment.v2.data import ConsumerProtocolAssignment as Assignment2
from kio.schema.consumer_protocol_assignment.v3.data import ConsumerProtocolAssignment as Assignment3
from kio.schema.consumer_protocol_subscription.v0.data import ConsumerProtocolSubscription as Subscription0
from kio.schema.consumer_protocol_subscription.v1.data import ConsumerProtocolSubscription as Subscription1
from kio.schema.consumer_protocol_subscription.v2.data import ConsumerProtocolSubscription as Subscription2
from kio.schema.consumer_protocol_subscription.v3.data import ConsumerProtocolSubscription as Subscription3
from kio.serial import entity_reader

PROTOCOL_TYPE = "consumer"  # ConsumerProtocol.PROTOCOL_TYPE
SUBSCRIPTIONS = (Subscription0, Subscription1, Subscription2, Subscription3)
ASSIGNMENTS = (Assignment0, Assignment1, Assignment2, Assignment3)


def read_versioned(data: bytes, classes: tuple, newer_as_latest: bool = False) -> object:
    """The entity after the int16 version. newer_as_latest: a version above the newest known is read as the newest
    (ConsumerProtocol.deserializeSubscription's forward compatibility); otherwise it is an error."""
    version = struct.unpack_from(">h", data)[0]
    if newer_as_latest:
        version = min(version, len(classes) - 1)
    if not 0 <= version < len(classes):
        raise ValueError(f"unsupported consumer protocol version {version}")
    entity, _size = entity_reader(classes[version])(data, 2)
    return entity


def subscribed_topics(data: bytes) -> tuple[str, ...]:
    """The topics of a member's subscription (ValueError or struct.error when the bytes do not parse)."""
    return tuple(read_versioned(data, SUBSCRIPTIONS, newer_as_latest=True).topics)  # type: ignore[attr-defined]
