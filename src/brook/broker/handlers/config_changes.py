"""Shared by AlterConfigs and IncrementalAlterConfigs: validate, persist and apply new config overrides."""

from __future__ import annotations

from brook.config.broker import BROKER_CONFIGS
from brook.config.topic import TOPIC_CONFIGS
from brook.errors import ErrorCode, KafkaError


def apply_topic_configs(broker, topic: str, new: dict[str, str], validate_only: bool) -> None:  # type: ignore[no-untyped-def]
    info = broker.topics.get(topic)
    if info is None:
        raise KafkaError(ErrorCode.unknown_topic_or_partition, f"Topic '{topic}' does not exist.")
    TOPIC_CONFIGS.validate(new)
    if validate_only:
        return
    info.configs = dict(new)
    broker.topics.save()
    broker.reconfigure_topic(topic)


def apply_broker_configs(broker, name: str, new: dict[str, str], validate_only: bool) -> None:  # type: ignore[no-untyped-def]
    if name not in ("", str(broker.broker_id)):
        raise KafkaError(ErrorCode.invalid_request, f"Unexpected broker id, expected {broker.broker_id} or empty "
                         f"string, but received {name}")
    for key, value in new.items():
        k = BROKER_CONFIGS.keys.get(key)
        if k is None:
            raise KafkaError(ErrorCode.invalid_config, f"Unknown broker config name: {key}")
        if k.read_only:
            raise KafkaError(ErrorCode.invalid_config, f"Cannot update these configs dynamically: Set({key})")
        try:
            k.parse(value)
        except ValueError as e:
            raise KafkaError(ErrorCode.invalid_config, str(e)) from None
    if validate_only:
        return
    for key in set(broker.topics.broker_configs) - set(new):
        broker.config.set(key, None)
    for key, value in new.items():
        broker.config.set(key, value)
    broker.topics.broker_configs = dict(new)
    broker.topics.save()
    for topic in list(broker.topics.topics):
        broker.reconfigure_topic(topic)
