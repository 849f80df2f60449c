"""Config parsing and validation: .properties files, broker configs, topic configs and their broker synonyms."""

from __future__ import annotations

from pathlib import Path

import pytest

from brook.broker.main import parse_args
from brook.config.broker import BROKER_CONFIGS, BrokerConfig
from brook.config.definition import ConfigError, render
from brook.config.properties import load_properties, parse_properties
from brook.config.topic import TOPIC_CONFIGS, effective_topic_config
from brook.errors import ErrorCode, KafkaError
from brook.log.config import LogConfig

REPO = Path(__file__).resolve().parents[2]


# -- .properties ----------------------------------------------------------------------------------------------
def test_properties_syntax() -> None:
    text = "\n".join([
        "# a comment",
        "! also a comment",
        "",
        "broker.id=3",
        "  num.partitions = 4  ",
        "log.dirs: /tmp/a,/tmp/b",
        "listeners PLAINTEXT://localhost:9092",  # whitespace separates key and value too (java.util.Properties)
        "advertised.listeners=PLAINTEXT://host\\:9093",
        "log.retention.hours=1\\",
        "    68",
        "empty.value=",
        "lone.key",
        "with.equals=a=b",
    ])
    assert parse_properties(text) == {
        "broker.id": "3",
        "num.partitions": "4",
        "log.dirs": "/tmp/a,/tmp/b",
        "listeners": "PLAINTEXT://localhost:9092",
        "advertised.listeners": "PLAINTEXT://host:9093",
        "log.retention.hours": "168",
        "empty.value": "",
        "lone.key": "",
        "with.equals": "a=b",
    }


def test_later_keys_win(tmp_path: Path) -> None:
    path = tmp_path / "server.properties"
    path.write_text("num.partitions=1\nnum.partitions=6\n", encoding="utf-8")
    assert load_properties(path) == {"num.partitions": "6"}


def test_shipped_server_properties_is_valid() -> None:
    values = load_properties(REPO / "config" / "server.properties")
    assert values["broker.id"] == "0" and values["listeners"] == "PLAINTEXT://localhost:9092"
    for name, raw in values.items():
        assert name in BROKER_CONFIGS, f"{name} is not a broker config"
        BROKER_CONFIGS.keys[name].parse(raw)
    config = BrokerConfig(values)
    assert config.topic_default("retention.ms") == (168 * 3_600_000, "log.retention.hours")


def test_command_line_overrides(tmp_path: Path) -> None:
    path = tmp_path / "server.properties"
    path.write_text("num.partitions=2\nlog.dirs=/data\n", encoding="utf-8")
    assert parse_args([str(path), "--override", "num.partitions=5", "--override", "broker.id = 7"]) == {
        "num.partitions": "5", "log.dirs": "/data", "broker.id": "7"}
    assert parse_args(["--override", "listeners=PLAINTEXT://:0"]) == {"listeners": "PLAINTEXT://:0"}
    with pytest.raises(SystemExit):
        parse_args(["--override", "no-equals-sign"])
    with pytest.raises(SystemExit):
        parse_args([str(path), "--bogus"])


# -- broker configs -------------------------------------------------------------------------------------------
def test_broker_defaults_are_kafkas() -> None:
    c = BrokerConfig()
    assert c.get("num.partitions") == 1
    assert c.get("message.max.bytes") == 1048588
    assert c.get("socket.request.max.bytes") == 104857600
    assert c.get("auto.create.topics.enable") is True
    assert c.get("log.cleanup.policy") == ["delete"]
    assert c.get("offsets.topic.num.partitions") == 50
    assert c.log_dirs == ["./data/brook-logs"]


def test_broker_values_are_typed() -> None:
    c = BrokerConfig({"num.partitions": " 3 ", "auto.create.topics.enable": "FALSE",
                      "log.dirs": "/a, /b,,", "listeners": "PLAINTEXT://127.0.0.1:0"})
    assert c.get("num.partitions") == 3
    assert c.get("auto.create.topics.enable") is False
    assert c.log_dirs == ["/a", "/b"]
    assert c.get("listeners") == ["PLAINTEXT://127.0.0.1:0"]
    # Kafka's layers: per-broker dynamic > cluster-wide dynamic default > server.properties > Kafka's default
    c.set_dynamic({"num.partitions": "8", "log.segment.bytes": "5000"}, {"log.segment.bytes": "6000"})
    assert (c.get("num.partitions"), c.raw["num.partitions"]) == (8, "8")
    assert c.get("log.segment.bytes") == 6000
    assert c.layers("num.partitions") == [("8", 3), (" 3 ", 4)]
    c.set_dynamic({}, {})
    assert c.get("num.partitions") == 3
    assert c.get("log.segment.bytes") == 1073741824


@pytest.mark.parametrize(("name", "raw", "message"), [
    ("num.partitions", "abc", "Invalid value abc for configuration num.partitions: Not a number of type INT"),
    ("num.partitions", "0", "Invalid value 0 for configuration num.partitions: Value must be at least 1"),
    ("auto.create.topics.enable", "yes",
     "Invalid value yes for configuration auto.create.topics.enable: Expected value to be either true or false"),
    ("log.cleanup.policy", "delete,shred",
     "Invalid value shred for configuration log.cleanup.policy: String must be one of: compact, delete"),
    ("log.segment.bytes", "13", "Value must be at least 14"),
    ("replica.selector.class", "com.example.Nearest", "Invalid value com.example.Nearest for configuration "
     "replica.selector.class: Brook supports org.apache.kafka.common.replica.RackAwareReplicaSelector"),
])
def test_invalid_broker_values_are_rejected_with_kafkas_message(name: str, raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        BrokerConfig({name: raw})


# -- synonyms: broker-level values behind topic configs -------------------------------------------------------
@pytest.mark.parametrize(("values", "topic_config", "expected"), [
    ({"log.retention.hours": "1"}, "retention.ms", (3_600_000, "log.retention.hours")),
    ({"log.retention.minutes": "5"}, "retention.ms", (300_000, "log.retention.minutes")),
    ({"log.retention.ms": "1234"}, "retention.ms", (1234, "log.retention.ms")),
    # most specific first, as Kafka: ms over minutes over hours
    ({"log.retention.hours": "1", "log.retention.minutes": "2"}, "retention.ms", (120_000, "log.retention.minutes")),
    ({"log.retention.hours": "1", "log.retention.ms": "10"}, "retention.ms", (10, "log.retention.ms")),
    # a negative time is unlimited retention (-1), as KafkaConfig.logRetentionTimeMillis returns it
    ({"log.retention.hours": "-1"}, "retention.ms", (-1, "log.retention.hours")),
    ({"log.retention.minutes": "-1"}, "retention.ms", (-1, "log.retention.minutes")),
    ({"log.retention.ms": "-1"}, "retention.ms", (-1, "log.retention.ms")),
    ({"log.roll.hours": "2"}, "segment.ms", (7_200_000, "log.roll.hours")),
    ({"log.roll.ms": "500", "log.roll.hours": "2"}, "segment.ms", (500, "log.roll.ms")),
    ({"log.segment.bytes": "1000"}, "segment.bytes", (1000, "log.segment.bytes")),
    ({"message.max.bytes": "2000"}, "max.message.bytes", (2000, "message.max.bytes")),
    ({"log.cleanup.policy": "compact,delete"}, "cleanup.policy", (["compact", "delete"], "log.cleanup.policy")),
    ({"log.message.timestamp.type": "LogAppendTime"}, "message.timestamp.type",
     ("LogAppendTime", "log.message.timestamp.type")),
    ({"log.flush.interval.messages": "10"}, "flush.messages", (10, "log.flush.interval.messages")),
    ({}, "retention.ms", (604_800_000, None)),
    ({}, "segment.bytes", (1_073_741_824, None)),
    ({}, "max.message.bytes", (1_048_588, None)),
])
def test_topic_defaults_through_broker_synonyms(values: dict[str, str], topic_config: str,
                                                 expected: tuple[object, str | None]) -> None:
    assert BrokerConfig(values).topic_default(topic_config) == expected


def test_topic_overrides_win_and_reach_the_log_config() -> None:
    broker = BrokerConfig({"log.retention.hours": "-1", "log.segment.bytes": "5000", "message.max.bytes": "999"})
    values = effective_topic_config(broker, {"segment.bytes": "7000", "cleanup.policy": "compact"})
    assert values["retention.ms"] == -1
    assert values["segment.bytes"] == 7000
    assert values["max.message.bytes"] == 999
    lc = LogConfig.from_values(values)
    assert (lc.retention_ms, lc.segment_bytes, lc.max_message_bytes) == (-1, 7000, 999)
    assert lc.cleanup_policy == ("compact",)
    assert set(values) == {k.name for k in TOPIC_CONFIGS}


# -- topic config validation (CreateTopics / AlterConfigs) ----------------------------------------------------
def test_topic_config_validation() -> None:
    assert TOPIC_CONFIGS.validate({"retention.ms": "-1", "cleanup.policy": "compact,delete"}) == {
        "retention.ms": -1, "cleanup.policy": ["compact", "delete"]}
    cases = {
        "bogus.config": "Unknown topic config name: bogus.config",
        "retention.ms": "Invalid value -2 for configuration retention.ms: Value must be at least -1",
        "message.timestamp.type": "String must be one of: CreateTime, LogAppendTime",
        "segment.bytes": "Not a number of type INT",
        "min.cleanable.dirty.ratio": "Value must be no more than 1",
    }
    bad_values = {"bogus.config": "1", "retention.ms": "-2", "message.timestamp.type": "Wallclock",
                  "segment.bytes": "big", "min.cleanable.dirty.ratio": "1.5"}
    for name, message in cases.items():
        with pytest.raises(KafkaError) as e:
            TOPIC_CONFIGS.validate({name: bad_values[name]})
        assert e.value.code == ErrorCode.invalid_config
        assert message in str(e.value.message)


def test_render_as_kafka_prints_values() -> None:
    assert render(True) == "true" and render(False) == "false"
    assert render(["compact", "delete"]) == "compact,delete"
    assert render(1048588) == "1048588"
    assert render(None) is None
    assert render(0.5) == "0.5"
