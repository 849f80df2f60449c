"""Shared by AlterConfigs and IncrementalAlterConfigs: validate new config overrides and write them to the
metadata store (whose subscribers reconfigure the logs and the broker's dynamic config)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from brook.config.broker import BROKER_CONFIGS
from brook.config.topic import TOPIC_CONFIGS
from brook.errors import ErrorCode, KafkaError

if TYPE_CHECKING:
    from ..server import Broker


def apply_topic_configs(broker: Broker, topic: str, new: dict[str, str], validate_only: bool) -> None:
    info = broker.topics.get(topic)
    if info is None:
        raise KafkaError(ErrorCode.unknown_topic_or_partition, f"Topic '{topic}' does not exist.")
    TOPIC_CONFIGS.validate(new)
    if validate_only:
        return
    broker.metadata.set_topic_configs(topic, new)


def apply_broker_configs(broker: Broker, name: str, new: dict[str, str], validate_only: bool) -> None:
    if name not in ("", str(broker.broker_id)):
        raise KafkaError(ErrorCode.invalid_request, f"Unexpected broker id, expected {broker.broker_id} or empty "
                         f"string, but received {name}")
    for key, value in new.items():
        k = BROKER_CONFIGS.keys.get(key)
        if k is None:  # a custom config (plugins read them): Kafka stores it as given
            continue
        if k.read_only:
            raise KafkaError(ErrorCode.invalid_config, f"Cannot update these configs dynamically: Set({key})")
        try:
            k.parse(value)
        except ValueError as e:
            raise KafkaError(ErrorCode.invalid_config, str(e)) from None
    if validate_only:
        return
    # "": the cluster-wide default, which applies where a broker has no dynamic value of its own
    broker.metadata.set_broker_configs(int(name) if name else None, new)
