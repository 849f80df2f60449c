"""Kafka's internal topic names (org.apache.kafka.common.internals.Topic), in one place for the coordinators, the
broker and the tools."""

from __future__ import annotations

OFFSETS_TOPIC = "__consumer_offsets"  # Topic.GROUP_METADATA_TOPIC_NAME
TRANSACTION_TOPIC = "__transaction_state"  # Topic.TRANSACTION_STATE_TOPIC_NAME
SHARE_GROUP_STATE_TOPIC = "__share_group_state"  # Topic.SHARE_GROUP_STATE_TOPIC_NAME (Brook does not host it)

INTERNAL_TOPICS = frozenset({OFFSETS_TOPIC, TRANSACTION_TOPIC})  # the ones Brook's coordinators own
KAFKA_INTERNAL_TOPICS = frozenset({OFFSETS_TOPIC, TRANSACTION_TOPIC, SHARE_GROUP_STATE_TOPIC})  # Topic.isInternal
